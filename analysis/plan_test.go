package analysis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/busy"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// groupingIndex is the index the grouping candidates' read walks.
const groupingIndex = "alerts_first_seen"

// On PostgreSQL, the grouping candidates' read (the open alerts first seen
// within the window, in first-seen order) walks the (organization_id,
// first_seen_at, id) index over an organisation of many alerts instead of
// reading all of them and sorting (a sequential scan of ~1.3 s at a million
// alerts), and an analysis job's reads are planned with their values:
// after many batches no prepared statement over alerts on the job's
// connection ran a generic plan (which walked every alert for a rare
// entity).
func TestAnalysisReadsKeepTheirPlans(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 6)
		seedSpread(t, f, 20_000)
		ctx := context.Background()
		// Statistics, as PostgreSQL's autovacuum and SQLite's PRAGMA
		// optimize at start keep them.
		if _, err := db.SQL.ExecContext(ctx, `ANALYZE alerts`); err != nil {
			t.Fatal(err)
		}
		one := db
		if db.Pool != nil {
			one = testenv.OnePooled(t, db) // the prepared statements checked are the batches'
		}
		var (
			mu         sync.Mutex
			candidates *storage.Statement
		)
		stop := one.Observe(func(s storage.Statement) {
			if strings.Contains(s.Query, "first_seen_at") && strings.Contains(s.Query, "ORDER BY") {
				mu.Lock()
				candidates = &s
				mu.Unlock()
			}
		})
		defer stop()
		s := New(one.Client, &recorder{}, nil, nil)
		for range 8 { // past the five runs after which PostgreSQL may go generic
			if err := s.runBatch(ctx, f.org.ID, f.pending(t, f.targets)); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if candidates == nil {
			t.Fatal("the candidates' read was not seen")
		}
		// SQLite keeps no histogram of a range (no sqlite_stat4) and may
		// scan and sort a small table instead: its plan is not pinned.
		if db.Dialect == dialect.Postgres {
			checkPostgresCandidates(t, one, candidates)
		}
	})
}

// seedSpread adds n open alerts to f's organisation, first seen over the
// 30 days before the fixture's alerts.
func seedSpread(t *testing.T, f *batchFixture, n int) {
	t.Helper()
	end := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	step := 30 * 24 * time.Hour / time.Duration(n)
	for start := 0; start < n; start += createBatch {
		bulk := make([]*ent.AlertCreate, 0, createBatch)
		for i := start; i < min(n, start+createBatch); i++ {
			at := end.Add(-time.Duration(i) * step)
			bulk = append(bulk, f.db.Client.Alert.Create().SetTitle("Filler").SetSource("generic").
				SetStatus(enum.AlertStatusNew).SetFirstSeenAt(at).SetLastSeenAt(at))
		}
		if err := f.db.Client.Alert.CreateBulk(bulk...).Exec(f.analyst); err != nil {
			t.Fatal(err)
		}
	}
}

func checkPostgresCandidates(t *testing.T, one *storage.DB, st *storage.Statement) {
	t.Helper()
	ctx := context.Background()
	conn, err := one.SQL.Conn(ctx) // the pool's one connection
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if generic := testenv.GenericAlertPlans(t, conn); generic != 0 {
		t.Errorf("%d prepared statements over alerts ran a generic plan after 8 batches", generic)
	}
	plan := string(testenv.Explain(t, conn, st))
	if !strings.Contains(plan, `"Index Name": "`+groupingIndex+`"`) || strings.Contains(plan, `"Seq Scan"`) || strings.Contains(plan, `"Node Type": "Sort"`) {
		t.Errorf("the candidates' read is not an ordered walk of %s:\n%s", groupingIndex, plan)
	}
}

// fingerprintIndex is the index each dialect reads fingerprints through
// (storage's fingerprintIndexes).
var fingerprintIndex = map[string]string{
	dialect.Postgres: "alerts_fingerprint_hash",
	dialect.SQLite:   "alert_organization_id_fingerprint",
}

