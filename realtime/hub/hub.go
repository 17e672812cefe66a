// Package hub fans realtime events out to subscribers. Writers insert
// events into the outbox table (realtime_events) in the transaction of the
// change, with Record; after commit, one dispatcher goroutine per replica
// reads the new rows in id order and hands them to its local subscribers.
// On PostgreSQL a coalesced NOTIFY wakes the other replicas, which read the
// same rows; a poll timer covers lost notifications, and a subscriber (or a
// reconnecting client) resumes from the last id it saw by replaying the
// table.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/event"
	"github.com/seliq/seliq/ent/hook"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/storage"
)

// Config tunes a Hub; zero values take the defaults.
type Config struct {
	Logger *slog.Logger
	// Buffer is each subscriber's channel size (default 256). A subscriber
	// whose buffer is full when an event arrives is dropped.
	Buffer int
	// PollInterval is how often the dispatcher re-reads the outbox without
	// being woken (default 1s): the fallback for lost notifications.
	PollInterval time.Duration
	// Retention is how long events stay replayable (default 24h).
	Retention time.Duration
}

const (
	defaultBuffer       = 256
	defaultPollInterval = time.Second
	defaultRetention    = 24 * time.Hour
	// readBatch bounds the rows of one outbox read.
	readBatch = 1000
	// pruneEvery is how often expired events are deleted.
	pruneEvery = time.Hour
	// maxRetryDelay caps the wait before re-checking in-flight writers or
	// retrying after a database error.
	maxRetryDelay = 200 * time.Millisecond
	// notifyGap spaces this replica's NOTIFYs: pokes arriving meanwhile
	// coalesce into the next one.
	notifyGap = 2 * time.Millisecond
)

// Errors that end a subscription (see Subscription.Err) or refuse one.
var (
	ErrSlowConsumer = errors.New("realtime: subscriber too slow, its buffer overflowed")
	ErrClosed       = errors.New("realtime: subscription closed")
	ErrStopped      = errors.New("realtime: hub stopped")
	ErrNotStarted   = errors.New("realtime: hub not started")
)

type state int

const (
	idle state = iota
	starting
	running
	stopped
)

// Hub is one replica's event dispatcher and its subscribers.
type Hub struct {
	db      *storage.DB
	cfg     Config
	log     *slog.Logger
	batch   int              // rows per outbox read (replay and dispatch)
	backoff [2]time.Duration // listener reconnect backoff: first, cap

	wake   chan struct{} // wakes the dispatcher; capacity 1 coalesces pokes
	notify chan struct{} // wakes the notifier (PostgreSQL); same

	// mu guards the fields below and the state of every Subscription; the
	// dispatcher fans out while holding it.
	mu        sync.Mutex
	state     state
	last      int64                                    // every event with id <= last is final and delivered
	live      map[uuid.UUID]map[*Subscription]struct{} // by organisation
	replaying map[*Subscription]struct{}
	watchers  map[*watcher]struct{}
	runCtx    context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	// listenerPID is the LISTEN connection's backend, 0 while disconnected.
	listenerPID atomic.Uint32
}

// New returns a hub over db; Start runs it.
func New(db *storage.DB, cfg Config) *Hub {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = defaultBuffer
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = defaultPollInterval
	}
	if cfg.Retention <= 0 {
		cfg.Retention = defaultRetention
	}
	return &Hub{
		db:        db,
		cfg:       cfg,
		log:       cfg.Logger.With("component", "realtime"),
		batch:     readBatch,
		backoff:   [2]time.Duration{50 * time.Millisecond, 5 * time.Second},
		wake:      make(chan struct{}, 1),
		notify:    make(chan struct{}, 1),
		live:      make(map[uuid.UUID]map[*Subscription]struct{}),
		replaying: make(map[*Subscription]struct{}),
		watchers:  make(map[*watcher]struct{}),
	}
}

