package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/deadletter"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/ingest/entities"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

const sampleDir = "catalogue/testdata"

// Every sample payload of every catalogue type is stored as its mapper
// normalised it, with entities, fingerprint and activity.
func TestIngestSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(sampleDir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples under %s: %v", sampleDir, err)
	}
	types := map[string]bool{}
	for _, f := range files {
		types[filepath.Base(filepath.Dir(f))] = true
	}
	for _, typ := range catalogue.Types() {
		if !types[typ.Key] {
			t.Errorf("catalogue type %s has no sample under %s", typ.Key, sampleDir)
		}
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		created := 0
		for _, f := range files {
			typ := filepath.Base(filepath.Dir(f))
			t.Run(typ+"/"+filepath.Base(f), func(t *testing.T) {
				body, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				want, err := catalogue.Map(typ, body)
				if err != nil {
					t.Fatalf("sample does not map: %v", err)
				}
				// A connector per sample: samples must not merge with each other.
				c, key := testenv.Connector(t, db, e.org, typ)
				res := e.ingest(t, c, key, body)
				if len(res.Results) != len(want) || res.Accepted != len(want) || res.Created+res.Merged != len(want) || res.DeadLettered != 0 {
					t.Fatalf("result %+v for %d mapped alerts", res, len(want))
				}
				created += res.Created
				for i, r := range res.Results {
					checkStored(t, getAlert(t, db, e.org, r.ID), c, r, &want[i])
				}
				c, err = db.Client.Connector.Get(orgCtx(e.org), c.ID)
				if err != nil || c.LastSeenAt == nil {
					t.Errorf("connector last_seen_at not stamped: %v", err)
				}
			})
		}
		if got := actions(t, db, e.org)["create"]; got != created {
			t.Errorf("%d create activities, want %d", got, created)
		}
	})
}

// checkStored compares a stored alert with the mapper's output.
func checkStored(t *testing.T, got *ent.Alert, c *ent.Connector, r ItemResult, want *catalogue.Alert) {
	t.Helper()
	if got.Fingerprint != r.Fingerprint || got.DedupKey == nil || *got.DedupKey != r.Fingerprint || len(r.Fingerprint) != 16 {
		t.Errorf("fingerprint %q dedup_key %v, result %q", got.Fingerprint, got.DedupKey, r.Fingerprint)
	}
	if got.Occurrences != r.Occurrences {
		t.Errorf("occurrences %d, result says %d", got.Occurrences, r.Occurrences)
	}
	if r.Status != StatusCreated {
		return // merged into an earlier alert of the payload: its fields are that alert's
	}
	if got.Source != want.Source || got.Title != want.Title || got.ExternalID != want.ExternalID || got.Description != want.Description {
		t.Errorf("stored %q %q %q, want %q %q %q", got.Source, got.Title, got.ExternalID, want.Source, want.Title, want.ExternalID)
	}
	if got.Severity != want.Severity || got.SeverityRank != want.Severity.Rank() {
		t.Errorf("severity %s rank %d, want %s rank %d", got.Severity, got.SeverityRank, want.Severity, want.Severity.Rank())
	}
	if got.Status != enum.AlertStatusNew || got.ConnectorID == nil || *got.ConnectorID != c.ID || got.OrganizationID != c.OrganizationID {
		t.Errorf("status %s connector %v org %s", got.Status, got.ConnectorID, got.OrganizationID)
	}
	if !slices.Equal(got.Tags, want.Tags) || !slices.Equal(got.Mitre, want.Mitre) {
		t.Errorf("tags %q mitre %q, want %q %q", got.Tags, got.Mitre, want.Tags, want.Mitre)
	}
	if (got.EventTime == nil) != (want.EventTime == nil) ||
		got.EventTime != nil && got.EventTime.Sub(*want.EventTime).Abs() >= time.Microsecond {
		t.Errorf("event_time %v, want %v", got.EventTime, want.EventTime)
	}
	if !got.FirstSeenAt.Equal(got.LastSeenAt) || !got.IngestedAt.Equal(got.FirstSeenAt) {
		t.Errorf("first_seen %v last_seen %v ingested %v differ", got.FirstSeenAt, got.LastSeenAt, got.IngestedAt)
	}
	if !jsonEqual(got.Raw, want.Raw) {
		t.Errorf("raw %s, want %s", got.Raw, want.Raw)
	}
	checkEntities(t, got.Entities, want.Attributes)
}

