package live

import (
	"context"
	"sync"

	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/realtime/hub"
)

// sharedLoads bounds the events whose loaded object is kept for other
// subscribers of the same event.
const sharedLoads = 4096

// shared loads the object an event names once for all the subscribers that
// want it unfiltered: every role reads every alert and incident of its
// organisation, so the object is the same for all of them, and a thousand
// subscribers cost one query instead of a thousand. The load runs as
// background work in the event's organisation; fields resolved on the
// object afterwards still run as each subscriber.
type shared struct {
	mu      sync.Mutex
	entries map[int64]*load
	order   []int64
}

type load struct {
	done  chan struct{}
	value any
	err   error
}

func newShared() *shared { return &shared{entries: map[int64]*load{}} }

// get returns fn's result for e, running fn once per event.
func (s *shared) get(ctx context.Context, e hub.Event, fn func(context.Context) (any, error)) (any, error) {
	s.mu.Lock()
	l, ok := s.entries[e.ID]
	if !ok {
		l = &load{done: make(chan struct{})}
		s.entries[e.ID] = l
		s.order = append(s.order, e.ID)
		if len(s.order) > sharedLoads {
			delete(s.entries, s.order[0])
			s.order = s.order[1:]
		}
	}
	s.mu.Unlock()
	if !ok {
		// Detached from the first subscriber's context, whose end must not
		// fail the load for the others.
		l.value, l.err = fn(viewer.ForJob(context.WithoutCancel(ctx), e.OrganizationID))
		close(l.done)
	}
	select {
	case <-l.done:
		return l.value, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
