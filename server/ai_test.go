package server_test

// AI settings, the model list from a provider and the usage quota.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// modelsServer speaks the OpenAI-compatible /models endpoint and insists on
// the key.
func modelsServer(t *testing.T, key string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "bad key", "type": "invalid_request_error"}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": []map[string]any{{"id": "llama3.1:8b"}, {"id": "qwen2.5:14b"}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAISettingsRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		// The fake provider listens on loopback.
		env := apitest.Start(t, db, apitest.Options{OutboundAllow: "127.0.0.0/8"})
		s := newSuite(t, env, newCoverage())

		def := s.rest(t, s.analyst, http.MethodGet, "/api/v1/settings/ai", nil, http.StatusOK)
		if def.String("provider") != "builtin" || def.Body["api_key_set"] != false || def.Body["allow_private_addresses"] != nil {
			t.Fatalf("defaults: %s", def.Raw)
		}
		models := s.rest(t, s.analyst, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusOK)
		if string(models.Raw) == "" || !slices.Contains(anyList(models.Body["items"]), "builtin/1") {
			t.Fatalf("builtin models: %s", models.Raw)
		}

		fake := modelsServer(t, "sk-local-123")
		res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
			"provider": "openai_compatible", "base_url": fake.URL + "/v1", "api_key": "sk-local-123", "model": "llama3.1:8b",
			"features": map[string]any{"auto_analyse": false}, "monthly_token_quota": 5000}, http.StatusOK)
		if res.Body["api_key_set"] != true || res.Body["api_key"] != nil || dig(res.Body, "features", "auto_analyse") != false || dig(res.Body, "features", "chat") != true {
			t.Fatalf("patch: %s", res.Raw)
		}
		// The key is stored sealed: the settings row does not contain it.
		row := settingsRow(t, db)
		if row == "" || strings.Contains(row, "sk-local-123") {
			t.Fatalf("the stored settings show the key: %s", row)
		}
		// It opens again to list the provider's models (the fake checks it).
		listed := s.rest(t, s.analyst, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusOK)
		if got := anyList(listed.Body["items"]); !slices.Equal(got, []string{"llama3.1:8b", "qwen2.5:14b"}) {
			t.Fatalf("models: %s", listed.Raw)
		}
		g := s.gql(t, s.analyst, `{ aiModels aiSettings { provider model apiKeySet features { chat } } }`, nil)
		if dig(g, "aiSettings", "apiKeySet") != true {
			t.Fatalf("GraphQL settings: %v", g)
		}

		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"base_url": "http://169.254.169.254/latest"}, "base_url"},
			{map[string]any{"base_url": "file:///etc/passwd"}, "base_url"},
			{map[string]any{"base_url": "https://user:pw@example.com"}, "base_url"},
			{map[string]any{"provider": "skynet"}, "provider"},
			{map[string]any{"temperature": 3}, "temperature"},
			{map[string]any{"monthly_token_quota": -1}, "monthly_token_quota"},
		} {
			wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/ai", tc.body, http.StatusUnprocessableEntity), tc.field)
		}
		// The per-organisation switch is gone: the outbound policy decides.
		wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"allow_private_addresses": true}, http.StatusUnprocessableEntity), "allow_private_addresses")
		s.rest(t, s.analyst, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"model": "x"}, http.StatusForbidden)
		s.gqlErr(t, s.analyst, `mutation { updateAISettings(input: {model: "x"}) { model } }`, nil, "FORBIDDEN")
		s.gql(t, s.admin, `mutation { updateAISettings(input: {apiKey: "", provider: "builtin"}) { apiKeySet provider } }`, nil)

		q := s.rest(t, s.analyst, http.MethodGet, "/api/v1/ai-usage/quota", nil, http.StatusOK)
		if num(q.Body["used"]) != 0 || num(q.Body["limit"]) != 5000 || num(q.Body["remaining"]) != 5000 {
			t.Fatalf("quota: %s", q.Raw)
		}
		recordUsage(t, db, s, 1200, 300)
		q = s.rest(t, s.analyst, http.MethodGet, "/api/v1/ai-usage/quota", nil, http.StatusOK)
		resets, _ := time.Parse(time.RFC3339, q.String("resets_at"))
		now := time.Now().UTC()
		if num(q.Body["used"]) != 1500 || num(q.Body["remaining"]) != 3500 || resets.Day() != 1 || !resets.After(now) {
			t.Fatalf("quota after use: %s", q.Raw)
		}
		s.gql(t, s.analyst, `{ aiQuota { used limit remaining resetsAt } }`, nil)
		s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/settings/ai", nil, http.StatusUnauthorized)
		testAssetProfileRoutes(t, s)
		t.Run("coverage", s.checkCoverage("ai"))
	})
}

