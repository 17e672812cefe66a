package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/realtime/live"
)

// ShareKeyFunc decides whether a subscription may share its execution with
// others, and with which: operations with the same key receive the same
// bytes for every event. It must return ok only when every field the
// operation selects resolves to the same value for every viewer the key
// covers (see ShareKey for the audit). ctx is the connection's.
type ShareKeyFunc func(ctx context.Context, rc *graphql.OperationContext) (key string, ok bool)

// sharedBacklog bounds the results a shared subscriber may have waiting to
// be written, as the hub's per-subscriber buffer (64 events, see
// server.go) bounds an unshared one: a subscriber that falls behind by more
// is dropped and its stream completes, and it resumes from its last cursor.
const sharedBacklog = 64

// errSharedSlowConsumer is why a shared subscriber that fell behind by
// sharedBacklog results is dropped.
var errSharedSlowConsumer = errors.New("realtime: shared subscriber too slow, its backlog overflowed")

// A group runs one operation for every subscriber with the same share key:
// one hub subscription, one execution of the selection per event and one
// encoded payload, which each subscriber's frame wraps with its own id. The
// group's goroutine is the only one parked for all of them; a subscriber
// costs a goroutine only while it has frames to write.
type group struct {
	key    string
	cancel context.CancelFunc

	// Guarded by shares.mu.
	members map[*sharedSub]struct{}
	ended   bool
}

// shares is a transport's groups by key.
type shares struct {
	mu     sync.Mutex
	groups map[string]*group
}

// sharedSub is one subscriber of a group: parked state, not a goroutine.
type sharedSub struct {
	c       *wsConn
	g       *group
	id      string
	op      *wsOp
	release func() // the connection's subscription slot

	mu      sync.Mutex
	queue   []sharedItem
	writing bool // a flush goroutine runs
	ending  bool // complete follows the queue
	done    bool // ended: no more frames
}

// sharedItem is one result to write: a next/data frame around payload, or
// an error frame.
type sharedItem struct {
	payload []byte
	isError bool
}

// join makes an operation a subscriber of the group for key, starting the
// group's operation from ctx and rc when there is none.
func (c *wsConn) join(ctx context.Context, key string, rc *graphql.OperationContext, id string, release func()) bool {
	s := &sharedSub{c: c, id: id, release: release}
	s.op = &wsOp{cancel: s.leave}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		release()
		return false
	}
	c.ops[id] = s.op
	c.mu.Unlock()

	sh := &c.t.shares
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done { // the connection closed meanwhile
		return false
	}
	g := sh.groups[key]
	if g == nil {
		g = &group{key: key, members: map[*sharedSub]struct{}{}}
		// The group outlives whichever subscriber started it: its context
		// keeps the values (the viewer, the operation) but neither the
		// connection's cancellation nor its subscription slots.
		gctx, cancel := context.WithCancel(live.WithoutSubscriptionLimit(context.WithoutCancel(ctx)))
		g.cancel = cancel
		if sh.groups == nil {
			sh.groups = map[string]*group{}
		}
		sh.groups[key] = g
		go c.t.runGroup(graphql.WithOperationContext(gctx, rc), g, rc, c.exec)
	}
	s.g = g
	g.members[s] = struct{}{}
	return true
}

// leave removes s from its group without a complete: the client stopped it
// or the connection closed, possibly before s joined (join then sees done).
// The last subscriber to leave stops the group.
func (s *sharedSub) leave() {
	s.mu.Lock()
	s.done = true
	s.queue = nil
	s.mu.Unlock()
	s.c.t.shares.remove(s)
	s.release()
}

// remove takes s out of its group, if it joined one. Locks: shares.mu is
// taken before a sharedSub's mu, never while holding it.
func (sh *shares) remove(s *sharedSub) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	g := s.g
	if g == nil {
		return
	}
	delete(g.members, s)
	if len(g.members) > 0 || g.ended {
		return
	}
	g.ended = true
	if sh.groups[g.key] == g {
		delete(sh.groups, g.key)
	}
	g.cancel()
}

