package action

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// fixture is an organisation with an admin, two analysts in a group, and
// the executor.
type fixture struct {
	db     *storage.DB
	org    *ent.Organization
	admin  *ent.User
	group  *ent.Group
	member []uuid.UUID
	ctx    context.Context // the admin
	job    context.Context // the organisation's system principal
	exec   *Executor
}

func newFixture(t *testing.T, db *storage.DB, slug string) *fixture {
	t.Helper()
	org := testenv.Org(t, db, testenv.Slug(slug))
	f := &fixture{db: db, org: org, admin: testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("ada"))}
	f.ctx = testenv.As(f.admin, org)
	f.job = viewer.ForJob(context.Background(), org.ID)
	u1 := testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("bob"))
	u2 := testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("cat"))
	off := testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("dan"), testenv.Inactive())
	g, err := db.Client.Group.Create().SetName("EDR").AddMemberIDs(u1.ID, u2.ID, off.ID).Save(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.group, f.member = g, []uuid.UUID{u1.ID, u2.ID}
	slices.SortFunc(f.member, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	f.exec = NewExecutor(Deps{Incidents: incidents.New(db.Client)})
	return f
}

func (f *fixture) alert(t *testing.T, tags ...string) *ent.Alert {
	t.Helper()
	a, err := f.db.Client.Alert.Create().SetTitle("alert").SetSource("generic").SetTags(tags).Save(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runAlert applies list to alert id as ctx's viewer, in one transaction.
func (f *fixture) runAlert(ctx context.Context, id uuid.UUID, list []Action, o Options) (*Result, error) {
	var res *Result
	err := storage.InTx(ctx, f.db.Client, func(tx *ent.Tx) error {
		a, err := tx.Alert.Get(ctx, id)
		if err != nil {
			return err
		}
		res, err = f.exec.RunAlert(ctx, tx, a, list, o)
		return err
	})
	return res, err
}

func mustParse(t *testing.T, raw string, target enum.AutomationTarget) []Action {
	t.Helper()
	l, err := Parse([]byte(raw), ParseOptions{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRunAlertFieldActions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		cases := []struct {
			name    string
			tags    []string
			actions string
			check   func(t *testing.T, a *ent.Alert)
			fields  []string
		}{
			{"severity", nil, `[{"type":"set_severity","severity":"critical"}]`, func(t *testing.T, a *ent.Alert) {
				if a.Severity != enum.SeverityCritical || a.SeverityRank != 5 {
					t.Errorf("severity %s rank %d", a.Severity, a.SeverityRank)
				}
			}, []string{"severity"}},
			{"tags", []string{"old", "x"}, `[{"type":"add_tags","tags":["edr","x"]},{"type":"remove_tags","tags":["old"]}]`, func(t *testing.T, a *ent.Alert) {
				if !slices.Equal(a.Tags, []string{"x", "edr"}) {
					t.Errorf("tags %v", a.Tags)
				}
			}, []string{"tags", "tags"}},
			{"remove every tag", []string{"a", "b"}, `[{"type":"remove_tags"}]`, func(t *testing.T, a *ent.Alert) {
				if len(a.Tags) != 0 {
					t.Errorf("tags %v", a.Tags)
				}
			}, []string{"tags"}},
			{"status with disposition", nil, `[{"type":"set_status","status":"closed","disposition":"false_positive"}]`, func(t *testing.T, a *ent.Alert) {
				if a.Status != enum.AlertStatusClosed || a.Disposition == nil || *a.Disposition != enum.DispositionFalsePositive || a.ResolvedAt == nil || a.Suppressed {
					t.Errorf("alert %+v", a)
				}
			}, []string{"status", "disposition"}},
			{"suppress", nil, `[{"type":"suppress","disposition":"benign","reason":"Sunday maintenance"}]`, func(t *testing.T, a *ent.Alert) {
				if a.Status != enum.AlertStatusClosed || *a.Disposition != enum.DispositionBenign || !a.Suppressed || a.SuppressionReason != "Sunday maintenance" {
					t.Errorf("alert %+v", a)
				}
			}, []string{"status", "disposition", "suppression_reason"}},
			{"assign user", nil, `[{"type":"assign","user_id":"` + f.member[1].String() + `"}]`, func(t *testing.T, a *ent.Alert) {
				if a.AssigneeID == nil || *a.AssigneeID != f.member[1] || a.AcknowledgedAt != nil {
					t.Errorf("assignee %v acknowledged %v", a.AssigneeID, a.AcknowledgedAt)
				}
			}, []string{"assignee_id"}},
			{"nothing to change", []string{"x"}, `[{"type":"add_tags","tags":["x"]}]`, func(t *testing.T, a *ent.Alert) {}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := f.alert(t, c.tags...)
				res, err := f.runAlert(f.job, a.ID, mustParse(t, c.actions, enum.AutomationTargetAlert), Options{Actor: "trigger:Route"})
				if err != nil {
					t.Fatal(err)
				}
				var fields []string
				for _, ch := range res.Changes {
					fields = append(fields, ch.Field)
				}
				if !slices.Equal(fields, c.fields) {
					t.Errorf("changes %v, want %v", fields, c.fields)
				}
				got, err := db.Client.Alert.Get(f.ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				c.check(t, got)
				acts, err := db.Client.Activity.Query().Where(activity.EntityID(a.ID)).All(f.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(acts) != len(c.fields) {
					t.Errorf("%d activity records, want %d", len(acts), len(c.fields))
				}
				for _, r := range acts {
					if r.ActorName != "trigger:Route" || r.ActorID != nil {
						t.Errorf("activity by %q (%v), want the trigger", r.ActorName, r.ActorID)
					}
				}
			})
		}
	})
}

func TestRunAlertRefusesAndWritesNothing(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		other := newFixture(t, db, "other")
		empty, err := db.Client.Group.Create().SetName("Nobody").Save(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct{ name, actions, field string }{
			{"another org's user", `[{"type":"set_severity","severity":"low"},{"type":"assign","user_id":"` + other.member[0].String() + `"}]`, "actions[1].user_id"},
			{"another org's group", `[{"type":"assign","group_id":"` + other.group.ID.String() + `"}]`, "actions[0].group_id"},
			{"group without active members", `[{"type":"assign","group_id":"` + empty.ID.String() + `"}]`, "actions[0].group_id"},
			{"another org's macro", `[{"type":"apply_macro","macro_id":"` + other.macro(t, "m", enum.AutomationTargetAlert, nil).ID.String() + `"}]`, "actions[0].macro_id"},
			{"status backwards", `[{"type":"set_status","status":"in_progress"},{"type":"set_status","status":"acknowledged"}]`, "actions[1].status"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := f.alert(t)
				_, err := f.runAlert(f.job, a.ID, mustParse(t, c.actions, enum.AutomationTargetAlert), Options{})
				e, ok := apperr.As(err)
				if !ok || e.Field != c.field {
					t.Fatalf("err %v, want a 422 on %s", err, c.field)
				}
				got, _ := db.Client.Alert.Get(f.ctx, a.ID)
				if got.Severity != a.Severity || got.AssigneeID != nil || got.Status != a.Status {
					t.Errorf("alert changed: %+v", got)
				}
			})
		}
	})
}

func (f *fixture) macro(t *testing.T, name string, target enum.AutomationTarget, list []schematype.Action) *ent.AutomationMacro {
	t.Helper()
	if list == nil {
		list = []schematype.Action{}
	}
	m, err := f.db.Client.AutomationMacro.Create().SetName(name).SetTarget(target).SetActions(list).Save(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundRobinUnderConcurrency(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		list := mustParse(t, `[{"type":"assign","group_id":"`+f.group.ID.String()+`"}]`, enum.AutomationTargetAlert)
		const n = 6
		ids := make([]uuid.UUID, n)
		for i := range ids {
			ids[i] = f.alert(t).ID
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.runAlert(f.job, id, list, Options{})
			}()
		}
		wg.Wait()
		count := map[uuid.UUID]int{}
		for i, id := range ids {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			a, _ := db.Client.Alert.Get(f.ctx, id)
			count[*a.AssigneeID]++
		}
		if count[f.member[0]] != n/2 || count[f.member[1]] != n/2 {
			t.Fatalf("assignments %v, want %d each to the two active members", count, n/2)
		}
	})
}

func TestApplyMacroGuardsCycles(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		inner := f.macro(t, "inner", enum.AutomationTargetAlert, []schematype.Action{{Type: TypeAddTags, Tags: []string{"fp"}}})
		outer := f.macro(t, "outer", enum.AutomationTargetAlert, []schematype.Action{{Type: TypeApplyMacro, MacroID: &inner.ID}, {Type: TypeSetSeverity, Severity: "low"}})
		a := f.alert(t)
		res, err := f.runAlert(f.ctx, a.ID, []Action{{Type: TypeApplyMacro, MacroID: &outer.ID}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Changes) != 2 || res.Alert.Severity != enum.SeverityLow || !slices.Equal(res.Alert.Tags, []string{"fp"}) {
			t.Fatalf("nested macro: %+v", res.Changes)
		}
		// A cycle written around the save-time check (directly in the
		// database) is still refused when run.
		if err := db.Client.AutomationMacro.UpdateOne(inner).SetActions([]schematype.Action{{Type: TypeApplyMacro, MacroID: &outer.ID}}).Exec(f.ctx); err != nil {
			t.Fatal(err)
		}
		_, err = f.runAlert(f.ctx, a.ID, []Action{{Type: TypeApplyMacro, MacroID: &outer.ID}}, Options{})
		if e, ok := apperr.As(err); !ok || e.Field != "actions[0].macro.actions[0].macro.actions[0].macro_id" {
			t.Fatalf("cycle: %v", err)
		}
		incMacro := f.macro(t, "for incidents", enum.AutomationTargetIncident, nil)
		_, err = f.runAlert(f.ctx, a.ID, []Action{{Type: TypeApplyMacro, MacroID: &incMacro.ID}}, Options{})
		if e, ok := apperr.As(err); !ok || e.Field != "actions[0].macro_id" {
			t.Fatalf("incident macro on an alert: %v", err)
		}
	})
}

