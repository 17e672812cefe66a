package incidents

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/tags"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// transitions lists, for each status, the statuses it may move to. Work
// moves freely between the open statuses but never back to new; any open
// status may close; a closed incident reopens into in_progress.
var transitions = map[enum.IncidentStatus][]enum.IncidentStatus{
	enum.IncidentStatusNew:        {enum.IncidentStatusInProgress, enum.IncidentStatusPending, enum.IncidentStatusEscalated, enum.IncidentStatusClosed},
	enum.IncidentStatusInProgress: {enum.IncidentStatusPending, enum.IncidentStatusEscalated, enum.IncidentStatusClosed},
	enum.IncidentStatusPending:    {enum.IncidentStatusInProgress, enum.IncidentStatusEscalated, enum.IncidentStatusClosed},
	enum.IncidentStatusEscalated:  {enum.IncidentStatusInProgress, enum.IncidentStatusPending, enum.IncidentStatusClosed},
	enum.IncidentStatusClosed:     {enum.IncidentStatusInProgress},
}

// TransitionAllowed reports whether an incident may move from one status
// to another.
func TransitionAllowed(from, to enum.IncidentStatus) bool {
	return slices.Contains(transitions[from], to)
}

// Update applies a patch. Status moves follow the machine above: a
// person's first status change or assignment stamps acknowledged_at
// (acknowledge), closing needs a disposition and
// stamps closed_at, reopening clears both. Each changed field is recorded
// in the activity log; status, severity and assignee changes also go on
// the timeline. A patch that changes nothing writes nothing.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateIncidentInput) (*ent.Incident, error) {
	if _, err := checkPatch(in); err != nil {
		return nil, err
	}
	var out *ent.Incident
	schedule := func(context.Context) {}
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		inc, err := visible(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		var entries []audit.Entry
		if out, entries, schedule, err = s.UpdateTx(ctx, tx, inc, in); err != nil || s.triggers == nil || len(entries) == 0 {
			return err
		}
		// A person's change fires incident.updated; the triggers may
		// change the incident further.
		if err := s.triggers.Changed(ctx, tx, enum.TriggerEventIncidentUpdated, entries); err != nil {
			return err
		}
		out, err = tx.Client().Incident.Get(ctx, inc.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	schedule(ctx)
	return out.Unwrap(), nil
}

// UpdateTx applies a patch to inc (read in tx) inside the caller's
// transaction, with Update's rules and records: activity, timeline, outbox
// event, notifications. It returns the incident after the patch, the
// activity entries of what changed (none when nothing did) and the work to
// run after commit (SLA timers). Automation applies its actions through it.
func (s *Service) UpdateTx(ctx context.Context, tx *ent.Tx, inc *ent.Incident, in UpdateIncidentInput) (*ent.Incident, []audit.Entry, func(context.Context), error) {
	noop := func(context.Context) {}
	p, err := checkPatch(in)
	if err != nil {
		return nil, nil, noop, err
	}
	c := tx.Client()
	if err := directory.CheckAssignable(ctx, c, "assignee_id", in.AssigneeID.Value()); err != nil {
		return nil, nil, noop, err
	}
	if err := checkGroup(ctx, c, in.GroupID.Value()); err != nil {
		return nil, nil, noop, err
	}
	ch, err := plan(ctx, inc, p)
	if err != nil {
		return nil, nil, noop, err
	}
	if len(ch.entries) == 0 {
		return inc, nil, noop, nil
	}
	out, err := ch.update.Save(ctx)
	if err != nil {
		return nil, nil, noop, err
	}
	out, schedule, err := s.applySLA(ctx, c, out)
	if err != nil {
		return nil, nil, noop, err
	}
	if err := audit.Record(ctx, c, ch.entries...); err != nil {
		return nil, nil, noop, err
	}
	if err := announce(ctx, c, hub.KindUpdated, inc.ID); err != nil {
		return nil, nil, noop, err
	}
	for _, e := range ch.events {
		if err := addEvent(ctx, c, inc.ID, e.kind, e.title, "", e.data); err != nil {
			return nil, nil, noop, err
		}
	}
	if a := in.AssigneeID.Value(); a != nil && ch.assigned {
		if err := notify.Assigned(ctx, c, *a, subject(out)); err != nil {
			return nil, nil, noop, err
		}
	}
	if err := announceStatus(ctx, c, out, ch.statusFrom, ch.statusTo); err != nil {
		return nil, nil, noop, err
	}
	return out, ch.entries, schedule, nil
}

// patch is a validated UpdateIncidentInput.
type patch struct {
	UpdateIncidentInput
	title, description, summary *string
	tags                        []string
}

func checkPatch(in UpdateIncidentInput) (*patch, error) {
	p := &patch{UpdateIncidentInput: in}
	if in.Title != nil {
		t, err := cleanTitle(*in.Title)
		if err != nil {
			return nil, err
		}
		p.title = &t
	}
	for _, f := range []struct {
		name string
		in   *string
		out  **string
	}{{"description", in.Description, &p.description}, {"summary", in.Summary, &p.summary}} {
		if f.in == nil {
			continue
		}
		t, err := cleanText(f.name, *f.in)
		if err != nil {
			return nil, err
		}
		*f.out = &t
	}
	switch {
	case in.Severity != nil && !in.Severity.Valid():
		return nil, apperr.Invalid("severity", "%q is not a severity", *in.Severity)
	case in.Status != nil && !in.Status.Valid():
		return nil, apperr.Invalid("status", "%q is not an incident status", *in.Status)
	case in.Disposition.Value() != nil && !in.Disposition.Value().Valid():
		return nil, apperr.Invalid("disposition", "%q is not a disposition", *in.Disposition.Value())
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

// change is what a patch does to one incident.
type change struct {
	update   *ent.IncidentUpdateOne
	entries  []audit.Entry
	events   []event
	assigned bool
	// statusFrom and statusTo are set when the status changes.
	statusFrom, statusTo enum.IncidentStatus
}

// event is an automatic timeline entry a change produces.
type event struct {
	kind  enum.TimelineKind
	title string
	data  map[string]any
}

// plan checks the patch against the incident's state and builds the update,
// its activity entries and its timeline events.
func plan(ctx context.Context, inc *ent.Incident, p *patch) (*change, error) {
	ch := &change{update: inc.Update()}
	record := func(field string, before, after any) {
		ch.entries = append(ch.entries, audit.Entry{EntityType: entityIncident, EntityID: inc.ID,
			Action: "update", Field: field, Before: before, After: after})
	}
	setText := func(field string, after *string, before string, set func(string) *ent.IncidentUpdateOne) {
		if after != nil && *after != before {
			set(*after)
			record(field, before, *after)
		}
	}
	setText("title", p.title, inc.Title, ch.update.SetTitle)
	setText("description", p.description, inc.Description, ch.update.SetDescription)
	setText("summary", p.summary, inc.Summary, ch.update.SetSummary)
	if err := planStatus(inc, p, ch, record); err != nil {
		return nil, err
	}
	if p.Severity != nil && *p.Severity != inc.Severity {
		ch.update.SetSeverity(*p.Severity)
		record("severity", string(inc.Severity), string(*p.Severity))
		ch.events = append(ch.events, event{enum.TimelineKindSeverityChanged,
			fmt.Sprintf("Severity changed from %s to %s", inc.Severity, *p.Severity),
			map[string]any{"from": inc.Severity, "to": *p.Severity}})
	}
	if p.AssigneeID.IsSet() && !samePtr(p.AssigneeID.Value(), inc.AssigneeID) {
		a := p.AssigneeID.Value()
		if a == nil {
			ch.update.ClearAssigneeID()
		} else {
			ch.update.SetAssigneeID(*a)
			ch.assigned = true
		}
		record("assignee_id", audit.Opt(inc.AssigneeID), audit.Opt(a))
		title := "Unassigned"
		if a != nil {
			title = "Assignee changed"
		}
		ch.events = append(ch.events, event{enum.TimelineKindAssigneeChanged, title,
			map[string]any{"from": audit.Opt(inc.AssigneeID), "to": audit.Opt(a)}})
	}
	if (statusMoved(inc, p) || ch.assigned) && inc.AcknowledgedAt == nil {
		if e := acknowledge(ctx, inc, ch.update); e != nil {
			ch.entries = append(ch.entries, *e)
		}
	}
	if p.GroupID.IsSet() && !samePtr(p.GroupID.Value(), inc.GroupID) {
		if g := p.GroupID.Value(); g == nil {
			ch.update.ClearGroupID()
		} else {
			ch.update.SetGroupID(*g)
		}
		record("group_id", audit.Opt(inc.GroupID), audit.Opt(p.GroupID.Value()))
	}
	if p.tags != nil && !slices.Equal(p.tags, inc.Tags) {
		ch.update.SetTags(p.tags)
		record("tags", inc.Tags, p.tags)
	}
	return ch, nil
}

// planStatus applies the status machine and the disposition rules: a
// disposition belongs to a closed incident only, closing requires one, and
// reopening clears it.
func planStatus(inc *ent.Incident, p *patch, ch *change, record func(string, any, any)) error {
	from, to := inc.Status, inc.Status
	if p.Status != nil {
		to = *p.Status
	}
	if to != from {
		if !TransitionAllowed(from, to) {
			return apperr.Invalid("status", "an incident cannot move from %s to %s", from, to)
		}
		t := now()
		ch.statusFrom, ch.statusTo = from, to
		ch.update.SetStatus(to)
		record("status", string(from), string(to))
		ch.events = append(ch.events, event{enum.TimelineKindStatusChanged,
			fmt.Sprintf("Status changed from %s to %s", from, to),
			map[string]any{"from": from, "to": to}})
		switch {
		case to == enum.IncidentStatusClosed:
			ch.update.SetClosedAt(t)
			record("closed_at", audit.Opt(inc.ClosedAt), t)
		case from == enum.IncidentStatusClosed:
			ch.update.ClearClosedAt()
			record("closed_at", audit.Opt(inc.ClosedAt), nil)
		}
	}
	after := inc.Disposition
	switch {
	case p.Disposition.IsSet():
		after = p.Disposition.Value()
		if after != nil && to != enum.IncidentStatusClosed {
			return apperr.Invalid("disposition", "a disposition is only recorded on a closed incident (status is %s)", to)
		}
	case from == enum.IncidentStatusClosed && to != enum.IncidentStatusClosed:
		after = nil
	}
	if to == enum.IncidentStatusClosed && after == nil {
		return apperr.Invalid("disposition", "closing an incident requires a disposition")
	}
	if !samePtr(after, inc.Disposition) {
		if after == nil {
			ch.update.ClearDisposition()
		} else {
			ch.update.SetDisposition(*after)
		}
		record("disposition", audit.Opt(inc.Disposition), audit.Opt(after))
	}
	return nil
}

// statusMoved reports whether the patch changes the status.
func statusMoved(inc *ent.Incident, p *patch) bool { return p.Status != nil && *p.Status != inc.Status }

// samePtr reports whether two optional values are equal.
func samePtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// announceStatus tells who follows the incident (its assignee and group)
// of a status change, and its organisation's contacts who asked to hear
// about incidents when it closes or reopens; nothing when the status did
// not change.
func announceStatus(ctx context.Context, c *ent.Client, inc *ent.Incident, from, to enum.IncidentStatus) error {
	if from == to {
		return nil
	}
	if err := notify.IncidentStatus(ctx, c, inc, subject(inc), from, to); err != nil {
		return err
	}
	switch {
	case to == enum.IncidentStatusClosed:
		return notify.ContactsOfIncident(ctx, c, inc, notify.IncidentClosed)
	case from == enum.IncidentStatusClosed:
		return notify.ContactsOfIncident(ctx, c, inc, notify.IncidentReopened)
	}
	return nil
}
