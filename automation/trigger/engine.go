package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/automationtrigger"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// Target is what an event's object is: "alert" or "incident".
type Target string

// The targets of actions.
const (
	TargetAlert    Target = "alert"
	TargetIncident Target = "incident"
)

// TargetOf is the kind of object an event carries: alert events an alert,
// incident and SLA events an incident.
func TargetOf(e enum.TriggerEvent) Target {
	switch e {
	case enum.TriggerEventAlertCreated, enum.TriggerEventAlertMerged, enum.TriggerEventAlertUpdated:
		return TargetAlert
	}
	return TargetIncident
}

// updates are the events whose conditions may read changes.
func updates(e enum.TriggerEvent) bool {
	return e == enum.TriggerEventAlertUpdated || e == enum.TriggerEventIncidentUpdated
}

// Run is one trigger's action list to run on one object.
type Run struct {
	// Event is what fired the run (webhook bodies name it).
	Event    enum.TriggerEvent
	Target   Target
	ObjectID uuid.UUID
	Actions  json.RawMessage
	// Trigger names who acts, for the activity log.
	TriggerID   uuid.UUID
	TriggerName string
	// DryRun: the caller rolls the transaction back (a test run).
	DryRun bool
	// SkipEvent leaves out the object's "updated" outbox event: an alert
	// routed as it is created announces itself once, as created.
	SkipEvent bool
}

// Actions is the action vocabulary shared with macros (package
// automation/action): it checks a list and runs it on one object inside
// the transaction of the change that fired the trigger.
type Actions interface {
	// Prepare checks a list for a target (errors name actions[index]) and
	// returns it as stored: webhook secrets sealed, one given without its
	// secret keeping the sealed secret of stored's webhook with its URL.
	Prepare(ctx context.Context, target Target, raw, stored json.RawMessage) (json.RawMessage, error)
	// Apply runs the list in tx and returns what the actions changed, as
	// a JSON list, and the work to run once tx committed (nil for none).
	Apply(ctx context.Context, tx *ent.Tx, run Run) (json.RawMessage, func(context.Context), error)
}

// Subject is one object an event concerns, with its changes on updates.
type Subject struct {
	ID      uuid.UUID
	Changes map[string]query.Change
	// Alert, when set, is the alert as its writer just wrote it, with the
	// edges conditions read (connector, assignee, incident): the
	// conditions read it instead of reading the row back.
	Alert *ent.Alert
}

// AutoDisableAfter is how many consecutive failed runs disable a trigger.
const AutoDisableAfter = 20

// compiled is one enabled trigger, ready to evaluate.
type compiled struct {
	id             uuid.UUID
	name           string
	cond           *query.Query
	actions        json.RawMessage
	stop           bool
	from, until    *time.Time
	window         *window
	failures       int
	compileProblem error
}

// activeAt reports whether t's period and weekly window hold at now.
func (c *compiled) activeAt(now time.Time) bool {
	if c.from != nil && now.Before(*c.from) {
		return false
	}
	if c.until != nil && !now.Before(*c.until) {
		return false
	}
	return c.window.open(now)
}

// orgTriggers are an organisation's enabled triggers by event, in position
// order, as of one generation of the cache.
type orgTriggers map[enum.TriggerEvent][]*compiled

// Engine compiles triggers once per organisation, caches them and runs
// them. Every replica's engine drops an organisation's triggers when the
// outbox announces a change (Watch), so the next event loads them anew.
type Engine struct {
	actions Actions
	log     *slog.Logger
	now     func() time.Time

	mu    sync.Mutex
	cache map[uuid.UUID]orgTriggers
	// gen counts invalidations per organisation: a load that raced one is
	// not cached.
	gen map[uuid.UUID]uint64
}

// NewEngine returns an engine running actions through a; nil refuses any
// action list (until a vocabulary is given).
func NewEngine(a Actions, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	if a == nil {
		a = noActions{}
	}
	return &Engine{actions: a, log: log, now: time.Now, cache: map[uuid.UUID]orgTriggers{}, gen: map[uuid.UUID]uint64{}}
}

// WithActions sets the action vocabulary (wired after the services it
// works through, which themselves fire triggers), and returns e.
func (e *Engine) WithActions(a Actions) *Engine {
	if a != nil {
		e.actions = a
	}
	return e
}

// WithClock sets the clock periods and windows are tested at, and returns e.
func (e *Engine) WithClock(now func() time.Time) *Engine {
	e.now = now
	return e
}

// noActions is the vocabulary of a server without one: nothing is valid.
type noActions struct{}

