package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/tags"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// triageOrg is an organisation with an admin acting in it, a second active
// user and an inactive one.
type triageOrg struct {
	ctx      context.Context
	org      *ent.Organization
	admin    *ent.User
	analyst  *ent.User
	inactive *ent.User
}

func newTriageOrg(t testing.TB, db *storage.DB, slug string) *triageOrg {
	t.Helper()
	org := testenv.Org(t, db, testenv.Slug(slug))
	o := &triageOrg{
		org:      org,
		admin:    testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("ada"), testenv.FullName("Ada "+slug)),
		analyst:  testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("bob")),
		inactive: testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("carl"), testenv.FullName("Carl"), testenv.Inactive()),
	}
	o.ctx = testenv.As(o.admin, org)
	return o
}

func viewerContext(userID, orgID uuid.UUID) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.KindUser, UserID: userID, Role: enum.RoleAdmin,
		HomeOrgID: orgID, OrgID: orgID, VisibleOrgIDs: []uuid.UUID{orgID}, TopLevel: true,
	})
}

// alertState seeds one alert; zero fields take the schema defaults.
type alertState struct {
	status       enum.AlertStatus
	severity     enum.Severity
	disposition  *enum.Disposition
	assignee     *uuid.UUID
	tags         []string
	dedupKey     *string
	acknowledged *time.Time
	resolved     *time.Time
}

func (o *triageOrg) builder(db *storage.DB, s alertState) *ent.AlertCreate {
	b := db.Client.Alert.Create().SetTitle("alert").SetSource("generic").
		SetNillableDisposition(s.disposition).SetNillableAssigneeID(s.assignee).
		SetNillableDedupKey(s.dedupKey).
		SetNillableAcknowledgedAt(s.acknowledged).SetNillableResolvedAt(s.resolved)
	if s.status != "" {
		b.SetStatus(s.status)
	}
	if s.severity != "" {
		b.SetSeverity(s.severity)
	}
	if s.tags != nil {
		b.SetTags(s.tags)
	}
	return b
}

func (o *triageOrg) newAlert(t testing.TB, db *storage.DB, s alertState) *ent.Alert {
	t.Helper()
	a, err := o.builder(db, s).Save(o.ctx)
	if err != nil {
		t.Fatalf("create alert: %v", err)
	}
	return a
}

func (o *triageOrg) reload(t testing.TB, db *storage.DB, id uuid.UUID) *ent.Alert {
	t.Helper()
	a, err := db.Client.Alert.Get(o.ctx, id)
	if err != nil {
		t.Fatalf("reload alert: %v", err)
	}
	return a
}

// history returns an alert's activity, oldest first.
func (o *triageOrg) history(t testing.TB, db *storage.DB, id uuid.UUID) []*ent.Activity {
	t.Helper()
	es, err := db.Client.Activity.Query().
		Where(activity.EntityType("alert"), activity.EntityID(id)).
		Order(ent.Asc(activity.FieldCreatedAt), ent.Asc(activity.FieldID)).All(o.ctx)
	if err != nil {
		t.Fatalf("read activity: %v", err)
	}
	return es
}

// wantInvalid checks err is a 422 naming field.
func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadInput || e.Field != field {
		t.Fatalf("error = %v (%#v), want BAD_USER_INPUT on %q", err, e, field)
	}
}

func ref[T any](v T) *T { return &v }

// seededAt is the time stamps seeded alerts already carry.
var seededAt = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// statePair is a transition under test.
type statePair struct{ from, to enum.AlertStatus }

// allowedMoves lists every permitted change of status (besides staying).
var allowedMoves = map[statePair]bool{
	{enum.AlertStatusNew, enum.AlertStatusAcknowledged}:        true,
	{enum.AlertStatusNew, enum.AlertStatusInProgress}:          true,
	{enum.AlertStatusNew, enum.AlertStatusResolved}:            true,
	{enum.AlertStatusNew, enum.AlertStatusClosed}:              true,
	{enum.AlertStatusAcknowledged, enum.AlertStatusInProgress}: true,
	{enum.AlertStatusAcknowledged, enum.AlertStatusResolved}:   true,
	{enum.AlertStatusAcknowledged, enum.AlertStatusClosed}:     true,
	{enum.AlertStatusInProgress, enum.AlertStatusResolved}:     true,
	{enum.AlertStatusInProgress, enum.AlertStatusClosed}:       true,
	{enum.AlertStatusResolved, enum.AlertStatusClosed}:         true,
	{enum.AlertStatusResolved, enum.AlertStatusNew}:            true,
	{enum.AlertStatusResolved, enum.AlertStatusAcknowledged}:   true,
	{enum.AlertStatusResolved, enum.AlertStatusInProgress}:     true,
	{enum.AlertStatusClosed, enum.AlertStatusNew}:              true,
	{enum.AlertStatusClosed, enum.AlertStatusAcknowledged}:     true,
	{enum.AlertStatusClosed, enum.AlertStatusInProgress}:       true,
}

