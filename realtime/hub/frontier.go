package hub

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/event"
)

// A frontier tells the dispatcher how far the outbox is final: an id such
// that every event with a lower or equal id has either committed or never
// will. Only the dispatcher goroutine calls it.
type frontier interface {
	// next returns that id, or ready=false while transactions that may
	// still commit an id at or below it are in flight. last is the id the
	// dispatcher has delivered up to.
	next(ctx context.Context, last int64) (bound int64, ready bool, err error)
}

// sqliteFrontier: SQLite has one writer at a time and assigns ids under its
// write lock, so a committed id is never followed by the commit of a lower
// one; the newest visible id is final.
type sqliteFrontier struct{ client *ent.Client }

func (f sqliteFrontier) next(ctx context.Context, _ int64) (int64, bool, error) {
	id, err := f.client.Event.Query().Order(event.ByID(entsql.OrderDesc())).FirstID(ctx)
	if ent.IsNotFound(err) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("newest event id: %w", err)
	}
	return id, true, nil
}

// pgFrontier handles PostgreSQL, where ids come from a sequence when a row
// is inserted but transactions commit in any order: a reader that sees id 6
// may see id 5 commit later.
//
// The usual guard, reading only rows whose xmin precedes the snapshot's
// xmin, is not enough: a transaction that took its xid early (by writing
// something else first) but its event id late passes the guard while a
// younger transaction with a lower event id is still open, and the reader
// skips that id for good. Instead we rely on locks: a transaction that
// inserts into the outbox holds a RowExclusiveLock on it from before it
// draws an id until it ends. So:
//
//  1. read W, the newest id the sequence has handed out (its cache is 1:
//     every id <= W was drawn before this read, every later id is > W);
//  2. then list the transactions holding a write lock on the outbox;
//  3. once all of those have ended, every id <= W is final: its writer
//     held the lock before step 1, so at step 2 it had ended (and its row
//     is visible to any later snapshot, as a transaction leaves the proc
//     array before it releases its locks) or it was listed.
//
// Only writers of the outbox delay delivery, never unrelated long
// transactions elsewhere in the cluster. A writer that stays open holds
// back every later event on every replica (ordered delivery requires it);
// we log it so operators can find it.
type pgFrontier struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// seq is the outbox id sequence, rel the outbox table (by oid).
	seq string
	rel uint32
	// pending is the watermark waiting for its writers to end.
	pending *watermark
}

type watermark struct {
	id      int64
	writers []string // virtual transaction ids still holding the lock
	since   time.Time
	warned  bool
}

// stallWarning is how long a watermark may wait before we log its writers.
const stallWarning = 5 * time.Second

// newPGFrontier finds the outbox's table and sequence and checks the
// sequence hands out ids one at a time (see pgFrontier).
func newPGFrontier(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*pgFrontier, error) {
	f := &pgFrontier{pool: pool, log: log}
	var cache int64
	err := pool.QueryRow(ctx, `
		SELECT s.seqrelid::regclass::text, 'realtime_events'::regclass::oid, s.seqcache
		FROM pg_sequence s
		WHERE s.seqrelid = pg_get_serial_sequence('realtime_events', 'id')::regclass`).
		Scan(&f.seq, &f.rel, &cache)
	if err != nil {
		return nil, fmt.Errorf("find realtime_events id sequence: %w", err)
	}
	if cache != 1 {
		return nil, fmt.Errorf("sequence %s caches %d ids per session; the hub needs CACHE 1 to order events safely", f.seq, cache)
	}
	return f, nil
}

func (f *pgFrontier) next(ctx context.Context, last int64) (int64, bool, error) {
	if f.pending == nil {
		w, err := f.issued(ctx)
		if err != nil {
			return 0, false, err
		}
		if w <= last {
			return last, true, nil
		}
		writers, err := f.writers(ctx, nil)
		if err != nil {
			return 0, false, err
		}
		f.pending = &watermark{id: w, writers: writers, since: time.Now()}
	} else if len(f.pending.writers) > 0 {
		writers, err := f.writers(ctx, f.pending.writers)
		if err != nil {
			return 0, false, err
		}
		f.pending.writers = writers
	}
	if p := f.pending; len(p.writers) > 0 {
		if !p.warned && time.Since(p.since) > stallWarning {
			p.warned = true
			f.log.Warn("realtime events held back by open transactions on realtime_events",
				"watermark", p.id, "virtual_transactions", p.writers, "waiting", time.Since(p.since).Round(time.Millisecond))
		}
		return 0, false, nil
	}
	w := f.pending.id
	f.pending = nil
	return w, true, nil
}

// issued returns the newest id the sequence has handed out (0 before any).
func (f *pgFrontier) issued(ctx context.Context) (int64, error) {
	var w int64
	err := f.pool.QueryRow(ctx, "SELECT COALESCE(pg_sequence_last_value($1::regclass), 0)", f.seq).Scan(&w)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", f.seq, err)
	}
	return w, nil
}

// writers lists the transactions (other than our own session) holding a
// lock on the outbox that allows inserting into it; among only when given.
func (f *pgFrontier) writers(ctx context.Context, among []string) ([]string, error) {
	var vxids []string
	err := f.pool.QueryRow(ctx, `
		SELECT COALESCE(array_agg(DISTINCT virtualtransaction), '{}')
		FROM pg_locks
		WHERE locktype = 'relation' AND granted
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND relation = $1
		  AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
		  AND pid IS DISTINCT FROM pg_backend_pid()
		  AND ($2::text[] IS NULL OR virtualtransaction = ANY($2))`, f.rel, among).Scan(&vxids)
	if err != nil {
		return nil, fmt.Errorf("list realtime_events writers: %w", err)
	}
	return vxids, nil
}

// settle waits until next is ready and returns its bound: the position a
// starting hub takes, so that everything that commits after Start returns
// has a higher id.
func settle(ctx context.Context, f frontier) (int64, error) {
	delay := time.Millisecond
	for {
		bound, ready, err := f.next(ctx, 0)
		if err != nil {
			return 0, err
		}
		if ready {
			return bound, nil
		}
		if err := sleep(ctx, delay); err != nil {
			return 0, fmt.Errorf("wait for open realtime_events writers: %w", err)
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
