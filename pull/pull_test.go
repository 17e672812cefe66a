package pull_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
)

const token = "s1-token"

func creds() vendorfake.Credentials { return vendorfake.Credentials{Token: token} }

func TestPollCommitsAlertsWithTheirCheckpoint(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", testenv.Box(t), testConfig(), jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		first := threats(0, 10)
		srv.Add(first...)
		c := f.sentinelone(t, srv, token)

		t.Run("secret sealed at rest, masked when shown", func(t *testing.T) {
			stored := f.reload(t, c.ID)
			if s, _ := stored.Settings["api_token"].(string); s == token || !contains(s, "v1:") {
				t.Fatalf("api_token stored as %q, want sealed", s)
			}
			if got := connectors.MaskedSettings(stored)["api_token"]; got != connectors.Mask {
				t.Fatalf("shown as %v", got)
			}
		})
		start := time.Now().UTC()
		wait, err := f.pull.Run(f.job(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("pages until caught up, each alert once", func(t *testing.T) {
			got, occ := f.externalIDs(t)
			if !slices.Equal(got, recordIDs(first)) {
				t.Fatalf("alerts %v, want %v", got, recordIDs(first))
			}
			for id, n := range occ {
				if n != 1 {
					t.Errorf("%s: %d occurrences", id, n)
				}
			}
			if wait < 59*time.Second || wait > 61*time.Second {
				t.Errorf("next look in %v, want the 60 s interval", wait)
			}
		})
		t.Run("health recorded, lease released", func(t *testing.T) {
			h := f.reload(t, c.ID)
			if h.LastPolledAt == nil || h.LastPolledAt.Before(start.Add(-time.Second)) || h.LastSuccessAt == nil ||
				h.LastError != "" || h.ItemsLastPoll != 10 || h.NextPollAt == nil || h.PollLeaseToken != "" || h.PollLeaseUntil != nil {
				t.Fatalf("health %+v", h)
			}
			if d := h.NextPollAt.Sub(*h.LastPolledAt); d < 59*time.Second || d > 62*time.Second {
				t.Errorf("next poll %v after the last", d)
			}
			if h.PollCheckpoint == "" {
				t.Error("no checkpoint")
			}
		})
		t.Run("not due: no call", func(t *testing.T) {
			before := srv.Requests("/web/api/v2.1/threats")
			wait, err := f.pull.Run(f.job(), c.ID)
			if err != nil || wait <= 0 || srv.Requests("/web/api/v2.1/threats") != before {
				t.Fatalf("wait %v err %v; %d calls after %d", wait, err, srv.Requests("/web/api/v2.1/threats"), before)
			}
		})
		t.Run("poll now reads only what is new", func(t *testing.T) {
			more := threats(100, 3)
			srv.Add(more...)
			if _, err := f.pull.PollNow(f.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.pull.Run(f.job(), c.ID); err != nil {
				t.Fatal(err)
			}
			got, _ := f.externalIDs(t)
			if want := recordIDs(append(slices.Clone(first), more...)); !slices.Equal(got, want) {
				t.Fatalf("alerts %v, want %v", got, want)
			}
			if n := db.Client.Activity.Query().Where(activity.EntityID(c.ID), activity.Action("poll_requested")).CountX(f.ctx); n != 1 {
				t.Fatalf("%d poll_requested activities", n)
			}
			if h := f.reload(t, c.ID); h.ItemsLastPoll != 3 {
				t.Fatalf("items_last_poll %d", h.ItemsLastPoll)
			}
		})
	})
}

func TestRunIsBoundedAndGoesOnAtOnce(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", testenv.Box(t), testConfig(), jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		recs := threats(0, 20) // 5 pages of 4; a run reads 3
		srv.Add(recs...)
		c := f.sentinelone(t, srv, token)
		wait, err := f.pull.Run(f.job(), c.ID)
		if err != nil || wait != 0 {
			t.Fatalf("first run: wait %v err %v, want 0 (still behind)", wait, err)
		}
		if got, _ := f.externalIDs(t); len(got) != 12 {
			t.Fatalf("%d alerts after one bounded run, want 12", len(got))
		}
		if wait, err = f.pull.Run(f.job(), c.ID); err != nil || wait < 59*time.Second {
			t.Fatalf("second run: wait %v err %v", wait, err)
		}
		if got, _ := f.externalIDs(t); !slices.Equal(got, recordIDs(recs)) {
			t.Fatalf("alerts %v", got)
		}
	})
}

