package storage

import (
	"slices"

	"entgo.io/ent/dialect"
)

// IndexStatements are the index statements createDialectIndexes runs on
// dialect d, trigram ones included (PostgreSQL with pg_trgm).
func IndexStatements(d string) []string {
	if d == dialect.Postgres {
		return slices.Concat(indexStatements(d), postgresIndexes, trigramIndexes)
	}
	return indexStatements(d)
}
