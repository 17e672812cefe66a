package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// TestMetricsLabelsBounded: requests with long, distinct method names and
// paths would each add a series if labels took them as sent (200 of 50 KB
// would make /metrics 183 MB). Unknown methods are one label value, OTHER,
// and unmatched paths one route, so /metrics does not grow with them.
func TestMetricsLabelsBounded(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		scrape := func() string {
			status, _, body := rawDo(t, env, http.MethodGet, "/metrics", "", nil)
			if status != http.StatusOK {
				t.Fatalf("/metrics: %d", status)
			}
			return body
		}
		junk := func(i int) (string, string) {
			return "ZZ" + strings.Repeat(string(rune('A'+i%26)), 5000) + strings.Repeat("Q", i), "/no/such/" + strings.Repeat("p", i+1)
		}
		method, path := junk(0)
		rawDo(t, env, method, path, "", nil)
		before := len(scrape())
		for i := 1; i <= 40; i++ {
			method, path := junk(i)
			rawDo(t, env, method, path, "", nil)
			rawDo(t, env, method, "/api/v1/users", "", nil)
		}
		body := scrape()
		if strings.Contains(body, "ZZ") || strings.Contains(body, "/no/such") {
			t.Fatal("/metrics holds a label value a client chose")
		}
		if !strings.Contains(body, `method="OTHER"`) {
			t.Error(`/metrics has no method="OTHER" series for the unknown methods`)
		}
		// A handful of new series at most (OTHER on a route or two), not 80.
		if grown := len(body) - before; grown > 8<<10 {
			t.Errorf("/metrics grew by %d bytes after 80 junk requests", grown)
		}
	})
}

// TestMetricsAccess: with SELIQ_METRICS_TOKEN set, /metrics answers only
// the bearer token; with SELIQ_METRICS_ADDR set, it leaves the API listener
// for a listener of its own.
func TestMetricsAccess(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		t.Run("token", func(t *testing.T) {
			env := apitest.Start(t, db, apitest.Options{Configure: func(c *server.Config) { c.MetricsToken = "scrape-secret" }})
			for _, c := range []struct {
				authz string
				want  int
			}{
				{"", http.StatusUnauthorized},
				{"Bearer wrong", http.StatusUnauthorized},
				{"Bearer scrape-secret-and-more", http.StatusUnauthorized},
				{"Token scrape-secret", http.StatusUnauthorized},
				{"Bearer scrape-secret", http.StatusOK},
			} {
				status, _, body := rawDo(t, env, http.MethodGet, "/metrics", "", map[string]string{"Authorization": c.authz})
				if status != c.want {
					t.Errorf("Authorization %q: %d, want %d", c.authz, status, c.want)
				}
				if status == http.StatusOK && !strings.Contains(body, "seliq_http_requests_total") {
					t.Errorf("metrics body lacks the request counter")
				}
			}
		})
		t.Run("own listener", func(t *testing.T) {
			env := apitest.Start(t, db, apitest.Options{Configure: func(c *server.Config) { c.MetricsAddr = "127.0.0.1:0" }})
			if status, _, _ := rawDo(t, env, http.MethodGet, "/metrics", "", nil); status != http.StatusNotFound {
				t.Errorf("/metrics on the API listener: %d, want 404", status)
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			addr, err := env.Srv.StartMetrics(ctx, "127.0.0.1:0", server.DefaultTimeouts)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/metrics on its listener: %d", resp.StatusCode)
			}
		})
	})
}