// settingsRow reads the provider organisation's stored AI settings.
func settingsRow(t *testing.T, db *storage.DB) string {
	t.Helper()
	var raw string
	row := db.SQL.QueryRowContext(context.Background(), "SELECT CAST(value AS TEXT) FROM settings WHERE key = 'ai'")
	if err := row.Scan(&raw); err != nil {
		t.Fatalf("read settings: %v", err)
	}
	return raw
}

// recordUsage writes a provider call's tokens for the provider organisation.
func recordUsage(t *testing.T, db *storage.DB, s *suite, prompt, completion int) {
	t.Helper()
	me := s.rest(t, s.admin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
	org := uuid.MustParse(me.String("organization_id"))
	if err := db.Client.AIUsage.Create().SetOrganizationID(org).SetFeature("chat").SetProvider("openai_compatible").
		SetPromptTokens(prompt).SetCompletionTokens(completion).Exec(auth.System(context.Background())); err != nil {
		t.Fatal(err)
	}
}

// testAssetProfileRoutes: the asset profile on both surfaces; admins
// change it, everyone in the organisation reads it, bad entries are 422
// naming the field.
func testAssetProfileRoutes(t *testing.T, s *suite) {
	t.Helper()
	def := s.rest(t, s.analyst, http.MethodGet, "/api/v1/settings/asset-profile", nil, http.StatusOK)
	if l, ok := def.Body["domains"].([]any); !ok || len(l) != 0 {
		t.Fatalf("default asset profile: %s", def.Raw)
	}
	res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/asset-profile", map[string]any{
		"domains": []string{"Example.com"}, "networks": []string{"10.0.0.0/8", "203.0.113.0/28"}, "admin_hosts": []string{"jump-01"},
		"admin_accounts": []string{"svc_backup"}}, http.StatusOK)
	if !slices.Equal(anyList(res.Body["domains"]), []string{"example.com"}) || !slices.Equal(anyList(res.Body["admin_hosts"]), []string{"jump-01"}) {
		t.Fatalf("patched asset profile: %s", res.Raw)
	}
	wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/asset-profile", map[string]any{"networks": []string{"10.0.0.0/8", "ten"}}, http.StatusUnprocessableEntity), "networks")
	wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/asset-profile", map[string]any{"domains": "example.com"}, http.StatusUnprocessableEntity), "domains")
	s.rest(t, s.analyst, http.MethodPatch, "/api/v1/settings/asset-profile", map[string]any{"domains": []string{"evil.test"}}, http.StatusForbidden)
	s.gqlErr(t, s.analyst, `mutation { updateAssetProfile(input: {domains: ["evil.test"]}) { domains } }`, nil, "FORBIDDEN")
	g := s.gql(t, s.admin, `mutation { updateAssetProfile(input: {scanners: ["10.0.9.50"]}) { domains networks adminHosts adminAccounts scanners } }`, nil)
	if got := anyList(dig(g, "updateAssetProfile", "scanners")); !slices.Equal(got, []string{"10.0.9.50"}) {
		t.Fatalf("GraphQL update: %v", g)
	}
	g = s.gql(t, s.analyst, `{ assetProfile { domains networks adminHosts adminAccounts scanners } }`, nil)
	if got := anyList(dig(g, "assetProfile", "networks")); !slices.Equal(got, []string{"10.0.0.0/8", "203.0.113.0/28"}) {
		t.Fatalf("GraphQL read: %v", g)
	}
	s.rest(t, s.env.Anonymous(), http.MethodGet, "/api/v1/settings/asset-profile", nil, http.StatusUnauthorized)
}
