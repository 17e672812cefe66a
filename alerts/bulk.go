package alerts

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/tags"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notes"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

const (
	// maxBulkIDs bounds the id list of a bulk action; a filter reaches more.
	maxBulkIDs = 10000
	// bulkChunk bounds the ids in one statement's IN list, far below the
	// parameter limits of PostgreSQL (65535) and SQLite (32766).
	bulkChunk = 1000
)

// Bulk applies one action to the alerts picked by id or by filter, in one
// transaction, with an activity entry per changed field of each changed
// alert. Every alert obeys the same rules as Update; one that cannot take
// the change fails the whole action and nothing is written.
//
// The alerts are read in one query (per 1000 ids) and the changes planned
// in Go; alerts receiving identical values are then written by one UPDATE
// per 1000 ids, so ten thousand alerts cost a few dozen statements rather
// than ten thousand.
//
// With a bulk limit (WithBulkLimit), each user may run only so many bulk
// actions a minute.
func (s *Service) Bulk(ctx context.Context, in BulkAlertsInput) (*BulkAlertsPayload, error) {
	if err := s.allowBulk(ctx); err != nil {
		return nil, err
	}
	ids, err := bulkIDs(in)
	if err != nil {
		return nil, err
	}
	p, err := bulkPatch(in.Action, in.Changes)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	out := &BulkAlertsPayload{Action: in.Action}
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		if err := directory.CheckAssignable(ctx, tx.Client(), p.field("assignee_id"), p.assignee.Value()); err != nil {
			return err
		}
		targets, err := selectTargets(ctx, tx, ids, in.Filter, p)
		if err != nil {
			return err
		}
		if p.incident != nil {
			// Linking has one implementation, which also keeps the
			// incidents' timelines and counts.
			out.Matched = len(targets)
			out.Updated, err = incidents.Attach(ctx, tx.Client(), *p.incident, p.field("incident_id"), storage.AlertIDs(targets))
			return err
		}
		groups, entries, err := planBulk(targets, p)
		if err != nil {
			return err
		}
		if err := writeGroups(ctx, tx, groups, now); err != nil {
			return err
		}
		out.Matched = len(targets)
		for _, g := range groups {
			out.Updated += len(g.ids)
		}
		if err := recordChanged(ctx, tx.Client(), groups); err != nil {
			return err
		}
		if err := notifyAssigned(ctx, tx, groups); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), entries...); err != nil {
			return err
		}
		// Bulk actions are people's changes: they fire alert.updated.
		return s.fire(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bulkIDs checks that exactly one of ids and filter picks the alerts and
// returns the distinct ids, sorted (nil when a filter picks them). An empty
// id list beside a filter counts as absent.
func bulkIDs(in BulkAlertsInput) ([]uuid.UUID, error) {
	switch {
	case len(in.AlertIDs) > 0 && in.Filter != nil:
		return nil, apperr.Invalid("alert_ids", "give alert_ids or filter, not both")
	case in.Filter != nil:
		return nil, ValidateFilter("filter", in.Filter)
	case len(in.AlertIDs) == 0:
		return nil, apperr.Invalid("alert_ids", "give 1 to %d alert ids, or a filter", maxBulkIDs)
	case len(in.AlertIDs) > maxBulkIDs:
		return nil, apperr.Invalid("alert_ids", "at most %d ids; use a filter for more", maxBulkIDs)
	}
	ids := slices.Clone(in.AlertIDs)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(ids), nil
}

// bulkFields are the changes each action uses; any other given change is
// refused rather than silently ignored.
var bulkFields = map[enum.BulkAlertAction][]string{
	enum.BulkAlertActionUpdate:       {"status", "severity", "assignee_id", "tags", "add_tags", "remove_tags", "disposition"},
	enum.BulkAlertActionClose:        {"disposition"},
	enum.BulkAlertActionAssign:       {"assignee_id"},
	enum.BulkAlertActionLinkIncident: {"incident_id"},
}

// bulkPatch turns an action and its changes into the patch applied to
// each alert, checking what does not depend on the alerts.
func bulkPatch(action enum.BulkAlertAction, ch *BulkAlertChanges) (*triagePatch, error) {
	allowed, ok := bulkFields[action]
	if !ok {
		return nil, apperr.Invalid("action", "%q is not a bulk action", action)
	}
	if ch == nil {
		ch = &BulkAlertChanges{}
	}
	p := &triagePatch{prefix: "changes."}
	given := givenChanges(ch)
	for _, name := range given {
		if !slices.Contains(allowed, name) {
			return nil, apperr.Invalid(p.field(name), "is not used by the %s action", action)
		}
	}
	var err error
	switch action {
	case enum.BulkAlertActionUpdate:
		err = updateChanges(p, ch, len(given) > 0)
	case enum.BulkAlertActionClose:
		err = closeChanges(p, ch)
	case enum.BulkAlertActionAssign:
		err = assignChanges(p, ch)
	case enum.BulkAlertActionLinkIncident:
		err = linkChanges(p, ch)
	}
	if err != nil {
		return nil, err
	}
	return p, p.checkEnums()
}

// givenChanges names the fields of ch the caller set.
func givenChanges(ch *BulkAlertChanges) []string {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"status", ch.Status != nil},
		{"severity", ch.Severity != nil},
		{"assignee_id", ch.AssigneeID.IsSet()},
		{"tags", ch.Tags != nil},
		{"add_tags", ch.AddTags != nil},
		{"remove_tags", ch.RemoveTags != nil},
		{"disposition", ch.Disposition != nil},
		{"incident_id", ch.IncidentID != nil},
	} {
		if f.set {
			given = append(given, f.name)
		}
	}
	return given
}

