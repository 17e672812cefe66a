package trigger_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/automation/trigger"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
)

// newInstanceWith is newInstance whose vocabulary seals webhook secrets
// with box and checks URLs against policies.
func newInstanceWith(db *storage.DB, box *secrets.Box, policies outbound.Policies) *instance {
	eng := trigger.NewEngine(nil, slog.New(slog.DiscardHandler))
	inc := incidents.New(db.Client).WithTriggers(eng)
	eng.WithActions(trigger.Vocabulary{Exec: action.NewExecutor(action.Deps{Incidents: inc, Policies: policies}), Box: box})
	return &instance{
		engine:   eng,
		triggers: trigger.New(db.Client, eng, trigger.Limits{}),
		ingest:   ingest.New(db, ingest.Options{AfterCreate: ingest.Chain{eng, notify.CriticalAlerts{}}}),
		alerts:   alerts.New(db.Client, db.Dialect).WithTriggers(eng),
	}
}

// Correlation through triggers on two replicas of one database: two
// alerts of one host ingested at the same instant, one through each, end
// in one incident; that incident, opened by automation, fires the
// incident.created triggers once, and their change fires no
// incident.updated trigger (no loops).
func TestCorrelationAcrossReplicas(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		other := db
		if db.Pool != nil {
			other = testenv.Replica(t, db)
		}
		one, two := newInstance(db, trigger.Limits{}), newInstance(other, trigger.Limits{})
		f := newFixture(t, db, "acme", one)
		f2 := *f
		f2.instance = two
		group := f.create(t, trigger.CreateInput{Name: "Group by host", Event: enum.TriggerEventAlertCreated,
			Actions: actions(`[{"type":"link_incident","incident_key":"attributes.host","window":"30m"}]`)})
		opened := f.create(t, trigger.CreateInput{Name: "Tag new incidents", Event: enum.TriggerEventIncidentCreated,
			Actions: actions(`[{"type":"add_tags","tags":["correlated"]}]`)})
		updated := f.create(t, trigger.CreateInput{Name: "On incident change", Event: enum.TriggerEventIncidentUpdated,
			Actions: actions(`[{"type":"add_tags","tags":["changed"]}]`)})

		start := make(chan struct{})
		var wg sync.WaitGroup
		got := make([]*ent.Alert, 2)
		for i, fx := range []*fixture{f, &f2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// Two alerts, not a repeat merged into the first.
				got[i] = fx.ingestAlerts(t, payload([]string{"NodeDown", "DiskFull"}[i], "high", "web-7"))[0]
			}()
		}
		close(start)
		wg.Wait()
		if got[0] == nil || got[1] == nil || got[0].ID == got[1].ID || got[0].IncidentID == nil || got[1].IncidentID == nil || *got[0].IncidentID != *got[1].IncidentID {
			t.Fatalf("alerts of one host not in one incident: %v / %v (last error %q)", got[0].IncidentID, got[1].IncidentID, f.get(t, group.ID).LastError)
		}
		list, err := db.Client.Incident.Query().All(f.admin)
		if err != nil || len(list) != 1 {
			t.Fatalf("%d incidents, want 1 (%v)", len(list), err)
		}
		inc := list[0]
		if inc.AlertCount != 2 || !slices.Contains(inc.Tags, "correlated") || slices.Contains(inc.Tags, "changed") {
			n, _ := db.Client.Alert.Query().Where(alert.IncidentID(inc.ID)).Count(f.admin)
			t.Fatalf("incident: %d alerts (%d linked), tags %v", inc.AlertCount, n, inc.Tags)
		}
		if n := f.get(t, opened.ID).FiredCount; n != 1 {
			t.Fatalf("incident.created fired %d times, want 1", n)
		}
		if n := f.get(t, updated.ID).FiredCount; n != 0 {
			t.Fatalf("incident.updated fired %d times on automation's changes, want 0", n)
		}
		// Another host opens its own incident, which fires incident.created
		// once more.
		if a := f.ingestAlerts(t, payload("NodeDown", "high", "db-1"))[0]; a.IncidentID == nil || *a.IncidentID == inc.ID {
			t.Fatalf("another host: incident %v", a.IncidentID)
		}
		if n := f.get(t, opened.ID).FiredCount; n != 2 {
			t.Fatalf("incident.created fired %d times, want 2", n)
		}
		all, _ := db.Client.Incident.Query().All(f.admin)
		for _, n := range all {
			if !slices.Contains(n.Tags, "correlated") {
				t.Fatalf("incident %d opened by correlation not tagged: %v", n.Number, n.Tags)
			}
		}
	})
}

