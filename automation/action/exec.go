package action

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/automationmacro"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/realtime/hub"
)

// Change is one field an action changed (or, for actions outside the
// object's fields, what it did: "incident", "notified", "webhook").
type Change struct {
	// Action is the index of the action in its list (of the outer list for
	// an applied macro's actions).
	Action int    `json:"action"`
	Type   string `json:"type"`
	Field  string `json:"field"`
	Before any    `json:"before"`
	After  any    `json:"after"`
	// Effect marks what an action did outside the object's fields
	// (notified, webhook, analysis): shown, but not a change of the object.
	Effect bool `json:"effect,omitempty"`
}

// Result is what a list did to one object.
type Result struct {
	// ObjectType is "alert" or "incident".
	ObjectType string
	ObjectID   uuid.UUID
	Changes    []Change
	// Alert or Incident is the object after the actions.
	Alert    *ent.Alert
	Incident *ent.Incident
	after    []func(context.Context)
}

// Changed reports whether any field of the object changed: the object's
// "updated" event (and alert.updated triggers) are due.
func (r *Result) Changed() bool {
	for _, c := range r.Changes {
		if !c.Effect {
			return true
		}
	}
	return false
}

// AfterCommit runs the work that must wait for the transaction's commit
// (SLA timers). Call it once, after commit; never after a rollback.
func (r *Result) AfterCommit(ctx context.Context) {
	for _, f := range r.after {
		f(ctx)
	}
}

// Options say who runs a list and how.
type Options struct {
	// Actor names the activity records when the viewer is the
	// organisation's system principal (a trigger: "trigger:<name>"). A
	// person applying a macro keeps their own name.
	Actor string
	// SkipEvent leaves out the alert's outbox "updated" event (an alert
	// routed in the transaction that creates it announces itself once, as
	// created). Incidents' changes announce themselves (incidents.UpdateTx).
	SkipEvent bool
	// Now is the instant of the change; time.Now when zero.
	Now time.Time
	// Event names what ran the list in webhook bodies ("alert.created",
	// "macro"); empty when none.
	Event string
}

// Deps are the services the executor works through.
type Deps struct {
	Incidents *incidents.Service
	// Analysis queues the analyze action's analyses; without it the action
	// is refused.
	Analysis *analysis.Service
	// Policies is the outbound policy webhook URLs are checked against
	// when a list is saved, as WebhookWorker checks them when sending;
	// without it only public destinations pass.
	Policies outbound.Policies
}

// Executor runs action lists.
type Executor struct {
	deps Deps
	keys keyCache // compiled correlation keys by text
}

// NewExecutor returns an executor over deps.
func NewExecutor(d Deps) *Executor {
	if d.Incidents == nil {
		panic("action: NewExecutor needs the incidents service")
	}
	return &Executor{deps: d}
}

// maxMacroDepth bounds nested apply_macro actions beside the cycle guard.
const maxMacroDepth = 5

// run is one execution: the object, the macros on the way (cycle guard).
type run struct {
	e       *Executor
	tx      *ent.Tx
	opts    Options
	now     time.Time
	res     *Result
	visited []uuid.UUID
	// alert side: the draft, and the entries of drafts already flushed
	draft   *alerts.Draft
	entries []audit.Entry
}

func (e *Executor) newRun(ctx context.Context, tx *ent.Tx, o Options) (context.Context, *run) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if o.Actor != "" {
		ctx = audit.As(ctx, o.Actor)
	}
	return ctx, &run{e: e, tx: tx, opts: o, now: now.UTC(), res: &Result{}}
}

// RunAlert applies list to alert a (read in tx, best locked: alerts.LockAlert)
// in the caller's transaction. Every field action goes through the alerts'
// own rules; the changed fields are written in one UPDATE, recorded in
// the alert's activity, and announced (unless SkipEvent). An action that
// cannot apply fails the whole list with a 422 naming actions[i].<field>.
func (e *Executor) RunAlert(ctx context.Context, tx *ent.Tx, a *ent.Alert, list []Action, o Options) (*Result, error) {
	ctx, r := e.newRun(ctx, tx, o)
	r.res.ObjectType, r.res.ObjectID = "alert", a.ID
	r.draft = alerts.NewDraft(a, r.now)
	if err := r.alertList(ctx, list, "actions", -1); err != nil {
		return nil, err
	}
	return r.finishAlert(ctx)
}

