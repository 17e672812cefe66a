package jobs

import (
	"context"
	"errors"
	"testing"

	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// A job queued with EnqueueTx exists once the change commits, and is
// worked; one queued in a transaction that rolls back never exists.
func TestEnqueueTxFollowsTheTransaction(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		db = migrated(t, db)
		w := newWorker()
		startRunner(t, db, Config{Workers: w.workers()})
		ctx := context.Background()
		errRolledBack := errors.New("roll back")
		for _, c := range []struct {
			name   string
			fnErr  error
			states []rivertype.JobState
		}{
			{"intx-commit", nil, []rivertype.JobState{rivertype.JobStateCompleted}},
			{"intx-rollback", errRolledBack, nil},
		} {
			err := storage.InTx(ctx, db.Client, func(tx *ent.Tx) error {
				if err := EnqueueTx(ctx, tx.Client(), testArgs{Case: c.name}, nil); err != nil {
					return err
				}
				return c.fnErr
			})
			if !errors.Is(err, c.fnErr) {
				t.Fatalf("%s: InTx: %v", c.name, err)
			}
			if c.states == nil {
				if rows := jobsOf(t, db, c.name); len(rows) != 0 {
					t.Fatalf("%s: a rolled-back transaction left jobs %+v", c.name, rows)
				}
				continue
			}
			waitJob(t, db, c.name, c.states[0])
			if n := w.calls(c.name); n != 1 {
				t.Fatalf("%s: worked %d times, want 1", c.name, n)
			}
		}
		// Outside InTx there is no transaction to join: refused, not
		// silently queued on its own.
		if err := EnqueueTx(ctx, db.Client, testArgs{Case: "intx-none"}, nil); err == nil {
			t.Fatal("EnqueueTx outside a transaction succeeded")
		}
	})
}
