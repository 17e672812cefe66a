package storage

import "slices"

// IndexStatements are the index statements createDialectIndexes runs on
// dialect, trigram ones included (PostgreSQL with pg_trgm).
func IndexStatements(dialectName string) []string {
	out := slices.Concat(partialIndexes, groupingIndexes, metricIndexes[dialectName], fingerprintIndexes[dialectName])
	if dialectName == "postgres" {
		out = slices.Concat(out, postgresIndexes, trigramIndexes)
	}
	return out
}
