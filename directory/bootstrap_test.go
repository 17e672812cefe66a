package directory_test

import (
	"context"
	"sync"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// Replicas starting together on one database must create the provider
// organisation and its admin exactly once.
func TestEnsureBootstrapConcurrent(t *testing.T) {
	const replicas = 4
	// Each replica is its own process with its own hashing gate; in one
	// process they would share one, and a loaded machine would refuse some.
	auth.LimitHashing(replicas, 0)
	t.Cleanup(func() { auth.LimitHashing(0, 0) })
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
			errs    []error
		)
		for range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := directory.EnsureBootstrap(context.Background(), db.Client, "root@example.com", "")
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				if b.Created {
					created++
					if b.Password == "" {
						t.Error("a generated password must be returned once")
					}
				} else if b.Password != "" {
					t.Error("a replica that did not create the admin must not report a password")
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("bootstrap errors: %v", errs)
		}
		if created != 1 {
			t.Fatalf("created %d times, want exactly once", created)
		}
		ctx := auth.System(context.Background())
		if n := db.Client.Organization.Query().CountX(ctx); n != 1 {
			t.Fatalf("%d organisations, want 1", n)
		}
		if n := db.Client.User.Query().CountX(ctx); n != 1 {
			t.Fatalf("%d users, want 1", n)
		}
		// A later start is a no-op.
		b, err := directory.EnsureBootstrap(context.Background(), db.Client, "root@example.com", "")
		if err != nil || b.Created {
			t.Fatalf("second start: created=%v err=%v", b != nil && b.Created, err)
		}
	})
}

func TestEnsureBootstrapValidates(t *testing.T) {
	db := testenv.Open(t, testenv.SQLite)
	for _, tc := range []struct{ name, email, password string }{
		{"bad email", "not-an-email", ""},
		{"short password", "a@example.com", "short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := directory.EnsureBootstrap(context.Background(), db.Client, tc.email, tc.password); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
