package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/seliq/seliq/ent/event"
)

// pruneChunk bounds the rows one DELETE removes, keeping its locks short.
const pruneChunk = 1000

// pruneLoop deletes expired events on start and then every pruneEvery.
// Replicas prune concurrently; deleting a row twice is harmless.
func (h *Hub) pruneLoop(ctx context.Context) {
	tick := time.NewTicker(pruneEvery)
	defer tick.Stop()
	for {
		n, err := h.prune(ctx, time.Now().UTC().Add(-h.cfg.Retention))
		switch {
		case err != nil && ctx.Err() == nil:
			h.log.Warn("realtime: prune expired events", "err", err, "deleted", n)
		case n > 0:
			h.log.Debug("realtime: pruned expired events", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// prune deletes the events created before cutoff, oldest first, in chunks.
// cutoff must be UTC: SQLite compares times as text.
func (h *Hub) prune(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		ids, err := h.db.Client.Event.Query().
			Where(event.CreatedAtLT(cutoff)).
			Order(event.ByID()).
			Limit(pruneChunk).
			IDs(ctx)
		if err != nil {
			return total, fmt.Errorf("find events before %s: %w", cutoff, err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		n, err := h.db.Client.Event.Delete().Where(event.IDIn(ids...)).Exec(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete events before %s: %w", cutoff, err)
		}
		if len(ids) < pruneChunk {
			return total, nil
		}
	}
}
