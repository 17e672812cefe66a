package alerts

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// seedMany creates alerts in multi-row inserts and returns their ids in
// the order of states.
func (o *triageOrg) seedMany(t testing.TB, db *storage.DB, states []alertState) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, 0, len(states))
	for chunk := range slices.Chunk(states, 500) {
		builders := make([]*ent.AlertCreate, len(chunk))
		for i, s := range chunk {
			builders[i] = o.builder(db, s)
		}
		created, err := db.Client.Alert.CreateBulk(builders...).Save(o.ctx)
		if err != nil {
			t.Fatalf("seed alerts: %v", err)
		}
		for _, a := range created {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func (o *triageOrg) reloadAll(t testing.TB, db *storage.DB, ids []uuid.UUID) []*ent.Alert {
	t.Helper()
	out := make([]*ent.Alert, len(ids))
	for i, id := range ids {
		out[i] = o.reload(t, db, id)
	}
	return out
}

// fieldCount counts the acting organisation's alert activity on field.
func (o *triageOrg) fieldCount(t testing.TB, db *storage.DB, field string) int {
	t.Helper()
	n, err := db.Client.Activity.Query().Where(activity.EntityType("alert"), activity.Field(field)).Count(o.ctx)
	if err != nil {
		t.Fatalf("count activity: %v", err)
	}
	return n
}

func TestBulkByIDsAcrossOrganisations(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		b := newTriageOrg(t, db, "globex")
		ids := o.seedMany(t, db, []alertState{
			seedFor(enum.AlertStatusNew, "k1"),
			seedFor(enum.AlertStatusAcknowledged, "k2"),
			seedFor(enum.AlertStatusClosed, ""),
		})
		theirs := b.newAlert(t, db, seedFor(enum.AlertStatusNew, "k1"))
		start := time.Now().UTC()
		got, err := New(db.Client, db.Dialect).Bulk(o.ctx, BulkAlertsInput{
			AlertIDs: []uuid.UUID{ids[0], ids[1], ids[2], theirs.ID, ids[0]},
			Action:   enum.BulkAlertActionClose,
			Changes:  &BulkAlertChanges{Disposition: ref(enum.DispositionBenign)},
		})
		if err != nil {
			t.Fatalf("bulk: %v", err)
		}
		if got.Matched != 3 || got.Updated != 2 || got.Action != enum.BulkAlertActionClose {
			t.Fatalf("payload = %+v, want close matched 3 updated 2", got)
		}
		as := o.reloadAll(t, db, ids)
		for i, a := range as {
			if a.Status != enum.AlertStatusClosed || a.Disposition == nil || *a.Disposition != enum.DispositionBenign || a.DedupKey != nil {
				t.Errorf("alert %d: status %s disposition %v dedup %v", i, a.Status, audit.Opt(a.Disposition), a.DedupKey)
			}
		}
		if a := as[0]; a.AcknowledgedAt == nil || a.AcknowledgedAt.Before(start.Add(-time.Millisecond)) || a.ResolvedAt == nil || a.ResolvedAt.Before(start.Add(-time.Millisecond)) {
			t.Errorf("new alert: acknowledged_at %v resolved_at %v, want stamped now", a.AcknowledgedAt, a.ResolvedAt)
		}
		if a := as[1]; !a.AcknowledgedAt.Equal(seededAt) || a.ResolvedAt == nil || a.ResolvedAt.Before(start.Add(-time.Millisecond)) {
			t.Errorf("acknowledged alert: acknowledged_at %v (want kept) resolved_at %v", a.AcknowledgedAt, a.ResolvedAt)
		}
		if a := as[2]; !a.ResolvedAt.Equal(seededAt) || len(o.history(t, db, a.ID)) != 0 {
			t.Errorf("already closed alert was rewritten")
		}
		if n := len(o.history(t, db, ids[0])); n != 2 {
			t.Errorf("%d entries for the new alert, want status and disposition", n)
		}
		if a := b.reload(t, db, theirs.ID); a.Status != enum.AlertStatusNew || a.DedupKey == nil {
			t.Errorf("another organisation's alert changed: %s", a.Status)
		}
		if n := b.fieldCount(t, db, "status"); n != 0 {
			t.Errorf("another organisation got %d activity entries", n)
		}
	})
}