// TestPollMatchesPush: for every pollable type, a poll of its fake yields
// the same normalised alerts (entities included) as pushing the same
// vendor records, as the API returned them, through ingest.
func TestPollMatchesPush(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		box := testenv.Box(t)
		for _, v := range vendorfake.Vendors() {
			t.Run(v.Key, func(t *testing.T) {
				a := newFixture(t, db, v.Key+"-polled", box, testConfig(), jobs.Config{})
				b := newFixture(t, db, v.Key+"-pushed", box, testConfig(), jobs.Config{})
				srv := v.Fake(t, v.Creds)
				srv.Add(v.Records(1, 6, t0)...)
				mode := enum.ConnectorModePull
				created, err := a.connectors.Create(a.ctx, connectors.CreateConnectorInput{Name: v.Key, Type: v.Key, Mode: &mode, Settings: v.Settings(srv.URL)})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := a.pull.Run(a.job(), created.Connector.ID); err != nil {
					t.Fatal(err)
				}
				if h := a.reload(t, created.Connector.ID); h.LastError != "" || h.ItemsLastPoll != 6 {
					t.Fatalf("poll: %d items, error %q", h.ItemsLastPoll, h.LastError)
				}
				var records []json.RawMessage
				for _, x := range db.Client.Alert.Query().Order(ent.Asc(alert.FieldExternalID)).AllX(a.job()) {
					records = append(records, x.Raw)
				}
				pushC, _ := testenv.Connector(t, db, b.org, v.Key)
				if _, err := b.ingest.Ingest(b.job(), pushC, v.PushBody(records)); err != nil {
					t.Fatal(err)
				}
				polled, pushed := normalisedAlerts(t, a), normalisedAlerts(t, b)
				if len(polled) != 6 || !reflect.DeepEqual(polled, pushed) {
					t.Fatalf("polled alerts differ from pushed ones:\npolled %+v\npushed %+v", polled, pushed)
				}
			})
		}
	})
}

// normalised is what ingest made of a record, without what differs by
// connector (ids, fingerprint, timestamps of arrival).
type normalised struct {
	Source, ExternalID, Title, Description string
	Severity                               enum.Severity
	Tags, Mitre                            []string
	Entities                               any
	EventTime                              *time.Time
	Raw                                    string
}

