package trigger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/automation/trigger"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/automationtrigger"
	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// instance is one replica's automation: engine, trigger service, ingest and
// alerts wired as the server wires them.
type instance struct {
	engine   *trigger.Engine
	triggers *trigger.Service
	ingest   *ingest.Service
	alerts   *alerts.Service
}

func newInstance(db *storage.DB, limits trigger.Limits) *instance {
	eng := trigger.NewEngine(nil, slog.New(slog.DiscardHandler))
	inc := incidents.New(db.Client).WithTriggers(eng)
	eng.WithActions(trigger.Vocabulary{Exec: action.NewExecutor(action.Deps{Incidents: inc}), Max: limits.MaxActions})
	return &instance{
		engine:   eng,
		triggers: trigger.New(db.Client, eng, limits),
		ingest:   ingest.New(db, ingest.Options{AfterCreate: ingest.Chain{eng, notify.CriticalAlerts{}}}),
		alerts:   alerts.New(db.Client, db.Dialect).WithTriggers(eng),
	}
}

// fixture is an organisation with an admin, a reader and a connector.
type fixture struct {
	*instance
	db        *storage.DB
	org       *ent.Organization
	admin     context.Context
	reader    context.Context
	connector *ent.Connector
	connCtx   context.Context
}

func newFixture(t *testing.T, db *storage.DB, slug string, in *instance) *fixture {
	t.Helper()
	org := testenv.Org(t, db, testenv.Slug(slug))
	admin, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
	reader, _ := testenv.UserContext(t, db, org, enum.RoleReadOnly)
	c, key := testenv.Connector(t, db, org, "generic")
	v, err := auth.New(db.Client, auth.Config{}).AuthenticateConnector(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{instance: in, db: db, org: org, admin: admin, reader: reader, connector: c, connCtx: viewer.NewContext(context.Background(), v)}
}

func (f *fixture) create(t *testing.T, in trigger.CreateInput) *ent.AutomationTrigger {
	t.Helper()
	tr, err := f.triggers.Create(f.admin, in)
	if err != nil {
		t.Fatalf("create trigger %s: %v", in.Name, err)
	}
	return tr
}

func payload(title, severity, host string) map[string]any {
	return map[string]any{"title": title, "severity": severity, "source": "unit-test", "attributes": map[string]string{"host": host}}
}

// ingest posts the alerts as the connector and returns them as stored.
func (f *fixture) ingestAlerts(t *testing.T, items ...map[string]any) []*ent.Alert {
	t.Helper()
	body, _ := json.Marshal(items)
	res, err := f.ingest.Ingest(f.connCtx, f.connector, body)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	out := make([]*ent.Alert, len(res.Results))
	for i, r := range res.Results {
		if out[i], err = f.db.Client.Alert.Get(f.admin, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (f *fixture) get(t *testing.T, id uuid.UUID) *ent.AutomationTrigger {
	t.Helper()
	tr, err := f.triggers.Trigger(f.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func actions(s string) json.RawMessage { return json.RawMessage(s) }

func ptr[T any](v T) *T { return &v }

// codeOf is err's apperr code, "" for none.
func codeOf(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return ""
}

var schematypeSchedule = schematype.TriggerSchedule{Days: []string{"sun"}, From: "02:00", Until: "04:00", TimeZone: "Europe/Berlin"}

func TestOrderAndStopProcessing(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", newInstance(db, trigger.Limits{}))
		cases := []struct {
			name     string
			stop     bool
			severity enum.Severity
			tags     []string
		}{
			// Both run in position order: the second's severity wins.
			{"in order", false, enum.SeverityCritical, []string{"first", "second"}},
			// The first matched and stops: the second never runs.
			{"stop processing", true, enum.SeverityLow, []string{"first"}},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				host := fmt.Sprintf("web-%d", i)
				cond := fmt.Sprintf(`attributes.host == %q`, host)
				second := f.create(t, trigger.CreateInput{Name: "second " + host, Event: enum.TriggerEventAlertCreated, Condition: &cond,
					Actions: actions(`[{"type":"set_severity","severity":"critical"},{"type":"add_tags","tags":["second"]}]`)})
				// Created after, but placed first.
				first := f.create(t, trigger.CreateInput{Name: "first " + host, Event: enum.TriggerEventAlertCreated, Condition: &cond, Position: ptr(1),
					StopProcessing: ptr(tc.stop), Actions: actions(`[{"type":"set_severity","severity":"low"},{"type":"add_tags","tags":["first"]}]`)})
				if p1, p2 := f.get(t, first.ID).Position, f.get(t, second.ID).Position; p1 != 1 || p2 <= p1 {
					t.Fatalf("positions: first %d second %d", p1, p2)
				}
				a := f.ingestAlerts(t, payload("NodeDown", "high", host))[0]
				if a.Severity != tc.severity || !slices.Equal(a.Tags, tc.tags) {
					t.Fatalf("alert: severity %s tags %v, want %s %v", a.Severity, a.Tags, tc.severity, tc.tags)
				}
				// Done by the trigger, in the alert's activity.
				n, err := db.Client.Activity.Query().Where(activity.EntityID(a.ID), activity.ActorName("trigger:first "+host)).Count(f.admin)
				if err != nil || n == 0 {
					t.Fatalf("activity by the trigger: %d, %v", n, err)
				}
				if got := f.get(t, second.ID).FiredCount; (got == 1) == tc.stop {
					t.Fatalf("second fired %d times (stop %v)", got, tc.stop)
				}
				// Another host: neither matches.
				if b := f.ingestAlerts(t, payload("NodeDown", "high", "db-1"+host))[0]; len(b.Tags) != 0 || b.Severity != enum.SeverityHigh {
					t.Fatalf("unmatched alert changed: %+v", b)
				}
			})
		}
	})
}

func TestUpdatesAndNoLoops(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", newInstance(db, trigger.Limits{}))
		onAck := `changes.status.to == "acknowledged"`
		onSeverity := `has(changes.severity)`
		ack := f.create(t, trigger.CreateInput{Name: "ack escalates", Event: enum.TriggerEventAlertUpdated, Condition: &onAck,
			Actions: actions(`[{"type":"set_severity","severity":"critical"}]`)})
		// Would fire on the severity change the first trigger makes, were
		// a trigger's change to fire alert.updated again.
		sev := f.create(t, trigger.CreateInput{Name: "severity tagger", Event: enum.TriggerEventAlertUpdated, Condition: &onSeverity,
			Actions: actions(`[{"type":"add_tags","tags":["severity-changed"]}]`)})
		a := f.ingestAlerts(t, payload("Beacon", "medium", "h1"))[0]
		got, err := f.alerts.Update(f.admin, a.ID, alerts.UpdateAlertInput{Status: ptr(enum.AlertStatusAcknowledged)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Severity != enum.SeverityCritical || len(got.Tags) != 0 {
			t.Fatalf("after ack: severity %s tags %v (a trigger's change fired alert.updated)", got.Severity, got.Tags)
		}
		if f.get(t, ack.ID).FiredCount != 1 || f.get(t, sev.ID).FiredCount != 0 {
			t.Fatalf("fired: ack %d severity %d", f.get(t, ack.ID).FiredCount, f.get(t, sev.ID).FiredCount)
		}
		// A person's severity change (a bulk action too) fires it.
		if _, err := f.alerts.Bulk(f.admin, alerts.BulkAlertsInput{AlertIDs: []uuid.UUID{a.ID}, Action: enum.BulkAlertActionUpdate,
			Changes: &alerts.BulkAlertChanges{Severity: ptr(enum.SeverityLow)}}); err != nil {
			t.Fatal(err)
		}
		if b, _ := db.Client.Alert.Get(f.admin, a.ID); !slices.Equal(b.Tags, []string{"severity-changed"}) {
			t.Fatalf("bulk change did not fire alert.updated: tags %v", b.Tags)
		}
	})
}

func TestFailureIsolationAndAutoDisable(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", newInstance(db, trigger.Limits{}))
		// Assigning a user that does not exist fails at run time.
		broken := f.create(t, trigger.CreateInput{Name: "broken", Event: enum.TriggerEventAlertCreated,
			Actions: actions(fmt.Sprintf(`[{"type":"add_tags","tags":["half"]},{"type":"assign","user_id":%q}]`, uuid.New()))})
		fine := f.create(t, trigger.CreateInput{Name: "fine", Event: enum.TriggerEventAlertCreated, Actions: actions(`[{"type":"add_tags","tags":["ok"]}]`)})
		items := make([]map[string]any, trigger.AutoDisableAfter-1)
		for i := range items {
			items[i] = payload(fmt.Sprint("alert ", i), "high", "h")
		}
		got := f.ingestAlerts(t, items...)
		for _, a := range got {
			// The failing trigger's first action rolled back with it; the
			// alert and the other trigger's work are kept.
			if !slices.Equal(a.Tags, []string{"ok"}) {
				t.Fatalf("alert %s tags %v", a.Title, a.Tags)
			}
		}
		b := f.get(t, broken.ID)
		if !b.Enabled || b.FailureCount != trigger.AutoDisableAfter-1 || b.LastError == "" || b.FiredCount != 0 {
			t.Fatalf("after %d failures: %+v", trigger.AutoDisableAfter-1, b)
		}
		f.ingestAlerts(t, payload("the last straw", "high", "h"))
		b = f.get(t, broken.ID)
		if b.Enabled || b.FailureCount != trigger.AutoDisableAfter {
			t.Fatalf("not disabled after %d failures: %+v", trigger.AutoDisableAfter, b)
		}
		n, err := db.Client.Notification.Query().Where(notification.KindEQ(enum.NotificationKindAutomationFailed)).Count(viewer.ForJob(context.Background(), f.org.ID))
		if err != nil || n != 1 {
			t.Fatalf("automation_failed notifications: %d, %v", n, err)
		}
		// Disabled, it no longer runs; the other goes on.
		a := f.ingestAlerts(t, payload("after", "high", "h"))[0]
		if !slices.Equal(a.Tags, []string{"ok"}) || f.get(t, broken.ID).FailureCount != trigger.AutoDisableAfter || f.get(t, fine.ID).FiredCount != trigger.AutoDisableAfter+1 {
			t.Fatalf("after disabling: tags %v, fine fired %d", a.Tags, f.get(t, fine.ID).FiredCount)
		}
		// Enabling it again clears the streak.
		if tr, err := f.triggers.Update(f.admin, broken.ID, trigger.UpdateInput{Enabled: ptr(true)}); err != nil || tr.FailureCount != 0 || !tr.Enabled {
			t.Fatalf("re-enable: %+v, %v", tr, err)
		}
	})
}

