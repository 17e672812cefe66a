package hub

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// startHub starts a hub on db and, on cleanup, stops it and checks none of
// its goroutines is left.
func startHub(t testing.TB, db *storage.DB, cfg Config, tune ...func(*Hub)) *Hub {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h := New(db, cfg)
	for _, f := range tune {
		f(h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatalf("start hub: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("stop hub: %v", err)
		}
		assertNoHubGoroutines(t, h)
	})
	return h
}

// assertNoHubGoroutines fails if a goroutine still runs a method of h
// (stack traces print the receiver as the first argument).
func assertNoHubGoroutines(t testing.TB, h *Hub) {
	t.Helper()
	mark := fmt.Sprintf("(%p, ", h)
	var stacks string
	if !testenv.Poll(time.Second, func() bool {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		return !hubFrame(stacks, mark)
	}) {
		t.Errorf("hub goroutines left after Stop:\n%s", stacks)
	}
}

func hubFrame(stacks, mark string) bool {
	for line := range strings.Lines(stacks) {
		if strings.Contains(line, "realtime/hub.(*Hub).") && strings.Contains(line, mark) {
			return true
		}
	}
	return false
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func alert(org uuid.UUID) Event {
	return Event{OrganizationID: org, Topic: TopicAlert, Kind: KindCreated, EntityID: uuid.New()}
}

// record writes events outside any transaction and pokes h.
func record(t testing.TB, db *storage.DB, h *Hub, events ...Event) {
	t.Helper()
	if err := Record(context.Background(), db.Client, events...); err != nil {
		t.Fatalf("record: %v", err)
	}
	h.Poke()
}

func subscribe(t testing.TB, h *Hub, after int64, f Filter) *Subscription {
	t.Helper()
	s, err := h.Subscribe(context.Background(), after, f)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// delivery is how long tests wait for an event: generous, as a loaded
// machine may be slow; how fast delivery is belongs in the benchmarks.
const delivery = 10 * time.Second

// receive returns the next n events of s, failing after timeout.
func receive(t testing.TB, s *Subscription, n int, timeout time.Duration) []Event {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var got []Event
	for len(got) < n {
		select {
		case e, ok := <-s.C:
			if !ok {
				t.Fatalf("subscription ended after %d of %d events: %v", len(got), n, s.Err())
			}
			got = append(got, e)
		case <-deadline.C:
			t.Fatalf("received %d of %d events within %v", len(got), n, timeout)
		}
	}
	return got
}

// expectNothing fails if s delivers an event within d.
func expectNothing(t testing.TB, s *Subscription, d time.Duration) {
	t.Helper()
	select {
	case e, ok := <-s.C:
		t.Fatalf("got %+v (open %v), want nothing", e, ok)
	case <-time.After(d):
	}
}

func entities(events []Event) []uuid.UUID {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.EntityID
	}
	return ids
}

func eventIDs(events []Event) []int64 {
	ids := make([]int64, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

// assertConsecutive checks ids run from first without gap or repeat.
func assertConsecutive(t testing.TB, ids []int64, first int64) {
	t.Helper()
	for i, id := range ids {
		if id != first+int64(i) {
			t.Fatalf("ids %v: position %d is %d, want %d", ids, i, id, first+int64(i))
		}
	}
}
