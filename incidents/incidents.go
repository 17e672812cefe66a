// Package incidents owns the unit of work analysts investigate and clients
// read: its lifecycle (a status machine with timestamps and dispositions),
// the alerts linked to it, its timeline, notes and activity.
//
// Every change is recorded in the activity log and, where an analyst would
// want it in the story, as an automatic timeline event, in the transaction
// of the change itself.
package incidents

import (
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/tags"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

// entityIncident is the activity log's entity type for incidents.
const entityIncident = "incident"

// Limits on an incident's text.
const (
	maxTitle       = 1000
	maxDescription = 100000
)

// Service is the incidents API.
type Service struct {
	client   *ent.Client
	timers   *sla.Service
	triggers Triggers
}

// Triggers is told, inside the change's transaction, of incidents opened
// (Happened) and changed (Changed, with the change's activity entries):
// the automation engine runs the incident triggers.
type Triggers interface {
	Happened(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, ids ...uuid.UUID) error
	Changed(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, entries []audit.Entry) error
}

// WithTriggers runs t's incident.created and incident.updated triggers,
// and returns s.
func (s *Service) WithTriggers(t Triggers) *Service {
	s.triggers = t
	return s
}

// New returns the service over client.
func New(client *ent.Client) *Service { return &Service{client: client} }

// WithSLA keeps the incidents' SLA timers with timers: set when an
// incident opens, moved when its severity or status changes, met by the
// first action of a person.
func (s *Service) WithSLA(timers *sla.Service) *Service {
	s.timers = timers
	return s
}

// applySLA brings inc's timers in line, in the caller's transaction, and
// returns the incident as stored and a function scheduling its timers'
// jobs, to be called after commit.
func (s *Service) applySLA(ctx context.Context, c *ent.Client, inc *ent.Incident) (*ent.Incident, func(context.Context), error) {
	if s.timers == nil {
		return inc, func(context.Context) {}, nil
	}
	out, changed, err := s.timers.Apply(ctx, c, inc)
	if err != nil || !changed {
		return inc, func(context.Context) {}, err
	}
	return out, func(ctx context.Context) { s.timers.Schedule(ctx, out) }, nil
}

// acknowledge stamps acknowledged_at on upd when this is the first action
// of a person on inc (a status change, an assignment, a note). Jobs and
// triggers never acknowledge, so automation cannot meet an SLA for anyone.
// It returns the activity entry to record, or nil.
func acknowledge(ctx context.Context, inc *ent.Incident, upd *ent.IncidentUpdateOne) *audit.Entry {
	v := viewer.FromContext(ctx)
	if inc.AcknowledgedAt != nil || v == nil || v.Kind != viewer.KindUser {
		return nil
	}
	t := now()
	upd.SetAcknowledgedAt(t)
	return &audit.Entry{EntityType: entityIncident, EntityID: inc.ID, Action: "update", Field: "acknowledged_at", After: t}
}

// Create opens an incident in the acting organisation with the next
// number, links the given alerts and, when no severity is given, takes
// the highest of theirs (medium without alerts).
func (s *Service) Create(ctx context.Context, in CreateIncidentInput) (*ent.Incident, error) {
	if _, err := checkCreate(in); err != nil {
		return nil, err
	}
	var out *ent.Incident
	schedule := func(context.Context) {}
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		out, schedule, err = s.CreateTx(ctx, tx, in)
		if err != nil || s.triggers == nil {
			return err
		}
		// Opened by a person (or the API): incident.created triggers run,
		// and may change it further.
		if err := s.CreatedTx(ctx, tx, out.ID); err != nil {
			return err
		}
		out, err = tx.Client().Incident.Get(ctx, out.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	schedule(ctx)
	return out.Unwrap(), nil
}

// CreatedTx runs the incident.created triggers on an incident CreateTx
// opened, in the same transaction: an incident opened by automation's
// correlation fires them like any other. It cannot loop: a creation fires
// once, and incident actions cannot open incidents.
func (s *Service) CreatedTx(ctx context.Context, tx *ent.Tx, id uuid.UUID) error {
	if s.triggers == nil {
		return nil
	}
	return s.triggers.Happened(ctx, tx, enum.TriggerEventIncidentCreated, id)
}

// CreateTx opens an incident inside the caller's transaction, with
// Create's rules and records (activity, timeline, outbox event, linked
// alerts, notifications), and returns it with the work to run after commit
// (SLA timers). Automation's correlation opens incidents through it.
func (s *Service) CreateTx(ctx context.Context, tx *ent.Tx, in CreateIncidentInput) (*ent.Incident, func(context.Context), error) {
	noop := func(context.Context) {}
	f, err := checkCreate(in)
	if err != nil {
		return nil, noop, err
	}
	c := tx.Client()
	if err := directory.CheckAssignable(ctx, c, "assignee_id", in.AssigneeID); err != nil {
		return nil, noop, err
	}
	if err := checkGroup(ctx, c, in.GroupID); err != nil {
		return nil, noop, err
	}
	alerts, err := lockAlerts(ctx, c, "alert_ids", in.AlertIDs)
	if err != nil {
		return nil, noop, err
	}
	number, err := nextNumber(ctx, c)
	if err != nil {
		return nil, noop, err
	}
	severity := enum.SeverityMedium
	switch {
	case in.Severity != nil:
		severity = *in.Severity
	case len(alerts) > 0:
		severity = highestSeverity(alerts)
	}
	inc, err := c.Incident.Create().SetNumber(number).SetTitle(f.title).
		SetDescription(f.description).SetSummary(f.summary).SetSeverity(severity).
		SetNillableAssigneeID(in.AssigneeID).SetNillableGroupID(in.GroupID).
		SetTags(f.tags).Save(ctx)
	if err != nil {
		return nil, noop, err
	}
	if err := audit.Record(ctx, c, audit.Entry{EntityType: entityIncident, EntityID: inc.ID, Action: "create",
		After: map[string]any{"number": number, "title": inc.Title, "severity": inc.Severity}}); err != nil {
		return nil, noop, err
	}
	if err := addEvent(ctx, c, inc.ID, enum.TimelineKindAnalystAction, "Incident opened", inc.Title, nil); err != nil {
		return nil, noop, err
	}
	if err := announce(ctx, c, hub.KindCreated, inc.ID); err != nil {
		return nil, noop, err
	}
	if _, _, err := attach(ctx, c, inc, alerts); err != nil {
		return nil, noop, err
	}
	if in.AssigneeID != nil {
		if err := notify.Assigned(ctx, c, *in.AssigneeID, subject(inc)); err != nil {
			return nil, noop, err
		}
	}
	if err := notify.ContactsOfIncident(ctx, c, inc, notify.IncidentOpened); err != nil {
		return nil, noop, err
	}
	out, err := c.Incident.Get(ctx, inc.ID)
	if err != nil {
		return nil, noop, err
	}
	return s.applySLA(ctx, c, out)
}

// createFields are a creation's validated texts.
type createFields struct {
	title, description, summary string
	tags                        []string
}

func checkCreate(in CreateIncidentInput) (createFields, error) {
	var f createFields
	var err error
	if f.title, err = cleanTitle(in.Title); err != nil {
		return f, err
	}
	if f.description, err = cleanText("description", deref(in.Description)); err != nil {
		return f, err
	}
	if f.summary, err = cleanText("summary", deref(in.Summary)); err != nil {
		return f, err
	}
	if in.Severity != nil && !in.Severity.Valid() {
		return f, apperr.Invalid("severity", "%q is not a severity", *in.Severity)
	}
	if f.tags, err = tags.Clean("tags", in.Tags); err != nil {
		return f, err
	}
	if len(in.AlertIDs) > maxLinkIDs {
		return f, apperr.Invalid("alert_ids", "at most %d alerts at a time", maxLinkIDs)
	}
	return f, nil
}

// nextNumber returns the acting organisation's next incident number. On
// PostgreSQL the organisation's row is locked until the transaction ends,
// so concurrent creations take turns instead of colliding on the unique
// (organization_id, number); SQLite transactions are already serialised.
// The lock is FOR NO KEY UPDATE: it excludes other creations but not the
// FOR KEY SHARE every insert referencing the organisation takes, so a
// transaction that inserted an alert and waits for this one (on a
// correlation key) cannot deadlock with it.
func nextNumber(ctx context.Context, c *ent.Client) (int, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return 0, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	_, err := c.Organization.Query().Where(organization.ID(v.OrgID)).
		Modify(lockNoKeyOnPostgres).Select(organization.FieldID).Only(viewer.Home(ctx))
	if err != nil {
		return 0, fmt.Errorf("lock organisation: %w", err)
	}
	last, err := c.Incident.Query().Order(ent.Desc(incident.FieldNumber)).
		Select(incident.FieldNumber).First(ctx)
	switch {
	case ent.IsNotFound(err):
		return 1, nil
	case err != nil:
		return 0, fmt.Errorf("last incident number: %w", err)
	}
	return last.Number + 1, nil
}

// lockNoKeyOnPostgres adds FOR NO KEY UPDATE where the dialect supports it.
func lockNoKeyOnPostgres(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.For(sql.LockNoKeyUpdate)
	}
}

// lockOnPostgres adds FOR UPDATE where the dialect supports it.
func lockOnPostgres(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}

// Get returns one incident of the acting organisation.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.Incident, error) {
	inc, err := s.client.Incident.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("incident %s not found", id)
	}
	return inc, err
}

