package ingest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// One payload's upsert folds repeats per fingerprint; the results and the
// activity must still read as if each repeat had been written in turn.
func TestIngestSameFingerprintThrice(t *testing.T) {
	a, b := testenv.GenericAlert("Thrice", "t-1"), testenv.GenericAlert("Once", "t-2")
	tests := []struct {
		name       string
		prior      int // posts of a before the payload
		wantStatus []string
		wantOcc    []int
		wantAlerts int
	}{
		{"new alert", 0, []string{StatusCreated, StatusCreated, StatusMerged, StatusMerged}, []int{1, 1, 2, 3}, 2},
		{"open alert", 2, []string{StatusMerged, StatusCreated, StatusMerged, StatusMerged}, []int{3, 1, 4, 5}, 2},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, db, Options{})
				c, key := testenv.Connector(t, db, e.org, "generic")
				for range tt.prior {
					e.ingest(t, c, key, a)
				}
				res := e.ingest(t, c, key, testenv.GenericBatch(a, b, a, a))
				for i, r := range res.Results {
					if r.Status != tt.wantStatus[i] || r.Occurrences != tt.wantOcc[i] {
						t.Errorf("result %d: %s with %d occurrences, want %s with %d", i, r.Status, r.Occurrences, tt.wantStatus[i], tt.wantOcc[i])
					}
				}
				if res.Results[0].ID != res.Results[2].ID || res.Results[2].ID != res.Results[3].ID || res.Results[0].Fingerprint != res.Results[3].Fingerprint {
					t.Errorf("repeats landed in different alerts: %+v", res.Results)
				}
				if got := getAlert(t, db, e.org, res.Results[0].ID); got.Occurrences != tt.prior+3 {
					t.Errorf("alert holds %d occurrences, want %d", got.Occurrences, tt.prior+3)
				}
				if all := alertsOf(t, db, e.org); len(all) != tt.wantAlerts {
					t.Errorf("%d alerts, want %d", len(all), tt.wantAlerts)
				}
				// Each merge's activity steps the count by one, in order.
				merges, err := db.Client.Activity.Query().
					Where(activity.EntityID(res.Results[0].ID), activity.Action("merge")).All(orgCtx(e.org))
				if err != nil {
					t.Fatal(err)
				}
				steps := map[string]bool{}
				for _, m := range merges {
					steps[string(m.Before)+"→"+string(m.After)] = true
				}
				for occ := 2; occ <= tt.prior+3; occ++ {
					if !steps[fmt.Sprintf("%d→%d", occ-1, occ)] {
						t.Errorf("no merge activity %d→%d among %v", occ-1, occ, steps)
					}
				}
				if len(merges) != tt.prior+2 {
					t.Errorf("%d merge entries, want %d", len(merges), tt.prior+2)
				}
			})
		}
	})
}

