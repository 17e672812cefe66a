package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent/session"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// TestLoginFloodAcrossEmails replays a login flood over HTTP: varying the
// email does not escape the limit, which is keyed on the client
// address the server resolves. X-Forwarded-For names that client only when
// the peer is a trusted proxy, so a direct client cannot rotate it to
// escape the limit, while clients behind a trusted proxy are told apart
// (and their sessions record their address).
func TestLoginFloodAcrossEmails(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, c := range []struct {
			name    string
			trusted []netip.Prefix
		}{
			{name: "no trusted proxy: forwarded addresses ignored"},
			{name: "behind a trusted proxy", trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		} {
			t.Run(c.name, func(t *testing.T) {
				env := apitest.Start(t, db, apitest.Options{Configure: func(cfg *server.Config) {
					cfg.LoginIPLimit = 3
					cfg.TrustedProxies = c.trusted
				}})
				login := func(email, password, forwardedFor string) (int, http.Header, string) {
					body, _ := json.Marshal(map[string]string{"email": email, "password": password})
					return rawDo(t, env, http.MethodPost, "/api/v1/auth/login", string(body), map[string]string{"X-Forwarded-For": forwardedFor})
				}
				for i := range 3 {
					if status, _, body := login(fmt.Sprintf("nobody%d@x.test", i), "guess", "198.51.100.1"); status != http.StatusUnauthorized {
						t.Fatalf("attempt %d: %d %s", i, status, body)
					}
				}
				status, header, body := login("nobody9@x.test", "guess", "198.51.100.1")
				if status != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
					t.Fatalf("4th email from one client: %d (Retry-After %q) %s, want 429 with Retry-After", status, header.Get("Retry-After"), body)
				}
				// Another forwarded address: a different client only behind
				// a trusted proxy; otherwise the same client as before.
				status, _, body = login(apitest.AdminEmail, apitest.AdminPassword, "198.51.100.2")
				if c.trusted == nil {
					if status != http.StatusTooManyRequests {
						t.Fatalf("rotating X-Forwarded-For escaped the limit: %d %s", status, body)
					}
					return
				}
				if status != http.StatusOK {
					t.Fatalf("another client behind the proxy: %d %s", status, body)
				}
				s, err := db.Client.Session.Query().Order(session.ByCreatedAt()).All(auth.System(context.Background()))
				if err != nil || len(s) == 0 {
					t.Fatalf("sessions: %v", err)
				}
				if ip := s[len(s)-1].IP; ip != "198.51.100.2" {
					t.Errorf("session IP = %q, want the forwarded client 198.51.100.2", ip)
				}
			})
		}
	})
}
