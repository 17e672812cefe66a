package analysis

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
)

// Bounds on the context gathered for one analysis.
const (
	historyWindow   = 50 // closed alerts of the same fingerprint counted
	relatedPerQuery = 5  // related alerts per fingerprint or entity
	entitiesProbed  = 3  // entities looked up for related alerts
	incidentAlerts  = 500
)

// analyseAlert loads the alert and its context and runs the built-in
// analyst over them.
func (s *Service) analyseAlert(ctx context.Context, id uuid.UUID) (*ent.Alert, builtin.Context, builtin.Analysis, error) {
	a, err := s.client.Alert.Get(ctx, id)
	if err != nil {
		return nil, builtin.Context{}, builtin.Analysis{}, fmt.Errorf("load alert: %w", err)
	}
	c, _, err := s.alertContext(ctx, a)
	if err != nil {
		return nil, builtin.Context{}, builtin.Analysis{}, err
	}
	if c.Profile, err = loadProfile(ctx, s.client); err != nil {
		return nil, builtin.Context{}, builtin.Analysis{}, fmt.Errorf("asset profile: %w", err)
	}
	return a, c, builtin.AnalyzeAlert(toBuiltin(a), c), nil
}

// analyseIncident loads the incident, its alerts (returned as loaded too,
// for the prompt), timeline and the history of their fingerprints, and runs
// the built-in analyst over them.
func (s *Service) analyseIncident(ctx context.Context, id uuid.UUID) (builtin.Incident, []*ent.Alert, builtin.IncidentContext, builtin.IncidentAnalysis, error) {
	var (
		in  builtin.Incident
		ic  builtin.IncidentContext
		out builtin.IncidentAnalysis
	)
	inc, err := s.client.Incident.Query().Where(incident.ID(id)).Only(ctx)
	if err != nil {
		return in, nil, ic, out, fmt.Errorf("load incident: %w", err)
	}
	linked, err := s.client.Alert.Query().Where(alert.IncidentID(id)).
		Order(ent.Asc(alert.FieldFirstSeenAt)).Limit(incidentAlerts).All(ctx)
	if err != nil {
		return in, nil, ic, out, fmt.Errorf("load alerts: %w", err)
	}
	events, err := s.timeline(ctx, id)
	if err != nil {
		return in, nil, ic, out, err
	}
	in = builtin.Incident{Title: inc.Title, Description: inc.Description, Severity: string(inc.Severity),
		Status: string(inc.Status), CreatedAt: inc.CreatedAt, Timeline: events}
	ic = builtin.IncidentContext{History: map[string]builtin.DispositionHistory{}}
	if ic.Profile, err = loadProfile(ctx, s.client); err != nil {
		return in, nil, ic, out, fmt.Errorf("asset profile: %w", err)
	}
	for _, a := range linked {
		in.Alerts = append(in.Alerts, toBuiltin(a))
		if a.Fingerprint == "" {
			continue
		}
		if _, done := ic.History[a.Fingerprint]; done {
			continue
		}
		h, err := s.history(ctx, a)
		if err != nil {
			return in, nil, ic, out, err
		}
		ic.History[a.Fingerprint] = h
	}
	return in, linked, ic, builtin.AnalyzeIncident(in, ic), nil
}

// contextReader reads what an alert's context is made of: the alerts
// related to it (matching where, newest first, other than a; key names the
// read: "f:" and a fingerprint, "e:" and an entity value) and its
// disposition history. One analysis reads them directly (directReader); a
// batch shares each read among its alerts (batchReader).
type contextReader interface {
	related(ctx context.Context, a *ent.Alert, key string, where ...predicate.Alert) ([]*ent.Alert, error)
	history(ctx context.Context, a *ent.Alert) (builtin.DispositionHistory, error)
}

// alertContext gathers the related alerts and incidents (same
// fingerprint, shared entities) and the disposition history; rows are the
// related alerts as loaded (their callers need more than c.Related keeps).
func (s *Service) alertContext(ctx context.Context, a *ent.Alert) (c builtin.Context, rows []*ent.Alert, err error) {
	return gatherContext(ctx, a, directReader{s})
}