func updateChanges(p *triagePatch, ch *BulkAlertChanges, anyGiven bool) error {
	if !anyGiven {
		return apperr.Invalid("changes", "name at least one change")
	}
	p.status, p.severity, p.assignee = ch.Status, ch.Severity, ch.AssigneeID
	if ch.Disposition != nil {
		p.disposition = opt.Of(ch.Disposition)
	}
	return bulkTags(p, ch)
}

// bulkTags either replaces the tags or edits them, not both.
func bulkTags(p *triagePatch, ch *BulkAlertChanges) error {
	if ch.Tags != nil && (ch.AddTags != nil || ch.RemoveTags != nil) {
		return apperr.Invalid(p.field("tags"), "replaces the tags; use add_tags and remove_tags instead to edit them")
	}
	var err error
	if ch.Tags != nil {
		if p.tags, err = tags.Clean(p.field("tags"), ch.Tags); err != nil {
			return err
		}
	}
	if p.addTags, err = tags.Clean(p.field("add_tags"), ch.AddTags); err != nil {
		return err
	}
	if p.removeTags, err = tags.Clean(p.field("remove_tags"), ch.RemoveTags); err != nil {
		return err
	}
	for _, t := range p.removeTags {
		if slices.Contains(p.addTags, t) {
			return apperr.Invalid(p.field("remove_tags"), "tag %q is also in add_tags", t)
		}
	}
	return nil
}

func closeChanges(p *triagePatch, ch *BulkAlertChanges) error {
	if ch.Disposition == nil {
		return apperr.Invalid(p.field("disposition"), "is required to close alerts")
	}
	closed := enum.AlertStatusClosed
	p.status = &closed
	p.disposition = opt.Of(ch.Disposition)
	return nil
}

func assignChanges(p *triagePatch, ch *BulkAlertChanges) error {
	if !ch.AssigneeID.IsSet() {
		return apperr.Invalid(p.field("assignee_id"), "is required (null unassigns)")
	}
	p.assignee = ch.AssigneeID
	return nil
}

func linkChanges(p *triagePatch, ch *BulkAlertChanges) error {
	if ch.IncidentID == nil {
		return apperr.Invalid(p.field("incident_id"), "is required")
	}
	p.incident = ch.IncidentID
	return nil
}