func TestTenancy(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		in := newInstance(db, trigger.Limits{})
		a := newFixture(t, db, "acme", in)
		b := newFixture(t, db, "globex", in)
		tr := a.create(t, trigger.CreateInput{Name: "tag all", Event: enum.TriggerEventAlertCreated, Actions: actions(`[{"type":"add_tags","tags":["acme"]}]`)})
		theirs := b.ingestAlerts(t, payload("globex alert", "high", "h"))[0]
		if len(theirs.Tags) != 0 {
			t.Fatalf("another organisation's trigger acted: %v", theirs.Tags)
		}
		// Even handed the other organisation's id, a trigger never sees it.
		err := storage.InTx(a.admin, db.Client, func(tx *ent.Tx) error {
			return in.engine.Happened(a.admin, tx, enum.TriggerEventAlertCreated, theirs.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Client.Alert.Get(b.admin, theirs.ID); len(got.Tags) != 0 || a.get(t, tr.ID).FiredCount != 0 {
			t.Fatalf("crossed organisations: tags %v", got.Tags)
		}
		for _, call := range []func() error{
			func() error { _, err := b.triggers.Trigger(b.admin, tr.ID); return err },
			func() error {
				_, err := b.triggers.Update(b.admin, tr.ID, trigger.UpdateInput{Name: ptr("x")})
				return err
			},
			func() error {
				_, err := b.triggers.Reorder(b.admin, tr.ID, trigger.ReorderInput{Position: ptr(1)})
				return err
			},
			func() error { _, err := b.triggers.Test(b.admin, tr.ID, nil); return err },
			func() error { return b.triggers.Delete(b.admin, tr.ID) },
		} {
			if err := call(); codeOf(err) != apperr.NotFound {
				t.Fatalf("another organisation's trigger: %v, want not found", err)
			}
		}
		if _, err := a.triggers.Create(a.reader, trigger.CreateInput{Name: "x", Event: enum.TriggerEventAlertCreated, Actions: actions(`[]`)}); codeOf(err) != apperr.Forbidden {
			t.Fatalf("read-only create: %v", err)
		}
	})
}

func TestLimits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", newInstance(db, trigger.Limits{MaxTriggers: 3, MaxActions: 2}))
		for i := range 3 {
			f.create(t, trigger.CreateInput{Name: fmt.Sprint("t", i), Event: enum.TriggerEventIncidentCreated, Actions: actions(`[]`)})
		}
		_, err := f.triggers.Create(f.admin, trigger.CreateInput{Name: "one too many", Event: enum.TriggerEventAlertCreated, Actions: actions(`[]`)})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput {
			t.Fatalf("fourth trigger: %v", err)
		}
		_, err = f.triggers.Update(f.admin, uuid.Nil, trigger.UpdateInput{})
		if codeOf(err) != apperr.NotFound {
			t.Fatalf("unknown id: %v", err)
		}
		list, _ := f.triggers.Triggers(f.admin, nil, paging.Page{})
		_, err = f.triggers.Update(f.admin, list.Edges[0].Node.ID, trigger.UpdateInput{Actions: actions(`[{"type":"add_tags","tags":["a"]},{"type":"add_tags","tags":["b"]},{"type":"add_tags","tags":["c"]}]`)})
		if e, ok := apperr.As(err); !ok || e.Field != "actions" {
			t.Fatalf("three actions over a limit of two: %v", err)
		}
	})
}

