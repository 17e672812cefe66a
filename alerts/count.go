package alerts

import (
	"context"
	"slices"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
)

// CountCap is where the queue's totalCount stops counting when counting
// is dear. An exact COUNT(*) under a tag, entity or text condition reads
// every matching row from the table (the condition is on a JSON or text
// column no index answers): at a million alerts it was most of the list's
// time, for a number nobody triages by. Such a count is exact below the cap
// and a lower bound at it ("10,000 or more"), which
// AlertConnection.totalCountIsEstimate (REST total_is_estimate) says.
// Filters on indexed columns only (status, severity, source, connector,
// assignee, incident, time range) are counted exactly from an index.
const CountCap = 10_000

// countIsCheap reports whether f's matches can be counted exactly from an
// index, without reading rows.
func countIsCheap(f *schematype.AlertFilter) bool {
	return f == nil || (len(f.Tag) == 0 && f.Entity == nil && f.Q == nil)
}

// CountIsLowerBound reports whether a totalCount of n may stand for more
// alerts: a bounded count stops at exactly CountCap, and an exact count is
// either another number or, when it is CountCap too, still "at least" it.
func CountIsLowerBound(n int) bool { return n == CountCap }

// boundedCount counts the alerts matching preds, stopping at CountCap:
// SELECT COUNT(*) FROM (SELECT 1 FROM alerts WHERE … LIMIT cap). It goes
// through an ent query, so the tenant filter is part of the inner WHERE:
// the wrapping is done in an aggregate function because ent calls those
// last, once the predicates (the privacy policy's included) and the limit
// are on the selector, whereas modifiers run before the predicates.
func (s *Service) boundedCount(ctx context.Context, preds []predicate.Alert) (int, error) {
	return s.client.Alert.Query().Where(preds...).Limit(CountCap).Aggregate(func(sel *sql.Selector) string {
		inner := sel.Clone().SelectExpr(sql.Expr("1"))
		sel.From(inner.As("capped")).SetP(nil)
		return sql.Count("*")
	}).Int(ctx)
}

// withoutCount returns ctx as entgql's Paginate reads it, minus the
// connection's totalCount and pageInfo fields: Paginate would answer either
// with an exact COUNT(*). It reports what was removed. pageInfo needs no
// count when edges are read (Paginate reads one row past the page); without
// edges, the caller derives it from the bounded count.
func withoutCount(ctx context.Context) (_ context.Context, count, pageInfo, edges bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return ctx, false, false, false
	}
	var kept ast.SelectionSet
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
		switch f.Name {
		case "totalCount":
			count = true
			continue
		case "pageInfo":
			pageInfo = true
			continue
		case "edges":
			edges = true
		}
		kept = append(kept, f.Field)
	}
	copyFC := *fc
	field := *fc.Field.Field
	field.SelectionSet = slices.Clip(kept)
	copyFC.Field.Field = &field
	copyFC.Field.Selections = field.SelectionSet
	return graphql.WithFieldContext(ctx, &copyFC), count, pageInfo, edges
}

// paginate runs Paginate, with the bounded count in place of the exact one
// unless f is cheap to count. Outside GraphQL (no field context) Paginate
// counts exactly, as before.
func (s *Service) paginate(ctx context.Context, f *schematype.AlertFilter, q *ent.AlertQuery, preds []predicate.Alert, after *ent.Cursor, first *int,
	before *ent.Cursor, last *int, opts ...ent.AlertPaginateOption,
) (*ent.AlertConnection, error) {
	if countIsCheap(f) {
		return q.Paginate(ctx, after, first, before, last, opts...)
	}
	pctx, count, pageInfo, edges := withoutCount(ctx)
	if !count && !pageInfo {
		return q.Paginate(pctx, after, first, before, last, opts...)
	}
	conn, err := q.Paginate(pctx, after, first, before, last, opts...)
	if err != nil {
		return nil, err
	}
	if !count && edges {
		return conn, nil
	}
	n, err := s.boundedCount(ctx, preds)
	if err != nil {
		return nil, err
	}
	conn.TotalCount = n
	if !edges {
		// What Paginate sets when it counts without reading the page.
		conn.PageInfo.HasNextPage = first != nil && n > 0
		conn.PageInfo.HasPreviousPage = last != nil && n > 0
	}
	return conn, nil
}