// end detaches the group's subscribers when its operation has ended; a
// subscriber joining later starts a new group.
func (sh *shares) end(g *group) []*sharedSub {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.groups[g.key] == g {
		delete(sh.groups, g.key)
	}
	g.ended = true
	members := make([]*sharedSub, 0, len(g.members))
	for s := range g.members {
		members = append(members, s)
	}
	g.members = nil
	return members
}

// broadcast hands item to every subscriber of g.
func (sh *shares) broadcast(g *group, item sharedItem) {
	sh.mu.Lock()
	members := make([]*sharedSub, 0, len(g.members))
	for s := range g.members {
		members = append(members, s)
	}
	sh.mu.Unlock()
	for _, s := range members {
		s.push(item)
	}
}

// runGroup is the group's goroutine: the operation's response loop, each
// result encoded once for every subscriber.
func (t *Websocket) runGroup(ctx context.Context, g *group, rc *graphql.OperationContext, exec graphql.GraphExecutor) {
	defer func() {
		if r := recover(); r != nil {
			t.shares.broadcast(g, sharedItem{payload: recoveredErrors(ctx, rc, r), isError: true})
		}
		for _, s := range t.shares.end(g) {
			s.finish()
		}
		g.cancel()
	}()
	responses, ctx := exec.DispatchOperation(ctx, rc)
	for {
		r := responses(ctx)
		if r == nil {
			return
		}
		payload, err := appendResponse(nil, r)
		if err != nil {
			panic(fmt.Errorf("unable to marshal %s: %w", r.Data, err)) // as gqlgen; recovered above
		}
		t.shares.broadcast(g, sharedItem{payload: payload})
	}
}

// recoveredErrors is the error payload for a panic in the operation, the
// error run sends for one.
func recoveredErrors(ctx context.Context, rc *graphql.OperationContext, r any) []byte {
	raw, _ := json.Marshal([]*gqlerror.Error{recoveredError(ctx, rc, r)}) // an error list always encodes
	return raw
}

// push queues item and starts the flush if none runs; a subscriber with
// sharedBacklog results waiting is dropped from the group, and its stream
// completes once what it has queued is written.
func (s *sharedSub) push(item sharedItem) {
	s.mu.Lock()
	if s.done || s.ending {
		s.mu.Unlock()
		return
	}
	dropped := len(s.queue) >= sharedBacklog
	if dropped {
		s.ending = true
	} else {
		s.queue = append(s.queue, item)
	}
	s.startFlushLocked()
	s.mu.Unlock()
	if dropped {
		s.c.t.shares.remove(s)
		slog.Info("subscription ended", "reason", errSharedSlowConsumer, "id", s.id)
	}
}

// finish completes the stream after what is queued: the group's operation
// has ended.
func (s *sharedSub) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.ending = true
	s.startFlushLocked()
}

func (s *sharedSub) startFlushLocked() {
	if !s.writing {
		s.writing = true
		go s.flush()
	}
}

// flush writes the queue until it is empty, then, if the stream is ending,
// the complete; a goroutine runs it only while there is something to write.
func (s *sharedSub) flush() {
	for {
		s.mu.Lock()
		if s.done {
			s.writing = false
			s.mu.Unlock()
			return
		}
		if len(s.queue) == 0 {
			s.writing = false
			ending := s.ending
			if ending {
				s.done = true
			}
			s.mu.Unlock()
			if ending {
				s.complete()
			}
			return
		}
		item := s.queue[0]
		s.queue[0] = sharedItem{}
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = s.queue[:0:0] // let the drained array go
		}
		s.mu.Unlock()
		if item.isError {
			s.c.write(s.id, "error", item.payload, writeWait)
		} else {
			s.c.sendPayload(s.id, item.payload)
		}
	}
}

// complete ends the subscriber's stream as run does when its operation
// ends: unless the client stopped it or the connection closed meanwhile, a
// complete is sent.
func (s *sharedSub) complete() {
	c := s.c
	c.mu.Lock()
	mine := c.ops[s.id] == s.op
	if mine {
		delete(c.ops, s.id)
	}
	c.mu.Unlock()
	if mine {
		c.complete(s.id)
	}
	s.release()
}
