package storage

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/pgconn"
)

// PendingLists merges the pending list of the GIN index analysis searches
// for every alert it analyses (alerts_entities_gin) into the index's tree.
// A GIN search reads the whole pending list (up to gin_pending_list_limit,
// 4 MB: ~500 pages) before the tree, and only a vacuum or an insert that
// overflows it empties it: at a million alerts, a batch's read of 100
// entity values took 840 ms (8 ms a value, nearly all of it the list),
// four fifths of the analysis drain's database time. Turning the list off
// instead made every insert, and every alert a bulk close rewrites, put
// its entity values into the tree at once (ingest's WAL per alert rose by
// 29 %); a merge before a batch's reads does work the next overflowing
// insert would have done, and after a flood one merge serves the drain.
type PendingLists struct {
	db    *DB
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	last    time.Time
	refused bool // PostgreSQL refused (the role does not own the index)
}

// DefaultMergeEvery is how often PendingLists merges at most.
const DefaultMergeEvery = time.Second

// PendingLists returns the merger of d's entity index, merging at most once
// every interval; on SQLite (no GIN indexes) its Merge does nothing.
func (d *DB) PendingLists(every time.Duration, log *slog.Logger) *PendingLists {
	if log == nil {
		log = slog.Default()
	}
	return &PendingLists{db: d, every: every, log: log}
}

// Merge merges the entity index's pending list unless it did so less than
// an interval ago or another caller is merging now. It never fails its
// caller: the list only makes searches slower, so an error is logged, and
// a refusal (the index belongs to another role) ends the merging.
func (p *PendingLists) Merge(ctx context.Context) {
	if p == nil || p.db.Dialect != dialect.Postgres || !p.mu.TryLock() {
		return
	}
	defer p.mu.Unlock()
	if p.refused || time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	_, err := p.db.SQL.ExecContext(ctx, `SELECT gin_clean_pending_list('alerts_entities_gin'::regclass)`)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
	case errors.As(err, &pgErr) && pgErr.Code == "42501": // insufficient_privilege
		p.refused = true
		p.log.WarnContext(ctx, "cannot merge the entity index's pending list (the database role does not own it): analysis's entity reads will scan it", "error", err)
	case ctx.Err() == nil:
		p.log.WarnContext(ctx, "merge the entity index's pending list", "error", err)
	}
}