func TestConcurrentReorder(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", newInstance(db, trigger.Limits{}))
		var ids []uuid.UUID
		for i := range 8 {
			ids = append(ids, f.create(t, trigger.CreateInput{Name: fmt.Sprint("t", i), Event: enum.TriggerEventAlertCreated, Actions: actions(`[]`)}).ID)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 7))
				for range 8 {
					id := ids[r.IntN(len(ids))]
					in := trigger.ReorderInput{Position: ptr(1 + r.IntN(10))}
					if r.IntN(2) == 0 {
						other := ids[r.IntN(len(ids))]
						if other == id {
							continue
						}
						in = trigger.ReorderInput{After: &other}
					}
					if _, err := f.triggers.Reorder(f.admin, id, in); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent reorder: %v", err)
		}
		rows, err := db.Client.AutomationTrigger.Query().Where(automationtrigger.EventEQ(enum.TriggerEventAlertCreated)).
			Order(ent.Asc(automationtrigger.FieldPosition)).All(f.admin)
		if err != nil || len(rows) != len(ids) {
			t.Fatalf("rows %d, %v", len(rows), err)
		}
		for i, r := range rows {
			if r.Position != i+1 {
				t.Fatalf("positions not dense and unique: %d at %d", r.Position, i)
			}
		}
	})
}

