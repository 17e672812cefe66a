package action

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	aiconfig "github.com/seliq/seliq/ai/config"
	analysissvc "github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/analysis"
	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
)

func (f *fixture) hostAlert(t *testing.T, host string) *ent.Alert {
	t.Helper()
	a, err := f.db.Client.Alert.Create().SetTitle("NodeDown").SetSource("alertmanager").
		SetEntities([]schematype.Entity{{Type: "hostname", Value: host}}).Save(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Two alerts of one host correlated at once, in two transactions, end in
// one incident; another host gets its own; the window's end opens a new one.
func TestCorrelationOpensOneIncident(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		list := mustParse(t, `[{"type":"link_incident","incident_key":"entities.host[0]","window":"30m"}]`, enum.AutomationTargetAlert)
		const n = 4
		alerts := make([]*ent.Alert, n)
		for i := range alerts {
			alerts[i] = f.hostAlert(t, "web-1")
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i, a := range alerts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.runAlert(f.job, a.ID, list, Options{Actor: "trigger:Group by host"})
			}()
		}
		close(start)
		wg.Wait()
		incidents := map[uuid.UUID]bool{}
		for i, a := range alerts {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			got, _ := db.Client.Alert.Get(f.ctx, a.ID)
			if got.IncidentID == nil {
				t.Fatalf("alert %d not linked", i)
			}
			incidents[*got.IncidentID] = true
		}
		if len(incidents) != 1 {
			t.Fatalf("%d incidents opened for one host, want 1", len(incidents))
		}
		var first uuid.UUID
		for id := range incidents {
			first = id
		}
		inc, _ := db.Client.Incident.Get(f.ctx, first)
		if inc.AlertCount != n {
			t.Fatalf("incident counts %d alerts, want %d", inc.AlertCount, n)
		}
		// Another host: its own incident.
		other := f.hostAlert(t, "db-1")
		res, err := f.runAlert(f.job, other.ID, list, Options{})
		if err != nil || res.Alert.IncidentID == nil || *res.Alert.IncidentID == first {
			t.Fatalf("other host: %v, %+v", err, res)
		}
		// After the window, the same host opens a new incident.
		late := f.hostAlert(t, "web-1")
		res, err = f.runAlert(f.job, late.ID, list, Options{Now: time.Now().Add(31 * time.Minute)})
		if err != nil || *res.Alert.IncidentID == first {
			t.Fatalf("after the window: %v, linked to the old incident", err)
		}
		// An alert without a host is not correlated.
		bare := f.alert(t)
		res, err = f.runAlert(f.job, bare.ID, list, Options{})
		if err != nil || res.Alert.IncidentID != nil || res.Changed() {
			t.Fatalf("no key: %v, %+v", err, res.Changes)
		}
		// An explicit incident of another organisation is refused.
		o := newFixture(t, db, "other")
		theirs := o.hostAlert(t, "web-1")
		if _, err := o.runAlert(o.job, theirs.ID, list, Options{}); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.Client.Alert.Query().Where(alert.IncidentID(first)).Count(o.ctx); n != 0 {
			t.Fatalf("another organisation's alert joined the incident")
		}
		_, err = f.runAlert(f.job, bare.ID, []Action{{Type: TypeLinkIncident, IncidentID: theirIncident(t, o, theirs.ID)}}, Options{})
		if err == nil {
			t.Fatal("linked to another organisation's incident")
		}
	})
}

func theirIncident(t *testing.T, f *fixture, alertID uuid.UUID) *uuid.UUID {
	t.Helper()
	a, err := f.db.Client.Alert.Get(f.ctx, alertID)
	if err != nil || a.IncidentID == nil {
		t.Fatalf("their alert: %v", err)
	}
	return a.IncidentID
}

