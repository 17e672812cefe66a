package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/internal/paging"
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
	return f == nil || (len(f.Tag) == 0 && f.Entity == nil && f.Q == nil && f.Query == nil)
}

// PlannedSkipFactor: on PostgreSQL a dear count is skipped when the
// planner expects at least this many times CountCap matches. The bounded
// count then could only confirm "CountCap or more" after reading CountCap
// rows (at a million alerts that read was nearly all of the list's time,
// 145 of 176 ms), and a planner estimate off by a factor of three in that
// direction is rare enough to be worth "more than 10,000" for the price of
// an EXPLAIN; estimates below it are counted.
const PlannedSkipFactor = 3

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

// plannedRows returns PostgreSQL's estimate of how many alerts match
// preds. ent builds the statement, the privacy policy's tenant condition
// included, only when it runs it; so the query is run on a client whose
// driver keeps the statement and executes nothing (statementOf), and the
// EXPLAIN of it is asked once per statement and arguments for
// estimateTTL: a warm queue page costs no statement for the decision.
func (s *Service) plannedRows(ctx context.Context, preds []predicate.Alert) (float64, error) {
	query, args, err := s.statementOf(ctx, preds)
	if err != nil {
		return 0, err
	}
	key := estimateKey(query, args)
	if n, ok := s.estimates.get(key); ok {
		return n, nil
	}
	rows, err := s.client.QueryContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var plan []byte
	if !rows.Next() {
		return 0, errors.Join(errors.New("explain: no plan"), rows.Err())
	}
	if err := rows.Scan(&plan); err != nil {
		return 0, err
	}
	n, err := PlannedRows(plan)
	if err != nil {
		return 0, err
	}
	s.estimates.put(key, n)
	return n, nil
}

// statementOf returns the SELECT 1 FROM alerts WHERE … that a query over
// preds runs, with its arguments, without running anything: the query goes
// through the same privacy policy on s.builder, whose driver refuses to
// execute (builderDriver).
func (s *Service) statementOf(ctx context.Context, preds []predicate.Alert) (string, []any, error) {
	var (
		query string
		args  []any
	)
	_, err := s.builder.Alert.Query().Where(preds...).Aggregate(func(sel *sql.Selector) string {
		query, args = sel.Clone().SelectExpr(sql.Expr("1")).Query()
		return sql.Count("*")
	}).Int(ctx)
	if !errors.Is(err, errBuilt) {
		if err == nil {
			err = errors.New("statement builder ran a query")
		}
		return "", nil, err
	}
	if query == "" {
		return "", nil, errors.New("statement builder: no statement")
	}
	return query, args, nil
}

// PlannedRows reads the top node's row estimate from EXPLAIN (FORMAT JSON)'s
// output; the benchmark's hand-written query applies the same rule.
func PlannedRows(plan []byte) (float64, error) {
	var out []struct {
		Plan struct {
			Rows *float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal(plan, &out); err != nil {
		return 0, fmt.Errorf("explain: %w", err)
	}
	if len(out) != 1 || out[0].Plan.Rows == nil {
		return 0, fmt.Errorf("explain: no row estimate in %.200s", plan)
	}
	return *out[0].Plan.Rows, nil
}

// filteredTotal is the total for a filter that is not cheap to count: all
// of the page when the page is everything that matches, else CountCap when
// PostgreSQL expects far more than it, else the bounded count.
func (s *Service) filteredTotal(ctx context.Context, conn *ent.AlertConnection, edges bool, page paging.Page, preds []predicate.Alert) (int, error) {
	if edges && page.After == nil && page.Before == nil &&
		(page.First != nil && !conn.PageInfo.HasNextPage || page.Last != nil && !conn.PageInfo.HasPreviousPage) {
		return len(conn.Edges), nil
	}
	if s.dialect == dialect.Postgres {
		planned, err := s.plannedRows(ctx, preds)
		if err != nil {
			return 0, err
		}
		if planned >= PlannedSkipFactor*CountCap {
			return CountCap, nil
		}
	}
	return s.boundedCount(ctx, preds)
}

// Selection is what a GraphQL query reads of an alert connection.
type Selection struct {
	TotalCount, PageInfo, Edges bool
	// Uncounted returns ctx as ent's Paginate reads it, minus the
	// connection's totalCount and pageInfo fields, which Paginate would
	// answer with an exact COUNT(*). pageInfo needs no count when edges are
	// read (Paginate reads one row past the page); without edges, paginate
	// derives it from the bounded count.
	Uncounted func(context.Context) context.Context
}

// paginate runs Paginate, with the bounded count in place of the exact one
// unless f is cheap to count. Without a selection (outside GraphQL)
// Paginate counts exactly.
func (s *Service) paginate(ctx context.Context, f *schematype.AlertFilter, q *ent.AlertQuery, preds []predicate.Alert, page paging.Page,
	sel *Selection, opts ...ent.AlertPaginateOption,
) (*ent.AlertConnection, error) {
	if countIsCheap(f) || sel == nil {
		return paging.Paginate(ctx, page, q.Paginate, opts...)
	}
	pctx := sel.Uncounted(ctx)
	if !sel.TotalCount && !sel.PageInfo {
		return paging.Paginate(pctx, page, q.Paginate, opts...)
	}
	conn, err := paging.Paginate(pctx, page, q.Paginate, opts...)
	if err != nil {
		return nil, err
	}
	if !sel.TotalCount && sel.Edges {
		return conn, nil
	}
	n, err := s.filteredTotal(ctx, conn, sel.Edges, page, preds)
	if err != nil {
		return nil, err
	}
	conn.TotalCount = n
	if !sel.Edges {
		// What Paginate sets when it counts without reading the page.
		conn.PageInfo.HasNextPage = page.First != nil && n > 0
		conn.PageInfo.HasPreviousPage = page.Last != nil && n > 0
	}
	return conn, nil
}
