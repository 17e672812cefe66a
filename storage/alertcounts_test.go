package storage_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
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

// The slot counters follow every write: inserts, a severity change and a
// delete, on both databases; a database migrated before them is backfilled.
func TestAlertSlotCounters(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) // slot 1979840 + …
		var ids []uuid.UUID
		for i, m := range []int{0, 5, 14, 15, 44} {
			a := db.Client.Alert.Create().SetTitle(fmt.Sprint(i)).SetSource("s").SetSeverity(enum.SeverityHigh).
				SetCreatedAt(base.Add(time.Duration(m) * time.Minute)).SaveX(ctx)
			ids = append(ids, a.ID)
		}
		db.Client.Alert.UpdateOneID(ids[1]).SetSeverity(enum.SeverityLow).ExecX(ctx)
		db.Client.Alert.DeleteOneID(ids[4]).ExecX(ctx)
		first := base.Unix() / 900
		want := fmt.Sprintf("%d high 2, %d low 1, %d high 1", first, first, first+1)
		if got := slotCounts(t, db, org.ID); got != want {
			t.Fatalf("slot counts %q, want %q", got, want)
		}
		if err := db.CompactAlertCounts(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := slotCounts(t, db, org.ID); got != want {
			t.Fatalf("after compaction %q, want %q", got, want)
		}
		// An older database: the slot counters are created and filled from
		// the alerts on the next migration.
		for _, q := range []string{`DROP VIEW ` + storage.AlertSlotCountsView, `DROP TABLE alert_slot_counts`} {
			if _, err := db.SQL.ExecContext(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
		if db.Dialect == "postgres" {
			if _, err := db.SQL.ExecContext(context.Background(), `DROP TABLE alert_slot_count_deltas`); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := slotCounts(t, db, org.ID); got != want {
			t.Fatalf("backfilled %q, want %q", got, want)
		}
	})
}

func slotCounts(t *testing.T, db *storage.DB, org uuid.UUID) string {
	t.Helper()
	q := `SELECT slot, severity, CAST(SUM(n) AS BIGINT) FROM ` + storage.AlertSlotCountsView +
		` WHERE organization_id = $1 GROUP BY slot, severity HAVING SUM(n) <> 0 ORDER BY slot, severity`
	var arg any = org
	if db.Dialect != "postgres" {
		q = strings.Replace(q, "$1", "?", 1)
		arg = org.String()
	}
	rows, err := db.SQL.QueryContext(context.Background(), q, arg)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var slot, n int64
		var sev string
		if err := rows.Scan(&slot, &sev, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s %d", slot, sev, n))
	}
	return strings.Join(out, ", ")
}