var allStatuses = []enum.AlertStatus{
	enum.AlertStatusNew, enum.AlertStatusAcknowledged, enum.AlertStatusInProgress,
	enum.AlertStatusResolved, enum.AlertStatusClosed,
}

// seedFor is an alert as it would stand in status s: acknowledged once out
// of new, resolved_at once resolved or closed, a disposition once closed,
// and a dedup key while still open.
func seedFor(s enum.AlertStatus, key string) alertState {
	st := alertState{status: s}
	if s != enum.AlertStatusNew {
		st.acknowledged = ref(seededAt)
	}
	switch s {
	case enum.AlertStatusClosed:
		st.disposition = ref(enum.DispositionBenign)
		st.resolved = ref(seededAt)
	case enum.AlertStatusResolved:
		st.resolved = ref(seededAt)
	default:
		st.dedupKey = ref(key)
	}
	return st
}

func TestUpdateStatusTransitions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		for _, from := range allStatuses {
			for _, to := range allStatuses {
				t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
					checkTransition(t, db, o, from, to)
				})
			}
		}
	})
}

func checkTransition(t *testing.T, db *storage.DB, o *triageOrg, from, to enum.AlertStatus) {
	key := fmt.Sprintf("%s-%s", from, to)
	a := o.newAlert(t, db, seedFor(from, key))
	in := UpdateAlertInput{Status: ref(to)}
	if to == enum.AlertStatusClosed && from != enum.AlertStatusClosed {
		in.Disposition = opt.Of(ref(enum.DispositionTruePositive))
	}
	start := time.Now().UTC()
	got, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, in)
	end := time.Now().UTC()
	if from != to && !allowedMoves[statePair{from, to}] {
		wantInvalid(t, err, "status")
		if after := o.reload(t, db, a.ID); after.Status != from || len(o.history(t, db, a.ID)) != 0 {
			t.Fatalf("refused move changed the alert: status %s, %d activity entries", after.Status, len(o.history(t, db, a.ID)))
		}
		return
	}
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	stored := o.reload(t, db, a.ID)
	if got.Status != to || stored.Status != to {
		t.Fatalf("status returned %s, stored %s, want %s", got.Status, stored.Status, to)
	}
	fresh := func(ts *time.Time) bool {
		return ts != nil && !ts.Before(start.Add(-time.Millisecond)) && !ts.After(end.Add(time.Millisecond))
	}
	kept := func(ts *time.Time) bool { return ts != nil && ts.Equal(seededAt) }
	switch {
	case from == enum.AlertStatusNew && to != enum.AlertStatusNew:
		if !fresh(stored.AcknowledgedAt) {
			t.Errorf("acknowledged_at = %v, want stamped now (first move out of new)", stored.AcknowledgedAt)
		}
	case from == enum.AlertStatusNew:
		if stored.AcknowledgedAt != nil {
			t.Errorf("acknowledged_at = %v, want unset", stored.AcknowledgedAt)
		}
	default:
		if !kept(stored.AcknowledgedAt) {
			t.Errorf("acknowledged_at = %v, want kept at %v", stored.AcknowledgedAt, seededAt)
		}
	}
	switch {
	case isTerminal(to) && isTerminal(from):
		if !kept(stored.ResolvedAt) {
			t.Errorf("resolved_at = %v, want kept (%s → %s)", stored.ResolvedAt, from, to)
		}
	case isTerminal(to):
		if !fresh(stored.ResolvedAt) {
			t.Errorf("resolved_at = %v, want stamped now", stored.ResolvedAt)
		}
	default:
		if stored.ResolvedAt != nil || stored.Disposition != nil {
			t.Errorf("open alert keeps resolved_at %v, disposition %v", stored.ResolvedAt, stored.Disposition)
		}
	}
	switch {
	case isTerminal(to) && stored.DedupKey != nil:
		t.Errorf("dedup_key = %q, want cleared on entering %s", *stored.DedupKey, to)
	case !isTerminal(to) && !isTerminal(from) && (stored.DedupKey == nil || *stored.DedupKey != key):
		t.Errorf("dedup_key = %v, want kept while open", stored.DedupKey)
	}
	var statusEntries int
	for _, e := range o.history(t, db, a.ID) {
		if e.Field == "status" {
			statusEntries++
			if string(e.Before) != fmt.Sprintf("%q", from) || string(e.After) != fmt.Sprintf("%q", to) {
				t.Errorf("status activity %s → %s, want %q → %q", e.Before, e.After, from, to)
			}
		}
	}
	if want := map[bool]int{true: 0, false: 1}[from == to]; statusEntries != want {
		t.Errorf("%d status entries, want %d", statusEntries, want)
	}
}

