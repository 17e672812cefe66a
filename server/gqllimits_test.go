package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// numbered joins n copies of format, each given its index.
func numbered(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format+" ", i)
	}
	return b.String()
}

// GraphQL cost attacks (floods of fields, tokens, aliases, nodes and page
// sizes), replayed over HTTP against a server on each database: each is refused
// before it runs, with 422 and a code and message naming the limit. The
// typename flood needs no login.
func TestGraphQLCostAttacksAreRefused(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		res := admin.Do(http.MethodPost, "/api/v1/users", map[string]any{"email": "reader@provider.test", "role": "read_only", "password": "reader-password-123"})
		if res.Status != http.StatusCreated {
			t.Fatalf("create reader: %d %s", res.Status, res.Raw)
		}
		reader := env.Login("reader@provider.test", "reader-password-123")
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = `"` + uuid.NewString() + `"`
		}
		tests := []struct {
			name   string
			client *apitest.Client
			query  string
			code   string
			msg    string
		}{
			{"typename flood, anonymous", env.Anonymous(), "{" + strings.Repeat("__typename ", 8000) + "}", "BAD_USER_INPUT", "the document selects 8000 fields and fragments; the limit is 1000"},
			{"me { email ×50000 }", reader, "{ me {" + strings.Repeat(" email", 50000) + " } }", "BAD_USER_INPUT", "the document has more than 10000 tokens; the limit is 10000"},
			{"50 aliases of alerts(first: 500)", reader, "{" + numbered("a%d: alerts(first: 500) { edges { node { id title raw } } }", 50) + "}", "BAD_USER_INPUT", "an operation selects 50 root fields; the limit is 20"},
			{"6000 aliases", reader, "{" + numbered("a%d: alerts(first: 500) { edges { node { raw } } }", 6000) + "}", "BAD_USER_INPUT", "the limit is 10000"},
			{"ten full pages of alerts", reader, "{" + numbered("a%d: alerts(first: 500) { edges { node { id title description raw tags entities { type value } connector { id name } assignee { id email } } } }", 10) + "}", "COMPLEXITY_LIMIT_EXCEEDED", "exceeds the limit of 200000"},
			{"nodes with 1000 ids", reader, "{ nodes(ids: [" + strings.Join(ids, ",") + "]) { id } }", "BAD_USER_INPUT", "asks for 1000 nodes; the limit is 100"},
			{"first: huge", reader, "{ alerts(first: 100000) { totalCount } }", "BAD_USER_INPUT", "must be between 0 and 500"},
			{"repeated field", reader, "{ me {" + strings.Repeat(" email", 11) + " } }", "BAD_USER_INPUT", `"email" is selected 11 times in one selection set; the limit is 10`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := tt.client.GraphQL(tt.query, nil)
				// A request error: 400 under application/graphql-response+json,
				// which apitest's client accepts.
				if g.Status != http.StatusBadRequest || g.Code() != tt.code || !strings.Contains(g.Errors[0].Message, tt.msg) || g.Data != nil {
					t.Fatalf("status %d, code %q, errors %+v; want 400 %s containing %q", g.Status, g.Code(), g.Errors, tt.code, tt.msg)
				}
			})
		}
		t.Run("REST limit above the page size", func(t *testing.T) {
			res := reader.Do(http.MethodGet, "/api/v1/alerts?limit=100000", nil)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Raw), "limit") {
				t.Fatalf("status %d: %s", res.Status, res.Raw)
			}
		})
		// The costliest REST pages still work at their largest size.
		for _, path := range []string{"/api/v1/organizations", "/api/v1/groups", "/api/v1/users", "/api/v1/alerts", "/api/v1/incidents"} {
			t.Run("REST "+path+" at limit 500", func(t *testing.T) {
				if res := admin.Do(http.MethodGet, path+"?limit=500", nil); res.Status != http.StatusOK {
					t.Fatalf("status %d: %s", res.Status, res.Raw)
				}
			})
		}
		t.Run("introspection query", func(t *testing.T) {
			g := env.Anonymous().GraphQL(introspection.Query, nil)
			if g.Status != http.StatusOK || len(g.Errors) > 0 || g.Data["__schema"] == nil {
				t.Fatalf("status %d, errors %+v", g.Status, g.Errors)
			}
		})
	})
}

// Every operation runs under SELIQ_GRAPHQL_TIMEOUT: past it, GraphQL
// answers TIMEOUT and REST 504, on both databases.
func TestGraphQLTimeout(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{GraphQLTimeout: time.Nanosecond})
		// Logging in is itself an operation, which would time out: take a
		// session from the service.
		sess, err := env.Srv.Auth.Login(context.Background(), apitest.AdminEmail, apitest.AdminPassword, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		admin := env.Anonymous()
		admin.Authorization = "Bearer " + sess.Token
		g := admin.GraphQL(`{ users(first: 5) { totalCount } }`, nil)
		if g.Code() != "TIMEOUT" || !strings.Contains(g.Errors[0].Message, "ran longer than 1ns") {
			t.Errorf("GraphQL: status %d, errors %+v", g.Status, g.Errors)
		}
		g = admin.GraphQL(`mutation { createOrganization(input: {name: "Late", slug: "late"}) { id } }`, nil)
		if g.Code() != "TIMEOUT" {
			t.Errorf("mutation: status %d, errors %+v", g.Status, g.Errors)
		}
		res := admin.Do(http.MethodGet, "/api/v1/users", nil)
		if res.Status != http.StatusGatewayTimeout || !strings.Contains(string(res.Raw), "ran longer than") {
			t.Errorf("REST: status %d: %s", res.Status, res.Raw)
		}
	})
}

// A /graphql request that cannot be decoded is the client's mistake (it
// answered INTERNAL): 400 BAD_REQUEST, with or without a login.
func TestGraphQLMalformedRequest(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		for _, c := range []struct {
			name   string
			client *apitest.Client
		}{{"anonymous", env.Anonymous()}, {"logged in", env.Admin()}} {
			t.Run(c.name, func(t *testing.T) {
				for _, res := range []*apitest.Response{
					c.client.DoRaw(http.MethodPost, "/graphql", "application/json", []byte(`{"query": "{ me { id } }"`)),
					c.client.DoRaw(http.MethodPost, "/graphql", "application/json", []byte(`{"query": ["{ me { id } }"]}`)),
					c.client.Do(http.MethodGet, "/graphql?query=%7B__typename%7D&variables=%7Bx", nil),
				} {
					var ext map[string]any
					if errs, _ := res.Body["errors"].([]any); len(errs) == 1 {
						first, _ := errs[0].(map[string]any)
						ext, _ = first["extensions"].(map[string]any)
					}
					if res.Status != http.StatusBadRequest || ext["code"] != "BAD_REQUEST" {
						t.Errorf("status %d: %s", res.Status, res.Raw)
					}
				}
			})
		}
	})
}
