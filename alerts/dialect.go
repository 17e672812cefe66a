package alerts

import (
	"encoding/json"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/predicate"
)

// The SQL that differs between SQLite and PostgreSQL lives here: JSON array
// membership (tags, entities), case-insensitive text search and JSON array
// expansion for the tag facet. Each predicate reads the dialect from the
// selector it is applied to, so a filter needs no database at hand.
//
// On PostgreSQL tags and entities are jsonb and the membership tests are
// written as containment (@>) so that a GIN index on the column can serve
// them; on SQLite they are JSON text expanded with json_each.

// hasAnyTag matches alerts whose tags contain at least one of tags.
func hasAnyTag(tags []string) predicate.Alert {
	return func(s *sql.Selector) {
		col := s.C(alert.FieldTags)
		if s.Dialect() == dialect.Postgres {
			ors := make([]*sql.Predicate, len(tags))
			for i, t := range tags {
				ors[i] = jsonbContains(col, []string{t})
			}
			s.Where(sql.Or(ors...))
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("EXISTS (SELECT 1 FROM json_each(").WriteString(col).
				WriteString(") AS je WHERE je.value IN (")
			for i, t := range tags {
				if i > 0 {
					b.Comma()
				}
				b.Arg(t)
			}
			b.WriteString("))")
		}))
	}
}

// hasEntityValue matches alerts with an extracted entity whose value is
// exactly v, whatever its type.
func hasEntityValue(v string) predicate.Alert {
	return func(s *sql.Selector) {
		col := s.C(alert.FieldEntities)
		if s.Dialect() == dialect.Postgres {
			s.Where(jsonbContains(col, []map[string]string{{"value": v}}))
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("EXISTS (SELECT 1 FROM json_each(").WriteString(col).
				WriteString(") AS je WHERE json_extract(je.value, '$.value') = ").Arg(v).WriteString(")")
		}))
	}
}

// jsonbContains is "col @> doc" with doc marshalled by encoding/json, so
// quotes and backslashes in user input cannot break out of the document.
func jsonbContains(col string, doc any) *sql.Predicate {
	js, _ := json.Marshal(doc) // slices of strings and string maps always marshal
	return sql.P(func(b *sql.Builder) {
		b.WriteString(col).WriteString(" @> ").Arg(string(js)).WriteString("::jsonb")
	})
}

// containsText matches alerts whose title or description contains q, case
// insensitively, with LIKE wildcards in q taken literally. PostgreSQL's
// ILIKE folds case for all of Unicode (and a trigram index can serve it);
// SQLite's LIKE folds ASCII letters only, so on SQLite "É" does not match
// "é" — SQLite's lower() has the same limitation without the ICU
// extension, so nothing better is available in plain SQL there.
func containsText(q string) predicate.Alert {
	pattern := "%" + escapeLike(q) + "%"
	return func(s *sql.Selector) {
		op := " LIKE "
		if s.Dialect() == dialect.Postgres {
			op = " ILIKE "
		}
		like := func(col string) *sql.Predicate {
			return sql.P(func(b *sql.Builder) {
				b.WriteString(s.C(col)).WriteString(op).Arg(pattern).WriteString(` ESCAPE '\'`)
			})
		}
		s.Where(sql.Or(like(alert.FieldTitle), like(alert.FieldDescription)))
	}
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// escapeLike makes every character of s match itself in a LIKE pattern
// with ESCAPE '\'.
func escapeLike(s string) string { return likeEscaper.Replace(s) }

// tagElements adds the alert's tags, one row per tag, to the FROM clause of
// s and returns the column naming one tag. A tags value that is JSON null
// (or anything but an array) contributes no rows.
func tagElements(s *sql.Selector) string {
	col := s.C(alert.FieldTags)
	if s.Dialect() == dialect.Postgres {
		s.AppendFromExpr(sql.Expr("jsonb_array_elements_text(CASE WHEN jsonb_typeof(" + col +
			") = 'array' THEN " + col + " END) AS tag(value)"))
	} else {
		s.AppendFromExpr(sql.Expr("json_each(CASE WHEN json_type(" + col + ") = 'array' THEN " + col + " END) AS tag"))
	}
	return sql.Dialect(s.Dialect()).Table("tag").C("value")
}

// byteOrder makes text sort by code point on PostgreSQL, as SQLite's BINARY
// collation and Go do, so facet order does not depend on the server locale.
func byteOrder(s *sql.Selector, expr string) string {
	if s.Dialect() == dialect.Postgres {
		return expr + ` COLLATE "C"`
	}
	return expr
}
