package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// The two events a running timer fires.
const (
	eventAtRisk = "at_risk"
	eventBreach = "breach"
)

// FireArgs is the job that fires one event of one timer at its instant.
// Due is the timer's due time when the job was planned: a job whose Due
// is no longer the incident's is stale.
type FireArgs struct {
	OrganizationID uuid.UUID     `json:"organization_id"`
	IncidentID     uuid.UUID     `json:"incident_id"`
	Timer          enum.SLATimer `json:"timer"`
	Event          string        `json:"event"`
	Due            time.Time     `json:"due"`
	At             time.Time     `json:"at"`
}

// Kind names the job.
func (FireArgs) Kind() string { return "sla.fire" }

// InsertOpts make a fire unique by its arguments, so that Resume and a
// rescheduling cannot queue it twice while it waits.
func (FireArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// fireWorker runs FireArgs.
type fireWorker struct {
	river.WorkerDefaults[FireArgs]
	s *Service
}

// Worker returns the River worker of the timers' jobs.
func (s *Service) Worker() river.Worker[FireArgs] { return &fireWorker{s: s} }

// Timeout bounds one firing, a few short statements.
func (w *fireWorker) Timeout(*river.Job[FireArgs]) time.Duration { return 30 * time.Second }

func (w *fireWorker) Work(ctx context.Context, job *river.Job[FireArgs]) error {
	a := job.Args
	// River runs the job at its scheduled wall-clock time; the service's
	// clock decides whether the instant has come (tests move it).
	if wait := a.At.Sub(w.s.now()); wait > 0 {
		return river.JobSnooze(wait)
	}
	_, err := w.s.Fire(viewer.ForJob(ctx, a.OrganizationID), a)
	return err
}

// Fire stamps the event once and, if this call did, writes its
// notifications, timeline event, activity and realtime event in the same
// transaction. It reports whether it fired: false for a stale job, a met
// timer or a stamp already written.
func (s *Service) Fire(ctx context.Context, a FireArgs) (bool, error) {
	fired := false
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		inc, err := c.Incident.Get(ctx, a.IncidentID)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err := stamp(ctx, c, a)
		if err != nil || n == 0 {
			return err
		}
		fired = true
		if err := s.announce(ctx, c, inc, a); err != nil {
			return err
		}
		if s.triggers == nil {
			return nil
		}
		event := enum.TriggerEventSlaAtRisk
		if a.Event == eventBreach {
			event = enum.TriggerEventSlaBreached
		}
		return s.triggers.Happened(ctx, tx, event, inc.ID)
	})
	return fired, err
}

// stampable is the condition of the conditional UPDATE: the timer still
// has the due time the job was planned for, is unmet, and the stamp is
// still empty.
func stampable(a FireArgs) []predicate.Incident {
	ps := []predicate.Incident{incident.ID(a.IncidentID)}
	switch a.Timer {
	case enum.SLATimerAcknowledge:
		ps = append(ps, incident.SLAAckDueAt(a.Due), incident.AcknowledgedAtIsNil(), incident.SLAAckBreachedAtIsNil())
		if a.Event == eventAtRisk {
			ps = append(ps, incident.SLAAckAtRiskAtIsNil())
		}
	default:
		ps = append(ps, incident.SLAResolveDueAt(a.Due), incident.ClosedAtIsNil(), incident.SLAResolveBreachedAtIsNil())
		if a.Event == eventAtRisk {
			ps = append(ps, incident.SLAResolveAtRiskAtIsNil())
		}
	}
	return ps
}

// stamp runs the conditional UPDATE and returns how many rows it changed
// (0 or 1).
func stamp(ctx context.Context, c *ent.Client, a FireArgs) (int, error) {
	u := c.Incident.Update().Where(stampable(a)...)
	switch {
	case a.Timer == enum.SLATimerAcknowledge && a.Event == eventAtRisk:
		u.SetSLAAckAtRiskAt(a.At)
	case a.Timer == enum.SLATimerAcknowledge:
		u.SetSLAAckBreachedAt(a.Due)
	case a.Event == eventAtRisk:
		u.SetSLAResolveAtRiskAt(a.At)
	default:
		u.SetSLAResolveBreachedAt(a.Due)
	}
	return u.Save(ctx)
}

// announce tells the assignee, the escalation owner and the provider
// organisation's administrators (per their preferences), and records the
// timeline event, the activity and the realtime event.
func (s *Service) announce(ctx context.Context, c *ent.Client, inc *ent.Incident, a FireArgs) error {
	kind, what, tl := enum.NotificationKindSlaAtRisk, "at risk", enum.TimelineKindSlaAtRisk
	if a.Event == eventBreach {
		kind, what, tl = enum.NotificationKindSlaBreach, "breached", enum.TimelineKindSlaBreached
	}
	title := fmt.Sprintf("SLA %s: time to %s", what, a.Timer)
	body := fmt.Sprintf("Due %s.", a.Due.UTC().Format(time.RFC3339))
	subject := notify.Subject{EntityType: "incident", EntityID: inc.ID, Title: fmt.Sprintf("incident #%d %s", inc.Number, inc.Title)}
	set, err := load(ctx, c)
	if err != nil {
		return err
	}
	var users []uuid.UUID
	if inc.AssigneeID != nil {
		users = append(users, *inc.AssigneeID)
	}
	if set.EscalationOwnerID != nil && (inc.AssigneeID == nil || *inc.AssigneeID != *set.EscalationOwnerID) {
		users = append(users, *set.EscalationOwnerID)
	}
	if err := notify.SLA(ctx, c, kind, users, title, body, subject); err != nil {
		return err
	}
	org, err := c.Organization.Get(ctx, inc.OrganizationID)
	if err != nil {
		return err
	}
	if org.ParentID != nil {
		// The provider's administrators are rows of the provider
		// organisation: they are read and notified as its own job.
		pctx := viewer.ForJob(ctx, *org.ParentID)
		admins, err := notify.Admins(pctx, c)
		if err != nil {
			return err
		}
		if err := notify.SLA(pctx, c, kind, admins, org.Name+": "+title, body, subject); err != nil {
			return err
		}
	}
	if err := c.TimelineEvent.Create().SetIncidentID(inc.ID).SetKind(tl).SetTitle(title).
		SetDescription(body).SetOccurredAt(time.Now().UTC()).SetAutomatic(true).SetActorName("system").
		SetData(map[string]any{"timer": a.Timer, "due": a.Due.UTC()}).Exec(ctx); err != nil {
		return err
	}
	field := "sla_ack_at_risk_at"
	switch {
	case a.Timer == enum.SLATimerAcknowledge && a.Event == eventBreach:
		field = "sla_ack_breached_at"
	case a.Timer == enum.SLATimerResolve && a.Event == eventAtRisk:
		field = "sla_resolve_at_risk_at"
	case a.Timer == enum.SLATimerResolve:
		field = "sla_resolve_breached_at"
	}
	after := a.At
	if a.Event == eventBreach {
		after = a.Due
	}
	if err := audit.Record(ctx, c, audit.Entry{EntityType: "incident", EntityID: inc.ID, Action: "sla_" + a.Event,
		Field: field, After: after.UTC()}); err != nil {
		return err
	}
	return hub.Record(ctx, c, hub.Changed(inc.OrganizationID, hub.TopicIncident, hub.KindUpdated, inc.ID)...)
}