// checkEntities: an alert naming a host or an address has entities, and
// every address attribute is among them.
func checkEntities(t *testing.T, got []schematype.Entity, attrs map[string]string) {
	t.Helper()
	if (attrs[catalogue.AttrHost] != "" || attrs[catalogue.AttrSrcIP] != "" || attrs[catalogue.AttrDstIP] != "") && len(got) == 0 {
		t.Errorf("no entities for attributes %v", attrs)
	}
	for _, k := range []string{catalogue.AttrSrcIP, catalogue.AttrDstIP} {
		addr, err := netip.ParseAddr(attrs[k])
		if err != nil || addr.IsUnspecified() {
			continue
		}
		if !slices.ContainsFunc(got, func(e schematype.Entity) bool { return e.Value == addr.Unmap().String() }) {
			t.Errorf("%s %s missing from entities %v", k, addr, got)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// A sample read back in full: entities include the mapper's facts and what
// only the raw document holds.
func TestIngestGenericSampleEntities(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(sampleDir, "generic", "single.json"))
	if err != nil {
		t.Fatal(err)
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, key := testenv.Connector(t, db, e.org, "generic")
		res := e.ingest(t, c, key, body)
		a := getAlert(t, db, e.org, res.Results[0].ID)
		if a.Source != "okta-script" || a.Severity != enum.SeverityHigh || a.SeverityRank != 4 {
			t.Errorf("source %q severity %s rank %d", a.Source, a.Severity, a.SeverityRank)
		}
		for _, want := range []schematype.Entity{{Type: "ipv4", Value: "203.0.113.45"}, {Type: "email", Value: "j.doe@example.com"}} {
			if !slices.Contains(a.Entities, want) {
				t.Errorf("entities %v lack %v", a.Entities, want)
			}
		}
		if !slices.Equal(a.Mitre, []string{"T1078.004"}) || !slices.Equal(a.Tags, []string{"identity", "okta"}) {
			t.Errorf("mitre %v tags %v", a.Mitre, a.Tags)
		}
	})
}

// 100 distinct alerts and 20 repeats give 100 alerts holding 120
// occurrences, whether the repeats come in one payload or one by one.
func TestIngestDistinctAndRepeats(t *testing.T) {
	payloads := make([][]byte, 0, 120)
	for i := range 100 {
		payloads = append(payloads, testenv.GenericAlert(fmt.Sprintf("Alert %03d", i), fmt.Sprintf("host-%03d", i)))
	}
	for i := range 20 {
		payloads = append(payloads, payloads[i*5])
	}
	tests := []struct {
		name  string
		posts [][]byte
	}{
		{"one payload", [][]byte{testenv.GenericBatch(payloads...)}},
		{"one post each", payloads},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, db, Options{})
				c, key := testenv.Connector(t, db, e.org, "generic")
				var created, merged int
				for _, p := range tt.posts {
					res := e.ingest(t, c, key, p)
					created += res.Created
					merged += res.Merged
				}
				if created != 100 || merged != 20 {
					t.Errorf("created %d merged %d, want 100 and 20", created, merged)
				}
				all := alertsOf(t, db, e.org)
				sum, twice := 0, 0
				for _, a := range all {
					sum += a.Occurrences
					if a.Occurrences == 2 {
						twice++
					}
				}
				if len(all) != 100 || sum != 120 || twice != 20 {
					t.Errorf("%d alerts, %d occurrences, %d seen twice; want 100, 120, 20", len(all), sum, twice)
				}
				if got := actions(t, db, e.org); got["create"] != 100 || got["merge"] != 20 {
					t.Errorf("activity %v, want 100 create and 20 merge", got)
				}
			})
		}
	})
}

