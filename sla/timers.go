package sla

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
)

// timer is one of an incident's two clocks, read from its row.
type timer struct {
	kind     enum.SLATimer
	due      *time.Time
	atRisk   *time.Time
	breached *time.Time
	met      *time.Time // acknowledged_at or closed_at
}

func timers(inc *ent.Incident) [2]timer {
	return [2]timer{
		{enum.SLATimerAcknowledge, inc.SLAAckDueAt, inc.SLAAckAtRiskAt, inc.SLAAckBreachedAt, inc.AcknowledgedAt},
		{enum.SLATimerResolve, inc.SLAResolveDueAt, inc.SLAResolveAtRiskAt, inc.SLAResolveBreachedAt, inc.ClosedAt},
	}
}

// running reports whether the timer still waits for its event.
func (t timer) running() bool { return t.due != nil && t.met == nil }

// targetOf returns a severity's target for a timer, nil when not tracked.
func (s *Settings) targetOf(sev enum.Severity, kind enum.SLATimer) *Duration {
	t := s.target(sev)
	raw := t.Acknowledge
	if kind == enum.SLATimerResolve {
		raw = t.Resolve
	}
	if raw == nil {
		return nil
	}
	d, err := ParseDuration(*raw)
	if err != nil {
		return nil
	}
	return &d
}

// Apply brings an incident's timers in line with its severity, status and
// the organisation's settings, in the caller's transaction: a running
// timer (neither met nor breached) gets the due time its target gives; an
// at-risk stamp whose instant moved into the future is cleared so it can
// fire again. Met and breached timers keep theirs. It returns the incident
// as stored and whether its jobs must be scheduled (Schedule, after
// commit).
func (s *Service) Apply(ctx context.Context, c *ent.Client, inc *ent.Incident) (*ent.Incident, bool, error) {
	set, err := load(ctx, c)
	if err != nil {
		return nil, false, err
	}
	cal, err := set.calendar()
	if err != nil {
		return nil, false, err
	}
	return apply1(ctx, c, inc, set, cal, s.now())
}