// Start positions the hub at the newest final event and starts its
// goroutines: the dispatcher, the pruner and, on PostgreSQL, the listener
// and the notifier. ctx bounds the start only; Stop ends the hub. On
// PostgreSQL, Start waits for transactions writing the outbox at that
// moment to end, so everything committed after Start is delivered.
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.state != idle {
		h.mu.Unlock()
		return errors.New("realtime: hub already started")
	}
	h.state = starting
	h.mu.Unlock()

	front, last, err := h.position(ctx)
	if err != nil {
		h.mu.Lock()
		h.state = idle
		h.mu.Unlock()
		return fmt.Errorf("start realtime hub: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.mu.Lock()
	h.state, h.last, h.runCtx, h.cancel = running, last, runCtx, cancel
	h.mu.Unlock()

	h.goRun(func() { h.dispatchLoop(runCtx, front) })
	h.goRun(func() { h.pruneLoop(runCtx) })
	if h.db.Pool != nil {
		h.goRun(func() { h.listenLoop(runCtx) })
		h.goRun(func() { h.notifyLoop(runCtx) })
	}
	return nil
}

// position returns the dialect's frontier and where the dispatcher starts.
func (h *Hub) position(ctx context.Context) (frontier, int64, error) {
	var front frontier = sqliteFrontier{client: h.db.Client}
	if h.db.Pool != nil {
		pg, err := newPGFrontier(ctx, h.db.Pool, h.log)
		if err != nil {
			return nil, 0, err
		}
		front = pg
	}
	last, err := settle(ctx, front)
	return front, last, err
}

func (h *Hub) goRun(fn func()) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
}

// Stop ends every subscription (Err = ErrStopped) and waits for the hub's
// goroutines until ctx ends. Stopping twice, or a hub never started, is a
// no-op.
func (h *Hub) Stop(ctx context.Context) error {
	h.mu.Lock()
	if h.state != running {
		h.mu.Unlock()
		return nil
	}
	h.state = stopped
	h.cancel()
	for _, subs := range h.live {
		for s := range subs {
			h.endLocked(s, ErrStopped)
		}
	}
	for s := range h.replaying {
		h.endLocked(s, ErrStopped)
	}
	h.mu.Unlock()

	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop realtime hub: %w", ctx.Err())
	}
}

// Poke wakes this replica's dispatcher and, on PostgreSQL, the other
// replicas through a NOTIFY sent by another goroutine on its own
// connection, never inside the writer's transaction. Pokes coalesce: it
// never blocks and is safe from any goroutine, before Start and after Stop.
func (h *Hub) Poke() {
	signal(h.wake)
	if h.db.Pool != nil {
		signal(h.notify)
	}
}

// signal sets a capacity-1 channel without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// CommitHook returns an ent hook for db.Client.Event.Use: once the
// transaction that inserted events commits (at once, outside a
// transaction), it pokes the hub, so writers need not know the hub. A
// rolled-back transaction pokes nobody.
func (h *Hub) CommitHook() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.EventFunc(func(ctx context.Context, m *ent.EventMutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			tx, err := m.Tx()
			if err != nil { // not in a transaction: the row is committed
				h.Poke()
				return v, nil
			}
			tx.OnCommit(h.pokeOnCommit)
			return v, nil
		})
	}, ent.OpCreate)
}

func (h *Hub) pokeOnCommit(next ent.Committer) ent.Committer {
	return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
		if err := next.Commit(ctx, tx); err != nil {
			return err
		}
		h.Poke()
		return nil
	})
}

// LastID is the newest id the dispatcher has delivered: every event with a
// lower or equal id has been handed to the subscribers of that moment. It
// is the cursor a client resumes from.
func (h *Hub) LastID() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// dispatchLoop is the replica's one dispatcher: it wakes on a poke, a
// notification or the poll timer, and retries soon while writers are in
// flight or after an error.
func (h *Hub) dispatchLoop(ctx context.Context, front frontier) {
	poll := time.NewTicker(h.cfg.PollInterval)
	defer poll.Stop()
	var retry <-chan time.Time
	delay := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-poll.C:
		case <-retry:
		}
		if h.dispatch(ctx, front) {
			delay = min(max(2*delay, time.Millisecond), maxRetryDelay)
			retry = time.After(delay)
		} else {
			delay, retry = 0, nil
		}
	}
}

