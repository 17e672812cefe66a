package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// TestLoginIPLimitAcrossEmails reproduces the login flood that cycled
// through emails to escape the per-(IP, email) limit: the client's
// attempts now count across emails too.
func TestLoginIPLimitAcrossEmails(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		org := testenv.Org(t, db, testenv.Slug("acme"))
		testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("alice"), withPassword)
		svc := auth.New(db.Client, auth.Config{LoginLimit: 1000, LoginIPLimit: 3})

		for i := range 3 {
			_, err := svc.Login(ctx, fmt.Sprintf("nobody%d@acme.test", i), "guess", "203.0.113.5", "")
			wantCode(t, err, apperr.Unauthenticated)
		}
		// A fresh email, and even a right password, from the same client.
		for _, email := range []string{"nobody99@acme.test", "alice@acme.test"} {
			_, err := svc.Login(ctx, email, password, "203.0.113.5", "")
			if e := wantCode(t, err, apperr.RateLimited); e.RetryAfter <= 0 {
				t.Errorf("%s: RetryAfter = %v, want > 0", email, e.RetryAfter)
			}
		}
		if _, err := svc.Login(ctx, "alice@acme.test", password, "198.51.100.1", ""); err != nil {
			t.Errorf("another client is not limited: %v", err)
		}
	})
}

// TestLoginWhileHashingSaturated: with every hashing slot taken, a login
// waits briefly then gets 429 with Retry-After, for known and unknown
// emails alike (the dummy hash goes through the same slots), and so do
// password hashes for user creation and resets; once a slot frees, logins
// work again.
func TestLoginWhileHashingSaturated(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		org := testenv.Org(t, db, testenv.Slug("acme"))
		testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("alice"), withPassword)
		svc := auth.New(db.Client, auth.Config{})
		auth.LimitHashing(1, 50*time.Millisecond)
		t.Cleanup(func() { auth.LimitHashing(0, 0) })

		release := auth.HoldHashSlots()
		for _, email := range []string{"alice@acme.test", "nobody@acme.test"} {
			_, err := svc.Login(ctx, email, password, "203.0.113.5", "")
			if e := wantCode(t, err, apperr.RateLimited); e.RetryAfter <= 0 {
				t.Errorf("%s: RetryAfter = %v, want > 0", email, e.RetryAfter)
			}
		}
		start := time.Now()
		if _, err := auth.HashPassword("a new password"); !errors.Is(err, auth.ErrHashBusy) {
			t.Errorf("HashPassword while saturated: %v, want ErrHashBusy", err)
		}
		if waited := time.Since(start); waited < 50*time.Millisecond {
			t.Errorf("refused after %v, want a wait of 50ms for a slot first", waited)
		}
		release()
		if _, err := svc.Login(ctx, "alice@acme.test", password, "203.0.113.5", ""); err != nil {
			t.Fatalf("login after the flood: %v", err)
		}
	})
}