// One payload mixing new fingerprints, open alerts, finished alerts and
// alerts outside the window: the open ones merge, the others give up their
// key to a new alert (created once, however often the payload repeats it),
// and results keep payload order.
func TestIngestMixedBatch(t *testing.T) {
	t0 := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	const window = 10 * time.Minute
	type kind int
	const (
		fresh kind = iota
		open
		closed
		resolved
		stale
	)
	payload := []struct {
		kind    kind
		alert   int // which alert of its kind
		status  string
		occ     int
		sameAsI int // -1, or the payload index whose alert this lands in
	}{
		{closed, 0, StatusCreated, 1, -1},
		{open, 0, StatusMerged, 2, -1},
		{fresh, 0, StatusCreated, 1, -1},
		{stale, 0, StatusCreated, 1, -1},
		{closed, 0, StatusMerged, 2, 0},
		{resolved, 0, StatusCreated, 1, -1},
		{open, 1, StatusMerged, 2, -1},
		{open, 0, StatusMerged, 3, 1},
		{stale, 0, StatusMerged, 2, 3},
		{fresh, 1, StatusCreated, 1, -1},
	}
	body := func(k kind, n int) []byte {
		return testenv.GenericAlert(fmt.Sprintf("Mixed %d-%d", k, n), fmt.Sprintf("mix-%d-%d", k, n))
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		clk := newClock(t0)
		e := newEnv(t, db, Options{Now: clk.now})
		c, key := testenv.Connector(t, db, e.org, "generic", func(cc *ent.ConnectorCreate) { cc.SetDedupWindowSeconds(int(window / time.Second)) })
		prior := map[kind]map[int]uuid.UUID{}
		seed := func(k kind, n int) uuid.UUID {
			if prior[k] == nil {
				prior[k] = map[int]uuid.UUID{}
			}
			id := e.ingest(t, c, key, body(k, n)).Results[0].ID
			prior[k][n] = id
			return id
		}
		seed(stale, 0)
		clk.add(window + time.Second) // the stale alert is now outside the window
		seed(open, 0)
		seed(open, 1)
		for k, st := range map[kind]enum.AlertStatus{closed: enum.AlertStatusClosed, resolved: enum.AlertStatusResolved} {
			upd := db.Client.Alert.UpdateOneID(seed(k, 0)).SetStatus(st)
			if st == enum.AlertStatusClosed {
				upd.SetDisposition(enum.DispositionBenign)
			}
			if err := upd.Exec(orgCtx(e.org)); err != nil {
				t.Fatal(err)
			}
		}
		items := make([][]byte, len(payload))
		for i, p := range payload {
			items[i] = body(p.kind, p.alert)
		}
		clk.add(time.Second)
		res := e.ingest(t, c, key, testenv.GenericBatch(items...))
		if res.Created != 5 || res.Merged != 5 || len(res.Results) != len(payload) {
			t.Fatalf("created %d merged %d of %d results, want 5, 5, %d", res.Created, res.Merged, len(res.Results), len(payload))
		}
		for i, p := range payload {
			r := res.Results[i]
			if r.Status != p.status || r.Occurrences != p.occ {
				t.Errorf("item %d: %s with %d occurrences, want %s with %d", i, r.Status, r.Occurrences, p.status, p.occ)
			}
			old, seeded := prior[p.kind][p.alert]
			switch {
			case p.sameAsI >= 0 && r.ID != res.Results[p.sameAsI].ID:
				t.Errorf("item %d landed in %s, want the alert of item %d", i, r.ID, p.sameAsI)
			case p.kind == open && r.ID != old:
				t.Errorf("item %d did not merge into the open alert", i)
			case p.kind != open && seeded && r.ID == old:
				t.Errorf("item %d merged into a finished or stale alert", i)
			}
		}
		// The finished and stale alerts are untouched, their keys retired.
		for _, k := range []kind{closed, resolved, stale} {
			a := getAlert(t, db, e.org, prior[k][0])
			if a.Occurrences != 1 || a.DedupKey != nil {
				t.Errorf("kind %d: old alert has %d occurrences and key %v, want 1 and none", k, a.Occurrences, a.DedupKey)
			}
		}
		if all := alertsOf(t, db, e.org); len(all) != 5+5 {
			t.Errorf("%d alerts, want 5 seeded and 5 created", len(all))
		}
	})
}