func normalisedAlerts(t *testing.T, f *fixture) []normalised {
	t.Helper()
	var out []normalised
	for _, x := range f.db.Client.Alert.Query().Order(ent.Asc(alert.FieldExternalID)).AllX(f.job()) {
		var raw any
		if err := json.Unmarshal(x.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		rawJSON, _ := json.Marshal(raw)
		out = append(out, normalised{x.Source, x.ExternalID, x.Title, x.Description, x.Severity, x.Tags, x.Mitre, x.Entities, x.EventTime, string(rawJSON)})
	}
	return out
}

func TestFailureInWordsNotifiedOnceAndRecovered(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		cfg := testConfig()
		cfg.FailingAfter = time.Millisecond
		f := newFixture(t, db, "acme", testenv.Box(t), cfg, jobs.Config{})
		other := newFixture(t, db, "globex", testenv.Box(t), cfg, jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		srv.Add(threats(0, 3)...)
		c := f.sentinelone(t, srv, "wrong-token")
		poll := func() *ent.Connector {
			t.Helper()
			if _, err := f.pull.PollNow(f.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.pull.Run(f.job(), c.ID); err != nil {
				t.Fatal(err)
			}
			return f.reload(t, c.ID)
		}
		notices := func(fx *fixture) int {
			return db.Client.Notification.Query().Where(notification.KindEQ(enum.NotificationKindConnectorFailing)).CountX(fx.ctx)
		}
		h := poll()
		if !contains(h.LastError, "401") || !contains(h.LastError, "credentials") || h.LastSuccessAt != nil || h.FailingSince == nil {
			t.Fatalf("after a refused poll: %+v", h)
		}
		if contains(h.LastError, "wrong-token") {
			t.Fatalf("last_error quotes the credential: %q", h.LastError)
		}
		testenv.Eventually(t, time.Second, "failing for longer than FailingAfter", func() bool { return time.Since(*h.FailingSince) > cfg.FailingAfter })
		for range 3 {
			h = poll()
		}
		if n := notices(f); n != 1 || !h.FailureNotified {
			t.Fatalf("%d failing notices to the admin (notified %v), want exactly 1", n, h.FailureNotified)
		}
		if n := notices(other); n != 0 {
			t.Fatalf("another organisation's admin got %d notices", n)
		}
		if got, _ := f.externalIDs(t); len(got) != 0 {
			t.Fatalf("alerts from a refused poll: %v", got)
		}
		acts := db.Client.Activity.Query().Where(activity.EntityID(c.ID)).AllX(f.ctx)
		count := map[string]int{}
		for _, a := range acts {
			count[a.Action]++
		}
		if count["poll_failed"] != 1 || count["failing_notified"] != 1 {
			t.Fatalf("activity %v: want one poll_failed (the error did not change) and one failing_notified", count)
		}
		// The admin enters the right token.
		if _, err := f.connectors.Update(f.ctx, c.ID, connectors.UpdateConnectorInput{Settings: map[string]any{"base_url": srv.URL, "api_token": token}}); err != nil {
			t.Fatal(err)
		}
		h = poll()
		if h.LastError != "" || h.LastSuccessAt == nil || h.FailingSince != nil || h.FailureNotified || h.ItemsLastPoll != 3 {
			t.Fatalf("after recovery: %+v", h)
		}
		if n := db.Client.Activity.Query().Where(activity.EntityID(c.ID), activity.Action("poll_recovered")).CountX(f.ctx); n != 1 {
			t.Fatalf("%d poll_recovered activities", n)
		}
	})
}

func TestMisconfiguredConnectorSaysWhy(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", testenv.Box(t), testConfig(), jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		cases := []struct {
			name, base, want string
		}{
			{"metadata address refused", "http://169.254.169.254", "outbound policy"},
			{"nothing listening", "http://127.0.0.1:1", "connection refused"},
			{"wrong path", srv.URL + "/nope", "404"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				mode := enum.ConnectorModePull
				created, err := f.connectors.Create(f.ctx, connectors.CreateConnectorInput{Name: tc.name, Type: "sentinelone", Mode: &mode,
					Settings: map[string]any{"base_url": tc.base, "api_token": token}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.pull.Run(f.job(), created.Connector.ID); err != nil {
					t.Fatal(err)
				}
				if h := f.reload(t, created.Connector.ID); !contains(h.LastError, tc.want) || h.NextPollAt == nil {
					t.Fatalf("last_error %q, want it to mention %q", h.LastError, tc.want)
				}
			})
		}
	})
}

func TestPollNowRules(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		box := testenv.Box(t)
		a := newFixture(t, db, "acme", box, testConfig(), jobs.Config{})
		b := newFixture(t, db, "globex", box, testConfig(), jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		c := a.sentinelone(t, srv, token)
		push, err := a.connectors.Create(a.ctx, connectors.CreateConnectorInput{Name: "hook", Type: "sentinelone"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			err  error
			code apperr.Code
		}{
			{"another organisation's connector is not found", func() error { _, err := b.pull.PollNow(b.ctx, c.ID); return err }(), apperr.NotFound},
			{"a push connector is not polled", func() error { _, err := a.pull.PollNow(a.ctx, push.Connector.ID); return err }(), apperr.BadInput},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if e, ok := apperr.As(tc.err); !ok || e.Code != tc.code {
					t.Fatalf("got %v, want %s", tc.err, tc.code)
				}
			})
		}
		t.Run("another organisation's job cannot poll it", func(t *testing.T) {
			srv.Add(threats(0, 2)...)
			if _, err := b.pull.Run(b.job(), c.ID); err == nil {
				t.Fatal("a job of another organisation ran the connector")
			}
			if n := srv.Requests("/web/api/v2.1/threats"); n != 0 {
				t.Fatalf("%d calls to the vendor", n)
			}
		})
		if h := a.reload(t, c.ID); h.NextPollAt != nil || h.LastPolledAt != nil {
			t.Fatalf("refused requests changed the connector: %+v", h)
		}
	})
}

