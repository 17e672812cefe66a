package server_test

import (
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestHealthAndMe(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		anon := env.Anonymous()
		for _, path := range []string{"/healthz", "/readyz"} {
			if res := anon.Do(http.MethodGet, path, nil); res.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", path, res.Status, res.Raw)
			}
		}
		admin := env.Admin()
		me := admin.Do(http.MethodGet, "/api/v1/users/me", nil)
		if me.Status != http.StatusOK || me.String("email") != apitest.AdminEmail || me.String("role") != "admin" {
			t.Fatalf("REST me: %d %s", me.Status, me.Raw)
		}
		g := admin.GraphQL(`{ me { email role } }`, nil)
		if g.Code() != "" || g.Data["me"].(map[string]any)["role"] != "ADMIN" {
			t.Fatalf("GraphQL me: %+v", g)
		}
	})
}

// A credential refused before execution still answers /graphql in GraphQL's
// shape, with the HTTP status of the refusal.
func TestGraphQLRefusedCredentials(t *testing.T) {
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite))
	cases := []struct {
		name   string
		client func() *apitest.Client
		status int
		code   string
	}{
		{"bad token", func() *apitest.Client {
			c := env.Anonymous()
			c.Authorization = "Bearer sqs_nope"
			return c
		}, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"org outside tree", func() *apitest.Client { return env.Admin().As("no-such-org") }, http.StatusForbidden, "FORBIDDEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.client().GraphQL(`{ me { email } }`, nil)
			if g.Status != tc.status || g.Code() != tc.code {
				t.Fatalf("status %d code %q, want %d %q", g.Status, g.Code(), tc.status, tc.code)
			}
		})
	}
}
