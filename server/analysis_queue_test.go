package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// TestAnalysisQueueDepth: the backlog of analyses is on GraphQL for the
// acting organisation's analysts and admins only, and on /metrics for the
// whole server.
func TestAnalysisQueueDepth(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := newSuite(t, env, nil)
		// No automatic analyses: the backlog is the rows written below,
		// which no job runs.
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"features": map[string]any{"auto_analyse": false}}, http.StatusOK)
		key := s.admin.ConnectorKey(t, "Relay")
		job := viewer.ForJob(context.Background(), uuid.MustParse(s.providerOrgID))
		for _, sev := range []string{"critical", "critical", "high"} {
			res := env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest",
				map[string]any{"title": "alert " + sev + uuid.NewString(), "severity": sev, "source": "test"}, http.StatusAccepted)
			id := uuid.MustParse(digS(res.Body["results"].([]any)[0], "id"))
			if _, err := db.Client.Analysis.Create().SetAlertID(id).Save(job); err != nil {
				t.Fatal(err)
			}
		}
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
		s.admin.As("acme").CreateUser(t, acmeAdminEmail, "admin", acmeAdminPass)
		acme := env.Login(acmeAdminEmail, acmeAdminPass)

		const q = `{ analysisQueue { depth bySeverity { severity count } oldestAt } }`
		for name, c := range map[string]*apitest.Client{"analyst": s.analyst, "admin": s.admin} {
			g := s.gql(t, c, q, nil)
			by := dig(g, "analysisQueue", "bySeverity").([]any)
			if dig(g, "analysisQueue", "depth") != float64(3) || len(by) != 5 || obj(by[0])["severity"] != "CRITICAL" ||
				obj(by[0])["count"] != float64(2) || obj(by[1])["count"] != float64(1) || dig(g, "analysisQueue", "oldestAt") == nil {
				t.Fatalf("%s: %v", name, g)
			}
		}
		// Another organisation, or the provider acting in it, sees its own.
		for name, c := range map[string]*apitest.Client{"client's admin": acme, "provider acting as the client": s.admin.As("acme")} {
			g := s.gql(t, c, q, nil)
			if dig(g, "analysisQueue", "depth") != float64(0) || dig(g, "analysisQueue", "oldestAt") != nil {
				t.Fatalf("%s: %v", name, g)
			}
		}
		s.gqlErr(t, s.reader, q, nil, "FORBIDDEN")
		if res := env.Anonymous().Do(http.MethodPost, "/graphql", map[string]any{"query": q}); res.Status != http.StatusUnauthorized &&
			!strings.Contains(string(res.Raw), "UNAUTHENTICATED") {
			t.Fatalf("anonymous: %d %s", res.Status, res.Raw)
		}

		m := env.Anonymous().Do(http.MethodGet, "/metrics", nil)
		for _, want := range []string{`seliq_analysis_queue_depth{severity="critical"} 2`, `seliq_analysis_queue_depth{severity="high"} 1`,
			`seliq_analysis_queue_depth{severity="info"} 0`, "seliq_analysis_queue_oldest_seconds", "seliq_analysis_completed_total",
			`seliq_analysis_deferred_total{reason="info"}`} {
			if m.Status != http.StatusOK || !strings.Contains(string(m.Raw), want) {
				t.Fatalf("/metrics lacks %s: %d\n%s", want, m.Status, m.Raw)
			}
		}
	})
}