func TestNotifyAndAnalyze(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		a := f.alert(t)
		list := mustParse(t, `[{"type":"notify","group_ids":["`+f.group.ID.String()+`"],"user_ids":["`+f.member[0].String()+`"],"message":"look"},{"type":"analyze"}]`, enum.AutomationTargetAlert)
		// Without the analysis service the analyze action is refused, and
		// nothing (not even the notifications) is written.
		if _, err := f.runAlert(f.job, a.ID, list, Options{}); err == nil {
			t.Fatal("analyze without an analysis service")
		}
		if n := f.notified(t, f.member[0]); n != 0 {
			t.Fatalf("%d notifications after a failed list", n)
		}
		box := testenv.Box(t)
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		ai := aiconfig.New(db.Client, box, outbound.Fixed{Policy: outbound.NewPolicy()}, quiet)
		f.exec = NewExecutor(Deps{Incidents: f.exec.deps.Incidents, Analysis: analysissvc.New(db.Client, nil, ai, quiet)})
		res, err := f.runAlert(f.job, a.ID, list, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Changes) != 2 || res.Changes[0].Field != "notified" || res.Changes[1].Field != "analysis" {
			t.Fatalf("changes %+v", res.Changes)
		}
		// Each active member once, though one is named twice.
		for _, m := range f.member {
			if n := f.notified(t, m); n != 1 {
				t.Fatalf("member %s has %d notifications, want 1", m, n)
			}
		}
		if n, _ := db.Client.Analysis.Query().Where(analysis.AlertID(a.ID), analysis.StatusEQ(enum.JobStatusPending)).Count(f.ctx); n != 1 {
			t.Fatalf("%d pending analyses, want 1", n)
		}
	})
}

// notified counts the automation notifications of user id, read as them.
func (f *fixture) notified(t *testing.T, id uuid.UUID) int {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, UserID: id, Role: enum.RoleAnalyst,
		HomeOrgID: f.org.ID, OrgID: f.org.ID, VisibleOrgIDs: []uuid.UUID{f.org.ID}})
	n, err := f.db.Client.Notification.Query().Where(notification.UserID(id), notification.KindEQ(enum.NotificationKindAutomation)).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A webhook goes out after commit, signed with its secret, and is retried
// after the receiver fails.
func TestWebhookSignedAndRetried(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme")
		box := testenv.Box(t)
		var calls atomic.Int32
		got := make(chan *http.Request, 1)
		bodies := make(chan []byte, 1)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if calls.Add(1) == 1 {
				http.Error(w, "try later", http.StatusServiceUnavailable)
				return
			}
			if r.Header.Get(HeaderSignature) != Sign("s3cret", body) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			got <- r
			bodies <- body
		}))
		defer recv.Close()
		ws := river.NewWorkers()
		policy := outbound.NewPolicy(netip.MustParsePrefix("127.0.0.0/8"))
		river.AddWorker(ws, NewWebhookWorker(box, outbound.Fixed{Policy: policy}))
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
		list := mustParse(t, `[{"type":"webhook","url":"`+recv.URL+`/hook","secret":"s3cret"}]`, enum.AutomationTargetAlert)
		if err := SealSecrets(box, list); err != nil || list[0].Secret != "" || list[0].SecretSealed == "" {
			t.Fatalf("sealing: %v %+v", err, list[0])
		}
		a := f.alert(t)
		res, err := f.runAlert(f.job, a.ID, list, Options{Event: "alert.created", Actor: "trigger:Chat"})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-got:
			body := <-bodies
			if r.Header.Get(HeaderDelivery) == "" || !jsonHas(body, a.ID.String()) || !jsonHas(body, "alert.created") {
				t.Fatalf("delivery %v: %s", r.Header, body)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no signed delivery after %d calls", calls.Load())
		}
		if calls.Load() != 2 || res.Changes[0].Field != "webhook" {
			t.Fatalf("%d calls (want a failure then a success), changes %+v", calls.Load(), res.Changes)
		}
	})
}

func jsonHas(body []byte, s string) bool { return bytes.Contains(body, []byte(s)) }