// Within one payload the first of two repeats is created, the second merged,
// and results keep payload order.
func TestIngestRepeatWithinPayload(t *testing.T) {
	a, b := testenv.GenericAlert("Repeated", "web-1"), testenv.GenericAlert("Other", "web-2")
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, key := testenv.Connector(t, db, e.org, "generic")
		res := e.ingest(t, c, key, testenv.GenericBatch(a, b, a))
		got := []string{res.Results[0].Status, res.Results[1].Status, res.Results[2].Status}
		if !slices.Equal(got, []string{StatusCreated, StatusCreated, StatusMerged}) {
			t.Fatalf("statuses %v", got)
		}
		if res.Results[2].ID != res.Results[0].ID || res.Results[2].Occurrences != 2 || res.Created != 2 || res.Merged != 1 {
			t.Errorf("results %+v", res)
		}
	})
}

// The window is rolling: each repeat extends it; a repeat after it lapses
// starts a new alert, and the old one keeps its count.
func TestIngestDedupWindow(t *testing.T) {
	t0 := time.Date(2024, 5, 14, 12, 0, 0, 500_000_000, time.UTC)
	const window = 60 * time.Second
	steps := []struct {
		at          time.Duration
		wantAlert   int // index of the alert it lands in, in creation order
		wantOcc     int
		wantCreated bool
	}{
		{0, 0, 1, true},
		{59 * time.Second, 0, 2, false},
		{119 * time.Second, 0, 3, false}, // exactly one window after the last repeat: still inside
		{179*time.Second + time.Microsecond, 1, 1, true},
		{180 * time.Second, 1, 2, false},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		clk := newClock(t0)
		e := newEnv(t, db, Options{Now: clk.now})
		c, key := testenv.Connector(t, db, e.org, "generic", func(cc *ent.ConnectorCreate) { cc.SetDedupWindowSeconds(int(window / time.Second)) })
		var ids []uuid.UUID
		for i, s := range steps {
			clk.set(t0.Add(s.at))
			r := e.ingest(t, c, key, testenv.GenericAlert("Window", "db-1")).Results[0]
			if r.Status == StatusCreated {
				ids = append(ids, r.ID)
			}
			if (r.Status == StatusCreated) != s.wantCreated || r.Occurrences != s.wantOcc || len(ids) <= s.wantAlert || r.ID != ids[s.wantAlert] {
				t.Fatalf("step %d (+%v): %+v, want alert %d with %d occurrences", i, s.at, r, s.wantAlert, s.wantOcc)
			}
		}
		old, cur := getAlert(t, db, e.org, ids[0]), getAlert(t, db, e.org, ids[1])
		if old.Occurrences != 3 || old.DedupKey != nil || !old.FirstSeenAt.Equal(t0) || !old.LastSeenAt.Equal(t0.Add(119*time.Second)) {
			t.Errorf("old alert: occurrences %d dedup_key %v first %v last %v", old.Occurrences, old.DedupKey, old.FirstSeenAt, old.LastSeenAt)
		}
		if cur.Occurrences != 2 || cur.DedupKey == nil || *cur.DedupKey != old.Fingerprint || !cur.LastSeenAt.Equal(t0.Add(180*time.Second)) {
			t.Errorf("current alert: occurrences %d dedup_key %v last %v", cur.Occurrences, cur.DedupKey, cur.LastSeenAt)
		}
		if cur.LastSeenAt.Location() != time.UTC && cur.LastSeenAt.Format("-07:00") != "+00:00" {
			t.Errorf("last_seen_at read back in %v", cur.LastSeenAt.Location())
		}
	})
}

