package alerts

import (
	"context"
	"fmt"
	"reflect"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// The alert counters (storage/alertcounts.go) hold the number of alerts per
// organisation, status, severity, source, connector and assignee, and per
// the same and tag. A filter on those fields alone is a condition on the
// counters' keys, so every facet is a sum over counter rows, which stay
// few however many alerts there are. Any other field (time, tag, entity,
// text, incident) cuts across the keys and takes the exact path.

// counted says where a facet's counts live: the counters' view and the
// column of the facet's values.
type counted struct {
	view, column string
}

var (
	byKey = func(column string) counted { return counted{storage.AlertCountsView, column} }
	byTag = counted{storage.AlertTagCountsView, "tag"}
)

// counterFilter clears the fields the counters are keyed by; what remains
// of a filter the counters can answer is the zero filter.
func counterFilter(f *schematype.AlertFilter) {
	f.Status, f.Severity, f.Source, f.ConnectorID, f.AssigneeID, f.Unassigned = nil, nil, nil, nil, nil, nil
}

// countable reports whether the counters can answer f. It compares with
// the zero filter rather than listing the other fields, so a field added
// to the filter later takes the exact path until the counters know it.
func countable(f *schematype.AlertFilter) bool {
	if f == nil {
		return true
	}
	rest := *f
	counterFilter(&rest)
	return reflect.DeepEqual(rest, schematype.AlertFilter{})
}

// facetsFromCounters answers every facet from the counters of the viewer's
// organisation. The counters are outside ent's privacy policy, so the
// organisation is taken here as the tenant rule takes it, failing closed.
func (s *Service) facetsFromCounters(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	if !countable(f) {
		return nil, fmt.Errorf("alert counters cannot answer the filter %+v", *f)
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, privacy.Denyf("%w", rule.ErrNoViewer)
	}
	out := &AlertFacets{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(facetConcurrency)
	for _, fc := range facets {
		g.Go(func() error {
			values, err := s.sumFacet(gctx, v.OrgID, f, fc)
			*fc.out(out) = values // each goroutine writes its own field
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// sumFacet is countFacet over the counters: the same grouping, order and
// limit, counting by SUM(n) and leaving out keys whose alerts are all gone.
func (s *Service) sumFacet(ctx context.Context, orgID uuid.UUID, f *schematype.AlertFilter, fc facet) ([]*FacetValue, error) {
	others := fc.othersOf(f)
	sel := storage.CountersOf(s.dialect, fc.counted.view, []uuid.UUID{orgID})
	// The counters' columns are named as the alerts', so the filter's own
	// predicates apply to them.
	for _, p := range Predicates(&others) {
		p(sel)
	}
	count := storage.SumN(sel)
	groupValues(sel, sel.C(fc.counted.column), count, fc.limit)
	sel.Having(sql.ExprP(count + " > 0"))
	query, args := sel.Query()
	rows, err := s.client.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	values := []*FacetValue{}
	for rows.Next() {
		var v FacetValue
		if err := rows.Scan(&v.Value, &v.Count); err != nil {
			return nil, err
		}
		values = append(values, &v)
	}
	return values, rows.Err()
}