func TestBulkActions(t *testing.T) {
	type env struct {
		o        *triageOrg
		incident *ent.Incident
	}
	cases := []struct {
		name    string
		seeds   func(e env) []alertState
		changes func(e env) (enum.BulkAlertAction, *BulkAlertChanges)
		matched int
		updated int
		entries int
		check   func(t *testing.T, e env, as []*ent.Alert)
	}{
		{
			name: "status: alerts already there are left alone",
			seeds: func(env) []alertState {
				return []alertState{seedFor(enum.AlertStatusNew, "a"), seedFor(enum.AlertStatusAcknowledged, "b")}
			},
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionUpdate, &BulkAlertChanges{Status: ref(enum.AlertStatusAcknowledged)}
			},
			matched: 2, updated: 1, entries: 1,
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				if as[0].Status != enum.AlertStatusAcknowledged || as[0].AcknowledgedAt == nil || as[0].AcknowledgedAt.Equal(seededAt) {
					t.Errorf("new alert: %s acknowledged_at %v", as[0].Status, as[0].AcknowledgedAt)
				}
				if !as[1].AcknowledgedAt.Equal(seededAt) {
					t.Errorf("acknowledged_at rewritten to %v", as[1].AcknowledgedAt)
				}
			},
		},
		{
			name: "resolve: timestamps per alert, dedup keys freed",
			seeds: func(env) []alertState {
				return []alertState{seedFor(enum.AlertStatusNew, "a"), seedFor(enum.AlertStatusInProgress, "b")}
			},
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionUpdate, &BulkAlertChanges{Status: ref(enum.AlertStatusResolved)}
			},
			matched: 2, updated: 2, entries: 2,
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				for _, a := range as {
					if a.Status != enum.AlertStatusResolved || a.ResolvedAt == nil || a.ResolvedAt.Equal(seededAt) || a.DedupKey != nil {
						t.Errorf("alert %s: resolved_at %v dedup %v", a.Status, a.ResolvedAt, a.DedupKey)
					}
				}
				if as[0].AcknowledgedAt == nil || as[0].AcknowledgedAt.Equal(seededAt) || !as[1].AcknowledgedAt.Equal(seededAt) {
					t.Errorf("acknowledged_at %v / %v, want stamped / kept", as[0].AcknowledgedAt, as[1].AcknowledgedAt)
				}
			},
		},
		{
			name: "reopen clears resolved_at and disposition",
			seeds: func(env) []alertState {
				return []alertState{seedFor(enum.AlertStatusClosed, ""), seedFor(enum.AlertStatusResolved, "")}
			},
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionUpdate, &BulkAlertChanges{Status: ref(enum.AlertStatusInProgress)}
			},
			matched: 2, updated: 2, entries: 3, // two statuses, one disposition
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				for _, a := range as {
					if a.Status != enum.AlertStatusInProgress || a.ResolvedAt != nil || a.Disposition != nil {
						t.Errorf("reopened alert: %s resolved_at %v disposition %v", a.Status, a.ResolvedAt, audit.Opt(a.Disposition))
					}
				}
			},
		},
		{
			name: "severity keeps the rank in step",
			seeds: func(env) []alertState {
				return []alertState{{severity: enum.SeverityLow}, {severity: enum.SeverityCritical}}
			},
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionUpdate, &BulkAlertChanges{Severity: ref(enum.SeverityCritical)}
			},
			matched: 2, updated: 1, entries: 1,
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				for _, a := range as {
					if a.Severity != enum.SeverityCritical || a.SeverityRank != enum.SeverityCritical.Rank() {
						t.Errorf("severity %s rank %d", a.Severity, a.SeverityRank)
					}
				}
			},
		},
		{
			name: "add and remove tags per alert",
			seeds: func(env) []alertState {
				return []alertState{{tags: []string{"a", "b"}}, {tags: []string{"b", "x"}}, {}}
			},
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionUpdate, &BulkAlertChanges{AddTags: []string{" x "}, RemoveTags: []string{"a"}}
			},
			matched: 3, updated: 2, entries: 2,
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				for i, want := range [][]string{{"b", "x"}, {"b", "x"}, {"x"}} {
					if !slices.Equal(as[i].Tags, want) {
						t.Errorf("alert %d tags = %q, want %q", i, as[i].Tags, want)
					}
				}
			},
		},
		{
			name:  "replace tags",
			seeds: func(env) []alertState { return []alertState{{tags: []string{"a"}}, {}} },
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionUpdate, &BulkAlertChanges{Tags: []string{"y", "y", "z"}}
			},
			matched: 2, updated: 2, entries: 2,
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				for _, a := range as {
					if !slices.Equal(a.Tags, []string{"y", "z"}) {
						t.Errorf("tags = %q", a.Tags)
					}
				}
			},
		},
		{
			name: "update closes with a disposition",
			seeds: func(env) []alertState {
				return []alertState{seedFor(enum.AlertStatusNew, "a"), seedFor(enum.AlertStatusResolved, "")}
			},
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionUpdate, &BulkAlertChanges{Status: ref(enum.AlertStatusClosed), Disposition: ref(enum.DispositionDuplicate)}
			},
			matched: 2, updated: 2, entries: 4,
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				if !as[1].ResolvedAt.Equal(seededAt) {
					t.Errorf("resolved → closed rewrote resolved_at to %v", as[1].ResolvedAt)
				}
			},
		},
		{
			name: "assign",
			seeds: func(e env) []alertState {
				return []alertState{{}, {assignee: &e.o.analyst.ID}, {assignee: &e.o.admin.ID}}
			},
			changes: func(e env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionAssign, &BulkAlertChanges{AssigneeID: opt.Of(&e.o.analyst.ID)}
			},
			matched: 3, updated: 2, entries: 2,
			check: func(t *testing.T, e env, as []*ent.Alert) {
				for _, a := range as {
					if a.AssigneeID == nil || *a.AssigneeID != e.o.analyst.ID {
						t.Errorf("assignee = %v", audit.Opt(a.AssigneeID))
					}
				}
			},
		},
		{
			name:  "assign null unassigns",
			seeds: func(e env) []alertState { return []alertState{{assignee: &e.o.admin.ID}, {}} },
			changes: func(env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionAssign, &BulkAlertChanges{AssigneeID: opt.Of[*uuid.UUID](nil)}
			},
			matched: 2, updated: 1, entries: 1,
			check: func(t *testing.T, _ env, as []*ent.Alert) {
				if as[0].AssigneeID != nil {
					t.Errorf("assignee = %v, want none", audit.Opt(as[0].AssigneeID))
				}
			},
		},
		{
			name:  "link to an incident",
			seeds: func(env) []alertState { return []alertState{{}, {}} },
			changes: func(e env) (enum.BulkAlertAction, *BulkAlertChanges) {
				return enum.BulkAlertActionLinkIncident, &BulkAlertChanges{IncidentID: &e.incident.ID}
			},
			matched: 2, updated: 2, entries: 2,
			check: func(t *testing.T, e env, as []*ent.Alert) {
				for _, a := range as {
					if a.IncidentID == nil || *a.IncidentID != e.incident.ID {
						t.Errorf("incident_id = %v", audit.Opt(a.IncidentID))
					}
				}
			},
		},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		inc, err := db.Client.Incident.Create().SetNumber(1).SetTitle("breach").Save(o.ctx)
		if err != nil {
			t.Fatalf("create incident: %v", err)
		}
		e := env{o: o, incident: inc}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				seeds := tc.seeds(e)
				for j := range seeds {
					if seeds[j].dedupKey != nil {
						seeds[j].dedupKey = ref(fmt.Sprintf("case%d-%d", i, j))
					}
				}
				ids := o.seedMany(t, db, seeds)
				action, changes := tc.changes(e)
				got, err := New(db.Client, db.Dialect).Bulk(o.ctx, BulkAlertsInput{AlertIDs: ids, Action: action, Changes: changes})
				if err != nil {
					t.Fatalf("bulk: %v", err)
				}
				if got.Matched != tc.matched || got.Updated != tc.updated {
					t.Errorf("matched %d updated %d, want %d and %d", got.Matched, got.Updated, tc.matched, tc.updated)
				}
				var entries int
				for _, id := range ids {
					entries += len(o.history(t, db, id))
				}
				if entries != tc.entries {
					t.Errorf("%d activity entries, want %d", entries, tc.entries)
				}
				tc.check(t, e, o.reloadAll(t, db, ids))
			})
		}
	})
}

