package sla

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/metrics"
)

// Metrics are the SLA figures of the incidents created in [Since, Until).
type Metrics struct {
	Since time.Time    `json:"since"`
	Until time.Time    `json:"until"`
	Rows  []*MetricRow `json:"rows"`
	Total []*MetricRow `json:"total"`
	// Organizations, for a provider's roll-up (organization "all"), are
	// the same figures per organisation of the tree, the provider first.
	Organizations []*OrganizationMetrics `json:"organizations,omitempty"`
}

// OrganizationMetrics are one organisation's figures in a roll-up.
type OrganizationMetrics struct {
	Organization     *ent.Organization `json:"-"`
	OrganizationID   uuid.UUID         `json:"organizationId"`
	OrganizationName string            `json:"organizationName"`
	Rows             []*MetricRow      `json:"rows"`
	Total            []*MetricRow      `json:"total"`
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
// With org "all", a provider-organisation user gets its tree's figures and
// a row per organisation, through the read-only tree viewer
// (metrics.RollUp: a client organisation's user is refused, X-Seliq-Org
// wins over it).
func (s *Service) Metrics(ctx context.Context, since, until *time.Time, org *string) (*Metrics, error) {
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
	return metrics.RollUp(ctx, s.client, org, func(ctx context.Context) (*Metrics, error) {
		return s.metricsOf(ctx, from, u)
	}, func(total *Metrics, o *ent.Organization, row *Metrics) *Metrics {
		total.Organizations = append(total.Organizations, &OrganizationMetrics{Organization: o, OrganizationID: o.ID,
			OrganizationName: o.Name, Rows: row.Rows, Total: row.Total})
		return total
	})
}

// The figures are computed where the rows are: one GROUP BY severity over
// the period's incidents counts tracked, met and breached per timer, one
// over the open incidents counts those at risk now. On PostgreSQL the
// same GROUP BY (with ROLLUP for the total) computes the times too (mean,
// median and 90th percentile by percentile_cont, as metrics.Summarise);
// SQLite has no percentile function, so it reads the period's
// acknowledged or closed incidents' three instants and Go summarises them
// (memory grows with the incidents of the period, which maxRange bounds;
// SQLite is the small-deployment database).

// timerCols names one timer's columns.
type timerCols struct {
	prefix                        string
	due, atRisk, breached, metCol string
}

var timerColumns = [2]timerCols{
	{"a", incident.FieldSLAAckDueAt, incident.FieldSLAAckAtRiskAt, incident.FieldSLAAckBreachedAt, incident.FieldAcknowledgedAt},
	{"r", incident.FieldSLAResolveDueAt, incident.FieldSLAResolveAtRiskAt, incident.FieldSLAResolveBreachedAt, incident.FieldClosedAt},
}

// countRow is one severity's (ROLLUP: all) counts and, on PostgreSQL,
// times of both timers.
type countRow struct {
	Severity  nullString `sql:"severity"`
	ATracked  int        `sql:"a_tracked"`
	AMet      int        `sql:"a_met"`
	ABreached int        `sql:"a_breached"`
	AN        int        `sql:"a_n"`
	AMean     *float64   `sql:"a_mean"`
	AMedian   *float64   `sql:"a_median"`
	AP90      *float64   `sql:"a_p90"`
	RTracked  int        `sql:"r_tracked"`
	RMet      int        `sql:"r_met"`
	RBreached int        `sql:"r_breached"`
	RN        int        `sql:"r_n"`
	RMean     *float64   `sql:"r_mean"`
	RMedian   *float64   `sql:"r_median"`
	RP90      *float64   `sql:"r_p90"`
}

func (r *countRow) timer(i int) (tracked, met, breached, n int, mean, median, p90 *float64) {
	if i == 0 {
		return r.ATracked, r.AMet, r.ABreached, r.AN, r.AMean, r.AMedian, r.AP90
	}
	return r.RTracked, r.RMet, r.RBreached, r.RN, r.RMean, r.RMedian, r.RP90
}

// sumIf is the count of rows where cond holds, 0 over no rows.
func sumIf(cond string) string { return "COALESCE(SUM(CASE WHEN " + cond + " THEN 1 ELSE 0 END), 0)" }

// metricsOf computes the figures as the viewer of ctx reads incidents.
func (s *Service) metricsOf(ctx context.Context, from, until time.Time) (*Metrics, error) {
	var (
		pg     bool
		counts []countRow
	)
	err := s.client.Incident.Query().Where(incident.CreatedAtGTE(from), incident.CreatedAtLT(until)).
		Modify(func(sel *sql.Selector) {
			pg = sel.Dialect() == dialect.Postgres
			sev := sel.C(incident.FieldSeverity)
			sel.Select(sev)
			for _, t := range timerColumns {
				due, breached, met := sel.C(t.due), sel.C(t.breached), sel.C(t.metCol)
				sel.AppendSelectExprAs(sql.Expr(sumIf(due+" IS NOT NULL OR "+breached+" IS NOT NULL")), t.prefix+"_tracked").
					AppendSelectExprAs(sql.Expr(sumIf(breached+" IS NULL AND "+due+" IS NOT NULL AND "+met+" IS NOT NULL")), t.prefix+"_met").
					AppendSelectExprAs(sql.Expr(sumIf(breached+" IS NOT NULL")), t.prefix+"_breached")
				if pg {
					d := "EXTRACT(EPOCH FROM (" + met + " - " + sel.C(incident.FieldCreatedAt) + "))"
					sel.AppendSelectExprAs(sql.Expr("COUNT("+met+")"), t.prefix+"_n").
						AppendSelectExprAs(sql.Expr("AVG("+d+")::float8"), t.prefix+"_mean").
						AppendSelectExprAs(sql.Expr("percentile_cont(0.5) WITHIN GROUP (ORDER BY "+d+")"), t.prefix+"_median").
						AppendSelectExprAs(sql.Expr("percentile_cont(0.9) WITHIN GROUP (ORDER BY "+d+")"), t.prefix+"_p90")
				}
			}
			if pg {
				sel.GroupBy("ROLLUP (" + sev + ")")
			} else {
				sel.GroupBy(sev)
			}
		}).Scan(ctx, &counts)
	if err != nil {
		return nil, err
	}
	var atRisk []struct {
		Severity string `sql:"severity"`
		A        int    `sql:"a_at_risk"`
		R        int    `sql:"r_at_risk"`
	}
	err = s.client.Incident.Query().Where(incident.StatusNEQ(enum.IncidentStatusClosed), incident.SLADueAtNotNil()).
		Modify(func(sel *sql.Selector) {
			sev := sel.C(incident.FieldSeverity)
			sel.Select(sev)
			for _, t := range timerColumns {
				sel.AppendSelectExprAs(sql.Expr(sumIf(sel.C(t.due)+" IS NOT NULL AND "+sel.C(t.breached)+" IS NULL AND "+
					sel.C(t.metCol)+" IS NULL AND "+sel.C(t.atRisk)+" IS NOT NULL")), t.prefix+"_at_risk")
			}
			sel.GroupBy(sev)
		}).Scan(ctx, &atRisk)
	if err != nil {
		return nil, err
	}

	m := &Metrics{Since: from, Until: until}
	rows := map[enum.Severity]*[2]*MetricRow{}
	total := [2]*MetricRow{{Timer: enum.SLATimerAcknowledge}, {Timer: enum.SLATimerResolve}}
	for _, v := range enum.Severity("").Values() {
		sev := enum.Severity(v)
		r := &[2]*MetricRow{{Severity: &sev, Timer: enum.SLATimerAcknowledge}, {Severity: &sev, Timer: enum.SLATimerResolve}}
		rows[sev] = r
		m.Rows = append(m.Rows, r[0], r[1])
	}
	for _, c := range counts {
		for i := range 2 {
			tracked, met, breached, n, mean, median, p90 := c.timer(i)
			// Milliseconds, as metrics.Summarise rounds SQLite's figures.
			mean, median, p90 = metrics.Round(mean), metrics.Round(median), metrics.Round(p90)
			if !c.Severity.Valid { // PostgreSQL's ROLLUP total
				total[i].Time = &DurationStats{Count: n, MeanSeconds: mean, MedianSeconds: median, P90Seconds: p90}
				continue
			}
			r := rows[enum.Severity(c.Severity.S)]
			if r == nil {
				continue
			}
			r[i].Tracked, r[i].Met, r[i].Breached = tracked, met, breached
			total[i].Tracked += tracked
			total[i].Met += met
			total[i].Breached += breached
			if pg {
				r[i].Time = &DurationStats{Count: n, MeanSeconds: mean, MedianSeconds: median, P90Seconds: p90}
			}
		}
	}
	for _, a := range atRisk {
		if r := rows[enum.Severity(a.Severity)]; r != nil {
			r[0].AtRiskNow, r[1].AtRiskNow = a.A, a.R
			total[0].AtRiskNow += a.A
			total[1].AtRiskNow += a.R
		}
	}
	if !pg {
		if err := s.durationsInGo(ctx, from, until, rows, total); err != nil {
			return nil, err
		}
	}
	m.Total = total[:]
	for _, r := range append(slices.Clone(m.Rows), m.Total...) {
		r.finish()
	}
	return m, nil
}

// durationsInGo reads the period's acknowledged or closed incidents'
// instants (SQLite) and keeps each timer's time per row.
func (s *Service) durationsInGo(ctx context.Context, from, until time.Time, rows map[enum.Severity]*[2]*MetricRow, total [2]*MetricRow) error {
	incs, err := s.client.Incident.Query().
		Where(incident.CreatedAtGTE(from), incident.CreatedAtLT(until), incident.Or(incident.AcknowledgedAtNotNil(), incident.ClosedAtNotNil())).
		Select(incident.FieldSeverity, incident.FieldCreatedAt, incident.FieldAcknowledgedAt, incident.FieldClosedAt).All(ctx)
	if err != nil {
		return err
	}
	for _, inc := range incs {
		for i, met := range [2]*time.Time{inc.AcknowledgedAt, inc.ClosedAt} {
			if met == nil {
				continue
			}
			d := met.Sub(inc.CreatedAt).Seconds()
			if r := rows[inc.Severity]; r != nil {
				r[i].durations = append(r[i].durations, d)
			}
			total[i].durations = append(total[i].durations, d)
		}
	}
	return nil
}

// nullString scans a nullable text column (the ROLLUP total's severity).
type nullString struct {
	S     string
	Valid bool
}

func (n *nullString) Scan(v any) error {
	switch x := v.(type) {
	case string:
		n.S, n.Valid = x, true
	case []byte:
		n.S, n.Valid = string(x), true
	default:
		n.S, n.Valid = "", false
	}
	return nil
}

func (r *MetricRow) finish() {
	if decided := r.Met + r.Breached; decided > 0 {
		p := float64(r.Met) * 100 / float64(decided)
		r.AttainmentPercent = &p
	}
	if r.Time == nil { // computed in SQL on PostgreSQL
		r.Time = Summarise(r.durations)
	}
}

// Summarise is metrics.Summarise (one definition of mean, median and p90
// for every duration Seliq reports) over values in any order.
func Summarise(values []float64) *DurationStats {
	v := slices.Clone(values)
	slices.Sort(v)
	st := metrics.Summarise(v)
	return &DurationStats{Count: st.Count, MeanSeconds: st.Mean, MedianSeconds: st.Median, P90Seconds: st.P90}
}

// SLAFigures are the SLA metrics of a dashboard's sla widget, as the JSON
// its data carries; org "all" is a provider's roll-up as for Metrics.
func (s *Service) SLAFigures(ctx context.Context, since, until time.Time, org *string) (json.RawMessage, error) {
	m, err := s.Metrics(ctx, &since, &until, org)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