func TestRunIncident(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		inc, err := incidents.New(db.Client).Create(f.ctx, incidents.CreateIncidentInput{Title: "Breach"})
		if err != nil {
			t.Fatal(err)
		}
		list := mustParse(t, `[{"type":"set_severity","severity":"high"},{"type":"add_tags","tags":["edr"]},{"type":"assign","group_id":"`+f.group.ID.String()+`"},{"type":"set_status","status":"closed","disposition":"true_positive"}]`, enum.AutomationTargetIncident)
		var res *Result
		err = storage.InTx(f.job, db.Client, func(tx *ent.Tx) error {
			cur, err := tx.Incident.Get(f.job, inc.ID)
			if err != nil {
				return err
			}
			res, err = f.exec.RunIncident(f.job, tx, cur, list, Options{Actor: "trigger:Close"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		res.AfterCommit(f.job)
		got, _ := db.Client.Incident.Get(f.ctx, inc.ID)
		if got.Severity != enum.SeverityHigh || !slices.Equal(got.Tags, []string{"edr"}) || got.AssigneeID == nil || got.Status != enum.IncidentStatusClosed {
			t.Fatalf("incident %+v", got)
		}
		bad := mustParse(t, `[{"type":"set_status","status":"new"}]`, enum.AutomationTargetIncident)
		err = storage.InTx(f.job, db.Client, func(tx *ent.Tx) error {
			cur, err := tx.Incident.Get(f.job, inc.ID)
			if err != nil {
				return err
			}
			_, err = f.exec.RunIncident(f.job, tx, cur, bad, Options{})
			return err
		})
		if e, ok := apperr.As(err); !ok || e.Field != "actions[0].status" {
			t.Fatalf("closed → new: %v", err)
		}
	})
}