func (noActions) Prepare(_ context.Context, _ Target, raw, _ json.RawMessage) (json.RawMessage, error) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) == 0 {
		return json.RawMessage("[]"), nil
	}
	return nil, errors.New("this server has no action vocabulary")
}

func (noActions) Apply(context.Context, *ent.Tx, Run) (json.RawMessage, func(context.Context), error) {
	return json.RawMessage("[]"), nil, nil
}

// Watch makes the engine follow the outbox: every trigger change, on any
// replica, drops that organisation's compiled triggers here.
func (e *Engine) Watch(h *hub.Hub) (stop func()) {
	return h.Watch(hub.TopicAutomation, func(ev hub.Event) { e.Invalidate(ev.OrganizationID) })
}

// Invalidate drops an organisation's compiled triggers.
func (e *Engine) Invalidate(org uuid.UUID) {
	e.mu.Lock()
	delete(e.cache, org)
	e.gen[org]++
	e.mu.Unlock()
}

// compile compiles a condition for an event's source.
func (e *Engine) compile(event enum.TriggerEvent, cond string, now time.Time) (*query.Query, error) {
	src, _ := query.Lookup(string(TargetOf(event)) + "s")
	return query.CompileEvent(src, "condition", cond, now, updates(event))
}

// triggers returns the organisation's enabled triggers of event, loading
// and compiling them (all events at once) through c on a cache miss.
func (e *Engine) triggers(ctx context.Context, c *ent.Client, org uuid.UUID, event enum.TriggerEvent) ([]*compiled, error) {
	e.mu.Lock()
	cached, ok := e.cache[org]
	gen := e.gen[org]
	e.mu.Unlock()
	if ok {
		return cached[event], nil
	}
	rows, err := c.AutomationTrigger.Query().Where(automationtrigger.Enabled(true)).
		Order(ent.Asc(automationtrigger.FieldEvent), ent.Asc(automationtrigger.FieldPosition)).All(ctx)
	if err != nil {
		return nil, err
	}
	loaded := orgTriggers{}
	now := e.now()
	for _, t := range rows {
		ct := &compiled{id: t.ID, name: t.Name, actions: t.Actions, stop: t.StopProcessing, from: t.ActiveFrom, until: t.ActiveUntil, failures: t.FailureCount}
		if ct.cond, err = e.compile(t.Event, t.Condition, now); err != nil {
			// Saved conditions compiled when saved; one that no longer
			// does (the language changed) fails each run, visibly.
			ct.compileProblem = err
		}
		if ct.window, err = compileSchedule(t.Schedule); err != nil {
			ct.compileProblem = err
		}
		loaded[t.Event] = append(loaded[t.Event], ct)
	}
	e.mu.Lock()
	if e.gen[org] == gen {
		e.cache[org] = loaded
	}
	e.mu.Unlock()
	return loaded[event], nil
}

type runningKey struct{}

// Running reports whether ctx is a trigger's actions at work: their
// changes do not fire *.updated triggers again (no loops).
func Running(ctx context.Context) bool { return ctx.Value(runningKey{}) != nil }

// Fire runs the organisation's enabled triggers of event on each subject,
// in position order, in tx (the change's own transaction), as the
// organisation's system principal. A trigger whose condition holds runs
// its actions in a savepoint: if they fail, only they roll back, the
// failure is recorded on the trigger (and the 20th in a row disables it
// and tells the administrators), and the change itself goes on. Updates
// made by triggers' own actions fire nothing.
func (e *Engine) Fire(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, subjects ...Subject) error {
	if len(subjects) == 0 || (updates(event) && Running(ctx)) {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.OrgID == uuid.Nil {
		return errors.New("trigger: no organisation to fire in")
	}
	org := v.OrgID
	sys := context.WithValue(viewer.ForJob(ctx, org), runningKey{}, true)
	list, err := e.triggers(sys, tx.Client(), org, event)
	if err != nil || len(list) == 0 {
		return err
	}
	now := e.now()
	active := make([]*compiled, 0, len(list))
	for _, t := range list {
		if t.activeAt(now) {
			active = append(active, t)
		}
	}
	if len(active) == 0 {
		return nil
	}
	target := TargetOf(event)
	src, _ := query.Lookup(string(target) + "s")
	records, err := records(sys, tx.Client(), org, target, subjects)
	if err != nil {
		return err
	}
	fired := map[uuid.UUID]int{}
	for _, s := range subjects {
		rec, ok := records[s.ID]
		if !ok {
			continue // not in this organisation: never acted on
		}
		if s.Changes != nil {
			rec[query.ChangesVar] = s.Changes
		}
		prepared := src.Prepare(rec, now)
		for _, t := range active {
			if t.compileProblem != nil {
				if err := e.failed(sys, tx, t, t.compileProblem); err != nil {
					return err
				}
				continue
			}
			ok, err := t.cond.MatchesPrepared(prepared)
			if err != nil || !ok {
				// A condition about a field that did not change (or over
				// the cost limit) does not hold.
				continue
			}
			run := Run{Event: event, Target: target, ObjectID: s.ID, Actions: t.actions, TriggerID: t.id, TriggerName: t.name,
				SkipEvent: event == enum.TriggerEventAlertCreated}
			actx := audit.As(sys, "trigger:"+t.name)
			runErr := storage.Savepoint(actx, tx.Client(), func() error {
				_, after, err := e.actions.Apply(actx, tx, run)
				if err == nil && after != nil {
					afterCommit(tx, after)
				}
				return err
			})
			if runErr != nil {
				if err := e.failed(sys, tx, t, runErr); err != nil {
					return err
				}
				continue
			}
			fired[t.id]++
			if t.stop {
				break
			}
		}
	}
	return e.stamp(sys, tx, fired, now)
}

// afterCommit runs f once tx has committed (never after a rollback).
func afterCommit(tx *ent.Tx, f func(context.Context)) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			f(context.WithoutCancel(ctx))
			return nil
		})
	})
}

