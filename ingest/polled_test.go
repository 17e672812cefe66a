package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/deadletter"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// TestIngestPolled: a polled page's records are mapped one by one (an
// unmappable one becomes a dead letter, the others alerts) and commit runs
// in the same transaction: when it fails, nothing of the page is written.
func TestIngestPolled(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, Options{})
		c, _ := testenv.Connector(t, db, e.org, "generic")
		ctx := viewer.ForJob(context.Background(), e.org.ID)
		page := []json.RawMessage{
			testenv.GenericAlert("Polled one", "host-1"),
			json.RawMessage(`{"no":"title"}`),
			testenv.GenericAlert("Polled two", "host-2"),
		}
		deadLetters := func() int {
			return db.Client.DeadLetter.Query().Where(deadletter.ConnectorID(c.ID)).CountX(ctx)
		}
		t.Run("commit fails: nothing written", func(t *testing.T) {
			boom := errors.New("checkpoint refused")
			_, err := e.svc.IngestPolled(ctx, c, page, func(context.Context, *ent.Tx) error { return boom })
			if !errors.Is(err, boom) {
				t.Fatalf("got %v", err)
			}
			if n := len(alertsOf(t, db, e.org)); n != 0 || deadLetters() != 0 {
				t.Fatalf("%d alerts, %d dead letters after a rolled back page", n, deadLetters())
			}
		})
		t.Run("commit succeeds: alerts, dead letter and checkpoint together", func(t *testing.T) {
			res, err := e.svc.IngestPolled(ctx, c, page, func(ctx context.Context, tx *ent.Tx) error {
				return tx.Connector.Update().Where(connector.ID(c.ID)).SetPollCheckpoint("cp-1").Exec(ctx)
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Created != 2 || res.DeadLettered != 1 || len(alertsOf(t, db, e.org)) != 2 || deadLetters() != 1 {
				t.Fatalf("result %+v, %d dead letters", res, deadLetters())
			}
			if got := db.Client.Connector.GetX(ctx, c.ID).PollCheckpoint; got != "cp-1" {
				t.Fatalf("checkpoint %q", got)
			}
		})
		t.Run("an empty page still commits its checkpoint", func(t *testing.T) {
			_, err := e.svc.IngestPolled(ctx, c, nil, func(ctx context.Context, tx *ent.Tx) error {
				return tx.Connector.Update().Where(connector.ID(c.ID)).SetPollCheckpoint("cp-2").Exec(ctx)
			})
			if err != nil || db.Client.Connector.GetX(ctx, c.ID).PollCheckpoint != "cp-2" {
				t.Fatalf("empty page: %v", err)
			}
		})
		t.Run("another organisation's job is refused", func(t *testing.T) {
			other := testenv.Org(t, db)
			_, err := e.svc.IngestPolled(viewer.ForJob(context.Background(), other.ID), c, page, func(context.Context, *ent.Tx) error { return nil })
			if err == nil {
				t.Fatal("a job of another organisation ingested into this connector")
			}
		})
	})
}
