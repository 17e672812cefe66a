package analysis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage/settingstore"
)

// Bounds on a grouping proposal.
const (
	groupingWindow     = 30 * time.Minute
	groupingCandidates = 200 // alerts of the window examined
	groupingMax        = 50  // alerts proposed
)

// Grouping proposes one incident for an alert and the alerts that belong
// with it: sharing an entity, from the same source on the same asset, or
// showing the same ATT&CK technique, within 30 minutes. IncidentID names
// the incident to extend when one of them is already in one.
type Grouping struct {
	AlertIDs   []string `json:"alert_ids"`
	IncidentID string   `json:"incident_id,omitempty"`
	Reasons    []string `json:"reasons"`
	// Accepted is the incident the proposal was accepted into.
	Accepted string `json:"accepted_incident_id,omitempty"`
}

// proposeGrouping looks at the open alerts first seen within 30 minutes of
// a's and keeps those related to it; nil when there are none.
func (s *Service) proposeGrouping(ctx context.Context, a *ent.Alert) (*Grouping, error) {
	at := a.FirstSeenAt
	near, err := s.client.Alert.Query().
		Where(alert.IDNEQ(a.ID), alert.StatusNEQ(enum.AlertStatusClosed),
			alert.FirstSeenAtGTE(at.Add(-groupingWindow)), alert.FirstSeenAtLTE(at.Add(groupingWindow))).
		Order(ent.Asc(alert.FieldFirstSeenAt), ent.Asc(alert.FieldID)).Limit(groupingCandidates).
		Select(groupingFields...).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("grouping candidates: %w", err)
	}
	return groupingFrom(a, near), nil
}

// groupingFrom keeps those of a's candidates near that are related to it;
// nil when there are none.
func groupingFrom(a *ent.Alert, near []*ent.Alert) *Grouping {
	g := &Grouping{}
	if a.IncidentID != nil {
		g.IncidentID = a.IncidentID.String()
	}
	for _, b := range near {
		why := relation(a, b)
		if why == "" {
			continue
		}
		g.AlertIDs = append(g.AlertIDs, b.ID.String())
		if len(g.Reasons) < 10 {
			g.Reasons = append(g.Reasons, fmt.Sprintf("%q %s", clipTitle(b.Title), why))
		}
		if g.IncidentID == "" && b.IncidentID != nil {
			g.IncidentID = b.IncidentID.String()
		}
		if len(g.AlertIDs) == groupingMax {
			break
		}
	}
	if len(g.AlertIDs) == 0 {
		return nil
	}
	return g
}

// relation says why b belongs with a, or "".
func relation(a, b *ent.Alert) string {
	for _, e := range a.Entities {
		if e.Type == "user" || e.Type == "cve" {
			continue // a user spans unrelated activity; a CVE is context
		}
		for _, f := range b.Entities {
			if f.Type == e.Type && strings.EqualFold(f.Value, e.Value) {
				return "shares " + e.Type + " " + e.Value
			}
		}
	}
	if asset := assetOf(a); asset != "" && a.Source == b.Source && assetOf(b) == asset {
		return "comes from the same source (" + a.Source + ") on " + asset
	}
	for _, t := range a.Mitre {
		if slices.Contains(b.Mitre, t) {
			return "shows the same technique " + t
		}
	}
	return ""
}

func clipTitle(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}

// AcceptGrouping accepts an alert analysis's grouping proposal: the alert
// and the proposed ones go into the proposed incident, or into a new one.
// Accepting twice returns the same incident.
func (s *Service) AcceptGrouping(ctx context.Context, analysisID uuid.UUID) (*ent.Incident, error) {
	if v := viewer.FromContext(ctx); !v.HasRole(enum.RoleAnalyst) {
		return nil, apperr.New(apperr.Forbidden, "only analysts and admins accept groupings")
	}
	an, err := s.client.Analysis.Get(ctx, analysisID)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("analysis %s not found", analysisID)
	}
	if err != nil {
		return nil, err
	}
	g, err := groupingOf(an)
	if err != nil {
		return nil, err
	}
	inc := s.incidents
	if inc == nil {
		inc = incidents.New(s.client)
	}
	if g.Accepted != "" {
		if id, err := uuid.Parse(g.Accepted); err == nil {
			return inc.Get(ctx, id)
		}
	}
	ids := []uuid.UUID{*an.AlertID}
	for _, v := range g.AlertIDs {
		if id, err := uuid.Parse(v); err == nil {
			ids = append(ids, id)
		}
	}
	var out *ent.Incident
	if id, err := uuid.Parse(g.IncidentID); err == nil {
		p, err := inc.LinkAlerts(ctx, id, incidents.LinkAlertsInput{AlertIDs: ids})
		if err != nil {
			return nil, err
		}
		out = p.Incident
	} else {
		a, err := s.client.Alert.Get(ctx, *an.AlertID)
		if err != nil {
			return nil, err
		}
		sev := a.Severity
		desc := "Grouped from the analysis of alert " + a.ID.String() + ": " + strings.Join(g.Reasons, "; ")
		if out, err = inc.Create(ctx, incidents.CreateIncidentInput{Title: clipTitle(a.Title), Description: &desc, Severity: &sev, AlertIDs: ids}); err != nil {
			return nil, err
		}
	}
	g.Accepted = out.ID.String()
	res := an.Result
	res["grouping"] = g
	if err := s.client.Analysis.UpdateOne(an).SetResult(res).Exec(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// groupingOf reads the proposal stored in an alert analysis.
func groupingOf(an *ent.Analysis) (Grouping, error) {
	var g Grouping
	raw, ok := an.Result["grouping"]
	if an.AlertID == nil || !ok || raw == nil {
		return g, apperr.New(apperr.Conflict, "analysis %s proposes no grouping", an.ID)
	}
	m, err := settingstore.ToMap(raw)
	if err != nil {
		return g, err
	}
	g.AlertIDs = anyStrings(m["alert_ids"])
	g.Reasons = anyStrings(m["reasons"])
	g.IncidentID, _ = m["incident_id"].(string)
	g.Accepted, _ = m["accepted_incident_id"].(string)
	if len(g.AlertIDs) > groupingMax {
		g.AlertIDs = g.AlertIDs[:groupingMax]
	}
	return g, nil
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
