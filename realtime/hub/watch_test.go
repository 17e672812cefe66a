package hub

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func principalEvent(org, user uuid.UUID) Event {
	return Event{OrganizationID: org, Topic: TopicPrincipal, Kind: KindUpdated, EntityID: user, UserID: &user}
}

// watch collects what a watcher receives on a channel.
func watch(t *testing.T, h *Hub, topic string) <-chan Event {
	t.Helper()
	ch := make(chan Event, 100)
	stop := h.Watch(topic, func(e Event) { ch <- e })
	t.Cleanup(stop)
	return ch
}

func watched(t *testing.T, ch <-chan Event, n int) []Event {
	t.Helper()
	var got []Event
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case e := <-ch:
			got = append(got, e)
		case <-deadline:
			t.Fatalf("watcher received %d of %d events", len(got), n)
		}
	}
	return got
}

// TestWatchSeesEveryOrganisationButSubscribersNever: a watcher receives the
// principal events of every organisation, with or without live
// subscribers; an organisation's subscribers never receive them, live or
// replaying.
func TestWatchSeesEveryOrganisationButSubscribersNever(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := startHub(t, db, Config{PollInterval: time.Hour})
		ch := watch(t, h, TopicPrincipal)
		orgA, orgB := uuid.New(), uuid.New()
		u1, u2 := uuid.New(), uuid.New()

		// Nobody subscribed: only the watched topic is read. (The first
		// event keeps the ids below clear of 0, which means "from now".)
		record(t, db, h, alert(orgB), alert(orgA), principalEvent(orgA, u1), principalEvent(orgB, u2))
		got := watched(t, ch, 2)
		if *got[0].UserID != u1 || *got[1].UserID != u2 {
			t.Fatalf("watcher got %+v", got)
		}
		from := got[0].ID - 2 // before the first alert

		all := subscribe(t, h, 0, Filter{OrganizationID: orgA})
		replaying := subscribe(t, h, from, Filter{OrganizationID: orgA})
		first := alert(orgA)
		record(t, db, h, first, principalEvent(orgA, u1))
		if e := receive(t, all, 1, delivery)[0]; e.EntityID != first.EntityID {
			t.Fatalf("subscriber got %+v, want the alert", e)
		}
		expectNothing(t, all, 50*time.Millisecond)
		if e := watched(t, ch, 1)[0]; *e.UserID != u1 {
			t.Fatalf("watcher got %+v", e)
		}
		for _, e := range receive(t, replaying, 2, delivery) {
			if e.Topic != TopicAlert {
				t.Fatalf("replaying subscriber got %+v", e)
			}
		}
		expectNothing(t, replaying, 50*time.Millisecond)
		if _, err := h.Subscribe(t.Context(), 0, Filter{OrganizationID: orgA, Topics: []string{TopicPrincipal}}); err == nil {
			t.Fatal("a subscriber may not ask for principal events")
		}
	})
}

// TestWatchReadsNoGapWhenASubscriberJoins: while only a watcher listens the
// dispatcher reads the watched topic alone; a subscriber replaying from
// before then still receives every event of its organisation, in order.
func TestWatchReadsNoGapWhenASubscriberJoins(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := startHub(t, db, Config{PollInterval: 10 * time.Millisecond})
		watch(t, h, TopicPrincipal)
		org := uuid.New()
		record(t, db, h, alert(org))
		// The dispatcher moves on, reading principal events only.
		testenv.Eventually(t, 10*time.Second, "the dispatcher advances", func() bool { return h.LastID() > 0 })
		from := h.LastID()
		var want []uuid.UUID
		for range 20 {
			e := alert(org)
			want = append(want, e.EntityID)
			record(t, db, h, e)
		}
		s := subscribe(t, h, from, Filter{OrganizationID: org})
		for range 20 {
			e := alert(org)
			want = append(want, e.EntityID)
			record(t, db, h, e)
		}
		got := receive(t, s, len(want), 10*time.Second)
		if !slices.Equal(entities(got), want) {
			t.Fatalf("got %d events %v, want %v", len(got), entities(got), want)
		}
	})
}
