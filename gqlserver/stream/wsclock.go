package stream

import (
	"container/list"
	"sync"
	"time"
)

// heartbeat sends every connection of a transport its keep-alive (legacy
// graphql-ws) or ping (graphql-transport-ws) at a fixed interval, from one
// timer for all connections instead of a ticker goroutine each. All
// connections share the interval, so appending a connection when it is
// (re)armed keeps the queue ordered by due time: the timer only ever needs
// the front. The timer runs only while some connection is queued, and its
// callback is the one goroutine that beats, for every connection due.
type heartbeat struct {
	every time.Duration

	mu    sync.Mutex
	queue list.List // of *wsConn, by due time
	timer *time.Timer
}

// batch: connections due within this much of the first are beaten in the
// same round.
const heartbeatBatch = 50 * time.Millisecond

func (h *heartbeat) add(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.beat != nil {
		return
	}
	c.due = time.Now().Add(h.every)
	c.beat = h.queue.PushBack(c)
	if h.timer == nil {
		h.timer = time.AfterFunc(h.every, h.fire)
	}
}

func (h *heartbeat) remove(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.beat == nil {
		return
	}
	h.queue.Remove(c.beat)
	c.beat = nil
	if h.queue.Len() == 0 && h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
}

func (h *heartbeat) fire() {
	now := time.Now()
	var due []*wsConn
	h.mu.Lock()
	// Each connection at most once a round: a re-armed one is at the back.
	for range h.queue.Len() {
		e := h.queue.Front()
		c := e.Value.(*wsConn)
		if c.due.After(now.Add(min(heartbeatBatch, h.every/2))) {
			break
		}
		due = append(due, c)
		c.due = now.Add(h.every)
		h.queue.MoveToBack(e)
	}
	switch {
	case h.queue.Len() == 0:
		h.timer = nil
	case h.timer != nil:
		h.timer.Reset(time.Until(h.queue.Front().Value.(*wsConn).due))
	}
	h.mu.Unlock()
	for _, c := range due {
		c.heartbeat()
	}
}