func TestBaseURLChangeNeedsTheSecretAgain(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", testenv.Box(t), testConfig(), jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		c := f.sentinelone(t, srv, token)
		_, err := f.connectors.Update(f.ctx, c.ID, connectors.UpdateConnectorInput{Settings: map[string]any{"base_url": "https://evil.example", "api_token": connectors.Mask}})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput || e.Field != "settings.api_token" {
			t.Fatalf("got %v, want 422 on settings.api_token", err)
		}
		// Same destination, masked secret: kept.
		if _, err := f.connectors.Update(f.ctx, c.ID, connectors.UpdateConnectorInput{Settings: map[string]any{"base_url": srv.URL, "api_token": connectors.Mask, "site_ids": []any{"1"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.pull.Run(f.job(), c.ID); err != nil {
			t.Fatal(err)
		}
		if h := f.reload(t, c.ID); h.LastError != "" || h.PollCheckpoint == "" {
			t.Fatalf("the kept secret no longer works: %q", h.LastError)
		}
		// Another source: its position is forgotten, the look-back applies.
		other := vendorfake.SentinelOne(t, creds())
		if _, err := f.connectors.Update(f.ctx, c.ID, connectors.UpdateConnectorInput{Settings: map[string]any{"base_url": other.URL, "api_token": token}}); err != nil {
			t.Fatal(err)
		}
		if h := f.reload(t, c.ID); h.PollCheckpoint != "" {
			t.Fatalf("checkpoint %q kept for another source", h.PollCheckpoint)
		}
	})
}

func TestJobPollsAndPollNowWakesIt(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", testenv.Box(t), testConfig(), jobs.Config{})
		f.start(t)
		srv := vendorfake.SentinelOne(t, creds())
		first := threats(0, 5)
		srv.Add(first...)
		c := f.sentinelone(t, srv, token) // creating it schedules its job
		testenv.Eventually(t, 10*time.Second, "the first poll's alerts", func() bool {
			got, _ := f.externalIDs(t)
			return len(got) == len(first)
		})
		more := threats(50, 2)
		srv.Add(more...)
		// The job sleeps for the 60 s interval; poll now wakes it.
		if _, err := f.pull.PollNow(f.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 10*time.Second, "the requested poll's alerts", func() bool {
			got, _ := f.externalIDs(t)
			return len(got) == len(first)+len(more)
		})
		t.Run("interval changed live", func(t *testing.T) {
			testenv.Eventually(t, 5*time.Second, "the requested poll recorded", func() bool { return f.reload(t, c.ID).ItemsLastPoll == len(more) })
			h := f.reload(t, c.ID)
			u, err := f.connectors.Update(f.ctx, c.ID, connectors.UpdateConnectorInput{PollIntervalSeconds: ptr(15)})
			if err != nil {
				t.Fatal(err)
			}
			if u.NextPollAt == nil || !u.NextPollAt.Equal(h.LastPolledAt.Add(15*time.Second)) {
				t.Fatalf("next poll %v, want the last (%v) + 15 s", u.NextPollAt, h.LastPolledAt)
			}
		})
		t.Run("interval below 15 s refused", func(t *testing.T) {
			_, err := f.connectors.Update(f.ctx, c.ID, connectors.UpdateConnectorInput{PollIntervalSeconds: ptr(14)})
			if e, ok := apperr.As(err); !ok || e.Field != "poll_interval_seconds" {
				t.Fatalf("got %v", err)
			}
		})
	})
}

