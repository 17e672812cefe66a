package metrics

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
)

// summaryConcurrency bounds the statements one summary runs at once.
const summaryConcurrency = 4

// Summary is the headline figures of the period, each beside its value over
// the period of the same length just before, and the open counts now.
// Connector narrows the alert figures only (incidents have none).
func (s *Service) Summary(ctx context.Context, r *Range, org *string) (*Summary, error) {
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	incidents := *sc
	incidents.rng.Connector = nil
	if err := incidents.incidentScope(); err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Summary, error) {
		return s.summary(ctx, sc, &incidents)
	}, func(t *Summary, o *ent.Organization, row *Summary) *Summary {
		row.Row = rowOf(o)
		t.Organizations = append(t.Organizations, row)
		return t
	})
}

func (s *Service) summary(ctx context.Context, sc, inc *scope) (*Summary, error) {
	prev := sc.previous()
	out := &Summary{Since: sc.since, Until: sc.until, PreviousSince: prev.since}
	// Each figure reads both periods in one statement, grouped by period.
	both, bothInc := *sc, *inc
	both.since, bothInc.since = prev.since, prev.since
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(summaryConcurrency)
	figure := func(scan func(*Service) scanner, sp span, end string, count, median **Comparison) {
		g.Go(func() error {
			type both struct{ count, median *Comparison }
			r, err := withSortMemory(ctx, s, func(s *Service) (both, error) {
				c, m, err := s.periods(ctx, scan(s), sp, end, sc.since)
				return both{c, m}, err
			})
			c, m := r.count, r.median
			if count != nil {
				*count = c
			}
			if median != nil {
				*median = m
			}
			return err
		})
	}
	// Alerts created: each period from the period counters (alertGroups).
	out.AlertsCreated = &Comparison{}
	for _, p := range []struct {
		sc  *scope
		dst **float64
	}{{sc, &out.AlertsCreated.Current}, {prev, &out.AlertsCreated.Previous}} {
		g.Go(func() error {
			n, err := s.createdCount(ctx, p.sc)
			*p.dst = ptrTo(float64(n))
			return err
		})
	}
	figure(func(s *Service) scanner { return incidentScanner(s.incidentsCreated(&bothInc)) }, span{}, incident.FieldCreatedAt, &out.IncidentsCreated, nil)
	// The alerts' times to detect and resolve: each period on its own,
	// from the duration histograms when it holds many (alertDurations).
	out.MttdMedian, out.AlertsResolved, out.MttrMedian = &Comparison{}, &Comparison{}, &Comparison{}
	for _, p := range []struct {
		sc                                    *scope
		detectMedian, resolved, resolveMedian **float64
	}{
		{sc, &out.MttdMedian.Current, &out.AlertsResolved.Current, &out.MttrMedian.Current},
		{prev, &out.MttdMedian.Previous, &out.AlertsResolved.Previous, &out.MttrMedian.Previous},
	} {
		g.Go(func() error {
			d, err := s.alertDurations(ctx, p.sc, timeToDetect)
			if err == nil {
				*p.detectMedian = d.Overall.Median
			}
			return err
		})
		g.Go(func() error {
			d, err := s.alertDurations(ctx, p.sc, timeToResolve)
			if err == nil {
				*p.resolved, *p.resolveMedian = ptrTo(float64(d.Overall.Count)), d.Overall.Median
			}
			return err
		})
	}
	figure(func(s *Service) scanner { return incidentScanner(s.acknowledged(&bothInc)) }, ackIncidentSpan, ackIncidentSpan.end, nil, &out.IncidentAckMedian)
	figure(func(s *Service) scanner { return incidentScanner(s.closed(&bothInc)) }, closeSpan, closeSpan.end, &out.IncidentsClosed, &out.IncidentResolveMedian)
	g.Go(func() (err error) {
		out.UnassignedAlerts, err = s.unassigned(ctx, sc)
		return
	})
	g.Go(func() (err error) {
		out.OpenAlerts, err = s.openAlerts(ctx, sc)
		return
	})
	g.Go(func() (err error) {
		out.OpenIncidents, err = s.openIncidents(ctx, inc)
		return
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// IncidentTimeToAcknowledge is the incidents' time from creation to their
// first acknowledgement.
func (s *Service) IncidentTimeToAcknowledge(ctx context.Context, r *Range, org *string) (*Durations, error) {
	return s.incidentDurations(ctx, r, org, func(sc *scope) scanner { return incidentScanner(s.acknowledged(sc)) }, ackIncidentSpan)
}

// IncidentTimeToResolve is the incidents' time from creation to closing.
func (s *Service) IncidentTimeToResolve(ctx context.Context, r *Range, org *string) (*Durations, error) {
	return s.incidentDurations(ctx, r, org, func(sc *scope) scanner { return incidentScanner(s.closed(sc)) }, closeSpan)
}

func (s *Service) incidentDurations(ctx context.Context, r *Range, org *string, rows func(*scope) scanner, sp span) (*Durations, error) {
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := sc.incidentScope(); err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Durations, error) {
		return s.durations(ctx, rows(sc), sp)
	}, attachDurations)
}