func (r *run) finishAlert(ctx context.Context) (*Result, error) {
	c := r.tx.Client()
	saved, err := r.draft.Save(ctx, r.tx)
	if err != nil {
		return nil, err
	}
	r.res.Alert = saved
	entries := append(r.entries, r.draft.Entries()...)
	if err := audit.Record(ctx, c, entries...); err != nil {
		return nil, err
	}
	if len(entries) > 0 && !r.opts.SkipEvent {
		if err := hub.Record(ctx, c, hub.Changed(saved.OrganizationID, hub.TopicAlert, hub.KindUpdated, saved.ID)...); err != nil {
			return nil, err
		}
	}
	return r.res, nil
}

// alertList applies list; outer is the index in the top list when list is
// a macro's (its changes count as that action's).
func (r *run) alertList(ctx context.Context, list []Action, field string, outer int) error {
	for i, a := range list {
		idx := i
		if outer >= 0 {
			idx = outer
		}
		at := fmt.Sprintf("%s[%d].", field, i)
		if err := r.alertAction(ctx, a, at, idx); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) record(idx int, typ string, entries []audit.Entry) {
	for _, e := range entries {
		r.res.Changes = append(r.res.Changes, Change{Action: idx, Type: typ, Field: e.Field, Before: e.Before, After: e.After})
	}
}

func (r *run) alertAction(ctx context.Context, a Action, at string, idx int) error {
	p := alerts.AutoPatch{Prefix: at}
	switch a.Type {
	case TypeSetSeverity:
		s := enum.Severity(a.Severity)
		p.Severity = &s
	case TypeAddTags:
		p.AddTags = a.Tags
	case TypeRemoveTags:
		p.RemoveTags = a.Tags
		if len(a.Tags) == 0 {
			p.RemoveTags = slices.Clone(r.draft.Alert().Tags)
		}
	case TypeSetStatus:
		s := enum.AlertStatus(a.Status)
		if !s.Valid() {
			return apperr.Invalid(at+"status", "%q is not an alert status", a.Status)
		}
		p.Status = &s
		if a.Disposition != "" {
			d := enum.Disposition(a.Disposition)
			p.Disposition = opt.Of(&d)
		}
	case TypeSuppress:
		closed, d := enum.AlertStatusClosed, enum.Disposition(a.Disposition)
		p.Status, p.Disposition, p.Suppress = &closed, opt.Of(&d), &a.Reason
	case TypeAssign:
		id, err := r.assignee(ctx, a, at)
		if err != nil {
			return err
		}
		p.Assignee = opt.Of(&id)
	case TypeApplyMacro:
		return r.macro(ctx, a, at, idx, enum.AutomationTargetAlert, func(list []Action) error {
			return r.alertList(ctx, list, at+"macro.actions", idx)
		})
	default:
		return r.alertSideEffect(ctx, a, at, idx)
	}
	entries, err := r.draft.Apply(p)
	if err != nil {
		return err
	}
	r.record(idx, a.Type, entries)
	return nil
}

// macro loads an apply_macro action's macro and applies its actions,
// refusing a macro already on the way (a cycle) or nesting too deep.
func (r *run) macro(ctx context.Context, a Action, at string, idx int, target enum.AutomationTarget, apply func([]Action) error) error {
	if a.MacroID == nil {
		return apperr.Invalid(at+"macro_id", "is required")
	}
	id := *a.MacroID
	if slices.Contains(r.visited, id) {
		return apperr.Invalid(at+"macro_id", "macro %s applies itself through its actions (a cycle)", id)
	}
	if len(r.visited) >= maxMacroDepth {
		return apperr.Invalid(at+"macro_id", "macros nest deeper than %d", maxMacroDepth)
	}
	m, err := r.tx.AutomationMacro.Query().Where(automationmacro.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return apperr.Invalid(at+"macro_id", "macro %s does not exist in this organisation", id)
	}
	if err != nil {
		return err
	}
	if m.Target != target {
		return apperr.Invalid(at+"macro_id", "macro %q applies to %ss", m.Name, m.Target)
	}
	r.visited = append(r.visited, id)
	defer func() { r.visited = r.visited[:len(r.visited)-1] }()
	return apply(m.Actions)
}

// assignee picks the user an assign action names, or the next active
// member of its group in turn: the group's cursor is incremented in this
// transaction (a row write, so concurrent assignments serialise on it and
// take successive members).
func (r *run) assignee(ctx context.Context, a Action, at string) (uuid.UUID, error) {
	c := r.tx.Client()
	if a.UserID != nil {
		ok, err := c.User.Query().Where(user.ID(*a.UserID), user.Active(true)).Exist(ctx)
		if err != nil {
			return uuid.Nil, err
		}
		if !ok {
			return uuid.Nil, apperr.Invalid(at+"user_id", "%s is not an active user of this organisation", a.UserID)
		}
		return *a.UserID, nil
	}
	if a.GroupID == nil {
		return uuid.Nil, apperr.Invalid(at+"user_id", "give user_id or group_id, one of them")
	}
	members, err := c.User.Query().Where(user.Active(true), user.HasGroupsWith(group.ID(*a.GroupID))).
		Order(ent.Asc(user.FieldID)).IDs(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	if len(members) == 0 {
		exists, err := c.Group.Query().Where(group.ID(*a.GroupID)).Exist(ctx)
		if err != nil {
			return uuid.Nil, err
		}
		if !exists {
			return uuid.Nil, apperr.Invalid(at+"group_id", "%s is not a group of this organisation", a.GroupID)
		}
		return uuid.Nil, apperr.Invalid(at+"group_id", "group %s has no active member to assign", a.GroupID)
	}
	g, err := c.Group.UpdateOneID(*a.GroupID).AddAssignCursor(1).Save(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	return members[(g.AssignCursor-1)%len(members)], nil
}

// RunIncident applies list to incident inc (read in tx) in the caller's
// transaction, each field action through incidents.UpdateTx (status
// machine, disposition, SLA, timeline, notifications, activity, event).
func (e *Executor) RunIncident(ctx context.Context, tx *ent.Tx, inc *ent.Incident, list []Action, o Options) (*Result, error) {
	ctx, r := e.newRun(ctx, tx, o)
	r.res.ObjectType, r.res.ObjectID, r.res.Incident = "incident", inc.ID, inc
	if err := r.incidentList(ctx, list, "actions", -1); err != nil {
		return nil, err
	}
	return r.res, nil
}

func (r *run) incidentList(ctx context.Context, list []Action, field string, outer int) error {
	for i, a := range list {
		idx := i
		if outer >= 0 {
			idx = outer
		}
		at := fmt.Sprintf("%s[%d].", field, i)
		if err := r.incidentAction(ctx, a, at, idx); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) incidentAction(ctx context.Context, a Action, at string, idx int) error {
	inc := r.res.Incident
	var in incidents.UpdateIncidentInput
	switch a.Type {
	case TypeSetSeverity:
		s := enum.Severity(a.Severity)
		in.Severity = &s
	case TypeAddTags:
		in.Tags = mergeTags(inc.Tags, a.Tags, nil)
	case TypeRemoveTags:
		in.Tags = []string{}
		if len(a.Tags) > 0 {
			in.Tags = mergeTags(inc.Tags, nil, a.Tags)
		}
	case TypeSetStatus:
		s := enum.IncidentStatus(a.Status)
		if !s.Valid() {
			return apperr.Invalid(at+"status", "%q is not an incident status", a.Status)
		}
		in.Status = &s
		if a.Disposition != "" {
			d := enum.Disposition(a.Disposition)
			in.Disposition = opt.Of(&d)
		}
	case TypeAssign:
		id, err := r.assignee(ctx, a, at)
		if err != nil {
			return err
		}
		in.AssigneeID = opt.Of(&id)
	case TypeApplyMacro:
		return r.macro(ctx, a, at, idx, enum.AutomationTargetIncident, func(list []Action) error {
			return r.incidentList(ctx, list, at+"macro.actions", idx)
		})
	case TypeLinkIncident, TypeSuppress:
		return apperr.Invalid(at+"type", "%s acts on alerts only", a.Type)
	default:
		return r.incidentSideEffect(ctx, a, at, idx)
	}
	out, entries, after, err := r.e.deps.Incidents.UpdateTx(ctx, r.tx, inc, in)
	if err != nil {
		return prefixed(err, at)
	}
	r.res.Incident = out
	r.res.after = append(r.res.after, after)
	r.record(idx, a.Type, entries)
	return nil
}

// mergeTags adds and removes tags, keeping order.
func mergeTags(have, add, remove []string) []string {
	out := make([]string, 0, len(have)+len(add))
	for _, t := range slices.Concat(have, add) {
		if !slices.Contains(out, t) && !slices.Contains(remove, t) {
			out = append(out, t)
		}
	}
	return out
}

// prefixed puts an action's position before a domain error's field.
func prefixed(err error, at string) error {
	if e, ok := apperr.As(err); ok && e.Field != "" {
		cp := *e
		cp.Field = at + e.Field
		return &cp
	}
	return err
}

// AsTrigger returns ctx acting as organisation orgID's system principal
// (viewer.ForJob: that organisation's rows only, never the privacy bypass)
// with activity records naming the trigger: how trigger-run lists run.
func AsTrigger(ctx context.Context, orgID uuid.UUID, triggerName string) context.Context {
	return audit.As(viewer.ForJob(ctx, orgID), "trigger:"+triggerName)
}
