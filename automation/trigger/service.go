// Package trigger owns automation triggers: their rules (event, condition
// of the query language, actions of the shared vocabulary, position, the
// active period and weekly window), their management, and the engine that
// runs them inside the transaction of the change that fired them.
package trigger

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/automationtrigger"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// Entity names triggers in the activity log.
const Entity = "trigger"

// Default limits: one organisation cannot slow everyone's ingest.
const (
	DefaultMaxTriggers = 200
	DefaultMaxActions  = 20
	maxName            = 200
	// maxActionsBytes bounds the stored action list.
	maxActionsBytes = 64 << 10
)

// Limits bound an organisation's triggers.
type Limits struct {
	// MaxTriggers per organisation (all events together).
	MaxTriggers int
	// MaxActions per trigger.
	MaxActions int
}

func (l Limits) withDefaults() Limits {
	if l.MaxTriggers <= 0 {
		l.MaxTriggers = DefaultMaxTriggers
	}
	if l.MaxActions <= 0 {
		l.MaxActions = DefaultMaxActions
	}
	return l
}

// Service manages the acting organisation's triggers.
type Service struct {
	client *ent.Client
	engine *Engine
	limits Limits
}

// New returns the service; engine compiles conditions and runs triggers.
func New(client *ent.Client, engine *Engine, limits Limits) *Service {
	return &Service{client: client, engine: engine, limits: limits.withDefaults()}
}

// admin is who may change triggers: they act on every alert of the
// organisation, as an organisation setting does.
func admin(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "a user session or API token is required")
	}
	if !v.IsAdmin() {
		return nil, apperr.New(apperr.Forbidden, "only administrators may change triggers")
	}
	return v, nil
}

func reader(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "a user session or API token is required")
	}
	return v, nil
}

func find(ctx context.Context, c *ent.Client, id uuid.UUID) (*ent.AutomationTrigger, error) {
	t, err := c.AutomationTrigger.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("trigger %s not found", id)
	}
	return t, err
}

// Triggers lists the organisation's triggers by position (of one event
// when given).
func (s *Service) Triggers(ctx context.Context, event *enum.TriggerEvent, page paging.Page) (*ent.TriggerConnection, error) {
	if _, err := reader(ctx); err != nil {
		return nil, err
	}
	q := s.client.AutomationTrigger.Query()
	if event != nil {
		if !event.Valid() {
			return nil, apperr.Invalid("event", "is not a trigger event")
		}
		q.Where(automationtrigger.EventEQ(*event))
	}
	order := &ent.TriggerOrder{Direction: paging.Asc, Field: ent.AutomationTriggerOrderFieldPosition}
	return paging.Paginate(ctx, page, q.Paginate, ent.WithTriggerOrder(order))
}

// Trigger returns one trigger of the organisation.
func (s *Service) Trigger(ctx context.Context, id uuid.UUID) (*ent.AutomationTrigger, error) {
	if _, err := reader(ctx); err != nil {
		return nil, err
	}
	return find(ctx, s.client, id)
}

// snapshot is a trigger as the activity log records it.
type snapshot struct {
	Name           string                      `json:"name"`
	Enabled        bool                        `json:"enabled"`
	Event          string                      `json:"event"`
	Condition      string                      `json:"condition"`
	Actions        json.RawMessage             `json:"actions"`
	StopProcessing bool                        `json:"stop_processing"`
	Position       int                         `json:"position"`
	ActiveFrom     *time.Time                  `json:"active_from,omitempty"`
	ActiveUntil    *time.Time                  `json:"active_until,omitempty"`
	Schedule       *schematype.TriggerSchedule `json:"schedule,omitempty"`
}

func snapshotOf(t *ent.AutomationTrigger) snapshot {
	return snapshot{Name: t.Name, Enabled: t.Enabled, Event: string(t.Event), Condition: t.Condition, Actions: redactedList(t.Actions),
		StopProcessing: t.StopProcessing, Position: t.Position, ActiveFrom: t.ActiveFrom, ActiveUntil: t.ActiveUntil, Schedule: t.Schedule}
}

// redactedList is a stored list without webhook secrets (the activity
// log's copy).
func redactedList(stored json.RawMessage) json.RawMessage { return Vocabulary{}.Redact(stored) }