func apply1(ctx context.Context, c *ent.Client, inc *ent.Incident, set *Settings, cal *calendar, now time.Time) (*ent.Incident, bool, error) {
	upd := c.Incident.UpdateOne(inc)
	changed := false
	ts := timers(inc)
	var next [2]*time.Time
	for i, t := range ts {
		next[i] = t.due
		if t.breached != nil || t.met != nil {
			continue
		}
		var due, atRisk *time.Time
		if d := set.targetOf(inc.Severity, t.kind); d != nil {
			dv, ar, err := cal.due(inc.CreatedAt, *d)
			if err != nil {
				return nil, false, err
			}
			due, atRisk = &dv, &ar
		}
		next[i] = due
		if samePtr(due, t.due) {
			continue
		}
		changed = true
		clearRisk := t.atRisk != nil && (atRisk == nil || atRisk.After(now))
		switch t.kind {
		case enum.SLATimerAcknowledge:
			upd.SetNillableSLAAckDueAt(due)
			if due == nil {
				upd.ClearSLAAckDueAt()
			}
			if clearRisk {
				upd.ClearSLAAckAtRiskAt()
			}
		case enum.SLATimerResolve:
			upd.SetNillableSLAResolveDueAt(due)
			if due == nil {
				upd.ClearSLAResolveDueAt()
			}
			if clearRisk {
				upd.ClearSLAResolveAtRiskAt()
			}
		}
	}
	// sla_due_at, the queue's order, is the earliest due time of the timers
	// not met: a breached one still waiting sorts first.
	var first *time.Time
	for i, t := range ts {
		if next[i] != nil && t.met == nil && (first == nil || next[i].Before(*first)) {
			first = next[i]
		}
	}
	if !samePtr(first, inc.SLADueAt) {
		changed = true
		if first == nil {
			upd.ClearSLADueAt()
		} else {
			upd.SetSLADueAt(*first)
		}
	}
	if !changed {
		return inc, false, nil
	}
	out, err := upd.Save(ctx)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// recomputeOpen applies new settings to every open incident of the acting
// organisation and returns those whose timers moved.
func recomputeOpen(ctx context.Context, c *ent.Client, set *Settings, cal *calendar, now time.Time) ([]*ent.Incident, error) {
	open, err := c.Incident.Query().Where(incident.StatusNEQ(enum.IncidentStatusClosed)).All(ctx)
	if err != nil {
		return nil, err
	}
	var moved []*ent.Incident
	for _, inc := range open {
		out, changed, err := apply1(ctx, c, inc, set, cal, now)
		if err != nil {
			return nil, err
		}
		if changed {
			moved = append(moved, out)
		}
	}
	return moved, nil
}

func samePtr(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

// Schedule queues the jobs of an incident's unfired stamps, after the
// transaction that set its timers committed. A failure is left to Resume
// at the next start: the row says what is outstanding.
func (s *Service) Schedule(ctx context.Context, inc *ent.Incident) {
	if s.queue == nil {
		return
	}
	if err := s.schedule(ctx, inc); err != nil {
		// The timers are committed; Resume queues them at the next start.
		s.log.Error("schedule SLA timers", "incident", inc.ID, "err", err)
	}
}

func (s *Service) schedule(ctx context.Context, inc *ent.Incident) error {
	set, err := load(viewer.ForJob(ctx, inc.OrganizationID), s.client)
	if err != nil {
		return err
	}
	cal, err := set.calendar()
	if err != nil {
		return err
	}
	now := s.now()
	for _, t := range timers(inc) {
		if !t.running() || t.breached != nil {
			continue
		}
		fires := []FireArgs{}
		if t.atRisk == nil {
			if d := set.targetOf(inc.Severity, t.kind); d != nil {
				if _, atRisk, err := cal.due(inc.CreatedAt, *d); err == nil {
					fires = append(fires, FireArgs{Event: eventAtRisk, At: atRisk})
				}
			}
		}
		fires = append(fires, FireArgs{Event: eventBreach, At: *t.due})
		for _, f := range fires {
			f.OrganizationID, f.IncidentID, f.Timer, f.Due = inc.OrganizationID, inc.ID, t.kind, t.due.UTC()
			f.At = f.At.UTC()
			if err := s.enqueue(ctx, f, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// enqueue schedules a fire at its instant on the service's clock: a
// moment already past runs now (moving a waiting duplicate forward), a
// future one is scheduled that far from now.
func (s *Service) enqueue(ctx context.Context, f FireArgs, now time.Time) error {
	if !f.At.After(now) {
		return s.queue.Wake(ctx, f, nil)
	}
	opts := f.InsertOpts()
	opts.ScheduledAt = time.Now().Add(f.At.Sub(now))
	return s.queue.Enqueue(ctx, f, &opts)
}

// Resume queues the jobs of every unfired stamp of every open incident,
// after a restart (or a crash between a commit and its enqueue); jobs
// already queued are not doubled.
func (s *Service) Resume(ctx context.Context) (int, error) {
	n := 0
	err := jobs.ForEachOrganization(ctx, s.client, func(ctx context.Context, _ uuid.UUID) error {
		open, err := s.client.Incident.Query().Where(incident.SLADueAtNotNil(),
			incident.Or(
				incident.And(incident.SLAAckDueAtNotNil(), incident.AcknowledgedAtIsNil(), incident.SLAAckBreachedAtIsNil()),
				incident.And(incident.SLAResolveDueAtNotNil(), incident.ClosedAtIsNil(), incident.SLAResolveBreachedAtIsNil()),
			)).All(ctx)
		if err != nil {
			return err
		}
		for _, inc := range open {
			if err := s.schedule(ctx, inc); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