// A repeat of a resolved or closed alert opens a new alert and leaves the
// old one as it was.
func TestIngestRepeatOfFinishedAlert(t *testing.T) {
	tests := []struct {
		status      enum.AlertStatus
		disposition enum.Disposition
	}{
		{enum.AlertStatusResolved, ""},
		{enum.AlertStatusClosed, enum.DispositionFalsePositive},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, tt := range tests {
			t.Run(string(tt.status), func(t *testing.T) {
				clk := newClock(time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC))
				e := newEnv(t, db, Options{Now: clk.now})
				c, key := testenv.Connector(t, db, e.org, "generic")
				body := testenv.GenericAlert("Finished", "app-1")
				first := e.ingest(t, c, key, body).Results[0]
				upd := db.Client.Alert.UpdateOneID(first.ID).SetStatus(tt.status)
				if tt.disposition != "" {
					upd.SetDisposition(tt.disposition)
				}
				before, err := upd.Save(orgCtx(e.org))
				if err != nil {
					t.Fatal(err)
				}
				clk.add(time.Second)
				second := e.ingest(t, c, key, body).Results[0]
				if second.Status != StatusCreated || second.ID == first.ID || second.Occurrences != 1 {
					t.Fatalf("repeat of a %s alert: %+v", tt.status, second)
				}
				after := getAlert(t, db, e.org, first.ID)
				if after.Status != tt.status || after.Occurrences != 1 || !after.LastSeenAt.Equal(before.LastSeenAt) ||
					!after.UpdatedAt.Equal(before.UpdatedAt) || after.DedupKey != nil {
					t.Errorf("old alert changed: status %s occurrences %d last_seen %v updated %v dedup_key %v",
						after.Status, after.Occurrences, after.LastSeenAt, after.UpdatedAt, after.DedupKey)
				}
				clk.add(time.Second)
				if third := e.ingest(t, c, key, body).Results[0]; third.ID != second.ID || third.Status != StatusMerged {
					t.Errorf("next repeat: %+v, want merged into %s", third, second.ID)
				}
			})
		}
	})
}

// Concurrent repeats of a closed alert race to retire its key: exactly one
// new alert comes out of them, holding every repeat.
func TestIngestConcurrentRepeatsOfClosedAlert(t *testing.T) {
	const posts = 20
	body := testenv.GenericAlert("Reopened by repeats", "app-2")
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, key := testenv.Connector(t, db, e.org, "generic")
		first := e.ingest(t, c, key, body).Results[0]
		if err := db.Client.Alert.UpdateOneID(first.ID).SetStatus(enum.AlertStatusClosed).
			SetDisposition(enum.DispositionBenign).Exec(orgCtx(e.org)); err != nil {
			t.Fatal(err)
		}
		ctx := e.as(t, key)
		var wg sync.WaitGroup
		errs := make(chan error, posts)
		for range posts {
			wg.Go(func() {
				if _, err := e.svc.Ingest(ctx, c, body); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent ingest: %v", err)
		}
		all := alertsOf(t, db, e.org)
		if len(all) != 2 || all[0].ID != first.ID || all[0].Occurrences != 1 || all[1].Occurrences != posts {
			t.Fatalf("%d alerts; want the closed one untouched and one new with %d occurrences", len(all), posts)
		}
	})
}

