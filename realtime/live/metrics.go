package live

import (
	"context"
	"fmt"
	"time"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/realtime/hub"
	slatimers "github.com/seliq/seliq/sla"
)

// MetricsTick is the live counters of a dashboard.
type MetricsTick struct {
	At                   time.Time            `json:"at"`
	OpenAlertsBySeverity []*alerts.FacetValue `json:"openAlertsBySeverity"`
	UnassignedAlerts     int                  `json:"unassignedAlerts"`
	OpenIncidents        int                  `json:"openIncidents"`
	SLAAtRiskIncidents   int                  `json:"slaAtRiskIncidents"`
	SLABreachedIncidents int                  `json:"slaBreachedIncidents"`
}

// tickEvery bounds how often counters are sent: at most once a period, and
// only when an alert or incident changed in it.
const tickEvery = time.Second

// MetricsTick sends the acting organisation's counters at once, then again
// after changes, at most once a second.
func (s *Service) MetricsTick(ctx context.Context) (<-chan *MetricsTick, error) {
	v, err := subscriber(ctx)
	if err != nil {
		return nil, err
	}
	release, err := AcquireSubscription(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := s.hub.Subscribe(ctx, 0, hub.Filter{OrganizationID: v.OrgID, Topics: []string{hub.TopicAlert, hub.TopicIncident}})
	if err != nil {
		release()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	first, err := s.counters(ctx)
	if err != nil {
		sub.Close()
		release()
		return nil, err
	}
	out := make(chan *MetricsTick, 1)
	out <- first
	go func() {
		defer release()
		defer close(out)
		defer sub.Close()
		ticker := time.NewTicker(tickEvery)
		defer ticker.Stop()
		dirty := false
		for {
			select {
			case _, ok := <-sub.C:
				if !ok {
					return
				}
				dirty = true
			case <-ticker.C:
				if !dirty {
					continue
				}
				dirty = false
				m, err := s.counters(ctx)
				if err != nil {
					if ctx.Err() == nil {
						s.log.Warn("metrics tick", "err", err)
					}
					continue
				}
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// openAlert is an alert still to be worked.
var openAlert = alert.StatusNotIn(enum.AlertStatusResolved, enum.AlertStatusClosed)

func (s *Service) counters(ctx context.Context) (*MetricsTick, error) {
	var rows []struct {
		Severity enum.Severity `json:"severity"`
		Count    int           `json:"count"`
	}
	if err := s.client.Alert.Query().Where(openAlert).GroupBy(alert.FieldSeverity).
		Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	bySeverity := make([]*alerts.FacetValue, 0, len(rows))
	for _, sev := range []enum.Severity{enum.SeverityCritical, enum.SeverityHigh, enum.SeverityMedium, enum.SeverityLow, enum.SeverityInfo} {
		for _, r := range rows {
			if r.Severity == sev {
				value := string(sev)
				bySeverity = append(bySeverity, &alerts.FacetValue{Value: &value, Count: r.Count})
			}
		}
	}
	unassigned, err := s.client.Alert.Query().Where(openAlert, alert.AssigneeIDIsNil()).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("unassigned alerts: %w", err)
	}
	open, err := s.client.Incident.Query().Where(incident.StatusNEQ(enum.IncidentStatusClosed)).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("open incidents: %w", err)
	}
	sla := map[enum.SLAState]int{}
	for _, st := range []enum.SLAState{enum.SLAStateAtRisk, enum.SLAStateBreached} {
		p, err := slatimers.StateFilter("sla_state", []enum.SLAState{st})
		if err != nil {
			return nil, err
		}
		if sla[st], err = s.client.Incident.Query().Where(incident.StatusNEQ(enum.IncidentStatusClosed), p).Count(ctx); err != nil {
			return nil, fmt.Errorf("%s incidents: %w", st, err)
		}
	}
	return &MetricsTick{At: time.Now().UTC(), OpenAlertsBySeverity: bySeverity, UnassignedAlerts: unassigned, OpenIncidents: open,
		SLAAtRiskIncidents: sla[enum.SLAStateAtRisk], SLABreachedIncidents: sla[enum.SLAStateBreached]}, nil
}