// Analysis's reads by fingerprint are index lookups on both databases: the
// batch's shared reads of dedup groups and of closed histories (an OR of
// the batch's fingerprints), one alert's reads alone, and which groups were
// already analysed (IN). On PostgreSQL that index is a hash index with no
// organisation column, so the test also runs the reads with another
// organisation's alerts of the same fingerprints in the table (what they
// return stays in the organisation: TestBatchStaysInItsOrganisation). The
// table holds thousands of distinct fingerprints, so a scan would be the
// alternative.
func TestFingerprintReadsUseTheIndex(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newBatchFixture(t, db, 0)
		const n = 4000
		var batch []*ent.Alert
		for from := 0; from < n; from += 500 {
			builders := make([]*ent.AlertCreate, 0, 500)
			for i := from; i < from+500; i++ {
				c := db.Client.Alert.Create().SetTitle(fmt.Sprintf("rule %d", i%40)).SetSource("edr").
					SetSeverity(enum.SeverityHigh).SetFingerprint(fmt.Sprintf("%016x", i))
				if i%3 == 0 {
					c.SetStatus(enum.AlertStatusClosed).SetDisposition(enum.DispositionBenign).SetResolvedAt(time.Now())
				}
				builders = append(builders, c)
			}
			created, err := db.Client.Alert.CreateBulk(builders...).Save(f.analyst)
			if err != nil {
				t.Fatal(err)
			}
			if from == 0 {
				batch = created[:20]
			}
		}
		var fps []string
		for _, a := range batch[:5] {
			fps = append(fps, a.Fingerprint)
			if _, err := db.Client.Alert.Create().SetTitle(a.Title).SetSource("edr").SetFingerprint(a.Fingerprint).Save(f.theirs); err != nil {
				t.Fatal(err)
			}
		}
		analyze := map[string]string{dialect.Postgres: "ANALYZE alerts", dialect.SQLite: "ANALYZE"}[db.Dialect]
		if _, err := db.SQL.ExecContext(ctx, analyze); err != nil {
			t.Fatal(err)
		}

		var (
			mu   sync.Mutex
			seen []storage.Statement
		)
		stop := db.Observe(func(s storage.Statement) {
			if _, where, ok := strings.Cut(s.Query, " WHERE "); ok && strings.Contains(where, "fingerprint") {
				mu.Lock()
				seen = append(seen, s)
				mu.Unlock()
			}
		})
		jctx := jobContext(ctx, f.org.ID)
		s := New(db.Client, &recorder{}, nil, nil)
		if err := newBatchReader(db.Client, batch).prefetch(jctx); err != nil {
			t.Fatal(err)
		}
		if _, err := (directReader{s}).related(jctx, batch[0], "", alert.Fingerprint(batch[0].Fingerprint)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.history(jctx, batch[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := analysedFingerprints(jctx, db.Client, fps); err != nil {
			t.Fatal(err)
		}
		stop()

		mu.Lock()
		defer mu.Unlock()
		if len(seen) < 5 {
			t.Fatalf("%d reads by fingerprint seen, want the shared related and history reads, one of each alone and the analysed groups'", len(seen))
		}
		for _, st := range seen {
			if plan := fingerprintPlan(t, db, st); !strings.Contains(plan, fingerprintIndex[db.Dialect]) {
				t.Errorf("read by fingerprint not through %s:\n%s\nplan: %s", fingerprintIndex[db.Dialect], st.Query, plan)
			}
		}
	})
}

// fingerprintPlan is st's plan as text: EXPLAIN's JSON on PostgreSQL,
// EXPLAIN QUERY PLAN's details on SQLite.
func fingerprintPlan(t *testing.T, db *storage.DB, st storage.Statement) string {
	t.Helper()
	if db.Dialect != dialect.Postgres {
		return testenv.ExplainSQLite(t, db, &st)
	}
	conn, err := db.SQL.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return string(testenv.Explain(t, conn, &st))
}

// A batch of automatic analyses merges the entity index's pending list
// before its reads (storage.PendingLists), so that its entity reads do not
// scan what the ingest before it left there; while this replica ingests it
// leaves the list to the inserts.
func TestBatchMergesTheEntityIndex(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ingesting bool
	}{
		{"after ingest", false},
		{"during ingest", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
				f := newBatchFixture(t, db, 4)
				ctx := context.Background()
				load := busy.New(0)
				if tc.ingesting {
					defer load.Begin()()
				}
				s := New(db.Client, &recorder{}, nil, nil).WithIngest(load, 0).WithPendingLists(db.PendingLists(0, nil))
				ids := f.pending(t, f.targets)
				if err := s.runBatch(ctx, f.org.ID, ids); err != nil {
					t.Fatal(err)
				}
				for _, a := range f.analyses(t, ids) {
					if a.Status != enum.JobStatusReady {
						t.Errorf("analysis %v: %s", a.ID, a.Status)
					}
				}
				if db.Dialect != dialect.Postgres {
					return
				}
				pages := testenv.EntityPendingPages(t, db)
				if merged := pages == 0; merged == tc.ingesting {
					t.Errorf("ingesting %v: the entity index's pending list held %d pages after the batch", tc.ingesting, pages)
				}
			})
		})
	}
}
