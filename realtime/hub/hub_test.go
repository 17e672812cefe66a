package hub

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/event"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// The poll is an hour away, so delivery within the bound proves the commit's
// poke; the bound is generous because CI's two cores may be busy.
func TestRecordPokeDeliversMatchingEventsInOrder(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := startHub(t, db, Config{PollInterval: time.Hour})
		orgA, orgB, alice, bob := uuid.New(), uuid.New(), uuid.New(), uuid.New()
		events := []Event{
			{OrganizationID: orgA, Topic: TopicAlert, Kind: KindCreated, EntityID: uuid.New()},
			{OrganizationID: orgA, Topic: TopicIncident, Kind: KindUpdated, EntityID: uuid.New()},
			{OrganizationID: orgA, Topic: TopicNotification, Kind: KindCreated, EntityID: uuid.New(), UserID: &alice},
			{OrganizationID: orgA, Topic: TopicNotification, Kind: KindCreated, EntityID: uuid.New(), UserID: &bob},
			{OrganizationID: orgB, Topic: TopicAlert, Kind: KindMerged, EntityID: uuid.New()},
			{OrganizationID: orgA, Topic: TopicAlert, Kind: KindDeleted, EntityID: uuid.New()},
		}
		tests := []struct {
			name   string
			filter Filter
			want   []int // indexes into events
		}{
			{"whole organisation", Filter{OrganizationID: orgA}, []int{0, 1, 2, 3, 5}},
			{"one topic", Filter{OrganizationID: orgA, Topics: []string{TopicAlert}}, []int{0, 5}},
			{"two topics", Filter{OrganizationID: orgA, Topics: []string{TopicIncident, TopicNotification}}, []int{1, 2, 3}},
			{"one recipient", Filter{OrganizationID: orgA, UserID: &alice}, []int{0, 1, 2, 5}},
			{"recipient's notifications", Filter{OrganizationID: orgA, Topics: []string{TopicNotification}, UserID: &bob}, []int{3}},
			{"other organisation", Filter{OrganizationID: orgB}, []int{4}},
		}
		subs := make([]*Subscription, len(tests))
		for i, tt := range tests {
			subs[i] = subscribe(t, h, 0, tt.filter)
		}
		start := time.Now()
		record(t, db, h, events...)
		received := make([][]Event, len(tests))
		for i, tt := range tests {
			received[i] = receive(t, subs[i], len(tt.want), 5*time.Second-time.Since(start))
		}
		var newest int64
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := received[i]
				newest = max(newest, slices.Max(eventIDs(got)))
				var want []uuid.UUID
				for _, j := range tt.want {
					want = append(want, events[j].EntityID)
				}
				if !slices.Equal(entities(got), want) {
					t.Errorf("entities %v, want %v", entities(got), want)
				}
				if !slices.IsSorted(eventIDs(got)) {
					t.Errorf("ids %v out of order", eventIDs(got))
				}
				expectNothing(t, subs[i], 20*time.Millisecond)
			})
		}
		if got := h.LastID(); got < newest {
			t.Errorf("LastID %d below delivered id %d", got, newest)
		}
	})
}

func TestRecordRejectsInvalidEvents(t *testing.T) {
	org := uuid.New()
	valid := alert(org)
	tests := []struct {
		name   string
		mutate func(*Event)
	}{
		{"no organisation", func(e *Event) { e.OrganizationID = uuid.Nil }},
		{"no entity", func(e *Event) { e.EntityID = uuid.Nil }},
		{"unknown topic", func(e *Event) { e.Topic = "alerts" }},
		{"unknown kind", func(e *Event) { e.Kind = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := valid
			tt.mutate(&bad)
			// A nil client proves nothing is written: validation comes first.
			if err := Record(context.Background(), nil, valid, bad); err == nil {
				t.Fatal("Record accepted an invalid event")
			}
		})
	}
}

func TestConcurrentWritersDeliverInIDOrder(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := startHub(t, db, Config{Buffer: 1024})
		org := uuid.New()
		s := subscribe(t, h, 0, Filter{OrganizationID: org})
		const writers, perWriter = 4, 25
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range perWriter {
					err := storage.InTx(context.Background(), db.Client, func(tx *ent.Tx) error {
						return Record(context.Background(), tx.Client(), alert(org))
					})
					if err != nil {
						t.Errorf("record: %v", err)
						return
					}
					h.Poke()
				}
			})
		}
		wg.Wait()
		got := eventIDs(receive(t, s, writers*perWriter, 5*time.Second))
		assertConsecutive(t, got, got[0])
	})
}

