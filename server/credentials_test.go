package server_test

import (
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// TestPasswordChangeAndResetEndCredentials: a user's own password change
// ends every other session and, unless keep_api_tokens, every API token,
// keeping the session it was made with; an admin's reset ends every session
// and API token. Before, the other sessions and the tokens kept working.
func TestPasswordChangeAndResetEndCredentials(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	const first, second = "first-long-password", "second-long-password"
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		tests := []struct {
			name   string
			change func(t *testing.T, env *apitest.Env, id string, current *apitest.Client)
			// What still works afterwards.
			currentSession, otherSession, token bool
		}{
			{
				name: "own change over REST",
				change: func(t *testing.T, _ *apitest.Env, _ string, current *apitest.Client) {
					want(t, current.Do(http.MethodPatch, "/api/v1/users/me", map[string]any{"password": second, "current_password": first}), http.StatusOK)
				},
				currentSession: true,
			},
			{
				name: "own change keeping API tokens",
				change: func(t *testing.T, _ *apitest.Env, _ string, current *apitest.Client) {
					want(t, current.Do(http.MethodPatch, "/api/v1/users/me", map[string]any{"password": second, "current_password": first, "keep_api_tokens": true}), http.StatusOK)
				},
				currentSession: true, token: true,
			},
			{
				name: "own change over GraphQL",
				change: func(t *testing.T, _ *apitest.Env, _ string, current *apitest.Client) {
					r := current.GraphQL(`mutation($p: String!, $c: String!) { updateMe(input: {password: $p, currentPassword: $c, keepAPITokens: false}) { id } }`,
						map[string]any{"p": second, "c": first})
					if len(r.Errors) > 0 {
						t.Fatalf("updateMe: %+v", r.Errors)
					}
				},
				currentSession: true,
			},
			{
				name: "admin reset",
				change: func(t *testing.T, _ *apitest.Env, id string, _ *apitest.Client) {
					want(t, admin.Do(http.MethodPost, "/api/v1/users/"+id+"/reset-password", map[string]any{"password": second}), http.StatusOK)
				},
			},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				email := "user" + string(rune('a'+i)) + "@provider.test"
				res := admin.Do(http.MethodPost, "/api/v1/users", map[string]any{"email": email, "password": first, "role": "analyst"})
				want(t, res, http.StatusCreated)
				id := res.String("id")
				current, other := env.Login(email, first), env.Login(email, first)
				tok := current.Do(http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "siem"})
				want(t, tok, http.StatusCreated)
				token := env.Anonymous()
				token.Authorization = "Token " + tok.String("token")

				tt.change(t, env, id, current)

				for _, c := range []struct {
					who   string
					c     *apitest.Client
					works bool
				}{{"current session", current, tt.currentSession}, {"other session", other, tt.otherSession}, {"API token", token, tt.token}} {
					status := http.StatusUnauthorized
					if c.works {
						status = http.StatusOK
					}
					if got := c.c.Do(http.MethodGet, "/api/v1/users/me", nil).Status; got != status {
						t.Errorf("%s: %d, want %d", c.who, got, status)
					}
				}
				env.Login(email, second)
			})
		}
	})
}

func want(t *testing.T, res *apitest.Response, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Raw)
	}
}