// A webhook action end to end: a trigger fires on ingest, the delivery
// goes out after commit through the outbound policy (loopback allowed
// here), a first failing answer is retried by the job, and the receiver
// checks the HMAC-SHA256 signature and the JSON body. The secret is sealed
// when saved and never shown.
func TestWebhookThroughTrigger(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		box := testenv.Box(t)
		const secret = "chat-s3cret"
		type delivery struct {
			header http.Header
			body   []byte
		}
		var calls atomic.Int32
		delivered := make(chan delivery, 1)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if calls.Add(1) == 1 {
				http.Error(w, "down for a moment", http.StatusInternalServerError)
				return
			}
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			if r.Header.Get(action.HeaderSignature) != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			delivered <- delivery{r.Header.Clone(), body}
		}))
		defer recv.Close()
		policies := outbound.Fixed{Policy: outbound.NewPolicy(netip.MustParsePrefix("127.0.0.0/8"))}
		ws := river.NewWorkers()
		river.AddWorker(ws, action.NewWebhookWorker(box, policies))
		runner, err := jobs.New(db, jobs.Config{Workers: ws, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryPolicy: testenv.RetryAfter(50 * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = runner.Stop(ctx)
		})
		f := newFixture(t, db, "acme", newInstanceWith(db, box, policies))
		cond := `severity == "critical"`
		tr := f.create(t, trigger.CreateInput{Name: "Chat on critical", Event: enum.TriggerEventAlertCreated, Condition: &cond,
			Actions: actions(`[{"type":"webhook","url":"` + recv.URL + `/hook","secret":"` + secret + `"}]`)})
		shown, err := f.triggers.Actions(f.admin, tr)
		if err != nil || strings.Contains(string(shown), secret) || strings.Contains(string(shown), "secret") || !strings.Contains(string(shown), recv.URL) {
			t.Fatalf("shown actions %s (%v)", shown, err)
		}
		if strings.Contains(string(tr.Actions), secret) {
			t.Fatalf("the secret is stored in clear: %s", tr.Actions)
		}
		// Renaming keeps the sealed secret; the list saved again without
		// it keeps it for the same URL.
		if _, err := f.triggers.Update(f.admin, tr.ID, trigger.UpdateInput{Actions: shown}); err != nil {
			t.Fatalf("saving the shown list back: %v", err)
		}
		f.ingestAlerts(t, payload("quiet", "low", "h")) // the condition does not hold: nothing sent
		a := f.ingestAlerts(t, payload("Ransomware on web-7", "critical", "web-7"))[0]
		var d delivery
		select {
		case d = <-delivered:
		case <-time.After(30 * time.Second):
			t.Fatalf("no signed delivery after %d calls", calls.Load())
		}
		var body struct {
			Event      string `json:"event"`
			ObjectType string `json:"object_type"`
			ObjectID   string `json:"object_id"`
			Actor      string `json:"actor"`
			Object     struct {
				Title string `json:"title"`
			} `json:"object"`
		}
		if err := json.Unmarshal(d.body, &body); err != nil {
			t.Fatalf("body %s: %v", d.body, err)
		}
		if body.Event != "alert.created" || body.ObjectType != "alert" || body.ObjectID != a.ID.String() ||
			body.Object.Title != "Ransomware on web-7" || body.Actor != "trigger:Chat on critical" {
			t.Fatalf("body %s", d.body)
		}
		if d.header.Get(action.HeaderDelivery) == "" || d.header.Get("Content-Type") != "application/json" {
			t.Fatalf("headers %v", d.header)
		}
		if n := calls.Load(); n != 2 {
			t.Fatalf("%d calls, want a failure then the delivery", n)
		}
		if n := f.get(t, tr.ID).FiredCount; n != 1 {
			t.Fatalf("fired %d times, want 1", n)
		}
	})
}

// One payload fires triggers a different number of times each: one
// statement stamps them all with their own counts, and leaves the others.
func TestStampCountsPerTrigger(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", newInstance(db, trigger.Limits{}))
		all, crit, none := `severity != "info"`, `severity == "critical"`, `source == "elsewhere"`
		every := f.create(t, trigger.CreateInput{Name: "every", Event: enum.TriggerEventAlertCreated, Condition: &all, Actions: actions(`[{"type":"add_tags","tags":["a"]}]`)})
		one := f.create(t, trigger.CreateInput{Name: "critical", Event: enum.TriggerEventAlertCreated, Condition: &crit, Actions: actions(`[{"type":"add_tags","tags":["c"]}]`)})
		// Conditions read the alert as stored, with its connector.
		byConn := `connector.type == "generic" && connector.name != "" && attributes.host == "h2"`
		conn := f.create(t, trigger.CreateInput{Name: "connector", Event: enum.TriggerEventAlertCreated, Condition: &byConn, Actions: actions(`[]`)})
		never := f.create(t, trigger.CreateInput{Name: "never", Event: enum.TriggerEventAlertCreated, Condition: &none, Actions: actions(`[{"type":"add_tags","tags":["n"]}]`)})
		f.ingestAlerts(t, payload("one", "high", "h1"), payload("two", "critical", "h2"), payload("three", "low", "h3"))
		for _, tc := range []struct {
			tr    *ent.AutomationTrigger
			fired int
		}{{every, 3}, {one, 1}, {conn, 1}, {never, 0}} {
			got := f.get(t, tc.tr.ID)
			if got.FiredCount != tc.fired || (tc.fired > 0) != (got.LastFiredAt != nil) {
				t.Fatalf("%s: fired %d (last %v), want %d", got.Name, got.FiredCount, got.LastFiredAt, tc.fired)
			}
		}
		f.ingestAlerts(t, payload("four", "critical", "h4"))
		if e, o := f.get(t, every.ID).FiredCount, f.get(t, one.ID).FiredCount; e != 4 || o != 2 {
			t.Fatalf("second payload: every %d critical %d, want 4 and 2", e, o)
		}
	})
}
