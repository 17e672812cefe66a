package server_test

// The outbound policy end to end: a client organisation's admin cannot
// reach the provider's network through the AI settings, what a client sees
// of a failed call is its category, private ranges open only by server
// configuration or the provider organisation's allowlist (for its own
// tree), and a stored key does not follow a changed base URL.

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// internalSecret is what a service on the server's loopback answers; it
// must never reach a client.
const internalSecret = "INTERNAL-ONLY-7f3c"

// internalService stands for a service on the server's loopback (an admin
// API, a database's HTTP port). It answers every request with status and a
// body holding internalSecret, or, on /v1/models with status 200, a model
// list, and counts the requests that reached it.
func internalService(t *testing.T, status int) (port string, hits *atomic.Int64) {
	t.Helper()
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusOK && r.URL.Path == "/v1/models" {
			_ = json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{{"id": "local-model"}}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": internalSecret, "type": internalSecret}})
	}))
	t.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	return port, hits
}

// wantCategory checks a failed model listing names its category and
// nothing of the destination: no foreign body, no address, no port.
func wantCategory(t *testing.T, res *apitest.Response, category, port string) {
	t.Helper()
	raw := string(res.Raw)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(raw, category) {
		t.Fatalf("status %d, want 422 naming %q: %s", res.Status, category, raw)
	}
	for _, leak := range []string{internalSecret, port, "127.0.0.1", "dial"} {
		if strings.Contains(raw, leak) {
			t.Fatalf("the answer leaks %q: %s", leak, raw)
		}
	}
}

// otherProvider creates a second top-level organisation (another provider's
// tree) with an admin, and logs in as that admin.
func otherProvider(t *testing.T, env *apitest.Env) *apitest.Client {
	t.Helper()
	org := testenv.Org(t, env.DB, testenv.Slug("other-mssp"), testenv.Name("Other MSSP"))
	hash, err := auth.HashPassword(analystPassword)
	if err != nil {
		t.Fatal(err)
	}
	testenv.User(t, env.DB, org, enum.RoleAdmin, testenv.Handle("other-admin"), testenv.Email("admin@other-mssp.test"),
		testenv.FullName("Other admin"), testenv.PasswordHash(hash))
	return env.Login("admin@other-mssp.test", analystPassword)
}

