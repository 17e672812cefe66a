package alerts

import (
	"context"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/schematype"
)

// maxFacetValues bounds the open-ended facets (source, tags), whose values
// are not a fixed set.
const maxFacetValues = 50

// facet describes one count of the sidebar: which values it groups by and
// which part of the filter it ignores, so that the counts beside a checked
// value still show the alternatives.
type facet struct {
	// group returns the SQL expression grouped on, adding to s's FROM
	// clause what it needs.
	group func(s *sql.Selector) string
	// without clears the facet's own field from a copy of the filter.
	without func(f *schematype.AlertFilter)
	limit   int
	out     func(*AlertFacets) *[]*FacetValue
	// counted is where the alert counters keep the facet's counts.
	counted counted
}

// othersOf is f without the facet's own field: the conditions its counts
// are taken under.
func (fc facet) othersOf(f *schematype.AlertFilter) schematype.AlertFilter {
	var others schematype.AlertFilter
	if f != nil {
		others = *f
	}
	fc.without(&others)
	return others
}

func facetColumn(name string) func(s *sql.Selector) string {
	return func(s *sql.Selector) string { return s.C(name) }
}

var severityFacet = facet{
	group:   facetColumn(alert.FieldSeverity),
	without: func(f *schematype.AlertFilter) { f.Severity = nil },
	out:     func(a *AlertFacets) *[]*FacetValue { return &a.Severity },
	counted: byKey(alert.FieldSeverity),
}

var facets = []facet{
	{
		group:   facetColumn(alert.FieldStatus),
		without: func(f *schematype.AlertFilter) { f.Status = nil },
		out:     func(a *AlertFacets) *[]*FacetValue { return &a.Status },
		counted: byKey(alert.FieldStatus),
	},
	severityFacet,
	{
		group:   facetColumn(alert.FieldSource),
		without: func(f *schematype.AlertFilter) { f.Source = nil },
		limit:   maxFacetValues,
		out:     func(a *AlertFacets) *[]*FacetValue { return &a.Source },
		counted: byKey(alert.FieldSource),
	},
	{
		group:   facetColumn(alert.FieldConnectorID),
		without: func(f *schematype.AlertFilter) { f.ConnectorID = nil },
		out:     func(a *AlertFacets) *[]*FacetValue { return &a.Connector },
		counted: byKey(alert.FieldConnectorID),
	},
	{
		group:   facetColumn(alert.FieldAssigneeID),
		without: func(f *schematype.AlertFilter) { f.AssigneeID, f.Unassigned = nil, nil },
		out:     func(a *AlertFacets) *[]*FacetValue { return &a.Assignee },
		counted: byKey(alert.FieldAssigneeID),
	},
	{
		group:   tagElements,
		without: func(f *schematype.AlertFilter) { f.Tag = nil },
		limit:   maxFacetValues,
		out:     func(a *AlertFacets) *[]*FacetValue { return &a.Tags },
		counted: byTag,
	},
}

// facetConcurrency bounds the connections one facets request holds.
const facetConcurrency = 3

// Facets counts the alerts matching f per value of status, severity,
// source, connector, assignee and tag, each count ignoring the filter's
// own condition on that field. Lists run from the most frequent value,
// ties by value (byte order), a missing value (no connector, no assignee)
// last among its ties.
func (s *Service) Facets(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	if err := ValidateFilter("filter", f); err != nil {
		return nil, err
	}
	if countable(f) { // see facets_counters.go
		return s.facetsFromCounters(ctx, f)
	}
	return s.facetsExact(ctx, f)
}

// facetsExact counts the matching alerts themselves.
func (s *Service) facetsExact(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	if s.dialect == dialect.Postgres { // see facets_pg.go
		return s.facetsOnePass(ctx, f)
	}
	return s.facetsPerField(ctx, f)
}

// facetsPerField runs one GROUP BY per facet (SQLite has no GROUPING SETS).
func (s *Service) facetsPerField(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	// Each facet is its own scan; running them side by side bounds the
	// answer by the slowest rather than the sum.
	out := &AlertFacets{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(facetConcurrency)
	for _, fc := range facets {
		g.Go(func() error {
			values, err := s.countFacet(gctx, f, fc)
			if err != nil {
				return err
			}
			*fc.out(out) = values // each goroutine writes its own field
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

type facetRow struct {
	Value *string `sql:"facet_value"`
	Count int     `sql:"facet_count"`
}

// countFacet runs one GROUP BY. It goes through an ent query, so the tenant
// filter of the privacy policy is part of its WHERE clause.
func (s *Service) countFacet(ctx context.Context, f *schematype.AlertFilter, fc facet) ([]*FacetValue, error) {
	others := fc.othersOf(f)
	var rows []facetRow
	err := s.client.Alert.Query().Where(Predicates(&others)...).
		Modify(func(sel *sql.Selector) { groupCount(sel, fc) }).
		Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	values := make([]*FacetValue, len(rows))
	for i, r := range rows {
		values[i] = &FacetValue{Value: r.Value, Count: r.Count}
	}
	return values, nil
}

// groupCount turns sel into "SELECT value, COUNT(*) ... GROUP BY value"
// ordered by count, then value.
func groupCount(sel *sql.Selector, fc facet) {
	groupValues(sel, fc.group(sel), "COUNT(*)", fc.limit)
}

// groupValues selects group as facet_value and count as facet_count, per
// value of group, ordered by count, then value, at most limit rows when
// limit > 0. Values are cast to text so that uuid columns read back as
// their canonical string on PostgreSQL too.
func groupValues(sel *sql.Selector, group, count string, limit int) {
	value := "CAST(" + group + " AS TEXT)"
	sel.SelectExpr(sql.Expr(value+" AS facet_value"), sql.Expr(count+" AS facet_count")).
		GroupBy(group).
		OrderExprFunc(func(b *sql.Builder) {
			b.WriteString(count + " DESC, ").WriteString(byteOrder(sel, value)).WriteString(" ASC NULLS LAST")
		})
	if limit > 0 {
		sel.Limit(limit)
	}
}

// Severities counts an incident's linked alerts per severity (one GROUP
// BY over the incident_id index), for the incident's header.
func (s *Service) Severities(ctx context.Context, incidentID uuid.UUID) ([]*FacetValue, error) {
	return s.countFacet(ctx, &schematype.AlertFilter{IncidentID: &incidentID}, severityFacet)
}

// SeveritiesByIncident is Severities for several incidents in one GROUP BY
// (the incident list's and the queue's nested incidents, through the
// request's loaders); an incident without alerts maps to an empty list.
func (s *Service) SeveritiesByIncident(ctx context.Context, incidentIDs []uuid.UUID) (map[uuid.UUID][]*FacetValue, error) {
	var rows []struct {
		IncidentID uuid.UUID `json:"incident_id"`
		Severity   string    `json:"severity"`
		Count      int       `json:"count"`
	}
	err := s.client.Alert.Query().Where(alert.IncidentIDIn(incidentIDs...)).
		GroupBy(alert.FieldIncidentID, alert.FieldSeverity).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID][]*FacetValue, len(incidentIDs))
	for _, id := range incidentIDs {
		out[id] = []*FacetValue{}
	}
	for _, r := range rows {
		v := r.Severity
		out[r.IncidentID] = append(out[r.IncidentID], &FacetValue{Value: &v, Count: r.Count})
	}
	// Severities' order: by count, then value in byte order.
	for _, vs := range out {
		slices.SortFunc(vs, func(a, b *FacetValue) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(*a.Value, *b.Value)
		})
	}
	return out, nil
}
