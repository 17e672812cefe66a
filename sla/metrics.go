package sla

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
)

// Metrics are the SLA figures of the incidents created in [Since, Until).
type Metrics struct {
	Since time.Time    `json:"since"`
	Until time.Time    `json:"until"`
	Rows  []*MetricRow `json:"rows"`
	Total []*MetricRow `json:"total"`
}

// MetricRow is one severity's (nil: all) figures for one timer.
type MetricRow struct {
	Severity          *enum.Severity `json:"severity,omitempty"`
	Timer             enum.SLATimer  `json:"timer"`
	Tracked           int            `json:"tracked"`
	Met               int            `json:"met"`
	Breached          int            `json:"breached"`
	AttainmentPercent *float64       `json:"attainmentPercent,omitempty"`
	AtRiskNow         int            `json:"atRiskNow"`
	Time              *DurationStats `json:"time"`

	durations []float64
}

// DurationStats summarises durations in seconds.
type DurationStats struct {
	Count         int      `json:"count"`
	MeanSeconds   *float64 `json:"meanSeconds,omitempty"`
	MedianSeconds *float64 `json:"medianSeconds,omitempty"`
	P90Seconds    *float64 `json:"p90Seconds,omitempty"`
}

// defaultRange is the period a metric covers when none is given.
const defaultRange = 7 * 24 * time.Hour

// maxRange bounds the period a request scans.
const maxRange = 366 * 24 * time.Hour

// Metrics computes the acting organisation's SLA figures for the
// incidents created in [since, until) (default: the 7 days before now).
func (s *Service) Metrics(ctx context.Context, since, until *time.Time) (*Metrics, error) {
	u := s.now().UTC()
	if until != nil {
		u = until.UTC()
	}
	from := u.Add(-defaultRange)
	if since != nil {
		from = since.UTC()
	}
	if !from.Before(u) {
		return nil, apperr.Invalid("until", "must be after since")
	}
	if u.Sub(from) > maxRange {
		return nil, apperr.Invalid("since", "the period is at most 366 days")
	}
	incs, err := s.client.Incident.Query().
		Where(incident.CreatedAtGTE(from), incident.CreatedAtLT(u)).
		Select(incident.FieldSeverity, incident.FieldCreatedAt, incident.FieldAcknowledgedAt, incident.FieldClosedAt,
			incident.FieldSLAAckDueAt, incident.FieldSLAResolveDueAt, incident.FieldSLAAckAtRiskAt, incident.FieldSLAResolveAtRiskAt,
			incident.FieldSLAAckBreachedAt, incident.FieldSLAResolveBreachedAt).All(ctx)
	if err != nil {
		return nil, err
	}
	atRisk, err := s.client.Incident.Query().Where(incident.StatusNEQ(enum.IncidentStatusClosed), incident.SLADueAtNotNil()).
		Select(incident.FieldSeverity, incident.FieldAcknowledgedAt, incident.FieldClosedAt,
			incident.FieldSLAAckDueAt, incident.FieldSLAResolveDueAt, incident.FieldSLAAckAtRiskAt, incident.FieldSLAResolveAtRiskAt,
			incident.FieldSLAAckBreachedAt, incident.FieldSLAResolveBreachedAt).All(ctx)
	if err != nil {
		return nil, err
	}
	m := &Metrics{Since: from, Until: u}
	rows := map[enum.Severity]*[2]*MetricRow{}
	total := [2]*MetricRow{{Timer: enum.SLATimerAcknowledge}, {Timer: enum.SLATimerResolve}}
	for _, v := range enum.Severity("").Values() {
		sev := enum.Severity(v)
		r := &[2]*MetricRow{{Severity: &sev, Timer: enum.SLATimerAcknowledge}, {Severity: &sev, Timer: enum.SLATimerResolve}}
		rows[sev] = r
		m.Rows = append(m.Rows, r[0], r[1])
	}
	for _, inc := range incs {
		for i, t := range timers(inc) {
			for _, r := range []*MetricRow{rows[inc.Severity][i], total[i]} {
				r.count(t, inc.CreatedAt)
			}
		}
	}
	for _, inc := range atRisk {
		for i, t := range timers(inc) {
			if t.due != nil && t.state() == enum.SLAStateAtRisk {
				rows[inc.Severity][i].AtRiskNow++
				total[i].AtRiskNow++
			}
		}
	}
	m.Total = total[:]
	for _, r := range append(slices.Clone(m.Rows), m.Total...) {
		r.finish()
	}
	return m, nil
}

// count adds one incident's timer to the row.
func (r *MetricRow) count(t timer, created time.Time) {
	if t.met != nil {
		r.durations = append(r.durations, t.met.Sub(created).Seconds())
	}
	if t.due == nil && t.breached == nil {
		return
	}
	r.Tracked++
	switch t.state() {
	case enum.SLAStateBreached:
		r.Breached++
	case enum.SLAStateMet:
		r.Met++
	}
}

func (r *MetricRow) finish() {
	if decided := r.Met + r.Breached; decided > 0 {
		p := float64(r.Met) * 100 / float64(decided)
		r.AttainmentPercent = &p
	}
	r.Time = Summarise(r.durations)
}

// Summarise returns the count, mean, median and nearest-rank 90th
// percentile of values.
func Summarise(values []float64) *DurationStats {
	out := &DurationStats{Count: len(values)}
	if len(values) == 0 {
		return out
	}
	v := slices.Clone(values)
	slices.Sort(v)
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	median := v[len(v)/2]
	if len(v)%2 == 0 {
		median = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	p90 := v[int(math.Ceil(0.9*float64(len(v))))-1]
	out.MeanSeconds, out.MedianSeconds, out.P90Seconds = &mean, &median, &p90
	return out
}

// SLAFigures are the SLA metrics of a dashboard's sla widget, as the JSON
// its data carries. org "all" (a provider's per-client roll-up) is not
// computed for SLA figures yet, and refused rather than answered with the
// acting organisation's figures alone.
func (s *Service) SLAFigures(ctx context.Context, since, until time.Time, org *string) (json.RawMessage, error) {
	if org != nil {
		return nil, apperr.Invalid("organization", "SLA figures are per organisation: a roll-up across the tree is not available for them")
	}
	m, err := s.Metrics(ctx, &since, &until)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