// Payloads repeating the same alerts in opposite orders, concurrently, all
// succeed (rows are locked in one order, so they cannot deadlock).
func TestIngestOppositeOrdersConcurrently(t *testing.T) {
	const workers, rounds = 8, 5
	a, b := testenv.GenericAlert("Order A", "h-a"), testenv.GenericAlert("Order B", "h-b")
	payloads := [][]byte{testenv.GenericBatch(a, b), testenv.GenericBatch(b, a)}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, key := testenv.Connector(t, db, e.org, "generic")
		ctx := e.as(t, key)
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for w := range workers {
			wg.Go(func() {
				for range rounds {
					if _, err := e.svc.Ingest(ctx, c, payloads[w%2]); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent ingest: %v", err)
		}
		all := alertsOf(t, db, e.org)
		if len(all) != 2 || all[0].Occurrences != workers*rounds || all[1].Occurrences != workers*rounds {
			t.Fatalf("%d alerts, want 2 with %d occurrences each", len(all), workers*rounds)
		}
	})
}

// The same payload from two organisations' connectors gives each its own
// alert; repeats only ever merge within the organisation.
func TestIngestOrganisationsNeverMerge(t *testing.T) {
	body := testenv.GenericAlert("Shared indicator", "edge-1")
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		other := testenv.Org(t, db)
		ca, keyA := testenv.Connector(t, db, e.org, "generic")
		cb, keyB := testenv.Connector(t, db, other, "generic")
		ra := e.ingest(t, ca, keyA, body).Results[0]
		rb := e.ingest(t, cb, keyB, body).Results[0]
		e.ingest(t, ca, keyA, body)
		if ra.Status != StatusCreated || rb.Status != StatusCreated || ra.ID == rb.ID {
			t.Fatalf("org A %+v, org B %+v", ra, rb)
		}
		mine, theirs := alertsOf(t, db, e.org), alertsOf(t, db, other)
		if len(mine) != 1 || len(theirs) != 1 || mine[0].Occurrences != 2 || theirs[0].Occurrences != 1 {
			t.Errorf("org A %d alerts, org B %d alerts", len(mine), len(theirs))
		}
		if theirs[0].OrganizationID != other.ID || mine[0].OrganizationID != e.org.ID {
			t.Errorf("alerts stored in the wrong organisation")
		}
	})
}

// A payload that parses but cannot be mapped is kept with the reason.
func TestIngestDeadLetter(t *testing.T) {
	tests := []struct {
		name, typ  string
		body       string
		wantReason string
	}{
		{"suricata without alerts", "suricata", `{"event_type":"flow","src_ip":"10.0.0.1"}` + "\n" + `{"event_type":"dns"}`, "no alert in the payload"},
		{"type not in the catalogue", "retired-vendor", `{"anything": true}`, `"retired-vendor" is not in the catalogue`},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, db, Options{})
				c, key := testenv.Connector(t, db, e.org, tt.typ)
				res := e.ingest(t, c, key, []byte(tt.body))
				if res.DeadLettered != 1 || res.DeadLetterID == nil || res.Accepted != 0 || res.Results == nil || len(res.Results) != 0 {
					t.Fatalf("result %+v", res)
				}
				dl, err := db.Client.DeadLetter.Query().Where(deadletter.ID(*res.DeadLetterID)).Only(orgCtx(e.org))
				if err != nil {
					t.Fatal(err)
				}
				if dl.ConnectorID != c.ID || dl.Payload != tt.body || !strings.Contains(dl.Reason, tt.wantReason) {
					t.Errorf("dead letter connector %s reason %q payload %q", dl.ConnectorID, dl.Reason, dl.Payload)
				}
				if n := len(alertsOf(t, db, e.org)); n != 0 {
					t.Errorf("%d alerts stored from an unmappable payload", n)
				}
			})
		}
	})
}