// lockOrg serialises changes to an organisation's triggers (positions are
// read, then written): a row lock on PostgreSQL; SQLite's transactions take
// the write lock at BEGIN.
func lockOrg(ctx context.Context, tx *ent.Tx) error {
	v := viewer.FromContext(ctx)
	_, err := tx.Organization.Query().Where(organization.ID(v.OrgID)).Modify(lockOnPostgres).Only(viewer.Home(ctx))
	if ent.IsNotFound(err) {
		// A viewer acting in a client organisation reads it through its
		// own tenancy rather than its home.
		_, err = tx.Organization.Query().Where(organization.ID(v.OrgID)).Modify(lockOnPostgres).Only(ctx)
	}
	return err
}

// announce tells every replica's engine that the organisation's triggers
// changed (the outbox, written with the change).
func announce(ctx context.Context, tx *ent.Tx, id uuid.UUID) error {
	v := viewer.FromContext(ctx)
	return hub.Record(ctx, tx.Client(), hub.Event{OrganizationID: v.OrgID, Topic: hub.TopicAutomation, Kind: hub.KindUpdated, EntityID: id})
}

// change runs one change of the acting organisation's triggers: fn in a
// transaction under the organisation's lock, then, in that transaction,
// the announcement to every replica and the activity entry fn returns;
// once committed, this replica's compiled triggers are dropped.
func (s *Service) change(ctx context.Context, fn func(tx *ent.Tx) (audit.Entry, error)) error {
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		if err := lockOrg(ctx, tx); err != nil {
			return err
		}
		entry, err := fn(tx)
		if err != nil {
			return err
		}
		entry.EntityType = Entity
		if err := announce(ctx, tx, entry.EntityID); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), entry)
	})
	if err == nil {
		s.engine.Invalidate(viewer.FromContext(ctx).OrgID)
	}
	return err
}

// checkEvent refuses what is not a trigger event.
func checkEvent(field string, e enum.TriggerEvent) error {
	if !e.Valid() {
		return apperr.Invalid(field, "must be one of alert.created, alert.merged, alert.updated, incident.created, incident.updated, sla.at_risk, sla.breached")
	}
	return nil
}

// checkPeriod refuses an empty active period.
func checkPeriod(from, until *time.Time) error {
	if from != nil && until != nil && !until.After(*from) {
		return apperr.Invalid("active_until", "must be after active_from")
	}
	return nil
}

// checkActions validates an action list: a JSON list of at most
// MaxActions objects, each then checked by the action vocabulary (errors
// name actions.<index>).
func (s *Service) checkActions(ctx context.Context, event enum.TriggerEvent, raw, stored json.RawMessage) (json.RawMessage, error) {
	if len(raw) > maxActionsBytes {
		return nil, apperr.Invalid("actions", "must be at most %d bytes of JSON", maxActionsBytes)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, apperr.Invalid("actions", "must be a list of actions")
	}
	if len(list) > s.limits.MaxActions {
		return nil, apperr.Invalid("actions", "must have at most %d actions", s.limits.MaxActions)
	}
	return s.engine.actions.Prepare(ctx, TargetOf(event), raw, stored)
}

// Actions is a trigger's action list as it may be shown: webhook secrets
// removed.
func (s *Service) Actions(_ context.Context, t *ent.AutomationTrigger) (json.RawMessage, error) {
	return redactedList(t.Actions), nil
}