// Concurrent payloads sharing fingerprints, each in its own shuffled order
// and with repeats, never deadlock, and every occurrence is counted once.
func TestIngestConcurrentSharedFingerprints(t *testing.T) {
	const workers, rounds, shared, perPayload = 8, 6, 12, 30
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, key := testenv.Connector(t, db, e.org, "generic")
		ctx := e.as(t, key)
		var (
			mu   sync.Mutex
			sent = map[string]int{} // title → occurrences sent
			wg   sync.WaitGroup
		)
		errs := make(chan error, workers*rounds)
		for w := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for range rounds {
					items := make([][]byte, perPayload)
					titles := make([]string, perPayload)
					for i := range items {
						n := rng.IntN(shared)
						titles[i] = fmt.Sprintf("Shared %d", n)
						items[i] = testenv.GenericAlert(titles[i], fmt.Sprintf("shared-%d", n))
					}
					if _, err := e.svc.Ingest(ctx, c, testenv.GenericBatch(items...)); err != nil {
						errs <- err
						continue
					}
					mu.Lock()
					for _, title := range titles {
						sent[title]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent ingest: %v", err)
		}
		got := map[string]int{}
		for _, a := range alertsOf(t, db, e.org) {
			if _, dup := got[a.Title]; dup {
				t.Errorf("two alerts titled %q", a.Title)
			}
			got[a.Title] = a.Occurrences
		}
		total := 0
		for title, n := range sent {
			total += n
			if got[title] != n {
				t.Errorf("%s: %d occurrences stored, %d sent", title, got[title], n)
			}
		}
		if total != workers*rounds*perPayload || len(got) != len(sent) {
			t.Errorf("%d occurrences over %d alerts stored for %d sent", total, len(got), workers*rounds*perPayload)
		}
		acts := actions(t, db, e.org)
		if acts["create"]+acts["merge"] != total || acts["create"] != len(sent) {
			t.Errorf("activity %v for %d occurrences of %d alerts", acts, total, len(sent))
		}
	})
}

// On PostgreSQL the upsert and the retire are one text whatever the number
// of rows or keys, so a connection prepares and plans each once instead of
// once per batch length; SQLite's VALUES list grows with the rows. The
// arrays carry the same values as the rows, column by column.
func TestPostgresStatementsHaveOneText(t *testing.T) {
	pg, lite := statementsFor(dialect.Postgres), statementsFor(dialect.SQLite)
	if pg.upsert(1) != pg.upsert(upsertChunk) || pg.retire(1) != pg.retire(upsertChunk) {
		t.Fatal("the PostgreSQL upsert or retire text depends on the number of rows")
	}
	if lite.upsert(1) == lite.upsert(2) {
		t.Fatal("the SQLite upsert has no row list")
	}
	for _, col := range insertColumns {
		if col.pgType == "" {
			t.Fatalf("column %s has no PostgreSQL type", col.name)
		}
	}
	now := time.Now()
	row := func(id uuid.UUID, eventTime any) []any {
		return []any{id, id, id, "s", "x", "t", "d", "high", 4, "new", json.RawMessage(`["a"]`), json.RawMessage(nil), json.RawMessage(nil),
			json.RawMessage(`{}`), json.RawMessage(`{"k":1}`), "fp", "fp", 2, now, now, eventTime, now, now, now}
	}
	a, b := uuid.New(), uuid.New()
	values := append(row(a, now), row(b, nil)...)
	args := pg.upsertArgs(values, now)
	if len(args) != len(insertColumns)+1 || args[len(args)-1] != now {
		t.Fatalf("%d arguments, want one array per column and the cutoff", len(args))
	}
	if ids := args[0].([]uuid.UUID); len(ids) != 2 || ids[0] != a || ids[1] != b {
		t.Errorf("id array %v", ids)
	}
	if ranks := args[8].([]int); ranks[0] != 4 || ranks[1] != 4 {
		t.Errorf("severity_rank array %v", ranks)
	}
	if ev := args[20].([]*time.Time); ev[0] == nil || !ev[0].Equal(now) || ev[1] != nil {
		t.Errorf("event_time array %v, want the time then NULL", ev)
	}
	if tags := args[10].([]json.RawMessage); string(tags[0]) != `["a"]` {
		t.Errorf("tags array %q", tags)
	}
	if got := lite.upsertArgs(slices.Clone(values), now); len(got) != len(values)+1 {
		t.Errorf("SQLite arguments: %d, want the rows' values and the cutoff", len(got))
	}
}
