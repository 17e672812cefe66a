package server_test

// Triage analysis of alerts and incidents, as durable jobs, on both
// surfaces.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// awaitAnalysis polls GET path until the analysis is ready.
func awaitAnalysis(t *testing.T, s *suite, c *apitest.Client, path string) *apitest.Response {
	t.Helper()
	var res *apitest.Response
	testenv.Eventually(t, 30*time.Second, "analysis at "+path+" ready", func() bool {
		res = s.rest(t, c, http.MethodGet, path, nil, http.StatusOK)
		if res.String("status") == "failed" {
			t.Fatalf("analysis failed: %s", res.Raw)
		}
		return res.String("status") == "ready"
	})
	return res
}

func TestAnalysisRoutes(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := newSuite(t, env, newCoverage())
		// Auto-analysis off, so the alert has no analysis until asked for
		// (auto-analysis: analysis_llm_test.go).
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"features": map[string]any{"auto_analyse": false}}, http.StatusOK)
		key := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors", map[string]any{"name": "EDR", "type": "generic"}, http.StatusCreated).String("api_key")
		ing := s.rest(t, env.Connector(key), http.MethodPost, "/api/v1/alerts/ingest", map[string]any{
			"title":       "Execution via PowerShell with encoded command",
			"description": "powershell.exe -nop -w hidden -enc SQBFAFgA launched by winword.exe on fin-ws-042; mimikatz sekurlsa::logonpasswords against lsass",
			"severity":    "high", "source_ip": "185.220.101.45",
		}, http.StatusAccepted)
		alertID := digS(ing.Body["results"].([]any)[0], "id")

		s.rest(t, s.reader, http.MethodGet, "/api/v1/alerts/"+alertID+"/analysis", nil, http.StatusNotFound)
		req := s.rest(t, s.admin, http.MethodPost, "/api/v1/alerts/"+alertID+"/analyse", nil, http.StatusAccepted)
		if req.String("status") != "pending" || req.String("provider") != "builtin" {
			t.Fatalf("analyse: %s", req.Raw)
		}
		got := awaitAnalysis(t, s, s.reader, "/api/v1/alerts/"+alertID+"/analysis")
		result := obj(got.Body["result"])
		techniques := strings.Join(anyStrs(result["techniques"], "id"), ",")
		if got.String("verdict") != "likely_malicious" || !strings.Contains(techniques, "T1059.001") || !strings.Contains(techniques, "T1003.001") ||
			num(got.Body["confidence"]) < 0.5 || got.Body["completed_at"] == nil || obj(result["summary"])["what_happened"] == nil {
			t.Fatalf("analysis: %s", got.Raw)
		}
		g := s.gql(t, s.admin, `mutation($id: ID!) { analyseAlert(alertID: $id) { id status } }`, map[string]any{"id": alertID})
		if dig(g, "analyseAlert", "status") != "PENDING" {
			t.Fatalf("GraphQL analyse: %v", g)
		}
		s.gql(t, s.reader, `query($id: ID!) { alertAnalysis(alertID: $id) { status verdict confidence severity result } }`, map[string]any{"id": alertID})

		inc := s.rest(t, s.admin, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Intrusion on fin-ws-042", "alert_ids": []string{alertID}}, http.StatusCreated).String("id")
		s.rest(t, s.admin, http.MethodPost, "/api/v1/incidents/"+inc+"/analysis", nil, http.StatusAccepted)
		ia := awaitAnalysis(t, s, s.reader, "/api/v1/incidents/"+inc+"/analysis")
		if n, _ := obj(ia.Body["result"])["narrative"].(string); !strings.Contains(n, "PowerShell") {
			t.Fatalf("incident narrative: %s", ia.Raw)
		}
		s.gql(t, s.admin, `mutation($id: ID!) { analyseIncident(incidentID: $id) { id } }`, map[string]any{"id": inc})
		s.gql(t, s.reader, `query($id: ID!) { incidentAnalysis(incidentID: $id) { verdict result } }`, map[string]any{"id": inc})

		// An analyst flags the analysis as inaccurate on either surface.
		anID := got.String("id")
		flagged := s.rest(t, s.admin, http.MethodPost, "/api/v1/analyses/"+anID+"/flag", map[string]any{"inaccurate": true}, http.StatusOK)
		if flagged.Body["flagged_inaccurate"] != true {
			t.Fatalf("flag: %s", flagged.Raw)
		}
		wantLoc(t, s.rest(t, s.admin, http.MethodPost, "/api/v1/analyses/"+anID+"/flag", map[string]any{"inaccurate": "yes"}, http.StatusUnprocessableEntity), "inaccurate")
		s.rest(t, s.reader, http.MethodPost, "/api/v1/analyses/"+anID+"/flag", map[string]any{"inaccurate": false}, http.StatusForbidden)
		s.rest(t, s.admin, http.MethodPost, "/api/v1/analyses/"+fakeID+"/flag", map[string]any{"inaccurate": true}, http.StatusNotFound)
		g = s.gql(t, s.admin, `mutation($id: ID!) { flagAnalysis(analysisID: $id, input: {inaccurate: false}) { id flaggedInaccurate } }`, map[string]any{"id": anID})
		if dig(g, "flagAnalysis", "flaggedInaccurate") != false {
			t.Fatalf("GraphQL unflag: %v", g)
		}
		s.gqlErr(t, s.reader, `mutation($id: ID!) { flagAnalysis(analysisID: $id, input: {inaccurate: true}) { id } }`, map[string]any{"id": anID}, "FORBIDDEN")

		// A second alert from the same address within 30 minutes: the next
		// analysis proposes grouping them, and one call accepts it.
		s.rest(t, s.admin, http.MethodPost, "/api/v1/analyses/"+anID+"/grouping/accept", nil, http.StatusConflict)
		ing2 := s.rest(t, env.Connector(key), http.MethodPost, "/api/v1/alerts/ingest", map[string]any{
			"title": "Outbound connection to a known C2 address", "severity": "high", "source_ip": "185.220.101.45",
		}, http.StatusAccepted)
		second := digS(ing2.Body["results"].([]any)[0], "id")
		s.rest(t, s.admin, http.MethodPost, "/api/v1/alerts/"+second+"/analyse", nil, http.StatusAccepted)
		proposed := awaitAnalysis(t, s, s.reader, "/api/v1/alerts/"+second+"/analysis")
		if ids, _ := obj(obj(proposed.Body["result"])["grouping"])["alert_ids"].([]any); len(ids) != 1 || ids[0] != alertID {
			t.Fatalf("grouping proposal: %s", proposed.Raw)
		}
		s.rest(t, s.reader, http.MethodPost, "/api/v1/analyses/"+proposed.String("id")+"/grouping/accept", nil, http.StatusForbidden)
		grouped := s.rest(t, s.admin, http.MethodPost, "/api/v1/analyses/"+proposed.String("id")+"/grouping/accept", nil, http.StatusOK)
		g = s.gql(t, s.admin, `mutation($id: ID!) { acceptGrouping(analysisID: $id) { id } }`, map[string]any{"id": proposed.String("id")})
		if grouped.String("id") == "" || dig(g, "acceptGrouping", "id") != grouped.String("id") {
			t.Fatalf("accept grouping: %s / %v", grouped.Raw, g)
		}

		s.rest(t, s.reader, http.MethodPost, "/api/v1/alerts/"+alertID+"/analyse", nil, http.StatusForbidden)
		s.rest(t, s.reader, http.MethodPost, "/api/v1/incidents/"+inc+"/analysis", nil, http.StatusForbidden)
		s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/alerts/"+alertID+"/analysis", nil, http.StatusUnauthorized)
		s.rest(t, s.admin, http.MethodPost, "/api/v1/alerts/"+fakeID+"/analyse", nil, http.StatusNotFound)
		t.Run("coverage", s.checkCoverage("analysis"))
	})
}
