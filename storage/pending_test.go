package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// Merge empties the entity index's pending list on PostgreSQL, at most once
// an interval, and runs nothing on SQLite (no GIN indexes).
func TestPendingListsMerge(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		org := testenv.Org(t, db)
		written := 0
		add := func(n int) {
			t.Helper()
			allow := privacy.DecisionContext(ctx, privacy.Allow)
			for range n {
				written++
				if _, err := db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle("Beacon").SetSource("generic").
					SetStatus(enum.AlertStatusNew).
					SetEntities([]schematype.Entity{{Type: "hostname", Value: fmt.Sprintf("ws-%04d", written)}}).Save(allow); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A failed merge is only logged, so the log is where a test sees it
		// (SQLite would refuse gin_clean_pending_list).
		var logged bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logged, nil))
		defer func() {
			if logged.Len() > 0 {
				t.Errorf("Merge logged: %s", logged.String())
			}
		}()
		always, hourly := db.PendingLists(0, log), db.PendingLists(time.Hour, log)
		if db.Dialect != dialect.Postgres {
			add(5)
			always.Merge(ctx)
			return
		}
		add(20)
		always.Merge(ctx)
		if n := testenv.EntityPendingPages(t, db); n != 0 {
			t.Errorf("after Merge the pending list held %d pages", n)
		}
		add(20)
		always.Merge(ctx)
		if n := testenv.EntityPendingPages(t, db); n != 0 {
			t.Errorf("after a second Merge the pending list held %d pages", n)
		}
		hourly.Merge(ctx) // its first merge
		add(20)
		hourly.Merge(ctx) // within its interval: nothing
		if n := testenv.EntityPendingPages(t, db); n == 0 {
			t.Error("a Merge within the interval merged, or the inserts bypassed the pending list")
		}
	})
}
