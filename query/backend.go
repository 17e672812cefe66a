package query

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/predicate"
)

// backend reads one source's rows through ent, so the privacy rules (the
// acting organisation, no viewer no data) apply to every query it runs.
type backend struct {
	// scan runs the source's query under where, reshaped by mod (a GROUP BY,
	// a COUNT), into v.
	scan func(ctx context.Context, c *ent.Client, where, mod func(*sql.Selector), v any) error
	// records reads the rows under where in order, at most limit, as records.
	records func(ctx context.Context, c *ent.Client, where, order func(*sql.Selector), limit int) ([]Record, error)
}

var backends = map[string]backend{
	"alerts": {
		scan: func(ctx context.Context, c *ent.Client, where, mod func(*sql.Selector), v any) error {
			return c.Alert.Query().Where(predicate.Alert(where)).Modify(mod).Scan(ctx, v)
		},
		records: func(ctx context.Context, c *ent.Client, where, order func(*sql.Selector), limit int) ([]Record, error) {
			rows, err := c.Alert.Query().Where(predicate.Alert(where)).Order(order).Limit(limit).
				WithConnector().WithAssignee().WithIncident().All(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Record, len(rows))
			for i, a := range rows {
				out[i] = AlertRecord(a)
				out[i]["id"] = a.ID.String()
			}
			return out, nil
		},
	},
	"incidents": {
		scan: func(ctx context.Context, c *ent.Client, where, mod func(*sql.Selector), v any) error {
			return c.Incident.Query().Where(predicate.Incident(where)).Modify(mod).Scan(ctx, v)
		},
		records: func(ctx context.Context, c *ent.Client, where, order func(*sql.Selector), limit int) ([]Record, error) {
			rows, err := c.Incident.Query().Where(predicate.Incident(where)).Order(order).Limit(limit).WithAssignee().All(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Record, len(rows))
			for i, n := range rows {
				out[i] = IncidentRecord(n)
				out[i]["id"] = n.ID.String()
			}
			return out, nil
		},
	},
	"activity": {
		scan: func(ctx context.Context, c *ent.Client, where, mod func(*sql.Selector), v any) error {
			return c.Activity.Query().Where(predicate.Activity(where)).Modify(mod).Scan(ctx, v)
		},
		records: func(ctx context.Context, c *ent.Client, where, order func(*sql.Selector), limit int) ([]Record, error) {
			rows, err := c.Activity.Query().Where(predicate.Activity(where)).Order(order).Limit(limit).WithActor().All(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Record, len(rows))
			for i, a := range rows {
				out[i] = ActivityRecord(a)
				out[i]["id"] = a.ID.String()
			}
			return out, nil
		},
	},
}

// IncidentRecord is n as the in-memory program reads it; its assignee edge
// must be loaded when set.
func IncidentRecord(n *ent.Incident) Record {
	r := Record{
		"number":      int64(n.Number),
		"title":       n.Title,
		"description": n.Description,
		"severity":    string(n.Severity),
		"status":      string(n.Status),
		"disposition": "",
		"tags":        nonNil(n.Tags),
		"alert_count": int64(n.AlertCount),
		"created_at":  n.CreatedAt,
		"updated_at":  n.UpdatedAt,
	}
	if n.Disposition != nil {
		r["disposition"] = string(*n.Disposition)
	}
	setAssignee(r, n.Edges.Assignee)
	return r
}

// ActivityRecord is a as the in-memory program reads it; its actor edge
// must be loaded when set.
func ActivityRecord(a *ent.Activity) Record {
	r := Record{
		"action":      a.Action,
		"entity_type": a.EntityType,
		"field":       a.Field,
		"actor.name":  a.ActorName,
		"created_at":  a.CreatedAt,
	}
	r["actor"], r["actor.email"] = nil, ""
	if a.ActorID != nil {
		r["actor"] = map[string]any{"name": a.ActorName}
	}
	if u := a.Edges.Actor; u != nil {
		r["actor"] = map[string]any{"name": a.ActorName, "email": u.Email}
		r["actor.email"] = u.Email
	}
	return r
}
