package server_test

// Analyses by the organisation's model (a local fake provider), the token
// quota on both surfaces, and auto-analysis of ingested alerts.

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/internal/aifake"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

const llmAnswer = `{"summary": {"what_happened": "Word launched encoded PowerShell on fin-ws-042.", "impact": "Likely credential theft.",
 "recommendation": "Isolate fin-ws-042."}, "verdict": "likely_malicious", "confidence": 0.9, "severity": "critical",
 "reasons": ["encoded PowerShell from Word"], "techniques": ["T1059.001"], "iocs": [], "next_steps": []}`

// llmSuite is a server whose organisation analyses with a fake provider.
type llmSuite struct {
	*suite
	fake      *aifake.Server
	connector *apitest.Client
}

func newLLMSuite(t *testing.T, db *storage.DB, settings map[string]any) *llmSuite {
	t.Helper()
	env := apitest.Start(t, db, apitest.Options{OutboundAllow: aifake.Loopback})
	s := &llmSuite{suite: newSuite(t, env, nil), fake: aifake.New(t, aifake.OpenAI)}
	body := map[string]any{"provider": "openai_compatible", "base_url": s.fake.BaseURL(), "api_key": s.fake.Key, "model": "gpt-4o"}
	for k, v := range settings {
		body[k] = v
	}
	s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/ai", body, http.StatusOK)
	key := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors", map[string]any{"name": "EDR", "type": "generic"}, http.StatusCreated).String("api_key")
	s.connector = env.Connector(key)
	return s
}

// ingest posts alerts and returns each result's id and status.
func (s *llmSuite) ingest(t *testing.T, alerts ...map[string]any) (ids, statuses []string) {
	t.Helper()
	var body any = alerts[0]
	if len(alerts) > 1 {
		list := make([]any, len(alerts))
		for i, a := range alerts {
			list[i] = a
		}
		body = list
	}
	res := s.rest(t, s.connector, http.MethodPost, "/api/v1/alerts/ingest", body, http.StatusAccepted)
	for _, r := range res.Body["results"].([]any) {
		ids = append(ids, digS(r, "id"))
		statuses = append(statuses, digS(r, "status"))
	}
	return ids, statuses
}

func powershellAlert(host string) map[string]any {
	return map[string]any{"title": "Execution via PowerShell with encoded command on " + host,
		"description": "powershell.exe -nop -w hidden -enc SQBFAFgA launched by winword.exe on " + host, "severity": "high", "host": host}
}

