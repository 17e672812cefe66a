package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// cacheBound is how soon a change made on one replica reaches the cached
// principals of another: PostgreSQL's NOTIFY wakes the other replica's hub
// at once. Replicas on one SQLite file (another process's view, which this
// test opens, though SQLite is deployed as one process) hear of it by the
// hub's one-second poll, so the bound there is a second more.
func cacheBound(db *storage.DB) time.Duration {
	if db.Pool != nil {
		return time.Second
	}
	return 2 * time.Second
}

// TestPrincipalCacheFollowsChangesAcrossReplicas: replica B serves a
// credential from its cache (warmed by a request), the change is made on
// replica A, and B stops granting what was revoked within the bound:
// logout, a revoked API token, a deactivated user, a role change, a new IP
// allowlist, and a new organisation in the tree (B's cached scope grows).
func TestPrincipalCacheFollowsChangesAcrossReplicas(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := behindProxy(t, db)
		b := behindProxy(t, testenv.Replica(t, db))
		admin := at(a.Admin(), "10.0.0.1")
		on := func(c *apitest.Client, ip string) *apitest.Client {
			cp := b.Anonymous()
			cp.Authorization, cp.ForwardedFor = c.Authorization, ip
			return cp
		}
		user := func(t *testing.T, role string) (*apitest.Client, string) {
			t.Helper()
			email := fmt.Sprintf("cache-%s-%d@provider.test", role, time.Now().UnixNano())
			c, id := a.NewUser(t, admin, email, role)
			return at(c, "10.0.0.2"), id
		}
		status := func(c *apitest.Client, path string) func() int {
			return func() int { return c.Do(http.MethodGet, path, nil).Status }
		}
		tests := []struct {
			name string
			// setup returns the request on B and the change on A.
			setup func(t *testing.T) (probe func() int, change func())
			// before and after are the probe's answers (statuses).
			before, after int
		}{
			{"logout", func(t *testing.T) (func() int, func()) {
				c, _ := user(t, "analyst")
				return status(on(c, "10.0.0.2"), "/api/v1/users/me"), func() {
					c.Must(t, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusNoContent)
				}
			}, http.StatusOK, http.StatusUnauthorized},
			{"API token revoked", func(t *testing.T) (func() int, func()) {
				c, _ := user(t, "analyst")
				tok := c.Must(t, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "script"}, http.StatusCreated)
				script := b.Anonymous()
				script.Authorization, script.ForwardedFor = "Token "+tok.String("token"), "10.0.0.2"
				return status(script, "/api/v1/users/me"), func() {
					c.Must(t, http.MethodDelete, "/api/v1/users/me/api-tokens/"+tok.String("id"), nil, http.StatusNoContent)
				}
			}, http.StatusOK, http.StatusUnauthorized},
			{"user deactivated", func(t *testing.T) (func() int, func()) {
				c, id := user(t, "analyst")
				return status(on(c, "10.0.0.2"), "/api/v1/users/me"), func() {
					admin.Must(t, http.MethodPatch, "/api/v1/users/"+id, map[string]any{"active": false}, http.StatusOK)
				}
			}, http.StatusOK, http.StatusUnauthorized},
			{"role lowered", func(t *testing.T) (func() int, func()) {
				c, id := user(t, "admin")
				return status(on(c, "10.0.0.2"), "/api/v1/settings/security"), func() {
					admin.Must(t, http.MethodPatch, "/api/v1/users/"+id, map[string]any{"role": "read_only"}, http.StatusOK)
				}
			}, http.StatusOK, http.StatusForbidden},
			{"IP allowlist", func(t *testing.T) (func() int, func()) {
				c, _ := user(t, "analyst")
				return status(on(c, "203.0.113.9"), "/api/v1/users/me"), func() {
					admin.Must(t, http.MethodPatch, "/api/v1/settings/security", map[string]any{"ip_allowlist": []string{"10.0.0.0/8"}}, http.StatusOK)
				}
			}, http.StatusOK, http.StatusForbidden},
			{"organisation tree", func(t *testing.T) (func() int, func()) {
				// The provider admin's cached scope takes in the new client
				// organisation: B lists it (1) where it did not (0).
				onB := on(admin, "10.0.0.1")
				return func() int {
						for _, o := range onB.Do(http.MethodGet, "/api/v1/organizations?limit=500", nil).Items() {
							if o["slug"] == "cache-client" {
								return 1
							}
						}
						return 0
					}, func() {
						admin.Must(t, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Cache client", "slug": "cache-client"}, http.StatusCreated)
					}
			}, 0, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				probe, change := tt.setup(t)
				// Twice: the second answer comes from B's cache.
				for range 2 {
					if got := probe(); got != tt.before {
						t.Fatalf("before the change: %d, want %d", got, tt.before)
					}
				}
				change()
				start := time.Now()
				testenv.Eventually(t, cacheBound(db), fmt.Sprintf("replica B answers %d", tt.after), func() bool { return probe() == tt.after })
				t.Logf("replica B followed in %v", time.Since(start).Round(time.Millisecond))
				if got := probe(); got != tt.after {
					t.Fatalf("after: %d, want %d", got, tt.after)
				}
			})
		}
	})
}