// stamp records the triggers that fired: count, time, and a clean run
// clears the failure streak. One statement for all of them (an ingest
// batch fires many); its row locks are taken in the statement's scan
// order, the same in every transaction, so concurrent stamps wait for
// each other and never deadlock.
func (e *Engine) stamp(ctx context.Context, tx *ent.Tx, fired map[uuid.UUID]int, now time.Time) error {
	if len(fired) == 0 {
		return nil
	}
	ids := slices.SortedFunc(maps.Keys(fired), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	err := tx.AutomationTrigger.Update().Where(automationtrigger.IDIn(ids...)).SetLastFiredAt(now.UTC()).SetFailureCount(0).
		Modify(func(u *sql.UpdateBuilder) { u.Set(automationtrigger.FieldFiredCount, firedCountExpr(ids, fired)) }).Exec(ctx)
	if err != nil {
		return fmt.Errorf("trigger: stamping %d triggers: %w", len(ids), err)
	}
	return nil
}

// firedCountExpr is fired_count plus each trigger's count of this run:
// fired_count + CASE id WHEN … THEN n … ELSE 0 END.
func firedCountExpr(ids []uuid.UUID, fired map[uuid.UUID]int) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.Ident(automationtrigger.FieldFiredCount).WriteString(" + CASE ").Ident(automationtrigger.FieldID)
		for _, id := range ids {
			// The cast types the parameter (PostgreSQL reads a bare one
			// in a CASE as text).
			b.WriteString(" WHEN ").Arg(id).WriteString(" THEN CAST(").Arg(fired[id]).WriteString(" AS INTEGER)")
		}
		b.WriteString(" ELSE 0 END")
	})
}

// failed records a failed run on the trigger, and disables it with its
// administrators told at the AutoDisableAfter-th failure in a row.
func (e *Engine) failed(ctx context.Context, tx *ent.Tx, t *compiled, cause error) error {
	msg := textfield.Truncate(cause.Error(), 1000)
	e.log.Warn("trigger failed", "trigger", t.id, "err", msg)
	t.failures++
	upd := tx.AutomationTrigger.UpdateOneID(t.id).SetLastError(msg).SetFailureCount(t.failures)
	disable := t.failures >= AutoDisableAfter
	if disable {
		upd.SetEnabled(false)
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("trigger: recording failure of %s: %w", t.id, err)
	}
	if !disable {
		return nil
	}
	v := viewer.FromContext(ctx)
	e.Invalidate(v.OrgID)
	if err := hub.Record(ctx, tx.Client(), hub.Event{OrganizationID: v.OrgID, Topic: hub.TopicAutomation, Kind: hub.KindUpdated, EntityID: t.id}); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx.Client(), audit.Entry{EntityType: Entity, EntityID: t.id, Action: "update", Field: "enabled", Before: true, After: false}); err != nil {
		return err
	}
	return notify.AutomationFailed(ctx, tx.Client(), notify.Subject{EntityType: Entity, EntityID: t.id, Title: t.name},
		fmt.Sprintf("The trigger %q failed %d times in a row and was disabled. Last error: %s", t.name, t.failures, msg))
}

// recordColumns are an alert's columns but its original document (raw),
// which no condition reads and which is its largest value to decode.
var recordColumns = slices.DeleteFunc(slices.Clone(alert.Columns), func(c string) bool { return c == alert.FieldRaw })