func TestRecordChunksLargeBatches(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := startHub(t, db, Config{Buffer: 4096})
		org := uuid.New()
		s := subscribe(t, h, 0, Filter{OrganizationID: org})
		events := make([]Event, 2*recordChunk+500)
		for i := range events {
			events[i] = alert(org)
		}
		record(t, db, h, events...)
		got := receive(t, s, len(events), 5*time.Second)
		assertConsecutive(t, eventIDs(got), got[0].ID)
		if !slices.Equal(entities(got), entities(events)) {
			t.Error("events arrived in another order than recorded")
		}
	})
}

func TestSlowConsumerIsDroppedOthersContinue(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		const buffer, total = 8, 30
		h := startHub(t, db, Config{Buffer: buffer, PollInterval: time.Hour})
		org := uuid.New()
		stuck := subscribe(t, h, 0, Filter{OrganizationID: org})
		reader := subscribe(t, h, 0, Filter{OrganizationID: org})
		var got []Event
		for range total {
			start := time.Now()
			record(t, db, h, alert(org))
			if d := time.Since(start); d > time.Second {
				t.Fatalf("writer blocked %v", d)
			}
			got = append(got, receive(t, reader, 1, delivery)...)
		}
		assertConsecutive(t, eventIDs(got), got[0].ID)
		var buffered []Event
		for e := range stuck.C { // ends: the channel is closed
			buffered = append(buffered, e)
		}
		if !errors.Is(stuck.Err(), ErrSlowConsumer) {
			t.Errorf("stuck subscriber Err = %v, want ErrSlowConsumer", stuck.Err())
		}
		if len(buffered) != buffer || buffered[0].ID != got[0].ID {
			t.Errorf("stuck subscriber kept %v, want the first %d events from %d", eventIDs(buffered), buffer, got[0].ID)
		}
		if err := reader.Err(); err != nil {
			t.Errorf("reader Err = %v, want nil", err)
		}
	})
}

func TestSubscribeAfterReplaysThenContinuesLive(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := startHub(t, db, Config{Buffer: 4096}, func(h *Hub) { h.batch = 3 })
		org, other := uuid.New(), uuid.New()
		writeSome := func(n int) {
			for range n {
				record(t, db, h, alert(org), alert(other))
			}
		}
		writeSome(10)
		all, err := db.Client.Event.Query().Where(event.OrganizationID(org)).Order(event.ByID()).All(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		k := all[3].ID

		tests := []struct {
			name  string
			after int64
			first int64 // first id expected among org's events
		}{
			{"from the fourth event", k, all[4].ID},
			{"from the first event, over many chunks", all[0].ID, all[1].ID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// Events keep committing while the replay runs, so the
				// handover to live delivery happens under writes.
				done := make(chan struct{})
				go func() {
					defer close(done)
					writeSome(20)
				}()
				s := subscribe(t, h, tt.after, Filter{OrganizationID: org})
				<-done
				want, err := db.Client.Event.Query().
					Where(event.OrganizationID(org), event.IDGT(tt.after)).
					Order(event.ByID()).IDs(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				got := eventIDs(receive(t, s, len(want), 5*time.Second))
				if !slices.Equal(got, want) {
					t.Fatalf("replayed %v,\nwant %v", got, want)
				}
				if got[0] != tt.first {
					t.Errorf("first id %d, want %d", got[0], tt.first)
				}
				writeSome(2)
				live := receive(t, s, 2, delivery)
				if live[0].ID <= want[len(want)-1] || live[1].ID <= live[0].ID {
					t.Errorf("live ids %v after replayed %d", eventIDs(live), want[len(want)-1])
				}
				expectNothing(t, s, 20*time.Millisecond)
			})
		}
	})
}

func TestSubscribeAheadOfHubSkipsUpToCursor(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := startHub(t, db, Config{PollInterval: time.Hour})
		org := uuid.New()
		s0 := subscribe(t, h, 0, Filter{OrganizationID: org})
		// A client resuming with a cursor from a replica that is further
		// along: events up to its cursor must not come again.
		ahead := h.LastID() + 2
		s := subscribe(t, h, ahead, Filter{OrganizationID: org})
		record(t, db, h, alert(org), alert(org), alert(org))
		all := eventIDs(receive(t, s0, 3, delivery))
		got := eventIDs(receive(t, s, 1, delivery))
		if all[2] != ahead+1 || got[0] != ahead+1 {
			t.Errorf("got %v, all %v, cursor %d", got, all, ahead)
		}
	})
}