// gatherContext is the one rule of an alert's context, whoever reads it.
func gatherContext(ctx context.Context, a *ent.Alert, rd contextReader) (c builtin.Context, rows []*ent.Alert, err error) {
	seen := map[uuid.UUID]bool{a.ID: true}
	incidents := map[uuid.UUID]bool{}
	add := func(list []*ent.Alert, reason string) {
		for _, r := range list {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			rows = append(rows, r)
			c.Related = append(c.Related, builtin.Related{ID: r.ID.String(), Title: r.Title, Kind: "alert", Reason: reason})
			if r.IncidentID != nil && !incidents[*r.IncidentID] {
				incidents[*r.IncidentID] = true
				c.Related = append(c.Related, builtin.Related{ID: r.IncidentID.String(), Kind: "incident", Reason: "holds a related alert (" + reason + ")"})
			}
		}
	}
	if a.Fingerprint != "" {
		same, err := rd.related(ctx, a, "f:"+a.Fingerprint, alert.Fingerprint(a.Fingerprint))
		if err != nil {
			return c, nil, fmt.Errorf("related by fingerprint: %w", err)
		}
		add(same, "same fingerprint")
	}
	if c.History, err = rd.history(ctx, a); err != nil {
		return c, nil, err
	}
	for i, e := range a.Entities {
		if i == entitiesProbed {
			break
		}
		shared, err := rd.related(ctx, a, "e:"+e.Value, entityPred(e.Value))
		if err != nil {
			return c, nil, fmt.Errorf("related by entity: %w", err)
		}
		add(shared, "shares "+e.Type+" "+e.Value)
	}
	return c, rows, nil
}

// directReader reads one alert's context as it is needed.
type directReader struct{ s *Service }

func (d directReader) related(ctx context.Context, a *ent.Alert, _ string, where ...predicate.Alert) ([]*ent.Alert, error) {
	return d.s.client.Alert.Query().Where(where...).Where(alert.IDNEQ(a.ID)).
		Order(ent.Desc(alert.FieldLastSeenAt), ent.Desc(alert.FieldID)).Limit(relatedPerQuery).All(ctx)
}

func (d directReader) history(ctx context.Context, a *ent.Alert) (builtin.DispositionHistory, error) {
	return d.s.history(ctx, a)
}

// history counts the dispositions of the latest closed alerts of the same
// rule on the same asset: the same source and title (the detection) and
// the same host (else user) among their entities. Without either, only
// alerts with a's fingerprint count. Closures of the rule elsewhere, or of
// other rules here, say nothing about this alert.
func (s *Service) history(ctx context.Context, a *ent.Alert) (builtin.DispositionHistory, error) {
	var h builtin.DispositionHistory
	where := []predicate.Alert{alert.IDNEQ(a.ID), alert.StatusEQ(enum.AlertStatusClosed), alert.DispositionNotNil()}
	switch asset := assetOf(a); {
	case asset != "":
		where = append(where, alert.Source(a.Source), alert.Title(a.Title))
		where = append(where, alerts.Predicates(&schematype.AlertFilter{Entity: &asset})...)
	case a.Fingerprint != "":
		where = append(where, alert.Fingerprint(a.Fingerprint))
	default:
		return h, nil
	}
	closed, err := s.client.Alert.Query().Where(where...).
		Order(ent.Desc(alert.FieldResolvedAt), ent.Desc(alert.FieldID)).Limit(historyWindow).Select(alert.FieldDisposition).All(ctx)
	if err != nil {
		return h, fmt.Errorf("disposition history: %w", err)
	}
	for _, c := range closed {
		switch *c.Disposition {
		case enum.DispositionTruePositive:
			h.TruePositive++
		case enum.DispositionFalsePositive:
			h.FalsePositive++
		case enum.DispositionBenign:
			h.Benign++
		case enum.DispositionDuplicate:
			h.Duplicate++
		}
	}
	return h, nil
}

// assetOf is the asset an alert is about: its first host, else its first
// user.
func assetOf(a *ent.Alert) string {
	for _, typ := range []string{"hostname", "user"} {
		for _, e := range a.Entities {
			if e.Type == typ {
				return e.Value
			}
		}
	}
	return ""
}

func toBuiltin(a *ent.Alert) builtin.Alert {
	out := builtin.Alert{ID: a.ID.String(), Title: a.Title, Description: a.Description, Source: builtin.SourceName(a.Source),
		Severity: string(a.Severity), Status: string(a.Status), Tags: a.Tags, Raw: a.Raw, VendorTechniques: a.Mitre,
		Fingerprint: a.Fingerprint, FirstSeenAt: a.FirstSeenAt, LastSeenAt: a.LastSeenAt, Occurrences: a.Occurrences}
	for _, e := range a.Entities {
		out.Entities = append(out.Entities, builtin.Entity{Type: e.Type, Value: e.Value})
	}
	return out
}
