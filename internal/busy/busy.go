// Package busy tracks the foreground work a replica is doing (ingest), so
// that background work (automatic analyses) can wait for a pause in it:
// the two share the replica's CPU and its database, and an alert not yet
// stored is at risk where a stored one waiting for its analysis is not.
package busy

import (
	"context"
	"sync"
	"time"
)

// Tracker counts the work in flight. A nil *Tracker tracks nothing: Begin
// returns a no-op and Wait returns at once.
type Tracker struct {
	// grace is how long after the last piece of work ended the replica
	// still counts as busy: one poster's next request follows its last
	// within a round trip, and a wait should not slip into that gap.
	grace time.Duration

	mu   sync.Mutex
	n    int
	last time.Time     // when work last ended
	idle chan struct{} // closed while n == 0
}

// New returns a Tracker whose quiet moments start grace after work ends.
func New(grace time.Duration) *Tracker {
	idle := make(chan struct{})
	close(idle)
	return &Tracker{grace: grace, idle: idle}
}

// Begin marks a piece of work begun; end marks it ended.
func (t *Tracker) Begin() (end func()) {
	if t == nil {
		return func() {}
	}
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.n--
			t.last = time.Now()
			if t.n == 0 {
				close(t.idle)
			}
		})
	}
}

// QuietFor reports whether no work has run for d or longer (a nil
// Tracker is always quiet).
func (t *Tracker) QuietFor(d time.Duration) bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n == 0 && time.Since(t.last) >= d
}

// Wait returns once no work has run for grace, after limit at the latest
// (background work is delayed, never starved), or when ctx ends. It
// returns how long it waited.
func (t *Tracker) Wait(ctx context.Context, limit time.Duration) time.Duration {
	if t == nil || limit <= 0 {
		return 0
	}
	start := time.Now()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		n, idle, since := t.n, t.idle, time.Since(t.last)
		t.mu.Unlock()
		if n == 0 && since >= t.grace {
			return time.Since(start)
		}
		if !waitChange(ctx, deadline.C, n > 0, idle, t.grace-since) {
			return time.Since(start)
		}
	}
}

// waitChange blocks until the tracker's state may have changed: the work
// in flight ended (inFlight, idle closed) or the grace left passed. It is
// false when deadline or ctx came first. Its timer ends with it.
func waitChange(ctx context.Context, deadline <-chan time.Time, inFlight bool, idle <-chan struct{}, left time.Duration) bool {
	var (
		ended <-chan struct{}
		quiet <-chan time.Time
	)
	if inFlight {
		ended = idle
	} else {
		timer := time.NewTimer(left)
		defer timer.Stop()
		quiet = timer.C
	}
	select {
	case <-ended:
		return true
	case <-quiet:
		return true
	case <-deadline:
		return false
	case <-ctx.Done():
		return false
	}
}
