package audit_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// Secrets sent in the steps below; none may reach the activity log.
const (
	firstPassword = "first-password-123"
	resetPassword = "second-password-456"
	aiKey         = "sk-audit-secret-key-1"
)

// Every change to who may do what, made over REST by an admin, is in the
// activity log with its actor, time and before/after, and no secret is.
func TestDirectoryChangesAreAudited(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		adminID := admin.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK).String("id")
		orgID := admin.Must(t, http.MethodGet, "/api/v1/organizations/by-slug/default", nil, http.StatusOK).String("id")
		ids := map[string]string{}
		secrets := []string{firstPassword, resetPassword, aiKey, "$argon2id$"}

		steps := []struct {
			name                  string
			do                    func(t *testing.T) (entityID string)
			entity, action, field string
			before, after         any // nil: absent; map: these keys at least
		}{
			{"user create", func(t *testing.T) string {
				ids["user"] = admin.Must(t, http.MethodPost, "/api/v1/users", map[string]any{"email": "audited@provider.test", "password": firstPassword, "role": "analyst"}, http.StatusCreated).String("id")
				return ids["user"]
			}, "user", "create", "", nil, map[string]any{"email": "audited@provider.test", "role": "analyst", "active": true}},
			{"role change", func(t *testing.T) string {
				admin.Must(t, http.MethodPatch, "/api/v1/users/"+ids["user"], map[string]any{"role": "read_only"}, http.StatusOK)
				return ids["user"]
			}, "user", "update", "role", "analyst", "read_only"},
			{"password reset", func(t *testing.T) string {
				admin.Must(t, http.MethodPost, "/api/v1/users/"+ids["user"]+"/reset-password", map[string]any{"password": resetPassword}, http.StatusOK)
				return ids["user"]
			}, "user", "password_reset", "", nil, nil},
			{"deactivation", func(t *testing.T) string {
				admin.Must(t, http.MethodPatch, "/api/v1/users/"+ids["user"], map[string]any{"active": false}, http.StatusOK)
				return ids["user"]
			}, "user", "update", "active", true, false},
			{"user delete", func(t *testing.T) string {
				admin.Must(t, http.MethodDelete, "/api/v1/users/"+ids["user"], nil, http.StatusNoContent)
				return ids["user"]
			}, "user", "delete", "", map[string]any{"email": "audited@provider.test"}, nil},
			{"API token create", func(t *testing.T) string {
				res := admin.Must(t, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "ci"}, http.StatusCreated)
				secrets = append(secrets, res.String("token"))
				ids["token"] = res.String("id")
				return ids["token"]
			}, "api_token", "create", "", nil, map[string]any{"name": "ci", "user_id": adminID}},
			{"API token revoke", func(t *testing.T) string {
				admin.Must(t, http.MethodDelete, "/api/v1/users/me/api-tokens/"+ids["token"], nil, http.StatusNoContent)
				return ids["token"]
			}, "api_token", "revoke", "", map[string]any{"name": "ci"}, nil},
			{"organisation create", func(t *testing.T) string {
				ids["org"] = admin.Must(t, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Client One", "slug": "client-one"}, http.StatusCreated).String("id")
				return ids["org"]
			}, "organization", "create", "", nil, map[string]any{"name": "Client One", "slug": "client-one", "parent_id": orgID}},
			{"organisation change", func(t *testing.T) string {
				admin.Must(t, http.MethodPatch, "/api/v1/organizations/"+ids["org"], map[string]any{"user_quota": 5}, http.StatusOK)
				return ids["org"]
			}, "organization", "update", "user_quota", float64(0), float64(5)},
			{"group create", func(t *testing.T) string {
				ids["group"] = admin.Must(t, http.MethodPost, "/api/v1/groups", map[string]any{"name": "Tier 1", "member_ids": []string{adminID}}, http.StatusCreated).String("id")
				return ids["group"]
			}, "group", "create", "", nil, map[string]any{"name": "Tier 1", "members": []any{adminID}}},
			{"group rename", func(t *testing.T) string {
				admin.Must(t, http.MethodPatch, "/api/v1/groups/"+ids["group"], map[string]any{"name": "Tier 2"}, http.StatusOK)
				return ids["group"]
			}, "group", "update", "name", "Tier 1", "Tier 2"},
			{"group members", func(t *testing.T) string {
				admin.Must(t, http.MethodPut, "/api/v1/groups/"+ids["group"]+"/members", map[string]any{"user_ids": []string{}}, http.StatusOK)
				return ids["group"]
			}, "group", "update", "members", []any{adminID}, []any{}},
			{"group delete", func(t *testing.T) string {
				admin.Must(t, http.MethodDelete, "/api/v1/groups/"+ids["group"], nil, http.StatusNoContent)
				return ids["group"]
			}, "group", "delete", "", map[string]any{"name": "Tier 2"}, nil},
			{"contact create", func(t *testing.T) string {
				ids["contact"] = admin.Must(t, http.MethodPost, "/api/v1/organizations/"+orgID+"/contacts", map[string]any{"name": "Dana", "email": "dana@client.test"}, http.StatusCreated).String("id")
				return ids["contact"]
			}, "contact", "create", "", nil, map[string]any{"name": "Dana", "email": "dana@client.test"}},
			{"contact change", func(t *testing.T) string {
				admin.Must(t, http.MethodPatch, "/api/v1/organizations/"+orgID+"/contacts/"+ids["contact"], map[string]any{"phone": "+1 555 0100"}, http.StatusOK)
				return ids["contact"]
			}, "contact", "update", "phone", "", "+1 555 0100"},
			{"contact delete", func(t *testing.T) string {
				admin.Must(t, http.MethodDelete, "/api/v1/organizations/"+orgID+"/contacts/"+ids["contact"], nil, http.StatusNoContent)
				return ids["contact"]
			}, "contact", "delete", "", map[string]any{"name": "Dana"}, nil},
			{"AI settings", func(t *testing.T) string {
				admin.Must(t, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"model": "audit-model", "api_key": aiKey}, http.StatusOK)
				return orgID
			}, "ai_settings", "update", "model", nil, "audit-model"}, // no document before the first save
			{"AI key", func(*testing.T) string { return orgID }, "ai_settings", "update", "sealedKey", "unset", "set"},
			{"AI key replaced", func(t *testing.T) string {
				admin.Must(t, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"model": "audit-model-2", "api_key": aiKey + "-2"}, http.StatusOK)
				return orgID
			}, "ai_settings", "update", "model", "audit-model", "audit-model-2"},
			{"AI key replaced, as a fact", func(*testing.T) string { return orgID }, "ai_settings", "update", "sealedKey", "set", "set"},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				id := st.do(t)
				filter := map[string]any{"entity_type": st.entity, "entity_id": id, "action": st.action}
				if st.field != "" {
					filter["field"] = st.field
				}
				rows := admin.Must(t, http.MethodPost, "/api/v1/activity/search", filter, http.StatusOK).Items()
				if len(rows) == 0 {
					t.Fatalf("no activity row for %v", filter)
				}
				row := rows[0] // the newest
				if row["actor_id"] != adminID || row["actor_name"] == "" || row["created_at"] == "" {
					t.Errorf("actor or time missing: %v", row)
				}
				wantValue(t, "before", row["before"], st.before)
				wantValue(t, "after", row["after"], st.after)
			})
		}

		all := admin.Must(t, http.MethodPost, "/api/v1/activity/search?limit=500", map[string]any{}, http.StatusOK)
		for _, s := range secrets {
			if s != "" && strings.Contains(string(all.Raw), s) {
				t.Errorf("the activity log holds a secret %q", s)
			}
		}
		for _, name := range []string{"password_hash", "token_hash", "mfa_secret"} {
			if strings.Contains(string(all.Raw), name) {
				t.Errorf("the activity log names %s", name)
			}
		}
	})
}

func wantValue(t *testing.T, which string, got, want any) {
	t.Helper()
	wantMap, isMap := want.(map[string]any)
	if !isMap {
		if !equalJSON(got, want) {
			t.Errorf("%s = %#v, want %#v", which, got, want)
		}
		return
	}
	gotMap, ok := got.(map[string]any)
	if !ok {
		t.Fatalf("%s = %#v, want an object with %v", which, got, want)
	}
	for k, v := range wantMap {
		if !equalJSON(gotMap[k], v) {
			t.Errorf("%s.%s = %#v, want %#v (in %v)", which, k, gotMap[k], v, gotMap)
		}
	}
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok || bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}
