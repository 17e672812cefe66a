// Package sla owns an organisation's service-level promises: its settings
// (targets per severity, clock mode, business hours, escalation owner),
// each incident's two timers (acknowledge, resolve), the jobs that fire
// at-risk and breach exactly once at their instant, and the SLA metrics.
//
// # Timers
//
// A timer starts when the incident is created. Its due time comes from the
// target of the incident's severity, counted on the organisation's clock
// (24x7, or business hours with overnight hours, DST and holidays); it is
// at risk once 75 % of that window is used. The acknowledge timer is met
// by the first action of a person (incidents stamps acknowledged_at; jobs
// and triggers never do), the resolve timer by closing. Open incidents'
// due times are recomputed when their severity or the settings change.
//
// # Exactly once
//
// Each running timer has two River jobs scheduled at its at-risk and due
// instants, carrying the due time they were planned for. A job whose due
// time is no longer the incident's is stale and does nothing. Firing is a
// conditional UPDATE (the stamp still null, the due time still the one
// planned, the timer still unmet) in the transaction that writes the
// notifications, timeline event, activity and outbox event: a second
// delivery, a second replica or a re-enqueue after a restart finds the
// stamp set and does nothing, and a crash before commit leaves the job to
// be retried. Jobs are re-enqueued at start (Resume) for every unfired
// stamp, unique by their arguments.
package sla

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// Clock tells the time; tests inject one to move it.
type Clock func() time.Time

// Queue takes the timers' jobs; jobs.Runner is one.
type Queue interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
	Wake(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Service is the SLA API.
type Service struct {
	client   *ent.Client
	queue    Queue
	now      Clock
	log      *slog.Logger
	triggers Triggers

	mu    sync.Mutex
	cache map[uuid.UUID]cached
}

// Triggers is told, in the firing transaction, of an incident's SLA at
// risk or breached (the automation engine runs the sla.* triggers).
type Triggers interface {
	Happened(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, ids ...uuid.UUID) error
}

// WithTriggers runs t's sla.at_risk and sla.breached triggers when a timer
// fires, and returns s.
func (s *Service) WithTriggers(t Triggers) *Service {
	s.triggers = t
	return s
}

// cached is an organisation's compiled settings for reads that run per
// incident row (the paused state); a change on this replica drops it, one
// on another replica is seen within cacheTTL.
type cached struct {
	settings *Settings
	cal      *calendar
	at       time.Time
}

const cacheTTL = 5 * time.Second

// New returns the service. now defaults to time.Now; a nil queue schedules
// nothing (an insert-only CLI that never changes incidents).
func New(client *ent.Client, queue Queue, now Clock) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{client: client, queue: queue, now: now, log: slog.Default(), cache: map[uuid.UUID]cached{}}
}

// WithLogger logs to log what cannot be returned (a failed enqueue after
// commit).
func (s *Service) WithLogger(log *slog.Logger) *Service {
	s.log = log
	return s
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Settings returns the acting organisation's SLA settings (defaults when
// none were saved).
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	return load(ctx, s.client)
}

func load(ctx context.Context, c *ent.Client) (*Settings, error) {
	// A saved document is complete: it is decoded into an empty one, as
	// decoding over the defaults would keep a default target wherever the
	// saved one is null.
	set := &Settings{}
	found, err := settingstore.Load(ctx, c, settingsKey, set)
	if err != nil {
		return nil, err
	}
	if !found {
		set = Defaults()
		// A new organisation counts business hours in its own zone.
		if v := viewer.FromContext(ctx); v != nil {
			if org, err := c.Organization.Get(ctx, v.OrgID); err == nil && org.Timezone != "" {
				if _, err := time.LoadLocation(org.Timezone); err == nil {
					set.TimeZone = org.Timezone
				}
			}
		}
	}
	for _, sev := range enum.Severity("").Values() {
		set.target(enum.Severity(sev))
	}
	return set, nil
}

// UpdateSettings validates and saves a patch of the acting organisation's
// settings (administrators only), records it in the activity log, and
// moves the due times of its open incidents, in one transaction; the
// moved timers' jobs are scheduled after commit.
func (s *Service) UpdateSettings(ctx context.Context, in UpdateSettingsInput) (*Settings, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if !v.HasRole(enum.RoleAdmin) {
		return nil, apperr.New(apperr.Forbidden, "only administrators change the SLA settings")
	}
	var out *Settings
	var moved []*ent.Incident
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		cur, err := load(ctx, c)
		if err != nil {
			return err
		}
		next, err := apply(cur, in)
		if err != nil {
			return err
		}
		if id := next.EscalationOwnerID; id != nil && in.EscalationOwnerID.IsSet() {
			ok, err := c.User.Query().Where(user.ID(*id), user.Active(true)).Exist(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.Invalid("escalation_owner_id", "%s is not an active user of this organisation", id)
			}
		}
		cal, err := next.calendar()
		if err != nil {
			return err
		}
		if err := settingstore.Save(ctx, c, settingsKey, next); err != nil {
			return err
		}
		if err := audit.Record(ctx, c, audit.Entry{EntityType: "organization", EntityID: v.OrgID,
			Action: "update", Field: "sla_settings", Before: cur, After: next}); err != nil {
			return err
		}
		out = next
		moved, err = recomputeOpen(ctx, c, next, cal, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	s.forget(v.OrgID)
	for _, inc := range moved {
		s.Schedule(ctx, inc)
	}
	return out, nil
}

// forget drops an organisation's cached settings.
func (s *Service) forget(org uuid.UUID) {
	s.mu.Lock()
	delete(s.cache, org)
	s.mu.Unlock()
}

// compiled returns the acting organisation's settings and calendar,
// cached for cacheTTL.
func (s *Service) compiled(ctx context.Context, c *ent.Client) (*Settings, *calendar, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	s.mu.Lock()
	e, ok := s.cache[v.OrgID]
	s.mu.Unlock()
	if ok && time.Since(e.at) < cacheTTL {
		return e.settings, e.cal, nil
	}
	set, err := load(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	cal, err := set.calendar()
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	s.cache[v.OrgID] = cached{settings: set, cal: cal, at: time.Now()}
	s.mu.Unlock()
	return set, cal, nil
}
