package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/event"
	"github.com/seliq/seliq/ent/predicate"
)

// Filter selects the events a subscriber receives.
type Filter struct {
	// OrganizationID is required: events never cross organisations.
	OrganizationID uuid.UUID
	// Topics limits the topics; empty means all.
	Topics []string
	// UserID, when set, limits notifications to those addressed to this
	// user; other topics are unaffected. Subscriptions on behalf of a user
	// must set it: unset, every notification of the organisation matches.
	UserID *uuid.UUID
}

func (f Filter) validate() error {
	if f.OrganizationID == uuid.Nil {
		return errors.New("filter needs an organization id")
	}
	for _, t := range f.Topics {
		if !slices.Contains(topics, t) || watchOnly(t) {
			return fmt.Errorf("filter: unknown topic %q", t)
		}
	}
	return nil
}

// watchOnly topics reach watchers (Hub.Watch), never subscribers.
func watchOnly(topic string) bool { return topic == TopicPrincipal || topic == TopicAutomation }

// clone detaches the filter from the caller's slice and pointer.
func (f Filter) clone() Filter {
	f.Topics = slices.Clone(f.Topics)
	if f.UserID != nil {
		u := *f.UserID
		f.UserID = &u
	}
	return f
}

func (f *Filter) match(e *Event) bool {
	if e.OrganizationID != f.OrganizationID || watchOnly(e.Topic) {
		return false
	}
	if len(f.Topics) > 0 && !slices.Contains(f.Topics, e.Topic) {
		return false
	}
	if f.UserID != nil && e.Topic == TopicNotification {
		return e.UserID != nil && *e.UserID == *f.UserID
	}
	return true
}

// predicates is match as a query, for replay.
func (f *Filter) predicates() []predicate.Event {
	ps := []predicate.Event{event.OrganizationID(f.OrganizationID)}
	if len(f.Topics) > 0 {
		ps = append(ps, event.TopicIn(f.Topics...))
	} else {
		ps = append(ps, event.TopicNotIn(TopicPrincipal, TopicAutomation))
	}
	if f.UserID != nil {
		ps = append(ps, event.Or(event.TopicNEQ(TopicNotification), event.UserID(*f.UserID)))
	}
	return ps
}

// Subscription is one subscriber's stream. C delivers events in id order
// and is closed when the subscription ends; Err then says why.
type Subscription struct {
	C <-chan Event

	h      *Hub
	ch     chan Event
	filter Filter
	// The fields below are guarded by h.mu, except cursor, which the
	// replay goroutine owns until the subscription goes live.

	// cursor: the subscriber has every matching event with id <= cursor.
	cursor int64
	live   bool
	err    error
	// unwatch stops watching the subscriber's context.
	unwatch func() bool
	// cancelReplay stops the replay goroutine, which then closes ch.
	cancelReplay context.CancelFunc
	// wake, if set, is called after each send on ch and after its close.
	wake func()
}

// Close ends the subscription (Err = ErrClosed) and closes C. Events
// already buffered in C can still be read.
func (s *Subscription) Close() { s.h.end(s, ErrClosed) }

// Err is nil while the subscription runs, then why it ended:
// ErrSlowConsumer, ErrClosed, ErrStopped, the subscriber context's error,
// or a replay failure.
func (s *Subscription) Err() error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.err
}

// Subscribe registers a subscriber for the events matching filter with id
// greater than after, delivered in id order. after = 0 starts at the hub's
// position (LastID): every event committed after Subscribe returns is
// delivered, and events committed just before but not yet dispatched may
// be too. after > 0 first replays the outbox from after, then continues
// live with no gap and no duplicate. The subscription ends when ctx does.
func (h *Hub) Subscribe(ctx context.Context, after int64, filter Filter) (*Subscription, error) {
	return h.SubscribeWake(ctx, after, filter, nil)
}