func TestBulkValidation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		other := newTriageOrg(t, db, "globex")
		theirIncident, err := db.Client.Incident.Create().SetNumber(1).SetTitle("theirs").Save(other.ctx)
		if err != nil {
			t.Fatalf("create incident: %v", err)
		}
		started := time.Now().UTC()
		a := o.newAlert(t, db, alertState{status: enum.AlertStatusInProgress, acknowledged: &started})
		ids := []uuid.UUID{a.ID}
		tooMany := make([]uuid.UUID, maxBulkIDs+1)
		for i := range tooMany {
			tooMany[i] = uuid.New()
		}
		since := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
		benign := ref(enum.DispositionBenign)
		cases := []struct {
			name  string
			in    BulkAlertsInput
			field string
		}{
			{"neither ids nor filter", BulkAlertsInput{Action: enum.BulkAlertActionAssign}, "alert_ids"},
			{"both ids and filter", BulkAlertsInput{AlertIDs: ids, Filter: &schematype.AlertFilter{}, Action: enum.BulkAlertActionClose,
				Changes: &BulkAlertChanges{Disposition: benign}}, "alert_ids"},
			{"too many ids", BulkAlertsInput{AlertIDs: tooMany, Action: enum.BulkAlertActionClose,
				Changes: &BulkAlertChanges{Disposition: benign}}, "alert_ids"},
			{"a bad filter", BulkAlertsInput{Filter: &schematype.AlertFilter{Since: &since, Until: &since}, Action: enum.BulkAlertActionClose,
				Changes: &BulkAlertChanges{Disposition: benign}}, "filter.until"},
			{"an unknown action", BulkAlertsInput{AlertIDs: ids, Action: "delete"}, "action"},
			{"close without a disposition", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionClose}, "changes.disposition"},
			{"close with a status", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionClose,
				Changes: &BulkAlertChanges{Disposition: benign, Status: ref(enum.AlertStatusNew)}}, "changes.status"},
			{"assign without an assignee", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionAssign}, "changes.assignee_id"},
			{"assign another organisation's user", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionAssign,
				Changes: &BulkAlertChanges{AssigneeID: opt.Of(&other.admin.ID)}}, "changes.assignee_id"},
			{"assign an inactive user", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionAssign,
				Changes: &BulkAlertChanges{AssigneeID: opt.Of(&o.inactive.ID)}}, "changes.assignee_id"},
			{"link without an incident", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionLinkIncident}, "changes.incident_id"},
			{"link to an unknown incident", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionLinkIncident,
				Changes: &BulkAlertChanges{IncidentID: ref(uuid.New())}}, "changes.incident_id"},
			{"link to another organisation's incident", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionLinkIncident,
				Changes: &BulkAlertChanges{IncidentID: &theirIncident.ID}}, "changes.incident_id"},
			{"update without changes", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{}}, "changes"},
			{"update with an incident", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{IncidentID: &theirIncident.ID}}, "changes.incident_id"},
			{"replacing and editing tags", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{Tags: []string{"a"}, AddTags: []string{"b"}}}, "changes.tags"},
			{"adding and removing one tag", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{AddTags: []string{"a"}, RemoveTags: []string{" a"}}}, "changes.remove_tags"},
			{"a blank tag", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{AddTags: []string{""}}}, "changes.add_tags"},
			{"an invalid severity", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{Severity: ref(enum.Severity("dire"))}}, "changes.severity"},
			{"a refused transition", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{Status: ref(enum.AlertStatusAcknowledged)}}, "changes.status"},
			{"closing through update without a disposition", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{Status: ref(enum.AlertStatusClosed)}}, "changes.disposition"},
			{"a disposition on open alerts", BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{Disposition: benign}}, "changes.disposition"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := New(db.Client, db.Dialect).Bulk(o.ctx, tc.in)
				wantInvalid(t, err, tc.field)
			})
		}
		if got := o.reload(t, db, a.ID); got.Status != enum.AlertStatusInProgress || !got.UpdatedAt.Equal(o.reload(t, db, a.ID).UpdatedAt) || len(o.history(t, db, a.ID)) != 0 {
			t.Fatalf("refused bulks changed the alert")
		}
	})
}