// Two replicas on one database: a trigger created through one is used by
// the other's ingest once the outbox drops the other's cache.
func TestCacheRefreshAcrossReplicas(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		other := db
		if db.Pool != nil {
			other = testenv.Replica(t, db)
		}
		one, two := newInstance(db, trigger.Limits{}), newInstance(other, trigger.Limits{})
		h := hub.New(other, hub.Config{PollInterval: 50 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := h.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Stop(context.Background()) })
		two.engine.Watch(h)
		f := newFixture(t, db, "acme", one)
		f2 := *f
		f2.instance = two
		// The second replica caches "no triggers".
		if a := f2.ingestAlerts(t, payload("before", "high", "h"))[0]; len(a.Tags) != 0 || !two.engine.Cached(f.org.ID) {
			t.Fatalf("before: tags %v cached %v", a.Tags, two.engine.Cached(f.org.ID))
		}
		f.create(t, trigger.CreateInput{Name: "tag", Event: enum.TriggerEventAlertCreated, Actions: actions(`[{"type":"add_tags","tags":["seen"]}]`)})
		testenv.Eventually(t, 10*time.Second, "the other replica drops its cached triggers", func() bool { return !two.engine.Cached(f.org.ID) })
		if a := f2.ingestAlerts(t, payload("after", "high", "h"))[0]; !slices.Equal(a.Tags, []string{"seen"}) {
			t.Fatalf("after: tags %v", a.Tags)
		}
	})
}

