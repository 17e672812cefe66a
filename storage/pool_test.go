package storage_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// A flood of concurrent requests must not open a connection each: the pool
// is bounded on both databases, and writers still all get through (WAL,
// busy_timeout) when they outnumber the connections.
func TestPoolIsBounded(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		limit := db.MaxConns()
		if limit <= 0 || limit > 64 {
			t.Fatalf("pool limit %d, want a bound (1..64)", limit)
		}
		ctx := auth.System(context.Background())
		workers := 4 * limit
		var (
			peak  atomic.Int64
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make(chan error, workers)
		)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- writeAndRead(ctx, db, i, &peak)
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if p := int(peak.Load()); p > limit {
			t.Errorf("%d connections open at once, limit %d", p, limit)
		}
		n, err := db.Client.Organization.Query().Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != workers {
			t.Errorf("%d organisations written, want %d", n, workers)
		}
	})
}

// writeAndRead writes in a transaction then reads, noting the connections
// open meanwhile.
func writeAndRead(ctx context.Context, db *storage.DB, i int, peak *atomic.Int64) error {
	tx, err := db.Client.Tx(ctx)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("pool-%d", i)
	if err := tx.Organization.Create().SetName(name).SetSlug(name).Exec(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	notePeak(db, peak)
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := db.Client.Organization.Query().Count(ctx); err != nil {
		return err
	}
	notePeak(db, peak)
	return nil
}

func notePeak(db *storage.DB, peak *atomic.Int64) {
	n := int64(db.OpenConns())
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// The server's PostgreSQL sessions run without JIT compilation (see
// withoutJIT); SQLite has none.
func TestSessionsRunWithoutJIT(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		if db.Dialect != "postgres" {
			return
		}
		var jit string
		if err := db.SQL.QueryRowContext(context.Background(), "SHOW jit").Scan(&jit); err != nil {
			t.Fatal(err)
		}
		if jit != "off" {
			t.Errorf("jit = %q, want off", jit)
		}
	})
}
