package auth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
)

// FuzzAuthorizationHeader feeds arbitrary Authorization and X-Seliq-Org
// values to Authenticate. The database holds a user with a live session and
// API token, whose random secrets the fuzzer cannot know, so every input must
// be refused as UNAUTHENTICATED, and nothing may panic.
func FuzzAuthorizationHeader(f *testing.F) {
	db := testenv.Open(f, testenv.SQLite)
	ctx := context.Background()
	org := testenv.Org(f, db, testenv.Slug("acme"))
	u := testenv.User(f, db, org, enum.RoleAdmin, testenv.Handle("alice"), withPassword)
	svc := auth.New(db.Client, auth.Config{})
	sess, err := svc.Login(ctx, "alice@acme.test", password, "127.0.0.1", "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	tok, err := svc.CreateAPIToken(viewer.NewContext(ctx, userViewer(u)), "fuzz", nil)
	if err != nil {
		f.Fatal(err)
	}
	// Sanity: the live credentials do authenticate, so refusals below are real.
	for _, h := range []string{"Bearer " + sess.Token, "Token " + tok.Secret} {
		if _, err := svc.Authenticate(ctx, h, ""); err != nil {
			f.Fatalf("%s: %v", h[:6], err)
		}
	}

	for _, seed := range []struct{ header, org string }{
		{"", ""},
		{"Bearer", ""},
		{"Bearer ", "acme"},
		{"Basic x", ""},
		{"Basic dXNlcjpwYXNz", ""},
		{"Bearer sqs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "acme"},
		{"Token sqt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", org.ID.String()},
		{"token  sqt_x ", ""},
		{"BEARER \x00\xff", "\x00"},
		{"Bearer " + strings.Repeat("A", 5000), ""},
		{"Bearer a b c", "' OR 1=1 --"},
		{"\tBearer\tx", ""},
	} {
		f.Add(seed.header, seed.org)
	}
	f.Fuzz(func(t *testing.T, header, org string) {
		v, err := svc.Authenticate(ctx, header, org)
		if v != nil {
			t.Fatalf("Authenticate(%q, %q) returned a viewer %+v", header, org, v)
		}
		e, ok := apperr.As(err)
		if !ok {
			t.Fatalf("Authenticate(%q, %q) error %T %v, want *apperr.Error", header, org, err, err)
		}
		if e.Code != apperr.Unauthenticated {
			t.Fatalf("Authenticate(%q, %q) code %s, want UNAUTHENTICATED", header, org, e.Code)
		}
	})
}

// maxFuzzCost bounds memory (KiB) × rounds of the argon2 parameters a fuzzed
// hash may request, so that each execution stays fast. Costlier but
// well-formed parameters are skipped, not failed.
const maxFuzzCost = 64 * 1024

// FuzzVerifyPassword feeds arbitrary encoded hashes and passwords to
// VerifyPassword: it must never panic, must report false with any error, and
// a hash that matches one password must not match another.
func FuzzVerifyPassword(f *testing.F) {
	cheap := phc("hunter2", []byte("0123456789abcdef"), 64, 1, 1, 32)
	for _, seed := range []struct{ hash, password string }{
		{cheap, "hunter2"},
		{cheap, "hunter3"},
		{phc("", []byte("saltsalt"), 16, 2, 2, 16), ""},
		{"", ""},
		{"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$", "x"},
		{"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "x"},
		{"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "x"},
		{"$argon2id$v=19$m=0,t=1,p=255$$AAAAAAAAAAAAAAAAAAAAAA", "x"},
		{"$argon2i$v=19$m=64,t=1,p=1$c2FsdA$c2FsdA", "x"},
		{"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "x"},
		{"$$$$$", ""},
	} {
		f.Add(seed.hash, seed.password)
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		if parts := strings.Split(encoded, "$"); len(parts) == 6 {
			var m, iters uint32
			var p uint8
			// Parse as VerifyPassword does (a partial parse is refused there);
			// argon2 raises memory to at least 8 KiB per thread.
			if n, _ := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &iters, &p); n == 3 && max(uint64(m), 8*uint64(p))*uint64(iters) > maxFuzzCost {
				t.Skip("parameters too costly for fuzzing")
			}
		}
		ok, err := auth.VerifyPassword(encoded, pw)
		if err != nil {
			if ok {
				t.Fatalf("VerifyPassword(%q) = true with error %v", encoded, err)
			}
			return
		}
		if ok {
			if again, err := auth.VerifyPassword(encoded, pw+"\x00"); err != nil || again {
				t.Fatalf("VerifyPassword(%q) matches both %q and %q (err %v)", encoded, pw, pw+"\x00", err)
			}
		}
	})
}