// "Suppress NodeDown from web-prod-* every Sunday 02:00–04:00
// Europe/Berlin": inside the window the alert is stored closed and
// suppressed, and the on-duty group never hears of it; outside it is not.
func TestMaintenanceWindow(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		in := newInstance(db, trigger.Limits{})
		f := newFixture(t, db, "acme", in)
		berlin, _ := time.LoadLocation("Europe/Berlin")
		clock := time.Date(2026, 3, 1, 3, 0, 0, 0, berlin) // a Sunday, 03:00
		in.engine.WithClock(func() time.Time { return clock })
		admin := testenv.User(t, db, f.org, enum.RoleAdmin)
		g, err := db.Client.Group.Create().SetName("on duty").AddMemberIDs(admin.ID).Save(f.admin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := notify.NewService(db.Client).SetOnDutyGroup(f.admin, &g.ID); err != nil {
			t.Fatal(err)
		}
		cond := `title == "NodeDown" && attributes.host.startsWith("web-prod-")`
		f.create(t, trigger.CreateInput{Name: "Sunday patching", Event: enum.TriggerEventAlertCreated, Condition: &cond,
			Schedule: &schematypeSchedule, Actions: actions(`[{"type":"suppress","disposition":"benign","reason":"Sunday patching window"}]`)})
		critical := func(title, host string) *ent.Alert {
			return f.ingestAlerts(t, payload(title, "critical", host))[0]
		}
		if a := critical("NodeDown", "web-prod-3"); a.Status != enum.AlertStatusClosed || !a.Suppressed {
			t.Fatalf("in the window: %s suppressed %v", a.Status, a.Suppressed)
		}
		if a := critical("NodeDown", "db-prod-1"); a.Status != enum.AlertStatusNew {
			t.Fatalf("another host: %s", a.Status)
		}
		clock = clock.Add(2 * time.Hour) // 05:00
		if a := critical("NodeDown", "web-prod-4"); a.Status != enum.AlertStatusNew {
			t.Fatalf("after the window: %s", a.Status)
		}
		n, err := db.Client.Notification.Query().Where(notification.KindEQ(enum.NotificationKindCriticalAlert)).Count(viewer.ForJob(context.Background(), f.org.ID))
		if err != nil || n != 2 {
			t.Fatalf("critical notifications %d, %v; want 2 (none for the suppressed alert)", n, err)
		}
		if c, _ := db.Client.Alert.Query().Where(alert.Suppressed(true)).Count(f.admin); c != 1 {
			t.Fatalf("suppressed alerts stored: %d", c)
		}
	})
}
