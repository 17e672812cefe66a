package query

import (
	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent"
)

// Where is the query as a condition on its source's rows, for an ent
// query's Where (predicate.Alert(q.Where()) and the like).
func (q *Query) Where() func(*sql.Selector) {
	if q.memoryOnly {
		// Never reached: callers compile stored-row queries with Compile.
		panic("query: an event condition reading changes has no SQL form")
	}
	return func(s *sql.Selector) { s.Where(q.where(sqlCtx{s: s})) }
}

// AlertRecord is a as the in-memory program reads it. Its connector,
// assignee and incident edges must be loaded when set (WithConnector…).
func AlertRecord(a *ent.Alert) Record {
	r := Record{
		"severity":           string(a.Severity),
		"status":             string(a.Status),
		"disposition":        "",
		"source":             a.Source,
		"suppression_reason": a.SuppressionReason,
		"title":              a.Title,
		"description":        a.Description,
		"external_id":        a.ExternalID,
		"occurrences":        int64(a.Occurrences),
		"created_at":         a.CreatedAt,
		"first_seen_at":      a.FirstSeenAt,
		"last_seen_at":       a.LastSeenAt,
		"tags":               nonNil(a.Tags),
		"techniques":         nonNil(a.Mitre),
		"attributes":         nonNilMap(a.Attributes),
	}
	if a.Disposition != nil {
		r["disposition"] = string(*a.Disposition)
	}
	r["connector"], r["connector.name"], r["connector.type"] = nil, "", ""
	if c := a.Edges.Connector; c != nil {
		r["connector"] = map[string]any{"name": c.Name, "type": c.Type}
		r["connector.name"], r["connector.type"] = c.Name, c.Type
	}
	setAssignee(r, a.Edges.Assignee)
	r["incident"], r["incident.number"], r["incident.status"] = nil, int64(0), ""
	if i := a.Edges.Incident; i != nil {
		r["incident"] = map[string]any{"number": int64(i.Number), "status": string(i.Status)}
		r["incident.number"], r["incident.status"] = int64(i.Number), string(i.Status)
	}
	byKind := map[string][]string{}
	for _, e := range a.Entities {
		byKind[e.Type] = append(byKind[e.Type], e.Value)
	}
	src := sources["alerts"]
	for _, f := range src.Fields {
		if f.col.kind != colEntities {
			continue
		}
		vals := []string{}
		for _, typ := range f.col.types {
			vals = append(vals, byKind[typ]...)
		}
		r[f.Name] = vals
	}
	return r
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// setAssignee sets the assignee fields of r from u (nil when unassigned).
func setAssignee(r Record, u *ent.User) {
	r["assignee"], r["assignee.email"], r["assignee.handle"] = nil, "", ""
	if u != nil {
		r["assignee"] = map[string]any{"email": u.Email, "handle": u.Handle}
		r["assignee.email"], r["assignee.handle"] = u.Email, u.Handle
	}
}
