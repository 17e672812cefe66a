package alerts

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/storage/sqlpred"
)

// The alert SQL that differs between SQLite and PostgreSQL lives here (the
// shared predicates are in storage/sqlpred): entity membership and JSON
// array expansion for the tag facet.

// hasAnyTag matches alerts whose tags contain at least one of tags.
func hasAnyTag(tags []string) predicate.Alert {
	return sqlpred.HasAnyString(alert.FieldTags, tags)
}

// hasEntityValue matches alerts with an extracted entity whose value is
// exactly v, whatever its type.
func hasEntityValue(v string) predicate.Alert {
	return func(s *sql.Selector) {
		col := s.C(alert.FieldEntities)
		if s.Dialect() == dialect.Postgres {
			s.Where(sqlpred.JSONBContains(col, []map[string]string{{"value": v}}))
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("EXISTS (SELECT 1 FROM json_each(").WriteString(col).
				WriteString(") AS je WHERE json_extract(je.value, '$.value') = ").Arg(v).WriteString(")")
		}))
	}
}

// containsText matches alerts whose title or description contains q (see
// sqlpred.ContainsText for how case folds on each dialect).
func containsText(q string) predicate.Alert {
	return sqlpred.ContainsTextIn(q, column(alert.FieldTitle), column(alert.FieldDescription), ruleAttribute)
}

func column(name string) func(*sql.Selector) string {
	return func(s *sql.Selector) string { return s.C(name) }
}

// ruleAttribute is the SQL of the rule name the connector mapped, which the
// queue's text search covers beside the title and description.
func ruleAttribute(s *sql.Selector) string {
	col := s.C(alert.FieldAttributes)
	if s.Dialect() == dialect.Postgres {
		return "(" + col + " ->> 'rule')"
	}
	return "json_extract(" + col + ", '$.rule')"
}

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
