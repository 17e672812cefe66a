// Package automation holds macros: named action lists (package
// automation/action) that analysts apply to alerts or incidents in one
// transaction. Triggers, which run the same actions on events, live beside
// them.
package automation

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/automationmacro"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// Entity is the activity log's entity type for macros.
const Entity = "macro"

const (
	// MaxApply bounds the objects one apply changes, as for bulk actions.
	MaxApply = 10000
	maxName  = 200
	maxDesc  = 4000
)

// Service keeps macros and applies them.
type Service struct {
	client   *ent.Client
	exec     *action.Executor
	box      *secrets.Box
	now      func() time.Time
	triggers Triggers
}

// Triggers is told, in the macro's transaction, what a macro a person
// applied changed, as alerts.Triggers is of an edit or a bulk action: the
// automation engine runs the alert.updated and incident.updated triggers.
type Triggers interface {
	Changed(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, entries []audit.Entry) error
}

// WithTriggers makes applied macros fire t's *.updated triggers, and
// returns s.
func (s *Service) WithTriggers(t Triggers) *Service {
	s.triggers = t
	return s
}

// fire tells the triggers of what results changed: the object fields, not
// the effects (notified, webhook, analysis).
func (s *Service) fire(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, results []*action.Result) error {
	if s.triggers == nil {
		return nil
	}
	var entries []audit.Entry
	for _, res := range results {
		for _, c := range res.Changes {
			if !c.Effect {
				entries = append(entries, audit.Entry{EntityType: res.ObjectType, EntityID: res.ObjectID, Action: "update",
					Field: c.Field, Before: c.Before, After: c.After})
			}
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return s.triggers.Changed(ctx, tx, event, entries)
}

// New returns the service; exec runs the actions, box seals webhook secrets.
func New(client *ent.Client, exec *action.Executor, box *secrets.Box) *Service {
	return &Service{client: client, exec: exec, box: box, now: time.Now}
}

// CreateMacroInput is a new macro; Actions is the JSON action list.
type CreateMacroInput struct {
	Name        string                `json:"name"`
	Description *string               `json:"description,omitempty"`
	Target      enum.AutomationTarget `json:"target"`
	Actions     json.RawMessage       `json:"actions"`
}

// UpdateMacroInput changes a macro; absent fields keep their value. A
// webhook action given without its secret keeps the stored secret of the
// macro's webhook with the same URL.
type UpdateMacroInput struct {
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	Actions     json.RawMessage `json:"actions,omitempty"`
}

// writer is a user who may change and apply macros: admins and analysts.
func writer(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "a user session or API token is required")
	}
	if !v.CanWrite() {
		return nil, apperr.New(apperr.Forbidden, "read-only users cannot change or apply macros")
	}
	return v, nil
}

// Macros lists the organisation's macros by name.
func (s *Service) Macros(ctx context.Context, page paging.Page, target *enum.AutomationTarget) (*ent.MacroConnection, error) {
	q := s.client.AutomationMacro.Query()
	if target != nil {
		q.Where(automationmacro.TargetEQ(*target))
	}
	order := &ent.MacroOrder{Direction: paging.Asc, Field: ent.AutomationMacroOrderFieldName}
	return paging.Paginate(ctx, page, q.Paginate, ent.WithMacroOrder(order))
}

// Macro returns one macro of the organisation.
func (s *Service) Macro(ctx context.Context, id uuid.UUID) (*ent.AutomationMacro, error) {
	return find(ctx, s.client, id)
}

func find(ctx context.Context, c *ent.Client, id uuid.UUID) (*ent.AutomationMacro, error) {
	m, err := c.AutomationMacro.Query().Where(automationmacro.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("macro %s not found", id)
	}
	return m, err
}

// Actions is a macro's action list as it may be shown: secrets removed.
func (s *Service) Actions(_ context.Context, m *ent.AutomationMacro) (json.RawMessage, error) {
	list := action.Redact(m.Actions)
	if list == nil {
		list = []action.Action{}
	}
	return json.Marshal(list)
}

