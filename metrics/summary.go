package metrics

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/seliq/seliq/ent"
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
	prev, prevInc := sc.previous(), inc.previous()
	out := &Summary{Since: sc.since, Until: sc.until, PreviousSince: prev.since}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(summaryConcurrency)
	compare := func(dst **Comparison, f func(*scope, *scope) (*float64, error)) {
		*dst = &Comparison{}
		c := *dst
		g.Go(func() (err error) { c.Current, err = f(sc, inc); return })
		g.Go(func() (err error) { c.Previous, err = f(prev, prevInc); return })
	}
	count := func(n int, err error) (*float64, error) {
		f := float64(n)
		return &f, err
	}
	median := func(d *Durations, err error) (*float64, error) {
		if err != nil {
			return nil, err
		}
		return d.Overall.Median, nil
	}
	compare(&out.AlertsCreated, func(a, _ *scope) (*float64, error) { return count(s.alertsCreated(a).Count(ctx)) })
	compare(&out.AlertsResolved, func(a, _ *scope) (*float64, error) { return count(s.resolved(a).Count(ctx)) })
	compare(&out.IncidentsCreated, func(_, i *scope) (*float64, error) { return count(s.incidentsCreated(i).Count(ctx)) })
	compare(&out.IncidentsClosed, func(_, i *scope) (*float64, error) { return count(s.closed(i).Count(ctx)) })
	compare(&out.MttdMedian, func(a, _ *scope) (*float64, error) {
		return median(s.durations(ctx, alertScanner(s.detected(a)), detectSpan))
	})
	compare(&out.MttrMedian, func(a, _ *scope) (*float64, error) {
		return median(s.durations(ctx, alertScanner(s.resolved(a)), resolveSpan))
	})
	compare(&out.IncidentAckMedian, func(_, i *scope) (*float64, error) {
		return median(s.durations(ctx, incidentScanner(s.acknowledged(i)), ackIncidentSpan))
	})
	compare(&out.IncidentResolveMedian, func(_, i *scope) (*float64, error) {
		return median(s.durations(ctx, incidentScanner(s.closed(i)), closeSpan))
	})
	g.Go(func() (err error) {
		out.UnassignedAlerts, err = s.unassigned(ctx, sc)
		return
	})
	g.Go(func() (err error) {
		out.OpenAlerts, err = s.client.Alert.Query().Where(alertOpen()).Where(sc.alertNarrowing()...).Count(ctx)
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