// A bulk that fails, whether while checking its changes or after its
// UPDATEs ran, leaves every alert as it was.
func TestBulkIsAtomic(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		states := make([]alertState, 50)
		for i := range states {
			states[i] = seedFor(enum.AlertStatusNew, fmt.Sprint("k", i))
		}
		ids := o.seedMany(t, db, states)
		// The alert last in id order cannot make the move, so planning fails
		// after every other alert was planned.
		last := slices.MaxFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		if _, err := db.Client.Alert.UpdateOneID(last).SetStatus(enum.AlertStatusInProgress).ClearDedupKey().Save(o.ctx); err != nil {
			t.Fatalf("prepare: %v", err)
		}
		before := o.reloadAll(t, db, ids)
		cases := []struct {
			name string
			ctx  context.Context
			in   BulkAlertsInput
		}{
			{"link to a missing incident", o.ctx, BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionLinkIncident,
				Changes: &BulkAlertChanges{IncidentID: ref(uuid.New())}}},
			{"one alert refuses the move", o.ctx, BulkAlertsInput{AlertIDs: ids, Action: enum.BulkAlertActionUpdate,
				Changes: &BulkAlertChanges{Status: ref(enum.AlertStatusAcknowledged)}}},
			// The actor is looked up when the activity is written, after
			// the UPDATEs: an unknown one fails the transaction there.
			{"failure after the updates", viewerContext(uuid.New(), o.org.ID), BulkAlertsInput{Filter: &schematype.AlertFilter{},
				Action: enum.BulkAlertActionClose, Changes: &BulkAlertChanges{Disposition: ref(enum.DispositionBenign)}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := New(db.Client, db.Dialect).Bulk(tc.ctx, tc.in); err == nil {
					t.Fatal("bulk succeeded")
				}
				after := o.reloadAll(t, db, ids)
				for i := range after {
					b, a := before[i], after[i]
					if a.Status != b.Status || !a.UpdatedAt.Equal(b.UpdatedAt) || !samePtr(a.IncidentID, b.IncidentID) || !samePtr(a.DedupKey, b.DedupKey) {
						t.Fatalf("alert %d changed: %s → %s", i, b.Status, a.Status)
					}
				}
				if n := db.Client.Activity.Query().CountX(auth.System(context.Background())); n != 0 {
					t.Fatalf("%d activity entries written", n)
				}
			})
		}
	})
}

