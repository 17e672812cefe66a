package storage_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// pendingDeltas counts the delta rows not yet folded into the counters.
func pendingDeltas(t *testing.T, db *storage.DB) int {
	t.Helper()
	var n int
	err := db.SQL.QueryRowContext(context.Background(),
		`SELECT (SELECT count(*) FROM alert_count_deltas) + (SELECT count(*) FROM alert_tag_count_deltas)`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The compaction loop folds the deltas an insert appended, leaving the
// live counts as they were, and returns once its context ends.
func TestCompactAlertCountsEvery(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	ctx := context.Background()
	org := testenv.Org(t, db, testenv.Slug("compact"))
	_, err := db.SQL.ExecContext(ctx, `INSERT INTO alerts (id, created_at, updated_at, source, external_id, title,
		description, severity, severity_rank, status, tags, fingerprint, occurrences, first_seen_at, last_seen_at,
		ingested_at, organization_id)
		SELECT gen_random_uuid(), now(), now(), 'src' || (i % 3), '', 'a', '', 'high', 4, 'new', '["x", "y"]', '', 1,
			now(), now(), now(), $1 FROM generate_series(1, 30) AS i`, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := pendingDeltas(t, db); n != 3+6 {
		t.Fatalf("%d pending deltas after the insert, want one per key: 9", n)
	}
	loop, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.CompactAlertCountsEvery(loop, 10*time.Millisecond, slog.Default())
	}()
	testenv.Poll(10*time.Second, func() bool { return pendingDeltas(t, db) == 0 })
	stop()
	<-done
	if n := pendingDeltas(t, db); n != 0 {
		t.Fatalf("%d deltas still pending", n)
	}
	var total int
	if err := db.SQL.QueryRowContext(ctx, `SELECT sum(n) FROM `+storage.AlertTagCountsView).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 60 {
		t.Errorf("tag counts sum to %d after compaction, want 60", total)
	}
}
