package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// Limits of a lookup.
const (
	DefaultLookups  = 10
	MaxLookups      = 100
	maxLookupPrefix = 200
	// recentWindow is how far back a lookup reads fields the alert counters
	// do not keep (entities, attributes, incidents, activity): the values
	// an analyst is likely to ask about, read from a bounded slice of rows.
	recentWindow = 7 * 24 * time.Hour
	// maxRecentRows bounds the rows such a lookup reads.
	maxRecentRows = 20_000
)

// LookupValue is one value of a field and how many rows have it.
type LookupValue struct {
	Value string
	Count int
}

// LookupInput asks for a field's most frequent values.
type LookupInput struct {
	Source, Field, Prefix string
	Limit                 *int
}

// counterLookups are the alert fields the maintained alert counters
// (storage/alertcounts.go) answer: a sum over a few counter rows per
// organisation, however many alerts it has.
var counterLookups = map[string]struct {
	view, column, join, target string
}{
	"severity":        {storage.AlertCountsView, "severity", "", ""},
	"status":          {storage.AlertCountsView, "status", "", ""},
	"source":          {storage.AlertCountsView, "source", "", ""},
	"connector.name":  {storage.AlertCountsView, "connector_id", "connectors", "name"},
	"connector.type":  {storage.AlertCountsView, "connector_id", "connectors", "type"},
	"assignee.email":  {storage.AlertCountsView, "assignee_id", "users", "email"},
	"assignee.handle": {storage.AlertCountsView, "assignee_id", "users", "handle"},
	"tags":            {storage.AlertTagCountsView, "tag", "", ""},
}

// Lookups returns the field's most frequent values starting with prefix
// (case-insensitively), most frequent first.
func (s *Service) Lookups(ctx context.Context, in LookupInput) ([]*LookupValue, error) {
	src, ok := Lookup(in.Source)
	if !ok {
		return nil, apperr.Invalid("source", "unknown source %q; the sources are %s", in.Source, sourceNames())
	}
	f, attr, err := lookupField(src, in.Field)
	if err != nil {
		return nil, err
	}
	limit := DefaultLookups
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > MaxLookups {
			return nil, apperr.Invalid("limit", "must be between 1 and %d", MaxLookups)
		}
		limit = *in.Limit
	}
	if !utf8.ValidString(in.Prefix) || utf8.RuneCountInString(in.Prefix) > maxLookupPrefix || strings.ContainsRune(in.Prefix, 0) {
		return nil, apperr.Invalid("prefix", "must be valid UTF-8 of at most %d characters", maxLookupPrefix)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var counts map[string]int
	if c, ok := counterLookups[f.Name]; ok && src.Name == "alerts" {
		counts, err = s.counterValues(ctx, c.view, c.column, c.join, c.target)
	} else {
		counts, err = s.recentValues(ctx, src, f, attr)
	}
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	return rankValues(counts, in.Prefix, limit, f), nil
}