func TestUpdateDisposition(t *testing.T) {
	benign, fp := enum.DispositionBenign, enum.DispositionFalsePositive
	set := func(d *enum.Disposition) opt.Value[*enum.Disposition] { return opt.Of(d) }
	cases := []struct {
		name      string
		seed      alertState
		in        UpdateAlertInput
		wantField string // "" when the update succeeds
		want      *enum.Disposition
		entries   int // disposition entries written
	}{
		{"closing needs a disposition", seedFor(enum.AlertStatusNew, "k"),
			UpdateAlertInput{Status: ref(enum.AlertStatusClosed)}, "disposition", nil, 0},
		{"closing with one", seedFor(enum.AlertStatusNew, "k"),
			UpdateAlertInput{Status: ref(enum.AlertStatusClosed), Disposition: set(&fp)}, "", &fp, 1},
		{"resolved to closed needs one", seedFor(enum.AlertStatusResolved, "k"),
			UpdateAlertInput{Status: ref(enum.AlertStatusClosed)}, "disposition", nil, 0},
		{"changing a closed alert's disposition", seedFor(enum.AlertStatusClosed, "k"),
			UpdateAlertInput{Disposition: set(&fp)}, "", &fp, 1},
		{"a closed alert keeps its disposition", seedFor(enum.AlertStatusClosed, "k"),
			UpdateAlertInput{Disposition: set(&benign)}, "", &benign, 0},
		{"clearing it on a closed alert", seedFor(enum.AlertStatusClosed, "k"),
			UpdateAlertInput{Disposition: set(nil)}, "disposition", &benign, 0},
		{"disposition on an open alert", seedFor(enum.AlertStatusAcknowledged, "k"),
			UpdateAlertInput{Disposition: set(&benign)}, "disposition", nil, 0},
		{"disposition with an open status", seedFor(enum.AlertStatusNew, "k"),
			UpdateAlertInput{Status: ref(enum.AlertStatusAcknowledged), Disposition: set(&benign)}, "disposition", nil, 0},
		{"clearing on an open alert is a no-op", seedFor(enum.AlertStatusInProgress, "k"),
			UpdateAlertInput{Disposition: set(nil)}, "", nil, 0},
		{"reopening clears it", seedFor(enum.AlertStatusClosed, "k"),
			UpdateAlertInput{Status: ref(enum.AlertStatusInProgress)}, "", nil, 1},
		{"reopening with an explicit null", seedFor(enum.AlertStatusClosed, "k"),
			UpdateAlertInput{Status: ref(enum.AlertStatusNew), Disposition: set(nil)}, "", nil, 1},
		{"reopening cannot keep one", seedFor(enum.AlertStatusClosed, "k"),
			UpdateAlertInput{Status: ref(enum.AlertStatusAcknowledged), Disposition: set(&benign)}, "disposition", &benign, 0},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				seed := tc.seed
				if seed.dedupKey != nil {
					seed.dedupKey = ref(fmt.Sprint("key-", i))
				}
				a := o.newAlert(t, db, seed)
				_, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, tc.in)
				if tc.wantField != "" {
					wantInvalid(t, err, tc.wantField)
				} else if err != nil {
					t.Fatalf("update: %v", err)
				}
				stored := o.reload(t, db, a.ID)
				if !samePtr(stored.Disposition, tc.want) && tc.wantField == "" {
					t.Errorf("disposition = %v, want %v", audit.Opt(stored.Disposition), audit.Opt(tc.want))
				}
				if tc.wantField != "" && !samePtr(stored.Disposition, seed.disposition) {
					t.Errorf("refused update changed the disposition to %v", audit.Opt(stored.Disposition))
				}
				var n int
				for _, e := range o.history(t, db, a.ID) {
					if e.Field == "disposition" {
						n++
					}
				}
				if n != tc.entries {
					t.Errorf("%d disposition entries, want %d", n, tc.entries)
				}
			})
		}
	})
}

