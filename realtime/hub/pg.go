package hub

import (
	"context"
	"fmt"
	"time"
)

// channel is the PostgreSQL notification channel. Its payload is empty: a
// notification only says "read the outbox", the rows say what happened.
const channel = "seliq_events"

// listenLoop keeps a LISTEN connection open, reconnecting with exponential
// backoff. Each (re)connection wakes the dispatcher, which catches up from
// the table on whatever was announced while nobody listened.
func (h *Hub) listenLoop(ctx context.Context) {
	first, limit := h.backoff[0], h.backoff[1]
	delay := first
	for {
		listened, err := h.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = first
		}
		h.log.Warn("realtime: listener lost; reconnecting", "err", err, "in", delay)
		if sleep(ctx, delay) != nil {
			return
		}
		delay = min(2*delay, limit)
	}
}

// listen holds one dedicated connection (taken out of the pool for good)
// until it fails; listened reports whether LISTEN had succeeded.
func (h *Hub) listen(ctx context.Context) (listened bool, err error) {
	pooled, err := h.db.Pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire listener connection: %w", err)
	}
	conn := pooled.Hijack()
	defer func() {
		h.listenerPID.Store(0)
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx) // the connection is being discarded either way
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return false, fmt.Errorf("listen %s: %w", channel, err)
	}
	h.listenerPID.Store(conn.PgConn().PID())
	signal(h.wake)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		signal(h.wake)
	}
}

// notifyLoop sends this replica's NOTIFYs from the pool, outside any
// writer's transaction (NOTIFY takes a global lock at commit). One is in
// flight at a time and they are spaced by notifyGap, so a burst of pokes
// costs one or two.
func (h *Hub) notifyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.notify:
		}
		if _, err := h.db.Pool.Exec(ctx, "NOTIFY "+channel); err != nil && ctx.Err() == nil {
			h.log.Warn("realtime: notify other replicas (they fall back to polling)", "err", err)
		}
		if sleep(ctx, notifyGap) != nil {
			return
		}
	}
}
