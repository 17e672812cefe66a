package alerts

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
)

// AutoPatch is one change automation (a trigger's or a macro's action)
// makes to an alert. It obeys the rules of Update: the status machine,
// disposition only on closed alerts and required to close, the tag limit.
type AutoPatch struct {
	Status      *enum.AlertStatus
	Severity    *enum.Severity
	Assignee    opt.Value[*uuid.UUID]
	AddTags     []string
	RemoveTags  []string
	Disposition opt.Value[*enum.Disposition]
	// Suppress closes the alert as suppressed with this reason (set Status
	// closed and a Disposition with it).
	Suppress *string
	// Prefix qualifies the field names of errors, e.g. "actions[2].".
	Prefix string
}

// Draft plans automation changes on one alert in memory, action after
// action, each seeing the state the previous left; Save then writes the
// differences in one UPDATE. It is how automation reuses Update's rules
// without a statement per action.
type Draft struct {
	orig, cur *ent.Alert
	now       time.Time
	entries   []audit.Entry
}

// LockAlert reads one alert of the acting organisation in tx, locked on
// PostgreSQL until the transaction ends (as Update does).
func LockAlert(ctx context.Context, tx *ent.Tx, id uuid.UUID) (*ent.Alert, error) {
	return lockedAlert(ctx, tx, id)
}

// NewDraft starts a draft on a, as read in the transaction that will save it.
func NewDraft(a *ent.Alert, now time.Time) *Draft {
	cp := *a
	cp.Tags = slices.Clone(a.Tags)
	return &Draft{orig: a, cur: &cp, now: now}
}

// Alert is the alert as the draft's changes leave it.
func (d *Draft) Alert() *ent.Alert { return d.cur }

// Apply plans p on the draft's current state and returns the activity
// entries of the fields it changes (none when it changes nothing).
func (d *Draft) Apply(p AutoPatch) ([]audit.Entry, error) {
	tp := &triagePatch{status: p.Status, severity: p.Severity, assignee: p.Assignee, disposition: p.Disposition,
		addTags: p.AddTags, removeTags: p.RemoveTags, prefix: p.Prefix}
	if err := tp.checkEnums(); err != nil {
		return nil, err
	}
	if p.Suppress != nil && (p.Status == nil || *p.Status != enum.AlertStatusClosed || p.Disposition.Value() == nil) {
		return nil, apperr.Invalid(p.Prefix+"disposition", "suppressing closes the alert: give a disposition")
	}
	c, entries, err := planChange(d.cur, tp)
	if err != nil {
		return nil, err
	}
	c.applyTo(d.cur, d.now)
	if p.Suppress != nil && (!d.cur.Suppressed || d.cur.SuppressionReason != *p.Suppress) {
		entries = append(entries, audit.Entry{EntityType: entityAlert, EntityID: d.cur.ID, Action: "update",
			Field: "suppression_reason", Before: d.cur.SuppressionReason, After: *p.Suppress})
		d.cur.Suppressed, d.cur.SuppressionReason = true, *p.Suppress
	}
	d.entries = append(d.entries, entries...)
	return entries, nil
}

// Entries are the activity entries of every change applied so far.
func (d *Draft) Entries() []audit.Entry { return d.entries }

// Changed reports whether the draft differs from the alert it started from.
func (d *Draft) Changed() bool { return len(d.entries) > 0 }

// Save writes the draft's differences from the original alert in tx, in
// one UPDATE through ent (tenant rules and the severity_rank hook apply),
// and returns the saved alert; it writes nothing when nothing changed. The
// caller records the activity (Entries) and the outbox event.
func (d *Draft) Save(ctx context.Context, tx *ent.Tx) (*ent.Alert, error) {
	if !d.Changed() {
		return d.orig, nil
	}
	o, c := d.orig, d.cur
	m := tx.Alert.UpdateOneID(o.ID)
	if c.Status != o.Status {
		m.SetStatus(c.Status)
	}
	if c.Severity != o.Severity {
		m.SetSeverity(c.Severity)
	}
	if !samePtr(c.AssigneeID, o.AssigneeID) {
		m.SetNillableAssigneeID(c.AssigneeID)
		if c.AssigneeID == nil {
			m.ClearAssigneeID()
		}
	}
	if !slices.Equal(c.Tags, o.Tags) {
		m.SetTags(nonNilTags(c.Tags))
	}
	if !samePtr(c.Disposition, o.Disposition) {
		if c.Disposition == nil {
			m.ClearDisposition()
		} else {
			m.SetDisposition(*c.Disposition)
		}
	}
	if !sameTime(c.AcknowledgedAt, o.AcknowledgedAt) {
		m.SetNillableAcknowledgedAt(c.AcknowledgedAt)
	}
	if !sameTime(c.ResolvedAt, o.ResolvedAt) {
		if c.ResolvedAt == nil {
			m.ClearResolvedAt()
		} else {
			m.SetResolvedAt(*c.ResolvedAt)
		}
	}
	if c.DedupKey == nil && o.DedupKey != nil {
		m.ClearDedupKey()
	}
	if c.Suppressed != o.Suppressed {
		m.SetSuppressed(c.Suppressed)
	}
	if c.SuppressionReason != o.SuppressionReason {
		m.SetSuppressionReason(c.SuppressionReason)
	}
	return m.Save(ctx)
}

// applyTo performs the change on an alert in memory, as apply does on a
// mutation; reopening also lifts a suppression.
func (c alertChange) applyTo(a *ent.Alert, now time.Time) {
	if c.status != "" {
		a.Status = c.status
	}
	if c.severity != "" {
		a.Severity = c.severity
	}
	if c.setAssignee {
		a.AssigneeID = nil
		if c.assignee != uuid.Nil {
			id := c.assignee
			a.AssigneeID = &id
		}
	}
	if c.setTags {
		a.Tags = editTagsJSON(c.tags)
	}
	if c.setDisposition {
		a.Disposition = dispositionOf(&c)
		if a.Disposition != nil {
			d := *a.Disposition
			a.Disposition = &d
		}
	}
	if c.acknowledge {
		t := now
		a.AcknowledgedAt = &t
	}
	if c.resolve {
		t := now
		a.ResolvedAt = &t
	}
	if c.reopen {
		a.ResolvedAt = nil
	}
	if c.unsuppress {
		a.Suppressed, a.SuppressionReason = false, ""
	}
	if c.clearDedupKey {
		a.DedupKey = nil
	}
}

// editTagsJSON reads the tags an alertChange carries as JSON.
func editTagsJSON(js string) []string {
	var out []string
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		return nil // alertChange wrote it with json.Marshal
	}
	return out
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}