// Create saves a macro authored by the caller.
func (s *Service) Create(ctx context.Context, in CreateMacroInput) (*ent.AutomationMacro, error) {
	v, err := writer(ctx)
	if err != nil {
		return nil, err
	}
	name, err := textfield.Required("name", in.Name, maxName)
	if err != nil {
		return nil, err
	}
	desc := ""
	if in.Description != nil {
		if desc, err = textfield.Optional("description", *in.Description, maxDesc); err != nil {
			return nil, err
		}
	}
	if !in.Target.Valid() {
		return nil, apperr.Invalid("target", "must be alert or incident")
	}
	list, err := action.Parse(in.Actions, action.ParseOptions{Target: in.Target})
	if err != nil {
		return nil, err
	}
	var out *ent.AutomationMacro
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		id := uuid.Must(uuid.NewV7())
		if err := s.prepare(ctx, tx, id, in.Target, list); err != nil {
			return err
		}
		if err := uniqueName(ctx, tx, name, uuid.Nil); err != nil {
			return err
		}
		out, err = tx.AutomationMacro.Create().SetID(id).SetName(name).SetDescription(desc).SetTarget(in.Target).
			SetActions(list).SetAuthorID(v.UserID).Save(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: Entity, EntityID: out.ID, Action: "create", After: snapshot(out)})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Update changes a macro.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateMacroInput) (*ent.AutomationMacro, error) {
	if _, err := writer(ctx); err != nil {
		return nil, err
	}
	var out *ent.AutomationMacro
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		m, err := find(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		upd := tx.AutomationMacro.UpdateOne(m)
		if in.Name != nil {
			name, err := textfield.Required("name", *in.Name, maxName)
			if err != nil {
				return err
			}
			if err := uniqueName(ctx, tx, name, id); err != nil {
				return err
			}
			upd.SetName(name)
		}
		if in.Description != nil {
			desc, err := textfield.Optional("description", *in.Description, maxDesc)
			if err != nil {
				return err
			}
			upd.SetDescription(desc)
		}
		if in.Actions != nil {
			list, err := action.Parse(in.Actions, action.ParseOptions{Target: m.Target, Stored: m.Actions})
			if err != nil {
				return err
			}
			if err := s.prepare(ctx, tx, id, m.Target, list); err != nil {
				return err
			}
			upd.SetActions(list)
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: Entity, EntityID: id, Action: "update", Before: snapshot(m), After: snapshot(out)})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Delete removes a macro. Another macro or trigger applying it is refused
// when it runs (its apply_macro names a macro that is gone).
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	if _, err := writer(ctx); err != nil {
		return err
	}
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		m, err := find(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		if err := tx.AutomationMacro.DeleteOne(m).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: Entity, EntityID: id, Action: "delete", Before: snapshot(m)})
	})
}

// snapshot is what the activity log keeps of a macro (no secrets).
func snapshot(m *ent.AutomationMacro) map[string]any {
	return map[string]any{"name": m.Name, "description": m.Description, "target": m.Target, "actions": action.Redact(m.Actions)}
}

func uniqueName(ctx context.Context, tx *ent.Tx, name string, self uuid.UUID) error {
	taken, err := tx.AutomationMacro.Query().Where(automationmacro.Name(name), automationmacro.IDNEQ(self)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return &apperr.Error{Code: apperr.Conflict, Field: "name", Message: "a macro named " + name + " already exists"}
	}
	return nil
}

// prepare checks what depends on the organisation's data (applied macros
// exist, suit the target and lead back to no cycle; webhook URLs pass its
// outbound policy) and seals webhook
// secrets in place.
func (s *Service) prepare(ctx context.Context, tx *ent.Tx, self uuid.UUID, target enum.AutomationTarget, list []action.Action) error {
	if err := CheckMacroRefs(ctx, tx.Client(), "actions", self, target, list); err != nil {
		return err
	}
	if err := s.exec.CheckURLs(ctx, list, "actions"); err != nil {
		return err
	}
	return action.SealSecrets(s.box, list)
}

// CheckMacroRefs refuses an apply_macro action naming a macro missing from
// the organisation, aimed at another target, or leading back to self
// through the macros it applies (a cycle); field names the list. A
// trigger's list passes uuid.Nil as self.
func CheckMacroRefs(ctx context.Context, c *ent.Client, field string, self uuid.UUID, target enum.AutomationTarget, list []action.Action) error {
	for i, a := range list {
		if a.Type != action.TypeApplyMacro || a.MacroID == nil {
			continue
		}
		at := field + "[" + strconv.Itoa(i) + "].macro_id"
		m, err := c.AutomationMacro.Query().Where(automationmacro.ID(*a.MacroID)).Only(ctx)
		if ent.IsNotFound(err) {
			return apperr.Invalid(at, "macro %s does not exist in this organisation", a.MacroID)
		}
		if err != nil {
			return err
		}
		if m.Target != target {
			return apperr.Invalid(at, "macro %q applies to %ss", m.Name, m.Target)
		}
		if cyc, err := reaches(ctx, c, *a.MacroID, self, nil); err != nil {
			return err
		} else if cyc {
			return apperr.Invalid(at, "macro %q leads back to this macro (a cycle)", m.Name)
		}
	}
	return nil
}