// lookupField is the field a lookup names: a groupable or list field, or
// one attribute (attributes.rule).
func lookupField(src *Source, name string) (*Field, string, error) {
	if key, ok := strings.CutPrefix(name, "attributes."); ok && key != "" {
		if f, ok := src.byName["attributes"]; ok {
			return f, key, nil
		}
	}
	f, ok := src.byName[name]
	if !ok || (!f.Groupable && f.Type != TypeStringList) {
		msg := fmt.Sprintf("%q has no lookups; look up a groupable or list field of %s, or attributes.<name>", name, src.Name)
		if s := closest(name, src.fieldNames()); s != "" && s != name {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, "", apperr.Invalid("field", "%s", msg)
	}
	return f, "", nil
}

// rankValues keeps the values matching prefix, most frequent first (ties
// by value), at most limit; a closed set lists its unused values too.
func rankValues(counts map[string]int, prefix string, limit int, f *Field) []*LookupValue {
	for _, v := range f.Values {
		if _, ok := counts[v]; !ok && v != "" {
			counts[v] = 0
		}
	}
	lower := strings.ToLower(prefix)
	out := []*LookupValue{}
	for v, n := range counts {
		if v == "" || !strings.HasPrefix(strings.ToLower(v), lower) {
			continue
		}
		out = append(out, &LookupValue{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b *LookupValue) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// counterValues sums the alert counters of the acting organisation per
// value. The counters are outside ent's privacy policy, so the organisation
// is taken here as the tenant rule takes it, failing closed.
func (s *Service) counterValues(ctx context.Context, view, column, join, target string) (map[string]int, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.OrgID == uuid.Nil {
		return nil, privacy.Denyf("%w", rule.ErrNoViewer)
	}
	sel := sql.Dialect(s.dialect).Select().From(sql.Table(view).As("k"))
	value := sel.C(column)
	if join != "" {
		t := sql.Dialect(s.dialect).Table(join).As("j")
		// The related row must be the organisation's own too.
		sel.Join(t).OnP(sql.And(sql.ColumnsEQ(sel.C(column), t.C("id")), sql.EQ(t.C("organization_id"), v.OrgID)))
		value = t.C(target)
	}
	count := "CAST(SUM(" + sel.C("n") + ") AS BIGINT)"
	sel.Select().SelectExpr(sql.Expr("CAST("+value+" AS TEXT)"), sql.Expr(count)).
		Where(sql.EQ(sel.C("organization_id"), v.OrgID)).GroupBy(value).Having(sql.ExprP(count + " > 0"))
	query, args := sel.Query()
	rows, err := s.client.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var (
			val *string
			n   int
		)
		if err := rows.Scan(&val, &n); err != nil {
			return nil, err
		}
		if val != nil {
			counts[*val] += n
		}
	}
	return counts, rows.Err()
}

// recentValues counts the values of f (or of one attribute) over the rows
// of the last recentWindow, at most maxRecentRows of them.
func (s *Service) recentValues(ctx context.Context, src *Source, f *Field, attr string) (map[string]int, error) {
	since := s.now().Add(-recentWindow)
	q := &Query{Source: src, where: constPred(true)}
	where := s.where(q, &since, nil)
	type row struct {
		Value string `sql:"v"`
		Count int    `sql:"n"`
	}
	var rows []row
	err := backends[src.Name].scan(ctx, s.client, where, func(sel *sql.Selector) {
		var value string
		switch {
		case attr != "":
			if sel.Dialect() == dialect.Postgres {
				value = "COALESCE(" + sel.C(f.col.name) + " ->> " + pgLiteral(attr) + ", '')"
			} else {
				value = "COALESCE(json_extract(" + sel.C(f.col.name) + ", " + sqliteLiteral("$."+jsonQuote(attr)) + "), '')"
			}
		case f.Type == TypeStringList:
			value = listElements(sel, f)
		default:
			value = groupKey{field: f}.expr(sel, 0)
		}
		sel.SelectExpr(sql.Expr("CAST("+value+" AS TEXT) AS v"), sql.Expr("COUNT(*) AS n")).
			GroupBy(value).OrderExpr(sql.Expr("COUNT(*) DESC")).Limit(maxRecentRows)
	}, &rows)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(rows))
	for _, r := range rows {
		counts[r.Value] += r.Count
	}
	return counts, nil
}

// listElements adds a list field's elements to sel's FROM, one row each,
// and returns the element's SQL.
func listElements(sel *sql.Selector, f *Field) string {
	col := sel.C(f.col.name)
	if sel.Dialect() == dialect.Postgres {
		if f.col.kind == colEntities {
			sel.AppendFromExpr(sql.Expr("jsonb_array_elements(CASE WHEN jsonb_typeof(" + col + ") = 'array' THEN " + col + " END) AS le(v)"))
			sel.Where(sql.ExprP("le.v ->> 'type' IN (" + typeList(f.col.types) + ")"))
			return "(le.v ->> 'value')"
		}
		sel.AppendFromExpr(sql.Expr("jsonb_array_elements_text(CASE WHEN jsonb_typeof(" + col + ") = 'array' THEN " + col + " END) AS le(v)"))
		return "le.v"
	}
	sel.AppendFromExpr(sql.Expr("json_each(CASE WHEN json_type(" + col + ") = 'array' THEN " + col + " END) AS le"))
	if f.col.kind == colEntities {
		sel.Where(sql.ExprP("json_extract(le.value, '$.type') IN (" + typeList(f.col.types) + ")"))
		return "json_extract(le.value, '$.value')"
	}
	return "le.value"
}
