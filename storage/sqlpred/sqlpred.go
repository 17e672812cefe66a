// Package sqlpred holds the predicates whose SQL differs between SQLite and
// PostgreSQL and that several entities share: membership in a JSON array of
// strings and case-insensitive substring search. Each reads the dialect
// from the selector it is applied to, so a filter needs no database at hand.
//
// On PostgreSQL JSON columns are jsonb and membership is written as
// containment (@>) so that a GIN index on the column can serve it; on
// SQLite they are JSON text expanded with json_each.
package sqlpred

import (
	"encoding/json"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// HasAnyString matches rows whose JSON string array in column contains at
// least one of values.
func HasAnyString(column string, values []string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		col := s.C(column)
		if s.Dialect() == dialect.Postgres {
			ors := make([]*sql.Predicate, len(values))
			for i, v := range values {
				ors[i] = JSONBContains(col, []string{v})
			}
			s.Where(sql.Or(ors...))
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("EXISTS (SELECT 1 FROM json_each(").WriteString(col).
				WriteString(") AS je WHERE je.value IN (")
			for i, v := range values {
				if i > 0 {
					b.Comma()
				}
				b.Arg(v)
			}
			b.WriteString("))")
		}))
	}
}

// JSONBContains is "col @> doc" with doc marshalled by encoding/json, so
// quotes and backslashes in user input cannot break out of the document.
func JSONBContains(col string, doc any) *sql.Predicate {
	js, _ := json.Marshal(doc) // callers pass string slices and string maps, which always marshal
	return sql.P(func(b *sql.Builder) {
		b.WriteString(col).WriteString(" @> ").Arg(string(js)).WriteString("::jsonb")
	})
}

// ContainsText matches rows where any of columns contains q, case
// insensitively, with LIKE wildcards in q taken literally. PostgreSQL's
// ILIKE folds case for all of Unicode (and a trigram index can serve it);
// SQLite's LIKE folds ASCII letters only, so on SQLite "É" does not match
// "é" — SQLite's lower() has the same limitation without the ICU
// extension, so nothing better is available in plain SQL there.
func ContainsText(q string, columns ...string) func(*sql.Selector) {
	exprs := make([]func(*sql.Selector) string, len(columns))
	for i, col := range columns {
		exprs[i] = func(s *sql.Selector) string { return s.C(col) }
	}
	return ContainsTextIn(q, exprs...)
}

// ContainsTextIn is ContainsText over SQL expressions (a JSON field as
// text) rather than columns; a NULL expression does not match.
func ContainsTextIn(q string, exprs ...func(*sql.Selector) string) func(*sql.Selector) {
	pattern := "%" + EscapeLike(q) + "%"
	return func(s *sql.Selector) {
		op := " LIKE "
		if s.Dialect() == dialect.Postgres {
			op = " ILIKE "
		}
		ors := make([]*sql.Predicate, len(exprs))
		for i, expr := range exprs {
			ors[i] = sql.P(func(b *sql.Builder) {
				b.WriteString(expr(s)).WriteString(op).Arg(pattern).WriteString(` ESCAPE '\'`)
			})
		}
		s.Where(sql.Or(ors...))
	}
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// EscapeLike makes every character of s match itself in a LIKE pattern
// with ESCAPE '\'.
func EscapeLike(s string) string { return likeEscaper.Replace(s) }
