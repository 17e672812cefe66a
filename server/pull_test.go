package server_test

// End-to-end tests of pull connectors: a SentinelOne connector polled by
// the server's own jobs from a local fake of the vendor's API, its health
// on both surfaces, and "poll now".

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/storage"
)

func s1Threat(i int, at time.Time) vendorfake.Record {
	id := fmt.Sprintf("3%06d", i)
	doc := fmt.Sprintf(`{"id":%q,"threatInfo":{"threatName":"Trojan.%d","confidenceLevel":"suspicious","createdAt":%q},"agentRealtimeInfo":{"agentComputerName":"ws-%d"}}`,
		id, i, at.Format(time.RFC3339Nano), i)
	return vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
}

func TestPullConnectorRoutes(t *testing.T) {
	t.Parallel()
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{OutboundAllow: "127.0.0.0/8"})
		s := newSuite(t, env, nil)
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
		s.createUser(t, s.admin.As("acme"), acmeAdminEmail, "admin", acmeAdminPass)
		acme := env.Login(acmeAdminEmail, acmeAdminPass)

		srv := vendorfake.SentinelOne(t, vendorfake.Credentials{Token: "s1-secret"})
		base := time.Now().UTC().Add(-time.Hour)
		srv.Add(s1Threat(1, base), s1Threat(2, base.Add(time.Second)))
		created := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors", map[string]any{
			"name": "S1", "type": "sentinelone", "mode": "pull", "poll_interval_seconds": 3600,
			"settings": map[string]any{"base_url": srv.URL, "api_token": "s1-secret"},
		}, http.StatusCreated)
		id := created.String("id")
		if strings.Contains(string(created.Raw), "s1-secret") || obj(created.Body["settings"])["api_token"] != "********" {
			t.Fatalf("the token is returned: %s", created.Raw)
		}
		get := func() *apitest.Response {
			return s.rest(t, s.admin, http.MethodGet, "/api/v1/connectors/"+id, nil, http.StatusOK)
		}
		testenv.Eventually(t, 20*time.Second, "the first poll", func() bool { return num(get().Body["items_last_poll"]) == 2 })
		h := get()
		for _, f := range []string{"last_polled_at", "last_success_at", "next_poll_at"} {
			if h.Body[f] == nil {
				t.Errorf("%s is null: %s", f, h.Raw)
			}
		}
		if h.Body["last_error"] != "" {
			t.Errorf("last_error %v", h.Body["last_error"])
		}

		t.Run("poll now", func(t *testing.T) {
			srv.Add(s1Threat(3, base.Add(time.Minute)))
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/connectors/"+id+"/poll", nil, http.StatusForbidden)
			s.rest(t, acme, http.MethodPost, "/api/v1/connectors/"+id+"/poll", nil, http.StatusNotFound)
			res := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors/"+id+"/poll", nil, http.StatusAccepted)
			if res.String("id") != id || res.Body["next_poll_at"] == nil {
				t.Fatalf("poll: %s", res.Raw)
			}
			testenv.Eventually(t, 20*time.Second, "the requested poll", func() bool { return num(get().Body["items_last_poll"]) == 1 })
			g := s.gql(t, s.admin, `mutation($id: ID!) { pollConnector(id: $id) { id nextPollAt lastPolledAt lastSuccessAt lastError itemsLastPoll } }`, map[string]any{"id": id})
			if digS(g, "pollConnector", "id") != id || dig(g, "pollConnector", "lastError") != "" {
				t.Fatalf("pollConnector: %v", g)
			}
		})
		t.Run("a refused token shows in words within one interval", func(t *testing.T) {
			bad := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors", map[string]any{
				"name": "S1 bad", "type": "sentinelone", "mode": "pull",
				"settings": map[string]any{"base_url": srv.URL, "api_token": "expired"},
			}, http.StatusCreated).String("id")
			var lastErr string
			testenv.Eventually(t, 20*time.Second, "last_error", func() bool {
				g := s.gql(t, s.analyst, `query($id: ID!) { connector(id: $id) { lastError } }`, map[string]any{"id": bad})
				lastErr = digS(g, "connector", "lastError")
				return lastErr != ""
			})
			if !strings.Contains(lastErr, "401") || strings.Contains(lastErr, "expired\"") {
				t.Fatalf("last_error %q", lastErr)
			}
		})
		t.Run("a new base URL needs the token again", func(t *testing.T) {
			res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/connectors/"+id, map[string]any{
				"settings": map[string]any{"base_url": "https://attacker.example", "api_token": "********"},
			}, http.StatusUnprocessableEntity)
			wantLoc(t, res, "api_token")
		})
	})
}
