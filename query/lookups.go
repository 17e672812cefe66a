package query

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
	// recentRows is how many of the latest records a lookup reads for the
	// fields the alert counters do not keep (entities, attributes,
	// incidents, activity): the values an analyst is likely to ask about.
	recentRows = 5000
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
	count := storage.SumN(sel)
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

// recentValues counts the values of f (or of one attribute) over the
// source's latest recentRows records: an index walk and one column each,
// however many records there are.
func (s *Service) recentValues(ctx context.Context, src *Source, f *Field, attr string) (map[string]int, error) {
	q := &Query{Source: src, where: constPred(true)}
	timeCol := src.byName[src.timeField].col.name
	type row struct {
		Value *string `sql:"v"`
	}
	var rows []row
	err := backends[src.Name].scan(ctx, s.client, s.where(q, src.timeField, nil, nil), func(sel *sql.Selector) {
		value := "CAST(" + sel.C(f.col.name) + " AS TEXT)"
		if f.Groupable {
			value = groupKey{field: f}.expr(sel, 0)
		}
		sel.Select().SelectExpr(sql.Expr(value + " AS v")).
			OrderExpr(sql.Expr(sel.C(timeCol) + " DESC")).Limit(recentRows)
	}, &rows)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, r := range rows {
		if r.Value == nil {
			continue
		}
		for _, v := range valuesOf(f, attr, *r.Value) {
			counts[v]++
		}
	}
	return counts, nil
}

// valuesOf reads the values one record holds: the column's text, a JSON
// list's strings, the entities of the field's types, or one attribute.
func valuesOf(f *Field, attr, text string) []string {
	switch {
	case attr != "":
		var m map[string]any
		if json.Unmarshal([]byte(text), &m) != nil {
			return nil
		}
		if v, ok := m[attr].(string); ok && v != "" {
			return []string{v}
		}
		return nil
	case f.col.kind == colEntities:
		var es []struct{ Type, Value string }
		if json.Unmarshal([]byte(text), &es) != nil {
			return nil
		}
		var out []string
		for _, e := range es {
			if slices.Contains(f.col.types, e.Type) {
				out = append(out, e.Value)
			}
		}
		return out
	case f.Type == TypeStringList:
		var l []string
		if json.Unmarshal([]byte(text), &l) != nil {
			return nil
		}
		return l
	}
	return []string{text}
}
