package sla

import (
	"context"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
)

// IncidentSLA is where an incident's two timers stand; a timer the
// settings do not track for its severity is nil.
type IncidentSLA struct {
	Acknowledge *TimerStatus `json:"acknowledge,omitempty"`
	Resolve     *TimerStatus `json:"resolve,omitempty"`
}

// TimerStatus is one timer's standing.
type TimerStatus struct {
	DueAt      time.Time     `json:"dueAt"`
	State      enum.SLAState `json:"state"`
	AtRiskAt   *time.Time    `json:"atRiskAt,omitempty"`
	BreachedAt *time.Time    `json:"breachedAt,omitempty"`
}

// Of returns an incident's timers as of the service's clock. The stored
// stamps decide at_risk and breached (the jobs write them at their
// instant); paused is the moment's state of a running timer outside
// business hours.
func (s *Service) Of(ctx context.Context, inc *ent.Incident) (*IncidentSLA, error) {
	_, cal, err := s.compiled(ctx, s.client)
	if err != nil {
		return nil, err
	}
	paused := cal.paused(s.now())
	out := &IncidentSLA{}
	for _, t := range timers(inc) {
		st := t.status(paused)
		if t.kind == enum.SLATimerAcknowledge {
			out.Acknowledge = st
		} else {
			out.Resolve = st
		}
	}
	return out, nil
}

func (t timer) status(paused bool) *TimerStatus {
	if t.due == nil {
		return nil
	}
	st := &TimerStatus{DueAt: *t.due, AtRiskAt: t.atRisk, BreachedAt: t.breached, State: t.state()}
	if paused && (st.State == enum.SLAStateOk || st.State == enum.SLAStateAtRisk) {
		st.State = enum.SLAStatePaused
	}
	return st
}

// state is the stored state of a tracked timer.
func (t timer) state() enum.SLAState {
	switch {
	case t.breached != nil:
		return enum.SLAStateBreached
	case t.met != nil:
		return enum.SLAStateMet
	case t.atRisk != nil:
		return enum.SLAStateAtRisk
	}
	return enum.SLAStateOk
}

// StateFilter selects incidents with a timer in one of states (the
// queue's sla_state); paused is a moment's state of the clock, not of an
// incident, and is refused.
func StateFilter(field string, states []enum.SLAState) (predicate.Incident, error) {
	type cols struct {
		due, atRiskNil, atRiskSet, breachedNil, breachedSet, metNil, metSet predicate.Incident
	}
	ack := cols{incident.SLAAckDueAtNotNil(), incident.SLAAckAtRiskAtIsNil(), incident.SLAAckAtRiskAtNotNil(),
		incident.SLAAckBreachedAtIsNil(), incident.SLAAckBreachedAtNotNil(), incident.AcknowledgedAtIsNil(), incident.AcknowledgedAtNotNil()}
	res := cols{incident.SLAResolveDueAtNotNil(), incident.SLAResolveAtRiskAtIsNil(), incident.SLAResolveAtRiskAtNotNil(),
		incident.SLAResolveBreachedAtIsNil(), incident.SLAResolveBreachedAtNotNil(), incident.ClosedAtIsNil(), incident.ClosedAtNotNil()}
	var ps []predicate.Incident
	for _, st := range states {
		for _, c := range []cols{ack, res} {
			switch st {
			case enum.SLAStateBreached:
				ps = append(ps, c.breachedSet)
			case enum.SLAStateMet:
				ps = append(ps, incident.And(c.due, c.metSet, c.breachedNil))
			case enum.SLAStateAtRisk:
				ps = append(ps, incident.And(c.due, c.metNil, c.breachedNil, c.atRiskSet))
			case enum.SLAStateOk:
				ps = append(ps, incident.And(c.due, c.metNil, c.breachedNil, c.atRiskNil))
			default:
				return nil, apperr.Invalid(field, "%q is not a state an incident is filtered by (ok, at_risk, breached, met)", st)
			}
		}
	}
	return incident.Or(ps...), nil
}