// selectTargets reads the picked alerts of the acting organisation, only
// the columns planning needs (tags, the one wide column, only when the
// action edits them), locked on PostgreSQL until the transaction ends.
func selectTargets(ctx context.Context, tx *ent.Tx, ids []uuid.UUID, f *schematype.AlertFilter, p *triagePatch) ([]*ent.Alert, error) {
	cols := []string{
		alert.FieldID, alert.FieldStatus, alert.FieldSeverity, alert.FieldAssigneeID, alert.FieldDisposition,
		alert.FieldAcknowledgedAt, alert.FieldResolvedAt, alert.FieldIncidentID, alert.FieldSuppressed,
	}
	if p.editsTags() {
		cols = append(cols, alert.FieldTags)
	}
	query := func(ps ...predicate.Alert) ([]*ent.Alert, error) {
		return tx.Alert.Query().Where(ps...).Order(ent.Asc(alert.FieldID)).Unique(false).
			Select(cols...).Modify(lockOnPostgres).All(ctx)
	}
	if ids == nil {
		return query(Predicates(f)...)
	}
	var out []*ent.Alert
	for chunk := range slices.Chunk(ids, bulkChunk) {
		got, err := query(alert.IDIn(chunk...))
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// bulkGroup is the alerts that receive one identical change.
type bulkGroup struct {
	change alertChange
	ids    []uuid.UUID
}

// planBulk plans each alert's change and groups alerts by change. Alerts
// the action leaves as they are join no group.
func planBulk(targets []*ent.Alert, p *triagePatch) ([]*bulkGroup, []audit.Entry, error) {
	var (
		groups  []*bulkGroup
		entries []audit.Entry
		byValue = map[alertChange]*bulkGroup{}
	)
	for _, a := range targets {
		c, es, err := planChange(a, p)
		if err != nil {
			return nil, nil, err
		}
		if c == (alertChange{}) {
			continue
		}
		g := byValue[c]
		if g == nil {
			g = &bulkGroup{change: c}
			byValue[c] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, a.ID)
		entries = append(entries, es...)
	}
	return groups, entries, nil
}

// recordChanged announces every alert a bulk action changed.
func recordChanged(ctx context.Context, c *ent.Client, groups []*bulkGroup) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil
	}
	var ids []uuid.UUID
	for _, g := range groups {
		ids = append(ids, g.ids...)
	}
	return hub.Record(ctx, c, hub.Changed(v.OrgID, hub.TopicAlert, hub.KindUpdated, ids...)...)
}

// notifyAssigned tells the user a bulk action assigned alerts to (one
// assignee per action) once for the whole action, not once per alert: ten
// thousand alerts assigned at once are one notification naming how many,
// pointing at the first of them. Alerts already theirs do not count, and
// assigning oneself notifies nobody (notify.Assigned).
func notifyAssigned(ctx context.Context, tx *ent.Tx, groups []*bulkGroup) error {
	var (
		assignee uuid.UUID
		ids      []uuid.UUID
	)
	for _, g := range groups {
		if g.change.setAssignee && g.change.assignee != uuid.Nil {
			assignee = g.change.assignee
			ids = append(ids, g.ids...)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	first := slices.MinFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	title, err := tx.Alert.Query().Where(alert.ID(first)).Select(alert.FieldTitle).String(ctx)
	if err != nil {
		return err
	}
	subject := notes.Alert(first, title).Subject
	if len(ids) > 1 {
		subject.Title = fmt.Sprintf("%d alerts, among them %s", len(ids), subject.Title)
	}
	return notify.Assigned(ctx, tx.Client(), assignee, subject)
}

// writeGroups issues one set-based UPDATE per group and 1000 ids, through
// ent so that the tenant filter and the severity_rank hook apply.
func writeGroups(ctx context.Context, tx *ent.Tx, groups []*bulkGroup, now time.Time) error {
	for _, g := range groups {
		for chunk := range slices.Chunk(g.ids, bulkChunk) {
			u := tx.Alert.Update().Where(alert.IDIn(chunk...))
			if err := g.change.apply(u.Mutation(), now); err != nil {
				return err
			}
			if err := u.Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// allowBulk applies the per-user rate limit of bulk actions, when there is
// one.
func (s *Service) allowBulk(ctx context.Context) error {
	if s.bulkLimit == nil {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if ok, retry := s.bulkLimit.Allow(v.UserID.String()); !ok {
		return &apperr.Error{Code: apperr.RateLimited, Message: "too many bulk actions; retry later", RetryAfter: retry}
	}
	return nil
}
