package hub

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// insertRaw inserts one event in tx and returns its id.
func insertRaw(t *testing.T, tx pgx.Tx, org uuid.UUID) int64 {
	t.Helper()
	var id int64
	err := tx.QueryRow(context.Background(), `
		INSERT INTO realtime_events (organization_id, topic, kind, entity_id, created_at)
		VALUES ($1, 'alert', 'created', $2, now()) RETURNING id`, org, uuid.New()).Scan(&id)
	if err != nil {
		t.Fatalf("insert event: %v", err)
	}
	return id
}

func begin(t *testing.T, db *storage.DB) pgx.Tx {
	t.Helper()
	tx, err := db.Pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) }) // no-op once committed
	return tx
}

// TestOutOfOrderCommitIsNeverSkipped: transaction A draws id n and stays
// open while B draws n+1 and commits. Nothing may be delivered until A
// ends, then n before n+1. In the second case B took its transaction id
// before A, which defeats a guard on xmin < snapshot xmin.
func TestOutOfOrderCommitIsNeverSkipped(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	h := startHub(t, db, Config{PollInterval: time.Hour})
	org := uuid.New()
	s := subscribe(t, h, 0, Filter{OrganizationID: org})
	ctx := context.Background()

	tests := []struct {
		name      string
		bXIDFirst bool
		commitA   bool
	}{
		{"A commits", false, true},
		{"A commits, B older by xid", true, true},
		{"A rolls back", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b pgx.Tx
			if tt.bXIDFirst {
				b = begin(t, db)
				if _, err := b.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
					t.Fatal(err)
				}
			}
			a := begin(t, db)
			idA := insertRaw(t, a, org)
			if b == nil {
				b = begin(t, db)
			}
			idB := insertRaw(t, b, org)
			if err := b.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			h.Poke()
			expectNothing(t, s, 300*time.Millisecond)

			want := []int64{idA, idB}
			if tt.commitA {
				if err := a.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				h.Poke()
			} else {
				// No poke: the dispatcher re-checks the writers it waits for.
				if err := a.Rollback(ctx); err != nil {
					t.Fatal(err)
				}
				want = want[1:]
			}
			got := eventIDs(receive(t, s, len(want), time.Second))
			if !slices.Equal(got, want) {
				t.Errorf("got ids %v, want %v", got, want)
			}
		})
	}
}

func TestStartWaitsForOpenWriters(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	a := begin(t, db)
	idA := insertRaw(t, a, uuid.New())
	h := New(db, Config{})
	started := make(chan error, 1)
	go func() { started <- h.Start(context.Background()) }()
	t.Cleanup(func() {
		if err := h.Stop(context.Background()); err != nil {
			t.Error(err)
		}
		assertNoHubGoroutines(t, h)
	})
	select {
	case <-started:
		t.Fatal("Start returned while a writer of an earlier id was open")
	case <-time.After(200 * time.Millisecond):
	}
	if err := a.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if h.LastID() < idA {
		t.Errorf("hub starts at %d, before the committed id %d", h.LastID(), idA)
	}
}

func TestReplicasWakeEachOther(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	other := testenv.Replica(t, db)
	// Each way is the only one its hub has to learn of the event: the
	// listening hub never polls, the polling one is never notified.
	hB := startHub(t, other, Config{PollInterval: time.Hour})
	org := uuid.New()
	tests := []struct {
		name string
		poke bool
		hub  Config
	}{
		{"NOTIFY from the writer's replica", true, Config{PollInterval: time.Hour}},
		{"poll without any poke", false, Config{PollInterval: 300 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHub(t, db, tt.hub)
			s := subscribe(t, h, 0, Filter{OrganizationID: org})
			waitFor(t, func() bool { return h.listenerPID.Load() != 0 }) // listening, and its wake-up read done
			e := alert(org)
			if err := Record(context.Background(), other.Client, e); err != nil {
				t.Fatal(err)
			}
			if tt.poke {
				hB.Poke()
			}
			if got := receive(t, s, 1, delivery); got[0].EntityID != e.EntityID {
				t.Errorf("got %v, want %v", got[0].EntityID, e.EntityID)
			}
		})
	}
}

func TestListenerReconnectCatchesUp(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	other := testenv.Replica(t, db)
	// No polling, and a reconnection slow enough to record in between: only
	// the catch-up after reconnecting can deliver.
	h := startHub(t, db, Config{PollInterval: time.Hour}, func(h *Hub) {
		h.backoff = [2]time.Duration{300 * time.Millisecond, time.Second}
	})
	hB := startHub(t, other, Config{PollInterval: time.Hour})
	org := uuid.New()
	s := subscribe(t, h, 0, Filter{OrganizationID: org})
	ctx := context.Background()

	waitFor(t, func() bool { return h.listenerPID.Load() != 0 })
	pid := h.listenerPID.Load()
	if _, err := db.Pool.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.listenerPID.Load() == 0 })
	missed := alert(org)
	if err := Record(ctx, other.Client, missed); err != nil {
		t.Fatal(err)
	}
	hB.Poke() // lost: nobody listens on h's side
	if got := receive(t, s, 1, delivery); got[0].EntityID != missed.EntityID {
		t.Fatalf("got %v, want the event recorded while disconnected", got[0].EntityID)
	}
	// The catch-up read may deliver before the new backend's pid is
	// stored: wait for it.
	waitFor(t, func() bool { return h.listenerPID.Load() != 0 })
	if now := h.listenerPID.Load(); now == pid {
		t.Fatalf("listener backend %d after reconnect, was %d", now, pid)
	}

	// Notifications flow again.
	record(t, other, hB, alert(org))
	receive(t, s, 1, delivery)
}

func TestPokesCoalesceIntoFewNotifies(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	h := startHub(t, db, Config{PollInterval: time.Hour})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	for range 1000 {
		h.Poke()
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("1000 pokes took %v", d)
	}
	notified := 0
	for {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n.Payload != "" {
			t.Errorf("payload %q, want empty", n.Payload)
		}
		notified++
	}
	if notified < 1 || notified > 3 {
		t.Errorf("1000 pokes sent %d notifications, want 1 to 3", notified)
	}
}
