package loaders

import (
	"context"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
)

// The nested objects, one function each: an edge the query already loaded
// is used as it is; otherwise the request's loader reads it, or, outside a
// GraphQL response, ent's own edge query. An edge counts as loaded when it
// is set: ent's XOrErr allocates an error per row for the far commoner
// unloaded edge (a tenth of a REST queue page's allocations), and an edge
// loaded empty reads the same nothing through the loader.

// AlertConnector is the connector that delivered a.
func AlertConnector(ctx context.Context, a *ent.Alert) (*ent.Connector, error) {
	if v := a.Edges.Connector; v != nil {
		return v, nil
	}
	return load(ctx, func(l *Loaders) *dataloadgen.Loader[uuid.UUID, *ent.Connector] { return l.connector }, a.ConnectorID, a.Connector)
}

// AlertAssignee is the user working on a.
func AlertAssignee(ctx context.Context, a *ent.Alert) (*ent.User, error) {
	if v := a.Edges.Assignee; v != nil {
		return v, nil
	}
	return load(ctx, userLoader, a.AssigneeID, a.Assignee)
}

// AlertIncident is the incident a is linked to.
func AlertIncident(ctx context.Context, a *ent.Alert) (*ent.Incident, error) {
	if v := a.Edges.Incident; v != nil {
		return v, nil
	}
	return load(ctx, func(l *Loaders) *dataloadgen.Loader[uuid.UUID, *ent.Incident] { return l.incident }, a.IncidentID, a.Incident)
}

// IncidentAssignee is the user assigned to i.
func IncidentAssignee(ctx context.Context, i *ent.Incident) (*ent.User, error) {
	if v := i.Edges.Assignee; v != nil {
		return v, nil
	}
	return load(ctx, userLoader, i.AssigneeID, i.Assignee)
}

// IncidentGroup is the group assigned to i.
func IncidentGroup(ctx context.Context, i *ent.Incident) (*ent.Group, error) {
	if v := i.Edges.Group; v != nil {
		return v, nil
	}
	return load(ctx, func(l *Loaders) *dataloadgen.Loader[uuid.UUID, *ent.Group] { return l.group }, i.GroupID, i.Group)
}

// IncidentSeverities counts i's linked alerts per severity; single is the
// one-incident count used outside a GraphQL response.
func IncidentSeverities(ctx context.Context, i *ent.Incident, single func(context.Context, uuid.UUID) ([]*alerts.FacetValue, error)) ([]*alerts.FacetValue, error) {
	l := From(ctx)
	if l == nil {
		return single(ctx, i.ID)
	}
	return l.severities.Load(ctx, i.ID)
}

func userLoader(l *Loaders) *dataloadgen.Loader[uuid.UUID, *ent.User] { return l.user }

func load[T any](ctx context.Context, pick func(*Loaders) *dataloadgen.Loader[uuid.UUID, T], id *uuid.UUID,
	direct func(context.Context) (T, error),
) (T, error) {
	var zero T
	if id == nil {
		return zero, nil
	}
	l := From(ctx)
	if l == nil {
		v, err := direct(ctx)
		if ent.IsNotFound(err) {
			return zero, nil
		}
		return v, err
	}
	return pick(l).Load(ctx, *id)
}

// AlertRelations are the nested objects a list reads of its alerts.
type AlertRelations struct {
	Connector, Assignee bool
	// Incident, when set, is what is read of the linked incidents.
	Incident *IncidentRelations
}

// IncidentRelations are the nested objects a list reads of its incidents.
type IncidentRelations struct {
	Assignee, Group, Severities bool
}