// Bad input and bad callers are refused with the right code, and nothing
// is written.
func TestIngestRefused(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		ctx       func(e *env, key string) context.Context
		disabled  bool
		wantCode  apperr.Code
		wantField string
	}{
		{name: "unknown severity", body: `{"title":"x","severity":"apocalyptic"}`, wantCode: apperr.BadInput, wantField: "severity"},
		{name: "bad element of a batch", body: `[{"title":"ok"},{"title":"x","attributes":{"colour":"red"}}]`, wantCode: apperr.BadInput, wantField: "1.attributes.colour"},
		{name: "malformed JSON", body: `{"title": "x"`, wantCode: apperr.BadInput},
		{name: "empty body", body: "", wantCode: apperr.BadInput},
		{name: "too large", body: `{"title":"` + strings.Repeat("x", 600) + `"}`, wantCode: apperr.TooLarge},
		{name: "no viewer", body: `{"title":"x"}`, ctx: func(*env, string) context.Context { return context.Background() }, wantCode: apperr.Unauthenticated},
		{name: "viewer of another organisation", body: `{"title":"x"}`, wantCode: apperr.Forbidden,
			ctx: func(e *env, _ string) context.Context { return orgCtx(&ent.Organization{ID: uuid.New()}) }},
		{name: "disabled connector", body: `{"title":"x"}`, disabled: true, wantCode: apperr.Forbidden,
			ctx: func(e *env, _ string) context.Context { return orgCtx(e.org) }},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, db, Options{MaxBodyBytes: 512})
				c, key := testenv.Connector(t, db, e.org, "generic", func(cc *ent.ConnectorCreate) { cc.SetEnabled(!tt.disabled) })
				var ctx context.Context
				if tt.ctx != nil {
					ctx = tt.ctx(e, key)
				} else {
					ctx = e.as(t, key)
				}
				_, err := e.svc.Ingest(ctx, c, []byte(tt.body))
				ae, ok := apperr.As(err)
				if !ok || ae.Code != tt.wantCode || ae.Field != tt.wantField {
					t.Fatalf("error %#v, want code %s field %q", err, tt.wantCode, tt.wantField)
				}
				n, err := db.Client.DeadLetter.Query().Count(orgCtx(e.org))
				if err != nil || n != 0 || len(alertsOf(t, db, e.org)) != 0 {
					t.Errorf("refused payload left %d dead letters or alerts (%v)", n, err)
				}
			})
		}
	})
}

// Text PostgreSQL cannot store (NUL, \u0000, lone surrogates, invalid UTF-8)
// is still accepted on both databases, not a 500.
func TestIngestAwkwardText(t *testing.T) {
	body := []byte("{\"title\":\"NUL \\u0000 in title\",\"description\":\"line\\u0000two \\ud800 \xff\"," +
		"\"vendor\":{\"blob\":\"\\u0000\\udc00\\ud83d\\ude00 \\\\u0000\",\"bad\":\"\xfe\"},\"attributes\":{\"host\":\"odd-1\"}}")
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, key := testenv.Connector(t, db, e.org, "generic")
		r := e.ingest(t, c, key, body).Results[0]
		a := getAlert(t, db, e.org, r.ID)
		if a.Title != "NUL   in title" || !strings.HasPrefix(a.Description, "line") {
			t.Errorf("title %q description %q", a.Title, a.Description)
		}
		var raw struct {
			Vendor struct{ Blob string } `json:"vendor"`
		}
		if err := json.Unmarshal(a.Raw, &raw); err != nil || !strings.HasSuffix(raw.Vendor.Blob, "😀 \\u0000") {
			t.Errorf("raw %s: %v", a.Raw, err)
		}
		if db.Dialect == dialect.SQLite && string(a.Raw) != string(body) {
			t.Errorf("SQLite changed raw:\n%q\n%q", a.Raw, body)
		}
	})
}