// Ten thousand alerts picked by a filter, then by id, in one transaction
// each; the elapsed times are logged (go test -v).
func TestBulkTenThousand(t *testing.T) {
	const n = 10000
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		b := newTriageOrg(t, db, "globex")
		states := make([]alertState, n)
		for i := range states {
			states[i] = alertState{tags: []string{"campaign"}, dedupKey: ref(fmt.Sprint("k", i))}
		}
		seedStart := time.Now()
		ids := o.seedMany(t, db, states)
		t.Logf("seeded %d alerts in %v", n, time.Since(seedStart))
		o.seedMany(t, db, []alertState{{tags: []string{"other"}}, {}})
		b.seedMany(t, db, []alertState{{tags: []string{"campaign"}}})

		start := time.Now()
		got, err := New(db.Client, db.Dialect).Bulk(o.ctx, BulkAlertsInput{
			Filter:  &schematype.AlertFilter{Tag: []string{"campaign"}},
			Action:  enum.BulkAlertActionClose,
			Changes: &BulkAlertChanges{Disposition: ref(enum.DispositionFalsePositive)},
		})
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("bulk close: %v", err)
		}
		t.Logf("closed %d alerts by filter in %v", got.Updated, elapsed)
		if got.Matched != n || got.Updated != n {
			t.Fatalf("payload = %+v, want %d matched and updated", got, n)
		}
		closed, err := db.Client.Alert.Query().Where(
			alert.StatusEQ(enum.AlertStatusClosed), alert.DispositionEQ(enum.DispositionFalsePositive),
			alert.DedupKeyIsNil(), alert.ResolvedAtNotNil(), alert.AcknowledgedAtNotNil(),
		).Count(o.ctx)
		if err != nil || closed != n {
			t.Fatalf("%d alerts closed with their stamps (%v), want %d", closed, err, n)
		}
		if open := db.Client.Alert.Query().Where(alert.StatusEQ(enum.AlertStatusNew)).CountX(o.ctx); open != 2 {
			t.Fatalf("%d unmatched alerts still new, want 2", open)
		}
		if open := db.Client.Alert.Query().Where(alert.StatusEQ(enum.AlertStatusNew)).CountX(b.ctx); open != 1 {
			t.Fatalf("another organisation's alert was closed")
		}
		if s, d := o.fieldCount(t, db, "status"), o.fieldCount(t, db, "disposition"); s != n || d != n {
			t.Fatalf("activity: %d status and %d disposition entries, want %d each", s, d, n)
		}

		start = time.Now()
		got, err = New(db.Client, db.Dialect).Bulk(o.ctx, BulkAlertsInput{
			AlertIDs: ids, Action: enum.BulkAlertActionAssign,
			Changes: &BulkAlertChanges{AssigneeID: opt.Of(&o.analyst.ID)},
		})
		elapsed = time.Since(start)
		if err != nil {
			t.Fatalf("bulk assign: %v", err)
		}
		t.Logf("assigned %d alerts by id in %v", got.Updated, elapsed)
		if got.Matched != n || got.Updated != n || o.fieldCount(t, db, "assignee_id") != n {
			t.Fatalf("payload = %+v, want %d matched, updated and recorded", got, n)
		}
		if mine := db.Client.Alert.Query().Where(alert.AssigneeID(o.analyst.ID)).CountX(o.ctx); mine != n {
			t.Fatalf("%d alerts assigned, want %d", mine, n)
		}
	})
}