// PrimeAlerts reads what want asks of rows in one query per relation and
// primes the request's loaders with it, so that rows' fields find it there:
// a page costs the same number of queries whatever its size.
func PrimeAlerts(ctx context.Context, rows []*ent.Alert, want AlertRelations) error {
	l := From(ctx)
	if l == nil || len(rows) == 0 {
		return nil
	}
	var conn, users, incs []*uuid.UUID
	for _, a := range rows {
		if a == nil {
			continue
		}
		if want.Connector && a.Edges.Connector == nil {
			conn = append(conn, a.ConnectorID)
		}
		if want.Assignee && a.Edges.Assignee == nil {
			users = append(users, a.AssigneeID)
		}
		if want.Incident != nil && a.Edges.Incident == nil {
			incs = append(incs, a.IncidentID)
		}
	}
	if _, err := primeCached(ctx, l.src.Refs, l.connector, conn, l.src.connectors, func(v *ent.Connector) uuid.UUID { return v.ID }); err != nil {
		return err
	}
	if _, err := primeCached(ctx, l.src.Refs, l.user, users, l.src.users, func(v *ent.User) uuid.UUID { return v.ID }); err != nil {
		return err
	}
	if want.Incident == nil {
		return nil
	}
	loaded, err := primeCached(ctx, l.src.Refs, l.incident, incs, l.src.incidents, func(v *ent.Incident) uuid.UUID { return v.ID })
	if err != nil {
		return err
	}
	return PrimeIncidents(ctx, loaded, *want.Incident)
}

// PrimeIncidents is PrimeAlerts for a list of incidents.
func PrimeIncidents(ctx context.Context, rows []*ent.Incident, want IncidentRelations) error {
	l := From(ctx)
	if l == nil || len(rows) == 0 {
		return nil
	}
	var users, groups, ids []*uuid.UUID
	for _, i := range rows {
		if i == nil {
			continue
		}
		if want.Assignee && i.Edges.Assignee == nil {
			users = append(users, i.AssigneeID)
		}
		if want.Group && i.Edges.Group == nil {
			groups = append(groups, i.GroupID)
		}
		if want.Severities {
			ids = append(ids, &i.ID)
		}
	}
	if err := prime(ctx, l.user, users, l.src.users, func(v *ent.User) uuid.UUID { return v.ID }); err != nil {
		return err
	}
	if err := prime(ctx, l.group, groups, l.src.groups, func(v *ent.Group) uuid.UUID { return v.ID }); err != nil {
		return err
	}
	keys := distinct(ids)
	if len(keys) == 0 {
		return nil
	}
	m, err := l.src.severities(ctx, keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		l.severities.Prime(k, m[k])
	}
	return nil
}

func prime[T any](ctx context.Context, ld *dataloadgen.Loader[uuid.UUID, T], ids []*uuid.UUID,
	query func(context.Context, []uuid.UUID) ([]T, error), id func(T) uuid.UUID,
) error {
	_, err := primeRows(ctx, ld, ids, query, id)
	return err
}

// primeRows reads the distinct non-nil ids in one query, primes ld with
// each (nil for those the viewer may not read) and returns what it read.
func primeRows[T any](ctx context.Context, ld *dataloadgen.Loader[uuid.UUID, T], ids []*uuid.UUID,
	query func(context.Context, []uuid.UUID) ([]T, error), id func(T) uuid.UUID,
) ([]T, error) {
	return primeKeys(ctx, ld, distinct(ids), query, id)
}

// primeKeys is primeRows for keys already distinct.
func primeKeys[T any](ctx context.Context, ld *dataloadgen.Loader[uuid.UUID, T], keys []uuid.UUID,
	query func(context.Context, []uuid.UUID) ([]T, error), id func(T) uuid.UUID,
) ([]T, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	m, err := fetchMap(ctx, keys, query, id)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(m))
	for _, k := range keys {
		v, ok := m[k]
		ld.Prime(k, v)
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func distinct(ids []*uuid.UUID) []uuid.UUID {
	seen := make(map[uuid.UUID]bool, len(ids))
	var out []uuid.UUID
	for _, id := range ids {
		if id != nil && !seen[*id] {
			seen[*id] = true
			out = append(out, *id)
		}
	}
	return out
}