func TestOutboundPolicy(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db) // SELIQ_OUTBOUND_ALLOW empty: the default
		s := newSuite(t, env, newCoverage())
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Client A", "slug": "client-a"}, http.StatusCreated)
		s.createUser(t, s.admin.As("client-a"), "admin@client-a.test", "admin", readerPassword)
		clientAdmin := env.Login("admin@client-a.test", readerPassword)
		s.createUser(t, s.admin.As("client-a"), "reader@client-a.test", "read_only", readerPassword)
		clientReader := env.Login("reader@client-a.test", readerPassword)
		other := otherProvider(t, env)
		port, hits := internalService(t, http.StatusOK)
		byName := "http://localhost:" + port + "/v1" // resolves to loopback: checked at connect

		t.Run("client admin cannot enable private addresses", func(t *testing.T) {
			// The old per-organisation switch is gone.
			wantLoc(t, s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"allow_private_addresses": true}, http.StatusUnprocessableEntity), "allow_private_addresses")
			if g := clientAdmin.GraphQL(`mutation { updateAISettings(input: {allowPrivateAddresses: true}) { provider } }`, nil); len(g.Errors) == 0 {
				t.Fatal("GraphQL accepted allowPrivateAddresses")
			}
			// The allowlist is the provider's: 403 for a client's admin and
			// for a provider analyst, in both APIs.
			for _, c := range []*apitest.Client{clientAdmin, s.analyst} {
				s.rest(t, c, http.MethodPatch, "/api/v1/settings/outbound", map[string]any{"allowed_ranges": []string{"127.0.0.0/8"}}, http.StatusForbidden)
				s.rest(t, c, http.MethodGet, "/api/v1/settings/outbound", nil, http.StatusForbidden)
				s.gqlErr(t, c, `mutation { updateOutboundPolicy(input: {allowedRanges: ["0.0.0.0/0"]}) { allowedRanges } }`, nil, "FORBIDDEN")
			}
			// A provider admin acting in the client is still the provider.
			s.rest(t, s.admin.As("client-a"), http.MethodGet, "/api/v1/settings/outbound", nil, http.StatusOK)
		})

		t.Run("loopback refused with the category and no body", func(t *testing.T) {
			// A literal loopback URL is refused at save.
			wantLoc(t, s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"provider": "openai_compatible", "base_url": "http://127.0.0.1:" + port + "/v1", "api_key": "sk-a"}, http.StatusUnprocessableEntity), "base_url")
			for _, u := range []string{"http://2130706433:" + port + "/v1", "http://[::ffff:127.0.0.1]:" + port + "/v1", "http://169.254.169.254/latest", "http://[64:ff9b::a9fe:a9fe]/"} {
				wantLoc(t, s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
					"provider": "openai_compatible", "base_url": u, "api_key": "sk-a"}, http.StatusUnprocessableEntity), "base_url")
			}
			// A name is saved, and refused when dialed: any role listing the
			// models gets the category, and the service is never reached.
			s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"provider": "openai_compatible", "base_url": byName, "api_key": "sk-a", "model": "m"}, http.StatusOK)
			for _, c := range []*apitest.Client{clientReader, clientAdmin} {
				wantCategory(t, s.rest(t, c, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusUnprocessableEntity), "refused by the outbound policy", port)
			}
			if g := clientReader.GraphQL(`{ aiModels }`, nil); len(g.Errors) == 0 || !strings.Contains(g.Errors[0].Message, "refused by the outbound policy") || strings.Contains(g.Errors[0].Message, port) {
				t.Fatalf("GraphQL aiModels: %+v", g.Errors)
			}
			if n := hits.Load(); n != 0 {
				t.Fatalf("the loopback service was reached %d times", n)
			}
		})

		t.Run("provider allowlist opens its tree only, audited", func(t *testing.T) {
			wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/outbound", map[string]any{"allowed_ranges": []string{"localhost"}}, http.StatusUnprocessableEntity), "allowed_ranges")
			res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/outbound", map[string]any{"allowed_ranges": []string{"127.0.0.0/8"}}, http.StatusOK)
			if got := anyList(res.Body["allowed_ranges"]); !slices.Equal(got, []string{"127.0.0.0/8"}) || len(anyList(res.Body["server_allowed_ranges"])) != 0 {
				t.Fatalf("patch: %s", res.Raw)
			}
			g := s.gql(t, s.admin, `{ outboundPolicy { allowedRanges serverAllowedRanges } }`, nil)
			if got := anyList(dig(g, "outboundPolicy", "allowedRanges")); !slices.Equal(got, []string{"127.0.0.0/8"}) {
				t.Fatalf("GraphQL: %v", g)
			}
			// The client below the provider reaches its service now.
			listed := s.rest(t, clientReader, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusOK)
			if got := anyList(listed.Body["items"]); !slices.Equal(got, []string{"local-model"}) {
				t.Fatalf("models: %s", listed.Raw)
			}
			// Another provider's tree does not.
			before := hits.Load()
			s.rest(t, other, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"provider": "openai_compatible", "base_url": byName, "api_key": "sk-o", "model": "m"}, http.StatusOK)
			wantCategory(t, s.rest(t, other, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusUnprocessableEntity), "refused by the outbound policy", port)
			if g := s.gql(t, other, `{ outboundPolicy { allowedRanges } }`, nil); len(anyList(dig(g, "outboundPolicy", "allowedRanges"))) != 0 {
				t.Fatalf("the other provider sees ranges: %v", g)
			}
			if hits.Load() != before {
				t.Fatal("the other tree reached the loopback service")
			}
			// Metadata stays refused under any allowlist.
			s.gql(t, s.admin, `mutation { updateOutboundPolicy(input: {allowedRanges: ["0.0.0.0/0", "::/0"]}) { allowedRanges } }`, nil)
			wantLoc(t, s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"base_url": "http://169.254.169.254/latest", "api_key": "sk-a"}, http.StatusUnprocessableEntity), "base_url")
			s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/outbound", map[string]any{"allowed_ranges": []string{"127.0.0.0/8"}}, http.StatusOK)

			// Every change is in the provider organisation's activity log,
			// before and after.
			rows, err := db.Client.Activity.Query().Where(activity.EntityType("organization"), activity.Field("outbound_allow")).
				Order(activity.ByCreatedAt()).All(auth.System(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			var changes []string
			for _, r := range rows {
				var before, after []string
				if json.Unmarshal(r.Before, &before) != nil || json.Unmarshal(r.After, &after) != nil {
					t.Fatalf("activity row %s → %s", r.Before, r.After)
				}
				changes = append(changes, strings.Join(before, ",")+"→"+strings.Join(after, ","))
				if r.ActorID == nil || r.OrganizationID.String() != s.rest(t, s.admin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK).String("organization_id") {
					t.Fatalf("activity row without actor or outside the provider organisation: %+v", r)
				}
			}
			want := []string{"→127.0.0.0/8", "127.0.0.0/8→0.0.0.0/0,::/0", "0.0.0.0/0,::/0→127.0.0.0/8"}
			if !slices.Equal(changes, want) {
				t.Fatalf("activity %q, want %q", changes, want)
			}
		})

		t.Run("a foreign body never reaches the client", func(t *testing.T) {
			errPort, _ := internalService(t, http.StatusInternalServerError)
			s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"base_url": "http://localhost:" + errPort + "/v1", "api_key": "sk-a"}, http.StatusOK)
			wantCategory(t, s.rest(t, clientReader, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusUnprocessableEntity), "HTTP status 500", errPort)
			// A closed port reads as unreachable, naming no port.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			_, closed, _ := net.SplitHostPort(ln.Addr().String())
			ln.Close()
			s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"base_url": "http://localhost:" + closed + "/v1", "api_key": "sk-a"}, http.StatusOK)
			wantCategory(t, s.rest(t, clientReader, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusUnprocessableEntity), "connection refused or unreachable", closed)
		})

		t.Run("changing the destination needs the key again", func(t *testing.T) {
			s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"base_url": byName, "api_key": "sk-a"}, http.StatusOK)
			elsewhere := "https://collector.example.com/v1"
			wantLoc(t, s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"base_url": elsewhere}, http.StatusUnprocessableEntity), "api_key")
			// Switching vendor moves the key to the other vendor's default URL.
			wantLoc(t, s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"base_url": "", "provider": "anthropic"}, http.StatusUnprocessableEntity), "api_key")
			if g := clientAdmin.GraphQL(`mutation { updateAISettings(input: {baseURL: "https://collector.example.com/v1"}) { baseURL } }`, nil); g.Code() != "BAD_USER_INPUT" || g.Errors[0].Extensions["field"] != "api_key" {
				t.Fatalf("GraphQL: %+v", g.Errors)
			}
			got := s.rest(t, clientAdmin, http.MethodGet, "/api/v1/settings/ai", nil, http.StatusOK)
			if got.String("base_url") != byName || got.Body["api_key_set"] != true {
				t.Fatalf("a refused change was applied: %s", got.Raw)
			}
			// The same URL again, a new key, or clearing the key is fine.
			s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"base_url": byName, "model": "m2"}, http.StatusOK)
			s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"base_url": elsewhere, "api_key": "sk-new"}, http.StatusOK)
			res := s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"base_url": byName, "api_key": ""}, http.StatusOK)
			if res.Body["api_key_set"] != false {
				t.Fatalf("clear: %s", res.Raw)
			}
			// Without a stored key there is nothing to protect.
			s.rest(t, clientAdmin, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"base_url": elsewhere}, http.StatusOK)
		})
		t.Run("coverage", s.checkCoverage("outbound"))
	})
}