// dispatch delivers every event that has become final. It reports whether
// it must run again soon: writers are still in flight, or it failed.
func (h *Hub) dispatch(ctx context.Context, front frontier) (again bool) {
	for {
		last := h.LastID()
		bound, ready, err := front.next(ctx, last)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("realtime: read outbox frontier", "err", err)
			}
			return true
		}
		if !ready {
			return true
		}
		if bound <= last {
			return false
		}
		if err := h.deliverUpTo(ctx, last, bound); err != nil {
			if ctx.Err() == nil {
				h.log.Warn("realtime: read outbox", "err", err)
			}
			return true
		}
	}
}

// deliverUpTo fans out the events in (last, bound] to live subscribers and
// watchers in id order and advances the hub's position in the same critical
// section, which is what lets a replaying subscriber join without gap or
// duplicate. With watchers but no live subscriber only the watched topics
// are read; should a subscriber go live meanwhile, the range is read again
// in full.
func (h *Hub) deliverUpTo(ctx context.Context, last, bound int64) error {
	for last < bound {
		done, only := h.readScope(bound)
		if done {
			return nil
		}
		q := h.db.Client.Event.Query().Where(event.IDGT(last), event.IDLTE(bound))
		if only != nil {
			q = q.Where(topicsLiteral(only))
		}
		rows, err := q.Order(event.ByID()).Limit(h.batch).All(ctx)
		if err != nil {
			return fmt.Errorf("read events after %d: %w", last, err)
		}
		events := fromRows(rows)
		next := bound
		if len(rows) == h.batch {
			next = events[len(events)-1].ID
		}
		h.mu.Lock()
		if only != nil && len(h.live) > 0 {
			h.mu.Unlock()
			continue
		}
		h.fanoutLocked(events)
		h.last, last = next, next
		h.mu.Unlock()
	}
	return nil
}

// readScope says what the dispatcher must read up to bound: nothing when
// nobody listens (the position moves to bound at once: a subscriber
// joining later starts past it), only the watched topics when no
// subscriber is live (only != nil), otherwise everything.
func (h *Hub) readScope(bound int64) (done bool, only []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.live) > 0 {
		return false, nil
	}
	if len(h.watchers) == 0 {
		h.last = bound
		return true, nil
	}
	only = []string{}
	for w := range h.watchers {
		if !slices.Contains(only, w.topic) {
			only = append(only, w.topic)
		}
	}
	return false, only
}

// topicsLiteral matches the topics written as SQL literals, not bound
// parameters: only then can either database use the partial index on
// principal events (storage/indexes.go). Topics are this package's
// constants (Watch checks), never input.
func topicsLiteral(ts []string) predicate.Event {
	return func(s *entsql.Selector) {
		col := s.C(event.FieldTopic)
		if len(ts) == 1 {
			s.Where(entsql.ExprP(col + " = '" + ts[0] + "'"))
			return
		}
		s.Where(entsql.ExprP(col + " IN ('" + strings.Join(ts, "', '") + "')"))
	}
}

// watcher receives every event of one topic, whatever its organisation.
type watcher struct {
	topic string
	fn    func(Event)
}

// Watch calls fn for every event of topic, in every organisation, that the
// dispatcher delivers from now on (no replay): how replica-wide listeners,
// such as the principal revocation signal (auth.Revocations), follow the
// outbox with the same ordering, NOTIFY and poll fallback as subscribers.
// The dispatcher calls fn holding the hub's lock: fn must not block nor
// call into the hub. stop ends the watch.
func (h *Hub) Watch(topic string, fn func(Event)) (stop func()) {
	if !slices.Contains(topics, topic) {
		panic(fmt.Sprintf("realtime: watch unknown topic %q", topic))
	}
	w := &watcher{topic: topic, fn: fn}
	h.mu.Lock()
	h.watchers[w] = struct{}{}
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.watchers, w)
		h.mu.Unlock()
	}
}