func TestUpdateAssignee(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		other := newTriageOrg(t, db, "globex")
		cases := []struct {
			name      string
			start     *uuid.UUID
			to        *uuid.UUID
			wantField string
			entries   int
		}{
			{"assign an active user", nil, &o.analyst.ID, "", 1},
			{"reassign", &o.admin.ID, &o.analyst.ID, "", 1},
			{"same assignee is a no-op", &o.admin.ID, &o.admin.ID, "", 0},
			{"null unassigns", &o.admin.ID, nil, "", 1},
			{"another organisation's user", nil, &other.admin.ID, "assignee_id", 0},
			{"an inactive user", nil, &o.inactive.ID, "assignee_id", 0},
			{"an unknown id", nil, ref(uuid.New()), "assignee_id", 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				a := o.newAlert(t, db, alertState{assignee: tc.start})
				_, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, UpdateAlertInput{AssigneeID: opt.Of(tc.to)})
				want := tc.to
				if tc.wantField != "" {
					wantInvalid(t, err, tc.wantField)
					want = tc.start
				} else if err != nil {
					t.Fatalf("update: %v", err)
				}
				if got := o.reload(t, db, a.ID).AssigneeID; !samePtr(got, want) {
					t.Errorf("assignee = %v, want %v", audit.Opt(got), audit.Opt(want))
				}
				es := o.history(t, db, a.ID)
				if len(es) != tc.entries {
					t.Fatalf("%d activity entries, want %d", len(es), tc.entries)
				}
				if tc.entries == 1 {
					checkJSON(t, "before", es[0].Before, audit.Opt(tc.start))
					checkJSON(t, "after", es[0].After, audit.Opt(tc.to))
				}
			})
		}
	})
}

// checkJSON compares a stored before/after value with want (nil: SQL NULL).
func checkJSON(t *testing.T, what string, got json.RawMessage, want any) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s = %s, want NULL", what, got)
		}
		return
	}
	// Compare decoded values: PostgreSQL's jsonb reformats the document.
	js, _ := json.Marshal(want)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s = %s: %v", what, got, err)
	}
	_ = json.Unmarshal(js, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, js)
	}
}

func TestUpdateTags(t *testing.T) {
	long := strings.Repeat("é", tags.MaxLength)
	many := make([]string, 0, tags.Max+5)
	for i := range tags.Max {
		many = append(many, fmt.Sprint("t", i))
	}
	many = append(many, "t0", " t1 ", "t2", "t3", "t4") // duplicates keep it at 50
	cases := []struct {
		name      string
		start     []string
		in        []string
		want      []string
		wantField string
	}{
		{"trimmed and deduplicated in order", nil, []string{" b ", "a", "b", "a ", "c"}, []string{"b", "a", "c"}, ""},
		{"64 characters", nil, []string{long}, []string{long}, ""},
		{"65 characters", nil, []string{long + "x"}, nil, "tags"},
		{"blank tag", nil, []string{"a", "  "}, nil, "tags"},
		{"50 distinct after deduplication", nil, many, many[:tags.Max], ""},
		{"51 distinct", nil, append(slices.Clone(many), "extra"), nil, "tags"},
		{"empty list clears", []string{"a"}, []string{}, []string{}, ""},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				a := o.newAlert(t, db, alertState{tags: tc.start})
				_, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, UpdateAlertInput{Tags: tc.in})
				if tc.wantField != "" {
					wantInvalid(t, err, tc.wantField)
					if n := len(o.history(t, db, a.ID)); n != 0 {
						t.Fatalf("refused tags wrote %d activity entries", n)
					}
					return
				}
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				if got := o.reload(t, db, a.ID).Tags; !slices.Equal(got, tc.want) {
					t.Errorf("tags = %q, want %q", got, tc.want)
				}
				es := o.history(t, db, a.ID)
				if len(es) != 1 || es[0].Field != "tags" {
					t.Fatalf("activity = %v, want one tags entry", es)
				}
				checkJSON(t, "before", es[0].Before, nonNilTags(tc.start))
				checkJSON(t, "after", es[0].After, tc.want)
			})
		}
	})
}