func TestCommitHookPokesAfterCommitOnly(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		// No polling: only the hook's pokes can deliver.
		h := startHub(t, db, Config{PollInterval: time.Hour})
		db.Client.Event.Use(h.CommitHook())
		org := uuid.New()
		s := subscribe(t, h, 0, Filter{OrganizationID: org})
		ctx := context.Background()
		inTx := func(commit bool) Event {
			t.Helper()
			e := alert(org)
			tx, err := db.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := Record(ctx, tx.Client(), e, alert(org)); err != nil {
				t.Fatal(err)
			}
			// Before commit nothing may be published.
			expectNothing(t, s, 30*time.Millisecond)
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			return e
		}

		rolledBack := inTx(false)
		expectNothing(t, s, 100*time.Millisecond)

		committed := inTx(true)
		got := receive(t, s, 2, delivery)
		if got[0].EntityID != committed.EntityID || got[0].EntityID == rolledBack.EntityID {
			t.Errorf("got %v, want the committed events", entities(got))
		}

		outside := alert(org)
		if err := Record(ctx, db.Client, outside); err != nil {
			t.Fatal(err)
		}
		if got := receive(t, s, 1, delivery); got[0].EntityID != outside.EntityID {
			t.Errorf("got %v, want the event recorded outside a transaction", entities(got))
		}
	})
}

func TestSubscriptionEnds(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		// With a buffer of one, a replay of two events blocks on the second
		// and stays in the replaying state until the test ends it.
		cfg := Config{Buffer: 1}
		h := startHub(t, db, cfg)
		org := uuid.New()
		record(t, db, h, alert(org), alert(org), alert(org))
		first, err := db.Client.Event.Query().Order(event.ByID()).FirstID(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return h.LastID() >= first+2 })
		tests := []struct {
			name  string
			after int64
			end   func(s *Subscription, cancel context.CancelFunc)
			want  error
		}{
			{"closed", 0, func(s *Subscription, _ context.CancelFunc) { s.Close() }, ErrClosed},
			{"context cancelled", 0, func(_ *Subscription, cancel context.CancelFunc) { cancel() }, context.Canceled},
			{"closed while replaying", first, func(s *Subscription, _ context.CancelFunc) { s.Close() }, ErrClosed},
			{"cancelled while replaying", first, func(_ *Subscription, cancel context.CancelFunc) { cancel() }, context.Canceled},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				s, err := h.Subscribe(ctx, tt.after, Filter{OrganizationID: org})
				if err != nil {
					t.Fatal(err)
				}
				tt.end(s, cancel)
				waitClosed(t, s)
				if !errors.Is(s.Err(), tt.want) {
					t.Errorf("Err = %v, want %v", s.Err(), tt.want)
				}
			})
		}

		t.Run("hub stopped", func(t *testing.T) {
			h2 := startHub(t, db, cfg)
			live := subscribe(t, h2, 0, Filter{OrganizationID: org})
			replaying := subscribe(t, h2, first, Filter{OrganizationID: org})
			if err := h2.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*Subscription{live, replaying} {
				waitClosed(t, s)
				if !errors.Is(s.Err(), ErrStopped) {
					t.Errorf("Err = %v, want ErrStopped", s.Err())
				}
			}
			if _, err := h2.Subscribe(context.Background(), 0, Filter{OrganizationID: org}); !errors.Is(err, ErrStopped) {
				t.Errorf("Subscribe after Stop: %v, want ErrStopped", err)
			}
		})

		t.Run("refused", func(t *testing.T) {
			refusals := []struct {
				name  string
				hub   *Hub
				after int64
				f     Filter
				want  error
			}{
				{"not started", New(db, Config{}), 0, Filter{OrganizationID: org}, ErrNotStarted},
				{"no organisation", h, 0, Filter{}, nil},
				{"unknown topic", h, 0, Filter{OrganizationID: org, Topics: []string{"alerts"}}, nil},
				{"negative cursor", h, -1, Filter{OrganizationID: org}, nil},
			}
			for _, r := range refusals {
				_, err := r.hub.Subscribe(context.Background(), r.after, r.f)
				if err == nil || (r.want != nil && !errors.Is(err, r.want)) {
					t.Errorf("%s: err = %v, want %v", r.name, err, r.want)
				}
			}
		})
	})
}

// waitClosed drains s until its channel is closed.
func waitClosed(t *testing.T, s *Subscription) {
	t.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-s.C:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("subscription channel not closed")
		}
	}
}

func TestPruneDeletesExpiredEventsInChunks(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		org := uuid.New()
		old := time.Now().UTC().Add(-25 * time.Hour)
		builders := make([]*ent.EventCreate, pruneChunk+200)
		for i := range builders {
			builders[i] = db.Client.Event.Create().SetOrganizationID(org).SetTopic(TopicAlert).
				SetKind(KindCreated).SetEntityID(uuid.New()).SetCreatedAt(old)
		}
		if err := db.Client.Event.CreateBulk(builders...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		h := startHub(t, db, Config{Retention: time.Hour})
		record(t, db, h, alert(org), alert(org))

		// Start prunes; pruning again finds nothing more to delete.
		waitFor(t, func() bool { return countEvents(t, db) == 2 })
		if n, err := h.prune(ctx, time.Now().UTC().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("prune again: %d, %v", n, err)
		}
	})
}

func countEvents(t *testing.T, db *storage.DB) int {
	t.Helper()
	n, err := db.Client.Event.Query().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, delivery, "condition", cond)
}