// TestTwoReplicasNeverPollAtOnce: while one replica polls a connector (its
// call to the vendor held open), the other's run for the same connector
// makes no call and writes nothing; the first then completes alone.
func TestTwoReplicasNeverPollAtOnce(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		box := testenv.Box(t)
		a := newFixture(t, db, "acme", box, testConfig(), jobs.Config{})
		other := db
		if db.Pool != nil {
			other = testenv.Replica(t, db)
		}
		b := wire(t, other, a.org, a.admin, box, testConfig(), jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		recs := threats(0, 6)
		srv.Add(recs...)
		c := a.sentinelone(t, srv, token)
		entered, release := srv.Hold(0)
		defer release()
		done := make(chan error, 1)
		go func() {
			_, err := a.pull.Run(a.job(), c.ID)
			done <- err
		}()
		<-entered
		calls := srv.Requests("/web/api/v2.1/threats")
		wait, err := b.pull.Run(b.job(), c.ID)
		if err != nil || wait <= 0 {
			t.Fatalf("second replica: wait %v err %v", wait, err)
		}
		if n := srv.Requests("/web/api/v2.1/threats"); n != calls {
			t.Fatalf("the second replica called the vendor while the first polled (%d calls, want %d)", n, calls)
		}
		release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got, occ := a.externalIDs(t); !slices.Equal(got, recordIDs(recs)) || slices.ContainsFunc(got, func(id string) bool { return occ[id] != 1 }) {
			t.Fatalf("alerts %v %v", got, occ)
		}
		if srv.MaxInFlight() != 1 {
			t.Fatalf("%d calls in flight at once", srv.MaxInFlight())
		}
	})
}

func ptr[T any](v T) *T { return &v }

var _ = http.StatusOK

// TestTwoRunningReplicas: two replicas working the jobs, asked from both
// sides to poll again and again, still call the vendor one poll at a
// time, and every threat becomes one alert.
func TestTwoRunningReplicas(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		box := testenv.Box(t)
		a := newFixture(t, db, "acme", box, testConfig(), jobs.Config{})
		other := db
		if db.Pool != nil {
			other = testenv.Replica(t, db)
		}
		b := wire(t, other, a.org, a.admin, box, testConfig(), jobs.Config{})
		a.start(t)
		b.start(t)
		srv := vendorfake.SentinelOne(t, creds())
		c := a.sentinelone(t, srv, token)
		var want []string
		for round := range 8 {
			recs := threats(1000+round*10, 5)
			srv.Add(recs...)
			want = append(want, recordIDs(recs)...)
			f := a
			if round%2 == 1 {
				f = b
			}
			if _, err := f.pull.PollNow(f.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, 10*time.Second, "this round's alerts", func() bool {
				got, _ := a.externalIDs(t)
				return len(got) == len(want)
			})
		}
		slices.Sort(want)
		got, occ := a.externalIDs(t)
		if !slices.Equal(got, want) {
			t.Fatalf("alerts %v, want %v", got, want)
		}
		for id, n := range occ {
			if n != 1 {
				t.Errorf("%s seen %d times", id, n)
			}
		}
		if n := srv.MaxInFlight(); n != 1 {
			t.Fatalf("%d calls to the vendor at once", n)
		}
	})
}

// TestVerifyTLS: a self-signed indexer is refused in words until the
// connector's verify_tls is turned off.
func TestVerifyTLS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, "acme", testenv.Box(t), testConfig(), jobs.Config{})
		var wazuh vendorfake.Vendor
		for _, v := range vendorfake.Vendors() {
			if v.Key == "wazuh" {
				wazuh = v
			}
		}
		c := wazuh.Creds
		c.TLS = true
		srv := wazuh.Fake(t, c)
		srv.Add(wazuh.Records(1, 3, t0)...)
		mode := enum.ConnectorModePull
		created, err := f.connectors.Create(f.ctx, connectors.CreateConnectorInput{Name: "Wazuh", Type: "wazuh", Mode: &mode, Settings: wazuh.Settings(srv.URL)})
		if err != nil {
			t.Fatal(err)
		}
		id := created.Connector.ID
		if _, err := f.pull.Run(f.job(), id); err != nil {
			t.Fatal(err)
		}
		if h := f.reload(t, id); !contains(h.LastError, "certificate") || h.ItemsLastPoll != 0 {
			t.Fatalf("self-signed certificate: last_error %q, %d items", h.LastError, h.ItemsLastPoll)
		}
		settings := wazuh.Settings(srv.URL)
		settings["password"] = connectors.Mask
		settings["verify_tls"] = false
		if _, err := f.connectors.Update(f.ctx, id, connectors.UpdateConnectorInput{Settings: settings}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.pull.PollNow(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.pull.Run(f.job(), id); err != nil {
			t.Fatal(err)
		}
		if h := f.reload(t, id); h.LastError != "" || h.ItemsLastPoll != 3 {
			t.Fatalf("verify_tls off: last_error %q, %d items", h.LastError, h.ItemsLastPoll)
		}
	})
}
