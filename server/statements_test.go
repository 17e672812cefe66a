package server_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/reqctx"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// maxListStatements is what a warm list request may cost: the page and the
// count, and nothing else (authentication, the tenant's tree and settings
// come from the principal cache; the count's statement is built without
// running one; the planner's estimate is reused).
const maxListStatements = 3

// statementCounter collects the statements requests run that keep admits.
type statementCounter struct {
	mu   sync.Mutex
	seen []string
}

// byRequest keeps the statements run for a request: their context carries
// the client's address (background work, the hub's poll and jobs, carry
// none).
func byRequest(s storage.Statement) bool { return reqctx.From(s.Ctx).ClientIP != "" }

func countStatements(t *testing.T, db *storage.DB, keep func(storage.Statement) bool) *statementCounter {
	c := &statementCounter{}
	stop := db.Observe(func(s storage.Statement) {
		if !keep(s) {
			return
		}
		c.mu.Lock()
		c.seen = append(c.seen, s.Query)
		c.mu.Unlock()
	})
	t.Cleanup(stop)
	return c
}

// during returns the statements fn's requests ran.
func (c *statementCounter) during(fn func()) []string {
	c.mu.Lock()
	c.seen = nil
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// TestListStatementsOnAWarmCache: once a credential and the query's
// estimate are warm, the queue's page costs at most the page and its count
// over GraphQL and REST, with a session and with an API token, under the
// filter and order of the benchmark (a tag: the count is bounded) and under
// indexed filters only (the count is exact).
func TestListStatementsOnAWarmCache(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		me := admin.Do(http.MethodGet, "/api/v1/users/me", nil)
		seedAlerts(t, db, uuid.MustParse(me.String("organization_id")), 120)
		tok := admin.Must(t, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "bench"}, http.StatusCreated)
		script := env.Anonymous()
		script.Authorization = "Token " + tok.String("token")
		counter := countStatements(t, db, byRequest)

		const gql = `query($f: AlertFilter, $o: AlertOrder) {
  alerts(first: 50, filter: $f, orderBy: $o) { totalCount edges { node { id title } } }
}`
		tagged := map[string]any{
			"f": map[string]any{"status": []string{"NEW", "ACKNOWLEDGED"}, "severity": []string{"CRITICAL", "HIGH"}, "tag": []string{"edr"}},
			"o": map[string]any{"field": "SEVERITY", "direction": "DESC"},
		}
		indexed := map[string]any{
			"f": map[string]any{"status": []string{"NEW", "ACKNOWLEDGED"}, "severity": []string{"CRITICAL", "HIGH"}},
			"o": map[string]any{"field": "SEVERITY", "direction": "DESC"},
		}
		graphql := func(c *apitest.Client, vars map[string]any) func(t *testing.T) {
			return func(t *testing.T) {
				r := c.GraphQL(gql, vars)
				if len(r.Errors) > 0 {
					t.Fatalf("alerts: %+v", r.Errors)
				}
			}
		}
		rest := func(c *apitest.Client, query string) func(t *testing.T) {
			return func(t *testing.T) {
				c.Must(t, http.MethodGet, "/api/v1/alerts?"+query, nil, http.StatusOK)
			}
		}
		for _, tc := range []struct {
			name string
			run  func(t *testing.T)
		}{
			{"graphql, session, tag", graphql(admin, tagged)},
			{"graphql, session, indexed filters", graphql(admin, indexed)},
			{"graphql, API token, tag", graphql(script, tagged)},
			{"rest, session, tag", rest(admin, "status=new,acknowledged&severity=critical,high&tag=edr&sort=-severity&limit=50")},
			{"rest, API token, indexed filters", rest(script, "status=new,acknowledged&severity=critical,high&sort=-severity&limit=50")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cold := counter.during(func() { tc.run(t) })
				warm := counter.during(func() { tc.run(t) })
				t.Logf("%d statements cold, %d warm", len(cold), len(warm))
				if len(warm) > maxListStatements {
					t.Errorf("%d statements on a warm cache, want at most %d:\n%s", len(warm), maxListStatements, strings.Join(warm, "\n"))
				}
				if len(warm) == 0 {
					t.Error("no statement seen: the counter counts nothing")
				}
			})
		}
	})
}
