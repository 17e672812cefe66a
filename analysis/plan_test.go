package analysis

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
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