// visible loads an incident of the acting organisation inside a
// transaction, locked on PostgreSQL so that concurrent patches plan from
// the same state one after the other.
func visible(ctx context.Context, c *ent.Client, id uuid.UUID) (*ent.Incident, error) {
	inc, err := c.Incident.Query().Where(incident.ID(id)).Modify(lockOnPostgres).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("incident %s not found", id)
	}
	return inc, err
}

// checkGroup refuses a group the acting organisation does not have.
func checkGroup(ctx context.Context, c *ent.Client, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	ok, err := c.Group.Query().Where(group.ID(*id)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid("group_id", "%s is not a group of this organisation", id)
	}
	return nil
}

func cleanTitle(raw string) (string, error) { return textfield.Required("title", raw, maxTitle) }

func cleanText(field, raw string) (string, error) {
	return textfield.Optional(field, raw, maxDescription)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// subject names an incident in notifications.
func subject(inc *ent.Incident) notify.Subject {
	return notify.Subject{EntityType: entityIncident, EntityID: inc.ID, Title: fmt.Sprintf("incident #%d %s", inc.Number, inc.Title)}
}

// highestSeverity is the most severe of the alerts' severities.
func highestSeverity(alerts []*ent.Alert) enum.Severity {
	best := alerts[0].Severity
	for _, a := range alerts[1:] {
		if a.Severity.Rank() > best.Rank() {
			best = a.Severity
		}
	}
	return best
}

// announce records, in the caller's transaction, that incidents changed,
// for the subscribers of the acting organisation.
func announce(ctx context.Context, c *ent.Client, kind string, ids ...uuid.UUID) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil
	}
	return hub.Record(ctx, c, hub.Changed(v.OrgID, hub.TopicIncident, kind, ids...)...)
}

// now is the time every stamp of one change shares, in UTC (SQLite
// compares times as text).
func now() time.Time { return time.Now().UTC() }

// sortedIDs returns the distinct ids in byte order, the order rows are
// locked in, so that two transactions cannot deadlock on each other.
func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(out)
}