// Create adds a trigger at the given position of its event (last by
// default), moving later ones down.
func (s *Service) Create(ctx context.Context, in CreateInput) (*ent.AutomationTrigger, error) {
	if _, err := admin(ctx); err != nil {
		return nil, err
	}
	name, err := textfield.Required("name", in.Name, maxName)
	if err != nil {
		return nil, err
	}
	if err := checkEvent("event", in.Event); err != nil {
		return nil, err
	}
	cond := deref(in.Condition)
	if _, err := s.engine.compile(in.Event, cond, time.Now()); err != nil {
		return nil, err
	}
	actions, err := s.checkActions(ctx, in.Event, in.Actions, nil)
	if err != nil {
		return nil, err
	}
	if err := checkPeriod(in.ActiveFrom, in.ActiveUntil); err != nil {
		return nil, err
	}
	sched, err := checkSchedule(in.Schedule)
	if err != nil {
		return nil, err
	}
	if in.Position != nil && *in.Position < 1 {
		return nil, apperr.Invalid("position", "must be 1 or more")
	}
	var created *ent.AutomationTrigger
	err = s.change(ctx, func(tx *ent.Tx) (audit.Entry, error) {
		n, err := tx.AutomationTrigger.Query().Count(ctx)
		if err != nil {
			return audit.Entry{}, err
		}
		if n >= s.limits.MaxTriggers {
			return audit.Entry{}, apperr.Invalid("name", "the organisation already has %d triggers, the most allowed", s.limits.MaxTriggers)
		}
		ids, err := ordered(ctx, tx, in.Event)
		if err != nil {
			return audit.Entry{}, err
		}
		c := tx.AutomationTrigger.Create().SetName(name).SetEvent(in.Event).SetCondition(cond).SetActions(actions).
			SetNillableEnabled(in.Enabled).SetNillableStopProcessing(in.StopProcessing).SetPosition(len(ids) + 1).
			SetNillableActiveFrom(utc(in.ActiveFrom)).SetNillableActiveUntil(utc(in.ActiveUntil))
		if sched != nil {
			c.SetSchedule(sched)
		}
		if created, err = c.Save(ctx); err != nil {
			return audit.Entry{}, err
		}
		if in.Position != nil && *in.Position <= len(ids) {
			ids = slices.Insert(ids, *in.Position-1, created.ID)
			if err := renumber(ctx, tx, in.Event, ids); err != nil {
				return audit.Entry{}, err
			}
			if created, err = tx.AutomationTrigger.Get(ctx, created.ID); err != nil {
				return audit.Entry{}, err
			}
		}
		return audit.Entry{EntityID: created.ID, Action: "create", After: snapshotOf(created)}, nil
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ordered returns the ids of the organisation's triggers of event by position.
func ordered(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent) ([]uuid.UUID, error) {
	return tx.AutomationTrigger.Query().Where(automationtrigger.EventEQ(event)).
		Order(ent.Asc(automationtrigger.FieldPosition)).IDs(ctx)
}

// renumberShift lifts positions out of the way before they are rewritten,
// so the unique (organisation, event, position) index never sees two rows
// on one place mid-way.
const renumberShift = 1_000_000

// renumber gives ids the positions 1…n in order: every row of the event is
// first shifted past any final position, then set; the caller holds the
// organisation's lock.
func renumber(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, ids []uuid.UUID) error {
	if _, err := tx.AutomationTrigger.Update().Where(automationtrigger.EventEQ(event)).AddPosition(renumberShift).Save(ctx); err != nil {
		return err
	}
	for i, id := range ids {
		if err := tx.AutomationTrigger.UpdateOneID(id).SetPosition(i + 1).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Update changes a trigger. A new event moves it last among that event's
// triggers and closes the gap it leaves; enabling it clears its failures.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateInput) (*ent.AutomationTrigger, error) {
	if _, err := admin(ctx); err != nil {
		return nil, err
	}
	var updated *ent.AutomationTrigger
	err := s.change(ctx, func(tx *ent.Tx) (audit.Entry, error) {
		t, err := find(ctx, tx.Client(), id)
		if err != nil {
			return audit.Entry{}, err
		}
		before := snapshotOf(t)
		upd := tx.AutomationTrigger.UpdateOne(t)
		if in.Name != nil {
			name, err := textfield.Required("name", *in.Name, maxName)
			if err != nil {
				return audit.Entry{}, err
			}
			upd.SetName(name)
		}
		event := t.Event
		if in.Event != nil {
			if err := checkEvent("event", *in.Event); err != nil {
				return audit.Entry{}, err
			}
			event = *in.Event
		}
		cond := t.Condition
		if in.Condition != nil {
			cond = *in.Condition
			upd.SetCondition(cond)
		}
		if in.Condition != nil || event != t.Event {
			if _, err := s.engine.compile(event, cond, time.Now()); err != nil {
				return audit.Entry{}, err
			}
		}
		if in.Actions != nil || event != t.Event {
			raw := in.Actions
			if raw == nil {
				// The stored list checked for the new event: its secrets
				// are kept through stored.
				raw = redactedList(t.Actions)
			}
			actions, err := s.checkActions(ctx, event, raw, t.Actions)
			if err != nil {
				return audit.Entry{}, err
			}
			upd.SetActions(actions)
		}
		if in.Enabled != nil {
			upd.SetEnabled(*in.Enabled)
			if *in.Enabled && !t.Enabled {
				upd.SetFailureCount(0)
			}
		}
		if in.StopProcessing != nil {
			upd.SetStopProcessing(*in.StopProcessing)
		}
		from, until := t.ActiveFrom, t.ActiveUntil
		if in.ActiveFrom.IsSet() {
			from = utc(in.ActiveFrom.Value())
			if from == nil {
				upd.ClearActiveFrom()
			} else {
				upd.SetActiveFrom(*from)
			}
		}
		if in.ActiveUntil.IsSet() {
			until = utc(in.ActiveUntil.Value())
			if until == nil {
				upd.ClearActiveUntil()
			} else {
				upd.SetActiveUntil(*until)
			}
		}
		if err := checkPeriod(from, until); err != nil {
			return audit.Entry{}, err
		}
		if in.Schedule.IsSet() {
			sched, err := checkSchedule(in.Schedule.Value())
			if err != nil {
				return audit.Entry{}, err
			}
			if sched == nil {
				upd.ClearSchedule()
			} else {
				upd.SetSchedule(sched)
			}
		}
		if event != t.Event {
			// Last among the new event's triggers; the old event's close up.
			newIDs, err := ordered(ctx, tx, event)
			if err != nil {
				return audit.Entry{}, err
			}
			oldIDs, err := ordered(ctx, tx, t.Event)
			if err != nil {
				return audit.Entry{}, err
			}
			upd.SetEvent(event).SetPosition(renumberShift * 2)
			if _, err := upd.Save(ctx); err != nil {
				return audit.Entry{}, err
			}
			if err := renumber(ctx, tx, t.Event, slices.DeleteFunc(oldIDs, func(x uuid.UUID) bool { return x == t.ID })); err != nil {
				return audit.Entry{}, err
			}
			if err := renumber(ctx, tx, event, append(newIDs, t.ID)); err != nil {
				return audit.Entry{}, err
			}
		} else if _, err := upd.Save(ctx); err != nil {
			return audit.Entry{}, err
		}
		if updated, err = tx.AutomationTrigger.Get(ctx, t.ID); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{EntityID: t.ID, Action: "update", Before: before, After: snapshotOf(updated)}, nil
	})
	if err != nil {
		return nil, err
	}
	return updated.Unwrap(), nil
}

// Delete deletes a trigger; the later triggers of its event move up.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	if _, err := admin(ctx); err != nil {
		return err
	}
	return s.change(ctx, func(tx *ent.Tx) (audit.Entry, error) {
		t, err := find(ctx, tx.Client(), id)
		if err != nil {
			return audit.Entry{}, err
		}
		if err := tx.AutomationTrigger.DeleteOne(t).Exec(ctx); err != nil {
			return audit.Entry{}, err
		}
		ids, err := ordered(ctx, tx, t.Event)
		if err != nil {
			return audit.Entry{}, err
		}
		if err := renumber(ctx, tx, t.Event, ids); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{EntityID: t.ID, Action: "delete", Before: snapshotOf(t)}, nil
	})
}

// Reorder moves a trigger among its event's triggers: to a position (past
// the end is last), or just before or after another trigger of the event.
// Under the organisation's lock, so concurrent moves leave 1…n.
func (s *Service) Reorder(ctx context.Context, id uuid.UUID, in ReorderInput) (*ent.AutomationTrigger, error) {
	if _, err := admin(ctx); err != nil {
		return nil, err
	}
	given := 0
	for _, set := range []bool{in.Position != nil, in.Before != nil, in.After != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, apperr.Invalid("position", "give exactly one of position, before and after")
	}
	if in.Position != nil && *in.Position < 1 {
		return nil, apperr.Invalid("position", "must be 1 or more")
	}
	var moved *ent.AutomationTrigger
	err := s.change(ctx, func(tx *ent.Tx) (audit.Entry, error) {
		t, err := find(ctx, tx.Client(), id)
		if err != nil {
			return audit.Entry{}, err
		}
		ids, err := ordered(ctx, tx, t.Event)
		if err != nil {
			return audit.Entry{}, err
		}
		ids = slices.DeleteFunc(ids, func(x uuid.UUID) bool { return x == t.ID })
		var at int
		switch {
		case in.Position != nil:
			at = min(*in.Position-1, len(ids))
		default:
			field, other := "before", in.Before
			if in.After != nil {
				field, other = "after", in.After
			}
			i := slices.Index(ids, *other)
			if i < 0 {
				return audit.Entry{}, apperr.Invalid(field, "must be another trigger of the same event")
			}
			at = i
			if field == "after" {
				at = i + 1
			}
		}
		before := t.Position
		ids = slices.Insert(ids, at, t.ID)
		if err := renumber(ctx, tx, t.Event, ids); err != nil {
			return audit.Entry{}, err
		}
		if moved, err = tx.AutomationTrigger.Get(ctx, t.ID); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{EntityID: t.ID, Action: "update", Field: "position", Before: before, After: moved.Position}, nil
	})
	if err != nil {
		return nil, err
	}
	return moved.Unwrap(), nil
}