// reaches reports whether macro from applies self, directly or through
// other macros.
func reaches(ctx context.Context, c *ent.Client, from, self uuid.UUID, seen []uuid.UUID) (bool, error) {
	if from == self {
		return true, nil
	}
	if slices.Contains(seen, from) {
		return false, nil
	}
	seen = append(seen, from)
	m, err := c.AutomationMacro.Query().Where(automationmacro.ID(from)).Only(ctx)
	if ent.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, next := range action.MacroIDs(m.Actions) {
		if ok, err := reaches(ctx, c, next, self, seen); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// lockOnPostgres locks the picked rows until the transaction ends (SQLite
// holds its write lock from BEGIN).
func lockOnPostgres(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}

// ApplyMacroInput picks a macro and the objects it applies to: ids of its
// target's kind, or an alert filter, or a query-language expression over
// its target's source.
type ApplyMacroInput struct {
	MacroID     uuid.UUID               `json:"macroID"`
	AlertIDs    []uuid.UUID             `json:"alertIDs,omitempty"`
	IncidentIDs []uuid.UUID             `json:"incidentIDs,omitempty"`
	Filter      *schematype.AlertFilter `json:"filter,omitempty"`
	Query       *string                 `json:"query,omitempty"`
}

// ApplyMacroPayload is what an apply did.
type ApplyMacroPayload struct {
	MacroID uuid.UUID             `json:"macroID"`
	Target  enum.AutomationTarget `json:"target"`
	// Matched objects were picked; Updated of them changed.
	Matched int            `json:"matched"`
	Updated int            `json:"updated"`
	Results []*MacroResult `json:"results"`
}

// MacroResult is what the macro changed on one object.
type MacroResult struct {
	ObjectID uuid.UUID      `json:"objectID"`
	Changes  []*MacroChange `json:"changes"`
}

// MacroChange is one field's change (action.Change, values as JSON).
type MacroChange struct {
	Action int             `json:"action"`
	Type   string          `json:"type"`
	Field  string          `json:"field"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// Apply runs a macro on the picked objects in one transaction: every object
// takes every action or nothing is written (as a bulk action). Each change
// is in the object's activity, done by the caller, with an "apply_macro"
// record naming the macro; each changed alert's "updated" event is written
// as a person's edit would be, so alert.updated triggers see it.
func (s *Service) Apply(ctx context.Context, in ApplyMacroInput) (*ApplyMacroPayload, error) {
	if _, err := writer(ctx); err != nil {
		return nil, err
	}
	var out *ApplyMacroPayload
	var after []*action.Result
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		m, err := find(ctx, tx.Client(), in.MacroID)
		if err != nil {
			return err
		}
		out = &ApplyMacroPayload{MacroID: m.ID, Target: m.Target, Results: []*MacroResult{}}
		record := func(res *action.Result) error {
			out.Matched++
			after = append(after, res)
			if len(res.Changes) == 0 {
				return nil
			}
			if res.Changed() {
				out.Updated++
			}
			out.Results = append(out.Results, toResult(res))
			return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: res.ObjectType, EntityID: res.ObjectID,
				Action: "apply_macro", Field: "macro", After: map[string]any{"id": m.ID, "name": m.Name}})
		}
		if m.Target == enum.AutomationTargetAlert {
			targets, err := s.pickAlerts(ctx, tx, in)
			if err != nil {
				return err
			}
			for _, a := range targets {
				res, err := s.exec.RunAlert(ctx, tx, a, m.Actions, action.Options{})
				if err != nil {
					return err
				}
				if err := record(res); err != nil {
					return err
				}
			}
			return s.fire(ctx, tx, enum.TriggerEventAlertUpdated, after)
		}
		targets, err := s.pickIncidents(ctx, tx, in)
		if err != nil {
			return err
		}
		for _, inc := range targets {
			res, err := s.exec.RunIncident(ctx, tx, inc, m.Actions, action.Options{})
			if err != nil {
				return err
			}
			if err := record(res); err != nil {
				return err
			}
		}
		return s.fire(ctx, tx, enum.TriggerEventIncidentUpdated, after)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range after {
		r.AfterCommit(ctx)
	}
	return out, nil
}

func toResult(res *action.Result) *MacroResult {
	r := &MacroResult{ObjectID: res.ObjectID, Changes: make([]*MacroChange, len(res.Changes))}
	for i, c := range res.Changes {
		before, _ := json.Marshal(c.Before)
		after, _ := json.Marshal(c.After)
		r.Changes[i] = &MacroChange{Action: c.Action, Type: c.Type, Field: c.Field, Before: before, After: after}
	}
	return r
}

// selection checks that exactly one way of picking objects is given.
func selection(in ApplyMacroInput, target enum.AutomationTarget) error {
	given := 0
	for _, set := range []bool{len(in.AlertIDs) > 0, len(in.IncidentIDs) > 0, in.Filter != nil, in.Query != nil} {
		if set {
			given++
		}
	}
	switch {
	case given != 1:
		return apperr.Invalid("alert_ids", "give one of alert_ids, incident_ids, filter or query")
	case target == enum.AutomationTargetAlert && len(in.IncidentIDs) > 0:
		return apperr.Invalid("incident_ids", "the macro applies to alerts: give alert_ids, filter or query")
	case target == enum.AutomationTargetIncident && len(in.AlertIDs) > 0:
		return apperr.Invalid("alert_ids", "the macro applies to incidents: give incident_ids or query")
	case target == enum.AutomationTargetIncident && in.Filter != nil:
		return apperr.Invalid("filter", "the macro applies to incidents: give incident_ids or query")
	case len(in.AlertIDs) > MaxApply:
		return apperr.Invalid("alert_ids", "at most %d ids", MaxApply)
	case len(in.IncidentIDs) > MaxApply:
		return apperr.Invalid("incident_ids", "at most %d ids", MaxApply)
	}
	return nil
}

// compiled compiles the apply's query over source.
func (s *Service) compiled(source string, text string) (func(*sql.Selector), error) {
	src, _ := query.Lookup(source)
	q, err := query.Compile(src, "query", text, s.now())
	if err != nil {
		return nil, err
	}
	return q.Where(), nil
}

// pickAlerts reads the alerts an apply names, locked on PostgreSQL, in id
// order; more than MaxApply is refused.
func (s *Service) pickAlerts(ctx context.Context, tx *ent.Tx, in ApplyMacroInput) ([]*ent.Alert, error) {
	if err := selection(in, enum.AutomationTargetAlert); err != nil {
		return nil, err
	}
	var ps []predicate.Alert
	field := "alert_ids"
	switch {
	case len(in.AlertIDs) > 0:
		ps = append(ps, alert.IDIn(in.AlertIDs...))
	case in.Filter != nil:
		field = "filter"
		if err := alerts.ValidateFilter("filter", in.Filter); err != nil {
			return nil, err
		}
		ps = alerts.Predicates(in.Filter)
	default:
		field = "query"
		w, err := s.compiled("alerts", *in.Query)
		if err != nil {
			return nil, err
		}
		ps = append(ps, predicate.Alert(w))
	}
	list, err := tx.Alert.Query().Where(ps...).Order(ent.Asc(alert.FieldID)).Limit(MaxApply + 1).
		Modify(lockOnPostgres).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(list) > MaxApply {
		return nil, apperr.Invalid(field, "picks more than %d alerts; narrow it", MaxApply)
	}
	if len(in.AlertIDs) > 0 {
		if err := allFound(field, in.AlertIDs, len(list)); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func (s *Service) pickIncidents(ctx context.Context, tx *ent.Tx, in ApplyMacroInput) ([]*ent.Incident, error) {
	if err := selection(in, enum.AutomationTargetIncident); err != nil {
		return nil, err
	}
	var ps []predicate.Incident
	field := "incident_ids"
	if len(in.IncidentIDs) > 0 {
		ps = append(ps, incident.IDIn(in.IncidentIDs...))
	} else {
		field = "query"
		w, err := s.compiled("incidents", *in.Query)
		if err != nil {
			return nil, err
		}
		ps = append(ps, predicate.Incident(w))
	}
	list, err := tx.Incident.Query().Where(ps...).Order(ent.Asc(incident.FieldID)).Limit(MaxApply + 1).
		Modify(lockOnPostgres).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(list) > MaxApply {
		return nil, apperr.Invalid(field, "picks more than %d incidents; narrow it", MaxApply)
	}
	if len(in.IncidentIDs) > 0 {
		if err := allFound(field, in.IncidentIDs, len(list)); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// allFound refuses ids of which some are not the organisation's (another
// organisation's objects are as absent as missing ones).
func allFound(field string, ids []uuid.UUID, found int) error {
	distinct := slices.Clone(ids)
	slices.SortFunc(distinct, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if n := len(slices.Compact(distinct)); n != found {
		return apperr.Invalid(field, "%d of the %d ids are not in this organisation", n-found, n)
	}
	return nil
}