// Rows the dedup statement writes are stored exactly like rows ent writes:
// same SQLite storage classes, same values read back.
func TestIngestRowsMatchEnt(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, key := testenv.Connector(t, db, e.org, "generic")
		body := []byte(`{"title":"Same","description":"d","severity":"low","external_id":"7","tags":["a"],"mitre":["T1059"],` +
			`"event_time":"2024-05-14T09:21:07.25Z","attributes":{"host":"h1.example.com"}}`)
		r := e.ingest(t, c, key, body).Results[0]
		got := getAlert(t, db, e.org, r.ID)
		now := time.Now().UTC()
		ref, err := db.Client.Alert.Create().SetConnectorID(c.ID).SetSource(got.Source).SetExternalID(got.ExternalID).
			SetTitle(got.Title).SetDescription(got.Description).SetSeverity(got.Severity).SetTags(got.Tags).
			SetEntities(got.Entities).SetMitre(got.Mitre).SetAttributes(got.Attributes).SetRaw(got.Raw).SetFingerprint("ref").SetDedupKey("ref").
			SetEventTime(*got.EventTime).SetFirstSeenAt(now).SetLastSeenAt(now).SetIngestedAt(now).Save(orgCtx(e.org))
		if err != nil {
			t.Fatal(err)
		}
		ref, err = db.Client.Alert.Get(orgCtx(e.org), ref.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SeverityRank != ref.SeverityRank || !reflect.DeepEqual(got.Tags, ref.Tags) || !reflect.DeepEqual(got.Entities, ref.Entities) ||
			!reflect.DeepEqual(got.Mitre, ref.Mitre) || !jsonEqual(got.Raw, ref.Raw) || !got.EventTime.Equal(*ref.EventTime) ||
			got.Attributes["host"] != "h1.example.com" || !reflect.DeepEqual(got.Attributes, ref.Attributes) {
			t.Errorf("ingested %+v\nent      %+v", got, ref)
		}
		if db.Dialect != dialect.SQLite {
			return // PostgreSQL columns are typed: nothing else can differ
		}
		for _, c := range insertColumns {
			col := c.name
			var a, b string
			q := "SELECT typeof(" + col + ") FROM alerts WHERE id = ?"
			if err := db.SQL.QueryRow(q, got.ID).Scan(&a); err != nil {
				t.Fatal(err)
			}
			if err := db.SQL.QueryRow(q, ref.ID).Scan(&b); err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Errorf("column %s stored as %s, ent stores %s", col, a, b)
			}
		}
		var stamp string
		if err := db.SQL.QueryRow("SELECT CAST(last_seen_at AS TEXT) FROM alerts WHERE id = ?", got.ID).Scan(&stamp); err != nil || !strings.HasSuffix(stamp, "+00:00") {
			t.Errorf("last_seen_at stored as %q (%v), want UTC text", stamp, err)
		}
	})
}

func TestMergeEntities(t *testing.T) {
	en := func(typ, v string) entities.Entity { return entities.Entity{Type: typ, Value: v} }
	tests := []struct {
		name       string
		base, more []entities.Entity
		want       []entities.Entity
	}{
		{"appends new", []entities.Entity{en("ipv4", "10.0.0.1")}, []entities.Entity{en("ipv4", "10.0.0.2")},
			[]entities.Entity{en("ipv4", "10.0.0.1"), en("ipv4", "10.0.0.2")}},
		{"drops repeats", []entities.Entity{en("ipv4", "10.0.0.1")}, []entities.Entity{en("ipv4", "10.0.0.1")},
			[]entities.Entity{en("ipv4", "10.0.0.1")}},
		{"users ignore case", []entities.Entity{en("user", "Alice")}, []entities.Entity{en("user", "alice")},
			[]entities.Entity{en("user", "Alice")}},
		{"hostname hides domain", []entities.Entity{en("domain", "ws1.corp.example.com")}, []entities.Entity{en("hostname", "ws1.corp.example.com")},
			[]entities.Entity{en("hostname", "ws1.corp.example.com")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := entities.Merge(tt.base, tt.more)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		var many []entities.Entity
		for i := range 300 {
			many = append(many, en("ipv4", fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)))
		}
		if got := entities.Merge(many[:150], many[150:]); len(got) != 200 {
			t.Errorf("%d entities, want 200", len(got))
		}
	})
}

func TestPGJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":"plain \u003c"}`, `{"a":"plain \u003c"}`},
		{`{"a":"\u0000"}`, `{"a":"\ufffd"}`},
		{`{"a":"\\u0000"}`, `{"a":"\\u0000"}`},
		{`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d\ude00"}`},
		{`{"a":"\ud83d x"}`, `{"a":"\ufffd x"}`},
		{`{"a":"\ude00\ud83d"}`, `{"a":"\ufffd\ufffd"}`},
		{`{"a":"\ud83d\u0041"}`, `{"a":"\ufffd\u0041"}`},
		{"{\"a\":\"\xff\"}", `{"a":"` + "\uFFFD" + `"}`},
	}
	for _, tt := range tests {
		if got := string(pgJSON([]byte(tt.in))); got != tt.want {
			t.Errorf("pgJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
