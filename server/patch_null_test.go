package server_test

// A patch field left out keeps its value; one given as null clears it, on
// both surfaces (assignee, group and disposition are such fields).

import (
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestPatchNullVersusAbsent(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := &suite{env: env, admin: env.Admin()}
		s.adminID = s.rest(t, s.admin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK).String("id")
		key := s.admin.ConnectorKey(t, "patches")
		s.rest(t, env.Connector(key), http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": "probe", "severity": "low"}, http.StatusAccepted)
		alertID := strs(s.rest(t, s.admin, http.MethodGet, "/api/v1/alerts", nil, http.StatusOK).Items(), "id")[0]

		t.Run("alert", func(t *testing.T) {
			path := "/api/v1/alerts/" + alertID
			s.rest(t, s.admin, http.MethodPatch, path, map[string]any{"assignee_id": s.adminID}, http.StatusOK)
			if res := s.rest(t, s.admin, http.MethodPatch, path, map[string]any{"severity": "high"}, http.StatusOK); res.String("assignee_id") != s.adminID {
				t.Fatalf("REST patch without assignee_id changed it: %s", res.Raw)
			}
			if res := s.rest(t, s.admin, http.MethodPatch, path, map[string]any{"assignee_id": nil}, http.StatusOK); res.Body["assignee_id"] != nil {
				t.Fatalf("REST assignee_id null did not unassign: %s", res.Raw)
			}
			update := `mutation($id: ID!, $in: UpdateAlertInput!) { updateAlert(id: $id, input: $in) { assigneeID } }`
			s.gql(t, s.admin, update, map[string]any{"id": alertID, "in": map[string]any{"assigneeID": s.adminID}})
			if g := s.gql(t, s.admin, update, map[string]any{"id": alertID, "in": map[string]any{"severity": "MEDIUM"}}); dig(g, "updateAlert", "assigneeID") != s.adminID {
				t.Fatalf("GraphQL input without assigneeID changed it: %v", g)
			}
			if g := s.gql(t, s.admin, `mutation($id: ID!) { updateAlert(id: $id, input: {assigneeID: null}) { assigneeID } }`, map[string]any{"id": alertID}); dig(g, "updateAlert", "assigneeID") != nil {
				t.Fatalf("GraphQL assigneeID: null did not unassign: %v", g)
			}
		})

		t.Run("bulk", func(t *testing.T) {
			s.rest(t, s.admin, http.MethodPatch, "/api/v1/alerts/"+alertID, map[string]any{"assignee_id": s.adminID}, http.StatusOK)
			wantLoc(t, s.rest(t, s.admin, http.MethodPost, "/api/v1/alerts/bulk",
				map[string]any{"alert_ids": []string{alertID}, "action": "assign", "changes": map[string]any{}}, http.StatusUnprocessableEntity), "assignee_id")
			res := s.rest(t, s.admin, http.MethodPost, "/api/v1/alerts/bulk",
				map[string]any{"alert_ids": []string{alertID}, "action": "assign", "changes": map[string]any{"assignee_id": nil}}, http.StatusOK)
			if num(res.Body["updated"]) != 1 {
				t.Fatalf("bulk unassign: %s", res.Raw)
			}
		})

		t.Run("incident", func(t *testing.T) {
			groupID := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups", map[string]any{"name": "Responders"}, http.StatusCreated).String("id")
			inc := s.rest(t, s.admin, http.MethodPost, "/api/v1/incidents",
				map[string]any{"title": "Probe", "assignee_id": s.adminID, "group_id": groupID}, http.StatusCreated)
			path := "/api/v1/incidents/" + inc.String("id")
			res := s.rest(t, s.admin, http.MethodPatch, path, map[string]any{"title": "Probe, renamed"}, http.StatusOK)
			if res.String("assignee_id") != s.adminID || res.String("group_id") != groupID {
				t.Fatalf("REST patch without assignee_id or group_id changed them: %s", res.Raw)
			}
			res = s.rest(t, s.admin, http.MethodPatch, path, map[string]any{"group_id": nil}, http.StatusOK)
			if res.Body["group_id"] != nil || res.String("assignee_id") != s.adminID {
				t.Fatalf("REST group_id null: %s", res.Raw)
			}
			g := s.gql(t, s.admin, `mutation($id: ID!) { updateIncident(id: $id, input: {assigneeID: null}) { assigneeID groupID } }`, map[string]any{"id": inc.String("id")})
			if dig(g, "updateIncident", "assigneeID") != nil || dig(g, "updateIncident", "groupID") != nil {
				t.Fatalf("GraphQL assigneeID: null: %v", g)
			}
		})
	})
}