// SubscribeWake is Subscribe for a consumer that does not park a goroutine
// on C: wake is called once after every event sent on C and once after C is
// closed, so the consumer receives exactly once per call. The dispatcher
// calls it holding the hub's lock: it must not block (starting a goroutine
// is fine) nor call into the hub.
func (h *Hub) SubscribeWake(ctx context.Context, after int64, filter Filter, wake func()) (*Subscription, error) {
	if after < 0 {
		return nil, fmt.Errorf("subscribe after %d: negative id", after)
	}
	if err := filter.validate(); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	ch := make(chan Event, h.cfg.Buffer)
	s := &Subscription{C: ch, h: h, ch: ch, filter: filter.clone(), wake: wake}

	h.mu.Lock()
	defer h.mu.Unlock()
	switch h.state {
	case idle, starting:
		return nil, ErrNotStarted
	case stopped:
		return nil, ErrStopped
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if after == 0 || after >= h.last {
		s.cursor = max(after, h.last)
		h.goLiveLocked(s)
	} else {
		s.cursor = after
		replayCtx, cancel := context.WithCancel(h.runCtx)
		s.cancelReplay = cancel
		h.replaying[s] = struct{}{}
		h.goRun(func() { h.replay(replayCtx, s) })
	}
	s.unwatch = context.AfterFunc(ctx, func() { h.end(s, ctx.Err()) })
	return s, nil
}

func (h *Hub) goLiveLocked(s *Subscription) {
	s.live = true
	delete(h.replaying, s)
	org := s.filter.OrganizationID
	if h.live[org] == nil {
		h.live[org] = make(map[*Subscription]struct{})
	}
	h.live[org][s] = struct{}{}
}

// fanoutLocked hands events to the live subscribers without ever blocking:
// a subscriber whose buffer is full is dropped.
func (h *Hub) fanoutLocked(events []Event) {
	for i := range events {
		e := &events[i]
		for w := range h.watchers {
			if w.topic == e.Topic {
				w.fn(*e)
			}
		}
		for s := range h.live[e.OrganizationID] {
			if e.ID <= s.cursor || !s.filter.match(e) {
				continue
			}
			select {
			case s.ch <- *e:
				s.woke()
			default:
				h.endLocked(s, ErrSlowConsumer)
			}
		}
	}
}

func (h *Hub) end(s *Subscription, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endLocked(s, err)
}

// endLocked ends s once. A live subscription's channel is closed here, under
// the lock the dispatcher sends under; a replaying one's by its replay
// goroutine, the only sender then.
func (h *Hub) endLocked(s *Subscription, err error) {
	if s.err != nil {
		return
	}
	s.err = err
	if s.unwatch != nil {
		s.unwatch()
	}
	if !s.live {
		delete(h.replaying, s)
		s.cancelReplay()
		return
	}
	org := s.filter.OrganizationID
	delete(h.live[org], s)
	if len(h.live[org]) == 0 {
		delete(h.live, org)
	}
	close(s.ch)
	s.woke()
}

// woke calls wake, if any.
func (s *Subscription) woke() {
	if s.wake != nil {
		s.wake()
	}
}

// replay sends the stored events after s.cursor, then makes s live.
func (h *Hub) replay(ctx context.Context, s *Subscription) {
	err := h.catchUp(ctx, s)
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.live {
		return
	}
	h.endLocked(s, fmt.Errorf("replay: %w", err)) // no-op if already ended
	close(s.ch)
	s.woke()
}

// catchUp reads the outbox from s.cursor up to the hub's position, in
// chunks, until s has reached the position; it then makes s live in the
// same critical section, so the dispatcher's next event for s is the one
// after the position. Sends block: this goroutine serves s alone.
func (h *Hub) catchUp(ctx context.Context, s *Subscription) error {
	for {
		target, live, err := h.goLiveIfCaughtUp(s)
		if err != nil || live {
			return err
		}
		rows, err := h.db.Client.Event.Query().
			Where(event.IDGT(s.cursor), event.IDLTE(target)).
			Where(s.filter.predicates()...).
			Order(event.ByID()).
			Limit(h.batch).
			All(ctx)
		if err != nil {
			return fmt.Errorf("read events after %d: %w", s.cursor, err)
		}
		for _, e := range fromRows(rows) {
			select {
			case s.ch <- e:
				s.woke()
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if len(rows) == h.batch {
			s.cursor = rows[len(rows)-1].ID
		} else {
			s.cursor = target
		}
	}
}

// goLiveIfCaughtUp makes s live if it has every event up to the hub's
// position, or returns that position for s to read up to.
func (h *Hub) goLiveIfCaughtUp(s *Subscription) (target int64, live bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.err != nil {
		return 0, false, s.err
	}
	if s.cursor >= h.last {
		h.goLiveLocked(s)
		return 0, true, nil
	}
	return h.last, false, nil
}
