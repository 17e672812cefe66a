package incidents

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage/sqlpred"
)

// Limits on a filter, so that a request cannot expand into an unbounded
// query.
const (
	maxFilterValues = 100
	maxQLength      = 200
)

// defaultOrder lists the newest incidents first.
var defaultOrder = ent.IncidentOrder{Direction: paging.Desc, Field: ent.IncidentOrderFieldCreatedAt}

// List pages through the acting organisation's incidents.
func (s *Service) List(ctx context.Context, f *IncidentFilter, page paging.Page, orderBy *ent.IncidentOrder) (*ent.IncidentConnection, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, err
	}
	if err := validateFilter(f); err != nil {
		return nil, err
	}
	ctx, err = treeScope(ctx, f)
	if err != nil {
		return nil, err
	}
	order := defaultOrder
	if orderBy != nil {
		order = *orderBy
		if order.Field == nil {
			order.Field = defaultOrder.Field
		}
	}
	if order.Field == ent.IncidentOrderFieldCreatedAt || order.Field == ent.IncidentOrderFieldUpdatedAt {
		if page, err = page.ByTime(); err != nil {
			return nil, err
		}
	}
	return paging.Paginate(ctx, page, s.client.Incident.Query().Where(predicates(f)...).Paginate, ent.WithIncidentOrder(&order))
}

// AllOrganizations is the filter's organization for a provider's whole tree.
const AllOrganizations = "all"

// treeScope answers a filter with organization "all" (the MSSP SLA queue)
// through the read-only tree viewer: a user of a provider organisation,
// acting in it, lists the incidents of every organisation of its tree,
// each row naming its organisation. It is the SLA queue's widening only:
// sla_state is required with it. A named organisation (X-Seliq-Org) wins;
// anyone else (a client organisation's user) is refused.
func treeScope(ctx context.Context, f *IncidentFilter) (context.Context, error) {
	if f == nil || f.Organization == nil || *f.Organization == "" {
		return ctx, nil
	}
	tree, _, ok := viewer.ForTree(ctx)
	if ok {
		return tree, nil
	}
	if v := viewer.FromContext(ctx); v != nil && v.Picked {
		return ctx, nil
	}
	return nil, apperr.New(apperr.Forbidden, "organization=all is for users of a provider organisation, acting in it")
}

// validateFilter bounds a filter and checks its enums and text.
func validateFilter(f *IncidentFilter) error {
	if f == nil {
		return nil
	}
	for _, l := range []struct {
		field string
		n     int
	}{{"status", len(f.Status)}, {"severity", len(f.Severity)}, {"assignee_id", len(f.AssigneeID)},
		{"group_id", len(f.GroupID)}, {"tag", len(f.Tag)}, {"sla_state", len(f.SLAState)}} {
		if l.n > maxFilterValues {
			return apperr.Invalid("filter."+l.field, "at most %d values", maxFilterValues)
		}
	}
	for _, s := range f.Status {
		if !s.Valid() {
			return apperr.Invalid("filter.status", "%q is not an incident status", s)
		}
	}
	for _, s := range f.Severity {
		if !s.Valid() {
			return apperr.Invalid("filter.severity", "%q is not a severity", s)
		}
	}
	for _, t := range f.Tag {
		if !textfield.Storable(t) {
			return apperr.Invalid("filter.tag", "is not valid text")
		}
	}
	if f.Query != nil {
		if _, err := CompileQuery(*f.Query); err != nil {
			return err
		}
	}
	if len(f.SLAState) > 0 {
		if _, err := sla.StateFilter("filter.sla_state", f.SLAState); err != nil {
			return err
		}
	}
	if o := f.Organization; o != nil && *o != "" {
		if *o != AllOrganizations {
			return apperr.Invalid("filter.organization", `must be %q (every organisation of your tree) or left out; pick one organisation with the X-Seliq-Org header`, AllOrganizations)
		}
		if len(f.SLAState) == 0 {
			return apperr.Invalid("filter.organization", "the tree-wide list is the SLA queue: give sla_state too")
		}
	}
	if f.Q != nil && (!textfield.Storable(*f.Q) || utf8.RuneCountInString(*f.Q) > maxQLength) {
		return apperr.Invalid("filter.q", "must be valid text of at most %d characters", maxQLength)
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return apperr.Invalid("filter.until", "must be after since")
	}
	return nil
}

// Predicates validates a filter and turns it into ent predicates (the
// incident subscription filters with them).
func Predicates(f *IncidentFilter) ([]predicate.Incident, error) {
	if err := validateFilter(f); err != nil {
		return nil, err
	}
	if f != nil && f.Organization != nil && *f.Organization != "" {
		// The tree-wide view is the list's (treeScope); elsewhere it would
		// be silently the acting organisation's.
		return nil, apperr.Invalid("filter.organization", "is for the incident list (the MSSP SLA queue) only")
	}
	return predicates(f), nil
}

// predicates turns a validated filter into ent predicates.
func predicates(f *IncidentFilter) []predicate.Incident {
	if f == nil {
		return nil
	}
	var ps []predicate.Incident
	if len(f.Status) > 0 {
		ps = append(ps, incident.StatusIn(f.Status...))
	}
	if len(f.Severity) > 0 {
		ps = append(ps, incident.SeverityIn(f.Severity...))
	}
	unassigned := f.Unassigned != nil && *f.Unassigned
	switch {
	case len(f.AssigneeID) > 0 && unassigned:
		ps = append(ps, incident.Or(incident.AssigneeIDIn(f.AssigneeID...), incident.AssigneeIDIsNil()))
	case len(f.AssigneeID) > 0:
		ps = append(ps, incident.AssigneeIDIn(f.AssigneeID...))
	case unassigned:
		ps = append(ps, incident.AssigneeIDIsNil())
	}
	if len(f.GroupID) > 0 {
		ps = append(ps, incident.GroupIDIn(f.GroupID...))
	}
	if len(f.Tag) > 0 {
		ps = append(ps, sqlpred.HasAnyString(incident.FieldTags, f.Tag))
	}
	if f.Q != nil && *f.Q != "" {
		ps = append(ps, sqlpred.ContainsText(*f.Q, incident.FieldTitle, incident.FieldDescription, incident.FieldSummary))
	}
	if f.Since != nil {
		ps = append(ps, incident.CreatedAtGTE(f.Since.UTC()))
	}
	if f.Until != nil {
		ps = append(ps, incident.CreatedAtLT(f.Until.UTC()))
	}
	if len(f.SLAState) > 0 {
		if p, err := sla.StateFilter("filter.sla_state", f.SLAState); err == nil { // validateFilter checked it
			ps = append(ps, p)
		}
	}
	if f.Query != nil {
		if q, err := CompileQuery(*f.Query); err == nil { // validateFilter compiled it already
			ps = append(ps, predicate.Incident(q.Where()))
		}
	}
	return ps
}

// CompileQuery compiles an incident filter's query expression.
func CompileQuery(text string) (*query.Query, error) {
	src, _ := query.Lookup("incidents")
	return query.Compile(src, "filter.query", text, time.Now())
}