func TestAnalysisLLMAndQuota(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		s := newLLMSuite(t, db, map[string]any{"monthly_token_quota": 5000, "features": map[string]any{"auto_analyse": false}})
		ids, _ := s.ingest(t, powershellAlert("fin-ws-042"))
		alertPath := "/api/v1/alerts/" + ids[0]
		inc := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Intrusion", "alert_ids": ids}, http.StatusCreated).String("id")

		// A valid answer: the model's verdict, its tokens on the row and in the quota.
		s.fake.Enqueue(aifake.Turn{Text: llmAnswer, Usage: aifake.Usage{PromptTokens: 1200, CompletionTokens: 180}})
		req := s.rest(t, s.analyst, http.MethodPost, alertPath+"/analyse", nil, http.StatusAccepted)
		if req.String("provider") != "openai_compatible" || req.String("status") != "pending" {
			t.Fatalf("analyse: %s", req.Raw)
		}
		got := awaitAnalysis(t, s.suite, s.reader, alertPath+"/analysis")
		if got.String("verdict") != "likely_malicious" || num(got.Body["prompt_tokens"]) != 1200 || num(got.Body["completion_tokens"]) != 180 ||
			!strings.HasPrefix(got.String("model"), "gpt-4o") || got.String("severity") != "critical" || obj(got.Body["result"])["fallback"] != nil {
			t.Fatalf("analysis: %s", got.Raw)
		}
		q := s.rest(t, s.analyst, http.MethodGet, "/api/v1/ai-usage/quota", nil, http.StatusOK)
		if num(q.Body["used"]) != 1380 || num(q.Body["remaining"]) != 5000-1380 {
			t.Fatalf("quota after one analysis: %s", q.Raw)
		}

		// A malformed answer: the built-in result, flagged; the tokens count.
		s.fake.Enqueue(aifake.Turn{Text: `{"verdict": "likely_malicious"`, Usage: aifake.Usage{PromptTokens: 3500, CompletionTokens: 200}})
		s.rest(t, s.analyst, http.MethodPost, alertPath+"/analyse", map[string]any{}, http.StatusAccepted)
		got = awaitAnalysis(t, s.suite, s.reader, alertPath+"/analysis")
		if fb := obj(obj(got.Body["result"])["fallback"]); fb["reason"] != "invalid_output" || got.String("provider") != "openai_compatible" || got.String("verdict") == "" {
			t.Fatalf("fallback: %s", got.Raw)
		}
		q = s.rest(t, s.analyst, http.MethodGet, "/api/v1/ai-usage/quota", nil, http.StatusOK)
		if num(q.Body["used"]) != 5080 || num(q.Body["remaining"]) != 0 {
			t.Fatalf("quota used up: %s", q.Raw)
		}

		// Quota used up: 429 with Retry-After naming the built-in way out, on
		// both surfaces and both analyses.
		for _, path := range []string{alertPath + "/analyse", "/api/v1/incidents/" + inc + "/analysis"} {
			res := s.rest(t, s.analyst, http.MethodPost, path, nil, http.StatusTooManyRequests)
			secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
			if err != nil || secs <= 0 || secs > 31*24*3600 || !strings.Contains(res.String("detail"), "quota") || !strings.Contains(res.String("detail"), `"engine": "builtin"`) {
				t.Fatalf("429 of %s: Retry-After %q, %s", path, res.Header.Get("Retry-After"), res.Raw)
			}
		}
		g := s.gqlErr(t, s.analyst, `mutation($id: ID!) { analyseAlert(alertID: $id) { id } }`, map[string]any{"id": ids[0]}, "RATE_LIMITED")
		if !strings.Contains(g.Errors[0].Message, "builtin") {
			t.Fatalf("GraphQL 429 message: %+v", g.Errors)
		}
		s.gqlErr(t, s.analyst, `mutation($id: ID!) { analyseIncident(incidentID: $id) { id } }`, map[string]any{"id": inc}, "RATE_LIMITED")

		// The built-in analyst, asked for, still works on both surfaces.
		b := s.rest(t, s.analyst, http.MethodPost, alertPath+"/analyse", map[string]any{"engine": "builtin"}, http.StatusAccepted)
		if b.String("provider") != "builtin" {
			t.Fatalf("engine builtin: %s", b.Raw)
		}
		got = awaitAnalysis(t, s.suite, s.reader, alertPath+"/analysis")
		if got.String("provider") != "builtin" || got.String("verdict") == "" || num(got.Body["prompt_tokens"]) != 0 {
			t.Fatalf("built-in analysis: %s", got.Raw)
		}
		s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+inc+"/analysis", map[string]any{"engine": "builtin"}, http.StatusAccepted)
		d := s.gql(t, s.analyst, `mutation($id: ID!) { analyseAlert(alertID: $id, input: {engine: "builtin"}) { status provider } }`, map[string]any{"id": ids[0]})
		if dig(d, "analyseAlert", "provider") != "builtin" {
			t.Fatalf("GraphQL engine builtin: %v", d)
		}
		s.gql(t, s.analyst, `mutation($id: ID!) { analyseIncident(incidentID: $id, input: {engine: "builtin"}) { id } }`, map[string]any{"id": inc})

		// Bad input and roles.
		s.rest(t, s.analyst, http.MethodPost, alertPath+"/analyse", map[string]any{"engine": "gpt-5"}, http.StatusUnprocessableEntity)
		s.rest(t, s.analyst, http.MethodPost, alertPath+"/analyse", map[string]any{"model": "gpt-5"}, http.StatusUnprocessableEntity)
		s.rest(t, s.reader, http.MethodPost, alertPath+"/analyse", map[string]any{"engine": "builtin"}, http.StatusForbidden)
		s.gqlErr(t, s.reader, `mutation($id: ID!) { analyseAlert(alertID: $id, input: {engine: "builtin"}) { id } }`, map[string]any{"id": ids[0]}, "FORBIDDEN")
		s.rest(t, s.reader, http.MethodPost, "/api/v1/incidents/"+inc+"/analysis", map[string]any{"engine": "builtin"}, http.StatusForbidden)
		s.rest(t, s.env.Anonymous(), http.MethodPost, alertPath+"/analyse", map[string]any{"engine": "builtin"}, http.StatusUnauthorized)
		s.rest(t, s.env.Anonymous(), http.MethodPost, "/api/v1/incidents/"+inc+"/analysis", nil, http.StatusUnauthorized)
		if n := s.fake.Pending(); n != 0 {
			t.Fatalf("%d scripted turns unused", n)
		}
	})
}