// SELIQ_OUTBOUND_ALLOW opens a range to every organisation; metadata stays
// refused.
func TestOutboundServerAllow(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{OutboundAllow: "127.0.0.0/8"})
		s := &suite{env: env}
		s.admin = env.Admin()
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Client A", "slug": "client-a"}, http.StatusCreated)
		s.createUser(t, s.admin.As("client-a"), "admin@client-a.test", "admin", readerPassword)
		clientAdmin := env.Login("admin@client-a.test", readerPassword)
		other := otherProvider(t, env)
		port, hits := internalService(t, http.StatusOK)

		res := s.rest(t, s.admin, http.MethodGet, "/api/v1/settings/outbound", nil, http.StatusOK)
		if got := anyList(res.Body["server_allowed_ranges"]); !slices.Equal(got, []string{"127.0.0.0/8"}) {
			t.Fatalf("server ranges: %s", res.Raw)
		}
		for _, c := range []*apitest.Client{s.admin, clientAdmin, other} {
			s.rest(t, c, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"provider": "openai_compatible", "base_url": "http://127.0.0.1:" + port + "/v1", "api_key": "sk", "model": "m"}, http.StatusOK)
			listed := s.rest(t, c, http.MethodGet, "/api/v1/settings/ai/models", nil, http.StatusOK)
			if got := anyList(listed.Body["items"]); !slices.Equal(got, []string{"local-model"}) {
				t.Fatalf("models: %s", listed.Raw)
			}
			wantLoc(t, s.rest(t, c, http.MethodPatch, "/api/v1/settings/ai", map[string]any{
				"base_url": "http://169.254.169.254/latest", "api_key": "sk"}, http.StatusUnprocessableEntity), "base_url")
		}
		if hits.Load() != 3 {
			t.Fatalf("hits = %d, want 3", hits.Load())
		}
	})
}

func TestOutboundAllowConfig(t *testing.T) {
	tests := []struct {
		env     string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"127.0.0.0/8", []string{"127.0.0.0/8"}, false},
		{" 10.20.0.0/16 , fd00::/8,192.168.1.5", []string{"10.20.0.0/16", "fd00::/8", "192.168.1.5/32"}, false},
		{"10.0.0.0/8,nonsense", nil, true},
		{"127.0.0.1/40", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("SELIQ_OUTBOUND_ALLOW", tt.env)
			cfg, err := server.LoadConfig(nil)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "SELIQ_OUTBOUND_ALLOW") {
					t.Fatalf("err = %v, want one naming SELIQ_OUTBOUND_ALLOW", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range cfg.OutboundAllow {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("OutboundAllow = %v, want %v", got, tt.want)
			}
		})
	}
}