func TestUpdateRecordsOnlyChanges(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		start := alertState{
			status: enum.AlertStatusAcknowledged, severity: enum.SeverityMedium, acknowledged: ref(seededAt),
			assignee: &o.admin.ID, tags: []string{"a", "b"},
		}
		t.Run("a patch that changes nothing writes nothing", func(t *testing.T) {
			a := o.reload(t, db, o.newAlert(t, db, start).ID) // as stored, at the database's precision
			got, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, UpdateAlertInput{
				Status: ref(enum.AlertStatusAcknowledged), Severity: ref(enum.SeverityMedium),
				AssigneeID: opt.Of(&o.admin.ID), Tags: []string{" a", "b", "a"},
				Disposition: opt.Of[*enum.Disposition](nil),
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if n := len(o.history(t, db, a.ID)); n != 0 {
				t.Errorf("%d activity entries, want none", n)
			}
			if stored := o.reload(t, db, a.ID); !stored.UpdatedAt.Equal(a.UpdatedAt) || !got.UpdatedAt.Equal(a.UpdatedAt) {
				t.Errorf("updated_at moved from %v to %v", a.UpdatedAt, stored.UpdatedAt)
			}
		})
		t.Run("one entry per changed field with before and after", func(t *testing.T) {
			a := o.newAlert(t, db, start)
			got, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, UpdateAlertInput{
				Status: ref(enum.AlertStatusAcknowledged), Severity: ref(enum.SeverityCritical),
				AssigneeID: opt.Of(&o.analyst.ID), Tags: []string{"a", "b"},
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got.Severity != enum.SeverityCritical || got.SeverityRank != enum.SeverityCritical.Rank() {
				t.Errorf("severity %s rank %d, want critical rank %d", got.Severity, got.SeverityRank, enum.SeverityCritical.Rank())
			}
			es := o.history(t, db, a.ID)
			fields := map[string]*ent.Activity{}
			for _, e := range es {
				fields[e.Field] = e
				if e.Action != "update" || e.ActorID == nil || *e.ActorID != o.admin.ID || e.ActorName != o.admin.Name {
					t.Errorf("entry %s: action %q actor %v %q", e.Field, e.Action, e.ActorID, e.ActorName)
				}
			}
			if len(es) != 2 || fields["severity"] == nil || fields["assignee_id"] == nil {
				t.Fatalf("activity fields = %v, want severity and assignee_id", slices.Collect(maps.Keys(fields)))
			}
			checkJSON(t, "severity before", fields["severity"].Before, "medium")
			checkJSON(t, "severity after", fields["severity"].After, "critical")
			checkJSON(t, "assignee before", fields["assignee_id"].Before, o.admin.ID.String())
			checkJSON(t, "assignee after", fields["assignee_id"].After, o.analyst.ID.String())
		})
	})
}

func TestUpdateAcrossOrganisations(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := newTriageOrg(t, db, "acme")
		b := newTriageOrg(t, db, "globex")
		theirs := b.newAlert(t, db, alertState{})
		_, err := New(db.Client, db.Dialect).Update(a.ctx, theirs.ID, UpdateAlertInput{Severity: ref(enum.SeverityCritical)})
		if !ent.IsNotFound(err) {
			t.Fatalf("updating another organisation's alert: %v, want not found", err)
		}
		if _, err := New(db.Client, db.Dialect).Update(a.ctx, uuid.New(), UpdateAlertInput{}); !ent.IsNotFound(err) {
			t.Fatalf("updating an unknown alert: %v, want not found", err)
		}
		if got := b.reload(t, db, theirs.ID); got.Severity != enum.SeverityMedium {
			t.Fatalf("their alert changed to %s", got.Severity)
		}
		if n := db.Client.Activity.Query().CountX(auth.System(context.Background())); n != 0 {
			t.Fatalf("%d activity entries written", n)
		}
	})
}

// A failure after the row is written (here: the activity's actor cannot be
// resolved) rolls the change back.
func TestUpdateIsAtomic(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		a := o.reload(t, db, o.newAlert(t, db, alertState{}).ID)
		ghost := viewerContext(uuid.New(), o.org.ID)
		if _, err := New(db.Client, db.Dialect).Update(ghost, a.ID, UpdateAlertInput{Severity: ref(enum.SeverityHigh)}); err == nil {
			t.Fatal("update by an unknown actor succeeded")
		}
		if got := o.reload(t, db, a.ID); got.Severity != enum.SeverityMedium || !got.UpdatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("alert changed to %s despite the failure", got.Severity)
		}
	})
}

func TestTransitionAllowedMatchesTable(t *testing.T) {
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			want := from == to || allowedMoves[statePair{from, to}]
			if got := transitionAllowed(from, to); got != want {
				t.Errorf("%s → %s allowed = %v, want %v", from, to, got, want)
			}
		}
	}
}
