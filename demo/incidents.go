package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/sla"
)

// Shape of the incidents the run opens.
const (
	maxIncidents      = 4
	alertsPerIncident = 6
)

// openIncidents groups the newest open critical and high alerts of a few
// sources into incidents, through the same service an analyst uses, and
// works them: a manual timeline entry and a note on each, the first ones
// in progress and the last closed as a true positive. It returns how many
// it opened.
func openIncidents(ctx context.Context, client *ent.Client) (int, error) {
	candidates, err := client.Alert.Query().
		Where(alert.StatusIn(enum.AlertStatusNew, enum.AlertStatusAcknowledged),
			alert.SeverityIn(enum.SeverityCritical, enum.SeverityHigh), alert.IncidentIDIsNil()).
		Order(ent.Desc(alert.FieldLastSeenAt), ent.Desc(alert.FieldID)).Limit(500).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("incident candidates: %w", err)
	}
	groups, order := map[string][]*ent.Alert{}, []string{}
	for _, a := range candidates {
		if len(groups[a.Source]) == 0 {
			order = append(order, a.Source)
		}
		if len(groups[a.Source]) < alertsPerIncident {
			groups[a.Source] = append(groups[a.Source], a)
		}
	}
	// Due times are set now; the server schedules their jobs when it
	// starts (sla.Service.Resume).
	svc := incidents.New(client).WithSLA(sla.New(client, nil, nil))
	opened := 0
	for i, source := range order[:min(len(order), maxIncidents)] {
		group := groups[source]
		ids := make([]uuid.UUID, len(group))
		for j, a := range group {
			ids[j] = a.ID
		}
		inc, err := svc.Create(ctx, incidents.CreateIncidentInput{
			Title:    "Investigation: " + group[0].Title,
			Summary:  ptr(fmt.Sprintf("%d related %s alerts grouped for investigation.", len(group), source)),
			Tags:     []string{source, "demo"},
			AlertIDs: ids,
		})
		if err != nil {
			return opened, fmt.Errorf("open incident: %w", err)
		}
		opened++
		first := group[len(group)-1].FirstSeenAt.Add(-5 * time.Minute)
		if _, err := svc.AddTimelineEvent(ctx, inc.ID, incidents.TimelineEventInput{
			Title: "First suspicious activity reported by " + source, OccurredAt: &first,
		}); err != nil {
			return opened, err
		}
		if _, err := svc.AddNote(ctx, inc.ID, "Scoped the affected hosts from the linked alerts; isolation requested."); err != nil {
			return opened, err
		}
		if err := work(ctx, svc, inc.ID, i == maxIncidents-1); err != nil {
			return opened, err
		}
	}
	return opened, nil
}

// work moves an incident along: in progress, and closed when last.
func work(ctx context.Context, svc *incidents.Service, id uuid.UUID, close bool) error {
	if _, err := svc.Update(ctx, id, incidents.UpdateIncidentInput{Status: ptr(enum.IncidentStatusInProgress)}); err != nil {
		return err
	}
	if !close {
		return nil
	}
	d := enum.DispositionTruePositive
	_, err := svc.Update(ctx, id, incidents.UpdateIncidentInput{
		Status: ptr(enum.IncidentStatusClosed), Disposition: opt.Of(&d)})
	return err
}