func TestAnalysisProviderFailureFallsBack(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		s := newLLMSuite(t, db, map[string]any{"features": map[string]any{"auto_analyse": false}})
		ids, _ := s.ingest(t, powershellAlert("fin-ws-042"))
		// The first attempt and its three retries all fail.
		s.fake.Enqueue(aifake.Turn{Status: 500}, aifake.Turn{Status: 502}, aifake.Turn{Status: 500}, aifake.Turn{Status: 503})
		s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/"+ids[0]+"/analyse", nil, http.StatusAccepted)
		got := awaitAnalysis(t, s.suite, s.reader, "/api/v1/alerts/"+ids[0]+"/analysis")
		fb := obj(obj(got.Body["result"])["fallback"])
		if fb["reason"] != "provider_error" || got.String("verdict") == "" || got.String("provider") != "openai_compatible" || len(s.fake.Requests()) != 4 {
			t.Fatalf("after a provider failure: %s (%d requests)", got.Raw, len(s.fake.Requests()))
		}
		q := s.rest(t, s.analyst, http.MethodGet, "/api/v1/ai-usage/quota", nil, http.StatusOK)
		if num(q.Body["used"]) != 0 {
			t.Fatalf("quota after a failed call: %s", q.Raw)
		}
	})
}

// countAnalyses counts the analyses of every organisation.
func countAnalyses(t *testing.T, db *storage.DB) int {
	t.Helper()
	n, err := db.Client.Analysis.Query().Count(auth.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func dialectOf(db *storage.DB) testenv.Dialect {
	if db.Dialect == dialect.Postgres {
		return testenv.Postgres
	}
	return testenv.SQLite
}

func TestAutoAnalysisOnIngest(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		cases := []struct {
			name     string
			settings map[string]any
			alerts   []map[string]any
			want     int // analyses after the first post
			provider string
			turns    int
		}{
			{"built-in analyst by default", map[string]any{"provider": "builtin"},
				[]map[string]any{powershellAlert("ws-1"), powershellAlert("ws-2"), powershellAlert("ws-1")}, 2, "builtin", 0},
			{"configured provider", nil,
				[]map[string]any{powershellAlert("ws-1"), powershellAlert("ws-2")}, 2, "openai_compatible", 2},
			{"feature off", map[string]any{"features": map[string]any{"auto_analyse": false}},
				[]map[string]any{powershellAlert("ws-1"), powershellAlert("ws-2")}, 0, "", 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := newLLMSuite(t, testenv.Open(t, dialectOf(db)), c.settings)
				for range c.turns {
					s.fake.Enqueue(aifake.Turn{Text: llmAnswer, Usage: aifake.Usage{PromptTokens: 100, CompletionTokens: 10}})
				}
				ids, statuses := s.ingest(t, c.alerts...)
				created := map[string]bool{}
				for i, id := range ids {
					if statuses[i] == "created" {
						created[id] = true
					}
				}
				// A repeat posted later merges and is not analysed again.
				_, again := s.ingest(t, c.alerts[0])
				if again[0] != "merged" {
					t.Fatalf("repeat: %v", again)
				}
				if n := countAnalyses(t, s.env.DB); n != c.want || (c.want > 0 && len(created) != c.want) {
					t.Fatalf("%d analyses for %d created alerts, want %d", n, len(created), c.want)
				}
				for id := range created {
					if c.want == 0 {
						s.rest(t, s.reader, http.MethodGet, "/api/v1/alerts/"+id+"/analysis", nil, http.StatusNotFound)
						continue
					}
					got := awaitAnalysis(t, s.suite, s.reader, "/api/v1/alerts/"+id+"/analysis")
					if got.String("provider") != c.provider || got.String("verdict") == "" || obj(got.Body["result"])["fallback"] != nil {
						t.Fatalf("auto analysis of %s: %s", id, got.Raw)
					}
				}
				if c.turns > 0 {
					testenv.Poll(10*time.Second, func() bool { return s.fake.Pending() == 0 })
					q := s.rest(t, s.analyst, http.MethodGet, "/api/v1/ai-usage/quota", nil, http.StatusOK)
					if num(q.Body["used"]) != float64(110*c.turns) {
						t.Fatalf("quota after automatic analyses: %s", q.Raw)
					}
				}
				if n := countAnalyses(t, s.env.DB); n != c.want {
					t.Fatalf("%d analyses in the end, want %d", n, c.want)
				}
			})
		}
	})
}
