package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/tags"
	"github.com/seliq/seliq/notes"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// entityAlert is the activity log's entity type for alerts.
const entityAlert = "alert"

// Update applies a patch to one alert of the acting organisation: status
// transitions with their timestamps, severity, assignee, tags, disposition.
// Each field that changes is recorded in the activity log in the same
// transaction; a patch that changes nothing writes nothing.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateAlertInput) (*ent.Alert, error) {
	p, err := updatePatch(in)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	var out *ent.Alert
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		a, err := lockedAlert(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := directory.CheckAssignable(ctx, tx.Client(), "assignee_id", p.assignee.Value()); err != nil {
			return err
		}
		c, entries, err := planChange(a, p)
		if err != nil {
			return err
		}
		if c == (alertChange{}) {
			out = a
			return nil
		}
		upd := tx.Alert.UpdateOne(a)
		if err := c.apply(upd.Mutation(), now); err != nil {
			return err
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		if err := hub.Record(ctx, tx.Client(), hub.Changed(out.OrganizationID, hub.TopicAlert, hub.KindUpdated, out.ID)...); err != nil {
			return err
		}
		if c.setAssignee && c.assignee != uuid.Nil {
			if err := notify.Assigned(ctx, tx.Client(), c.assignee, notes.Alert(out.ID, out.Title).Subject); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx.Client(), entries...); err != nil {
			return err
		}
		if err := s.fire(ctx, tx, entries); err != nil {
			return err
		}
		// The triggers may have changed it further.
		out, err = tx.Alert.Get(ctx, out.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// updatePatch validates what does not depend on the alert being patched.
func updatePatch(in UpdateAlertInput) (*triagePatch, error) {
	p := &triagePatch{status: in.Status, severity: in.Severity, assignee: in.AssigneeID, disposition: in.Disposition}
	if err := p.checkEnums(); err != nil {
		return nil, err
	}
	if in.Tags != nil {
		cleaned, err := tags.Clean("tags", in.Tags)
		if err != nil {
			return nil, err
		}
		p.tags = cleaned
	}
	return p, nil
}

// lockedAlert reads one alert of the acting organisation; on PostgreSQL the
// row stays locked until the transaction ends, so two concurrent patches
// cannot both plan from the same old status. (SQLite transactions already
// hold the database's write lock from BEGIN.)
func lockedAlert(ctx context.Context, tx *ent.Tx, id uuid.UUID) (*ent.Alert, error) {
	q := tx.Alert.Query().Where(alert.ID(id)).Unique(false)
	q.Modify(lockOnPostgres)
	return q.Only(ctx)
}

// lockOnPostgres adds FOR UPDATE where the dialect supports it.
func lockOnPostgres(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}

// triagePatch is what a caller asks to change on each alert it targets.
type triagePatch struct {
	status   *enum.AlertStatus
	severity *enum.Severity
	assignee opt.Value[*uuid.UUID]
	// tags replaces the tags when non-nil; otherwise addTags and removeTags
	// edit each alert's own tags.
	tags        []string
	addTags     []string
	removeTags  []string
	disposition opt.Value[*enum.Disposition]
	incident    *uuid.UUID
	// prefix qualifies the field names of errors ("changes." in a bulk).
	prefix string
}

func (p *triagePatch) field(name string) string { return p.prefix + name }

// checkEnums refuses values outside the enums (gqlgen checks them on the
// GraphQL surface; this guards other callers).
func (p *triagePatch) checkEnums() error {
	if p.status != nil && !p.status.Valid() {
		return apperr.Invalid(p.field("status"), "%q is not an alert status", *p.status)
	}
	if p.severity != nil && !p.severity.Valid() {
		return apperr.Invalid(p.field("severity"), "%q is not a severity", *p.severity)
	}
	if d := p.disposition.Value(); d != nil && !d.Valid() {
		return apperr.Invalid(p.field("disposition"), "%q is not a disposition", *d)
	}
	return nil
}

// editsTags reports whether the patch touches tags at all.
func (p *triagePatch) editsTags() bool {
	return p.tags != nil || len(p.addTags) > 0 || len(p.removeTags) > 0
}

// alertChange is what one alert's row receives. It is comparable, so that a
// bulk action can group alerts that receive identical values into one
// UPDATE; the zero value changes nothing.
type alertChange struct {
	status         enum.AlertStatus // "" keeps it
	severity       enum.Severity    // "" keeps it
	setAssignee    bool
	assignee       uuid.UUID // uuid.Nil unassigns
	setTags        bool
	tags           string // a JSON array: slices are not comparable
	setDisposition bool
	disposition    enum.Disposition // "" clears it
	acknowledge    bool             // acknowledged_at = now
	resolve        bool             // resolved_at = now
	reopen         bool             // resolved_at = NULL
	clearDedupKey  bool
	unsuppress     bool // reopening lifts a suppression
}

// apply writes the change into an update's mutation, so that the same code
// serves UpdateOne and a bulk Update (and the severity_rank hook sees it).
func (c alertChange) apply(m *ent.AlertMutation, now time.Time) error {
	if c.status != "" {
		m.SetStatus(c.status)
	}
	if c.severity != "" {
		m.SetSeverity(c.severity)
	}
	if c.setAssignee {
		if c.assignee == uuid.Nil {
			m.ClearAssigneeID()
		} else {
			m.SetAssigneeID(c.assignee)
		}
	}
	if c.setTags {
		var tags []string
		if err := json.Unmarshal([]byte(c.tags), &tags); err != nil {
			return fmt.Errorf("alert tags: %w", err)
		}
		m.SetTags(tags)
	}
	if c.setDisposition {
		if c.disposition == "" {
			m.ClearDisposition()
		} else {
			m.SetDisposition(c.disposition)
		}
	}
	if c.acknowledge {
		m.SetAcknowledgedAt(now)
	}
	if c.resolve {
		m.SetResolvedAt(now)
	}
	if c.reopen {
		m.ClearResolvedAt()
	}
	if c.clearDedupKey {
		m.ClearDedupKey()
	}
	if c.unsuppress {
		m.SetSuppressed(false)
		m.SetSuppressionReason("")
	}
	return nil
}

// planChange computes what patch p does to alert a, and the activity entry
// of each field that actually changes. It enforces the status machine and
// the disposition rules.
func planChange(a *ent.Alert, p *triagePatch) (alertChange, []audit.Entry, error) {
	var (
		c       alertChange
		entries []audit.Entry
	)
	record := func(field string, before, after any) {
		entries = append(entries, audit.Entry{
			EntityType: entityAlert, EntityID: a.ID, Action: "update",
			Field: field, Before: before, After: after,
		})
	}
	to, err := planStatus(a, p, &c)
	if err != nil {
		return c, nil, err
	}
	if to != a.Status {
		record("status", string(a.Status), string(to))
	}
	if err := planDisposition(a, p, to, &c); err != nil {
		return c, nil, err
	}
	if c.setDisposition {
		record("disposition", audit.Opt(a.Disposition), audit.Opt(dispositionOf(&c)))
	}
	if p.severity != nil && *p.severity != a.Severity {
		c.severity = *p.severity
		record("severity", string(a.Severity), string(c.severity))
	}
	if p.assignee.IsSet() && !samePtr(p.assignee.Value(), a.AssigneeID) {
		c.setAssignee = true
		c.assignee = uuidOrNil(p.assignee.Value())
		record("assignee_id", audit.Opt(a.AssigneeID), audit.Opt(p.assignee.Value()))
	}
	if err := planTags(a, p, &c, record); err != nil {
		return c, nil, err
	}
	return c, entries, nil
}

// planStatus checks the transition and sets its side effects on c: the
// first move out of new stamps acknowledged_at; entering resolved or closed
// stamps resolved_at (resolved → closed keeps it) and frees the dedup key so
// a later repeat starts a new alert; reopening clears resolved_at. It
// returns the alert's status after the patch.
func planStatus(a *ent.Alert, p *triagePatch, c *alertChange) (enum.AlertStatus, error) {
	if p.status == nil || *p.status == a.Status {
		return a.Status, nil
	}
	from, to := a.Status, *p.status
	if !transitionAllowed(from, to) {
		return from, apperr.Invalid(p.field("status"), "alert %s cannot move from %s to %s", a.ID, from, to)
	}
	c.status = to
	if to != enum.AlertStatusNew && a.AcknowledgedAt == nil {
		c.acknowledge = true
	}
	switch {
	case isTerminal(to):
		c.clearDedupKey = true
		c.resolve = !isTerminal(from) || a.ResolvedAt == nil
	case isTerminal(from):
		c.reopen = a.ResolvedAt != nil
		c.unsuppress = a.Suppressed
	}
	return to, nil
}

// planDisposition applies the rules: a disposition belongs to a closed
// alert only, closing requires one, and reopening clears it.
func planDisposition(a *ent.Alert, p *triagePatch, to enum.AlertStatus, c *alertChange) error {
	after := a.Disposition
	switch {
	case p.disposition.IsSet():
		after = p.disposition.Value()
		if after != nil && to != enum.AlertStatusClosed {
			return apperr.Invalid(p.field("disposition"), "alert %s: a disposition is only recorded on a closed alert (status is %s)", a.ID, to)
		}
	case isTerminal(a.Status) && !isTerminal(to):
		after = nil
	}
	if to == enum.AlertStatusClosed && after == nil {
		return apperr.Invalid(p.field("disposition"), "alert %s: closing requires a disposition", a.ID)
	}
	if !samePtr(after, a.Disposition) {
		c.setDisposition = true
		if after != nil {
			c.disposition = *after
		}
	}
	return nil
}

// planTags replaces or edits the alert's tags and records the change.
func planTags(a *ent.Alert, p *triagePatch, c *alertChange, record func(field string, before, after any)) error {
	if !p.editsTags() {
		return nil
	}
	after := p.tags
	if after == nil {
		after = editTags(a.Tags, p.addTags, p.removeTags)
		if len(after) > tags.Max {
			return apperr.Invalid(p.field("add_tags"), "alert %s would carry more than %d tags", a.ID, tags.Max)
		}
	}
	if slices.Equal(after, a.Tags) {
		return nil
	}
	js, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("alert tags: %w", err)
	}
	c.setTags, c.tags = true, string(js)
	record("tags", nonNilTags(a.Tags), after)
	return nil
}

// editTags appends add to tags (skipping ones present) and drops remove,
// keeping order. The result is never nil, so it is stored as [].
func editTags(tags, add, remove []string) []string {
	out := make([]string, 0, len(tags)+len(add))
	for _, t := range slices.Concat(tags, add) {
		if !slices.Contains(out, t) && !slices.Contains(remove, t) {
			out = append(out, t)
		}
	}
	return out
}

func nonNilTags(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

// transitionAllowed is the status machine: new → acknowledged →
// in_progress → resolved → closed. Open statuses only move forward (an
// analyst may start work on a new alert directly) or straight to resolved
// or closed; resolved and closed reopen to an open status.
func transitionAllowed(from, to enum.AlertStatus) bool {
	switch {
	case from == to:
		return true
	case !isTerminal(from):
		return isTerminal(to) || openRank[to] > openRank[from]
	case from == enum.AlertStatusResolved:
		return true // to closed, or reopened
	default: // closed
		return !isTerminal(to)
	}
}

// openRank orders the open statuses; work on an alert does not go back to
// an earlier one without resolving it first.
var openRank = map[enum.AlertStatus]int{
	enum.AlertStatusNew:          1,
	enum.AlertStatusAcknowledged: 2,
	enum.AlertStatusInProgress:   3,
}

// isTerminal reports whether s ends triage (resolved or closed).
func isTerminal(s enum.AlertStatus) bool {
	return s == enum.AlertStatusResolved || s == enum.AlertStatusClosed
}

func dispositionOf(c *alertChange) *enum.Disposition {
	if c.disposition == "" {
		return nil
	}
	return &c.disposition
}

// samePtr reports whether two optional values are equal.
func samePtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func uuidOrNil(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}