// records are the subjects as conditions see them: those given with their
// alert as written, the others read under the organisation's tenancy
// (another organisation's are simply absent).
func records(ctx context.Context, c *ent.Client, org uuid.UUID, target Target, subjects []Subject) (map[uuid.UUID]query.Record, error) {
	out := make(map[uuid.UUID]query.Record, len(subjects))
	var ids []uuid.UUID
	for _, s := range subjects {
		switch {
		case s.Alert == nil:
			ids = append(ids, s.ID)
		case target == TargetAlert && s.Alert.ID == s.ID && s.Alert.OrganizationID == org:
			out[s.ID] = query.AlertRecord(s.Alert)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	return out, loadRecords(ctx, c, target, ids, out)
}

// loadRecords reads the objects ids into out.
func loadRecords(ctx context.Context, c *ent.Client, target Target, ids []uuid.UUID, out map[uuid.UUID]query.Record) error {
	if target == TargetAlert {
		rows, err := c.Alert.Query().Where(alert.IDIn(ids...)).Select(recordColumns...).
			WithConnector().WithAssignee().WithIncident().All(ctx)
		if err != nil {
			return err
		}
		for _, a := range rows {
			out[a.ID] = query.AlertRecord(a)
		}
		return nil
	}
	rows, err := c.Incident.Query().Where(incident.IDIn(ids...)).WithAssignee().All(ctx)
	if err != nil {
		return err
	}
	for _, n := range rows {
		out[n.ID] = query.IncidentRecord(n)
	}
	return nil
}

// lockOnPostgres adds FOR UPDATE where the dialect supports it.
func lockOnPostgres(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}

// Changed fires event (alert.updated, incident.updated) for the objects
// the activity entries of one change name, with their fields' changes.
func (e *Engine) Changed(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, entries []audit.Entry) error {
	if Running(ctx) {
		return nil
	}
	var order []uuid.UUID
	by := map[uuid.UUID]map[string]query.Change{}
	for _, en := range entries {
		if en.Field == "" {
			continue
		}
		ch, ok := by[en.EntityID]
		if !ok {
			ch = map[string]query.Change{}
			by[en.EntityID] = ch
			order = append(order, en.EntityID)
		}
		ch[changeName(en.Field)] = query.Change{From: celValue(en.Before), To: celValue(en.After)}
	}
	subjects := make([]Subject, len(order))
	for i, id := range order {
		subjects[i] = Subject{ID: id, Changes: by[id]}
	}
	return e.Fire(ctx, tx, event, subjects...)
}

// changeName is the condition's name for a changed field: the query
// language's (assignee, not assignee_id).
func changeName(field string) string {
	switch field {
	case "assignee_id":
		return "assignee"
	case "incident_id":
		return "incident"
	}
	return field
}

// celValue turns an activity value into what a condition compares: text
// for enums, ids and times, "" for none, lists of text as they are.
func celValue(v any) any {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return x
	case bool, int, int64, float64:
		return x
	case fmt.Stringer:
		if isNil(x) {
			return ""
		}
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var out any
	if json.Unmarshal(b, &out) != nil || out == nil {
		return ""
	}
	return out
}

func isNil(v any) bool {
	defer func() { _ = recover() }()
	return reflect.ValueOf(v).IsNil()
}

// Happened fires event for the objects ids (created, merged, SLA events:
// no changes).
func (e *Engine) Happened(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, ids ...uuid.UUID) error {
	subjects := make([]Subject, len(ids))
	for i, id := range ids {
		subjects[i] = Subject{ID: id}
	}
	return e.Fire(ctx, tx, event, subjects...)
}

// OnCreated runs the alert.created triggers in the ingest transaction
// (an ingest.AfterCreate hook): an alert is born routed, its first
// realtime event and its activity show the triggers' changes. The
// conditions read the alerts as ingest wrote them.
func (e *Engine) OnCreated(ctx context.Context, tx *ent.Tx, created []*ent.Alert) (func(context.Context), error) {
	subjects := make([]Subject, len(created))
	for i, a := range created {
		subjects[i] = Subject{ID: a.ID, Alert: a}
	}
	return nil, e.Fire(ctx, tx, enum.TriggerEventAlertCreated, subjects...)
}

// OnMerged runs the alert.merged triggers on repeats merged into open
// alerts, in the ingest transaction (an ingest.AfterMerge hook).
func (e *Engine) OnMerged(ctx context.Context, tx *ent.Tx, ids []uuid.UUID) error {
	return e.Happened(ctx, tx, enum.TriggerEventAlertMerged, ids...)
}
