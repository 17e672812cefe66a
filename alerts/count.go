package alerts

import (
	"context"
	"slices"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/predicate"
)

// CountCap is where the queue's totalCount stops counting. An exact
// COUNT(*) reads every matching row: at a million alerts it was most of the
// list's time, for a number nobody triages by. Below the cap the count is
// exact (and cheap); at the cap it is a lower bound ("10,000 or more"), and
// AlertConnection.totalCountIsEstimate (REST total_is_estimate) says so.
const CountCap = 10_000

// CountIsLowerBound reports whether a totalCount of n may stand for more
// alerts: counts stop at CountCap.
func CountIsLowerBound(n int) bool { return n >= CountCap }

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

// paginate runs Paginate with the bounded count in place of the exact one.
// Outside GraphQL (no field context) Paginate counts exactly, as before.
func (s *Service) paginate(ctx context.Context, q *ent.AlertQuery, preds []predicate.Alert, after *ent.Cursor, first *int,
	before *ent.Cursor, last *int, opts ...ent.AlertPaginateOption,
) (*ent.AlertConnection, error) {
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
