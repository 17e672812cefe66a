package server_test

// The chat part of the cross-organisation table: B's conversations about
// its alerts and incidents can be neither read nor continued from A.

import (
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
)

// setupTenantChat asks the built-in analyst about o's alert.
func setupTenantChat(t *testing.T, s *suite, o *tenantOrg) {
	t.Helper()
	res := s.rest(t, o.Analyst, http.MethodPost, "/api/v1/alerts/"+o.AlertID+"/chat", map[string]any{"message": "what is this?"}, http.StatusCreated)
	o.ChatMessageID = digS(res.Body, "user_message", "id")
}

func chatB(w *tenantWorld) string  { return w.B.ChatMessageID }
func alertA(w *tenantWorld) string { return w.A.AlertID }

// checkChatUntouched: o's conversation still holds its one exchange.
func checkChatUntouched(t *testing.T, s *suite, as *apitest.Client, o *tenantOrg) {
	t.Helper()
	items := s.rest(t, as, http.MethodGet, "/api/v1/alerts/"+o.AlertID+"/chat", nil, http.StatusOK).Items()
	if len(items) != 2 || items[0]["id"] != o.ChatMessageID {
		t.Fatalf("%s chat changed: %v", o.Slug, items)
	}
	if n := len(s.rest(t, as, http.MethodGet, "/api/v1/incidents/"+o.IncidentID+"/chat", nil, http.StatusOK).Items()); n != 0 {
		t.Fatalf("%s incident chat has %d messages", o.Slug, n)
	}
}

const planted = "planted question"

var chatCrossOrgCases = []crossOrgCase{
	{name: "analyst reads B's alert chat", actor: analystA,
		rest: get(p("/api/v1/alerts/%s/chat", alertB)), status: 404,
		gql: op(`query($id: ID!) { alertChatHistory(alertID: $id) { totalCount } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst asks about B's alert", actor: analystA,
		rest: send("POST", p("/api/v1/alerts/%s/chat", alertB), map[string]any{"message": planted}), status: 404,
		gql: op(`mutation($id: ID!) { sendAlertChat(alertID: $id, input: {message: "planted question"}) { reply { id } } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst reads B's incident chat", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/chat", incidentB)), status: 404,
		gql: op(`query($id: ID!) { incidentChatHistory(incidentID: $id) { totalCount } }`, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst asks about B's incident", actor: analystA,
		rest: send("POST", p("/api/v1/incidents/%s/chat", incidentB), map[string]any{"message": planted}), status: 404,
		gql: op(`mutation($id: ID!) { sendIncidentChat(incidentID: $id, input: {message: "planted question"}) { reply { id } } }`, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "admin reads B's alert chat", actor: adminA,
		rest: get(p("/api/v1/alerts/%s/chat", alertB)), status: 404},
	{name: "analyst resolves B's chat message as a node", actor: analystA,
		gql: op(nodeQuery, idVar(chatB)), code: "NOT_FOUND"},
	{name: "provider reads B's alert chat from its own organisation", actor: provider,
		rest: get(p("/api/v1/alerts/%s/chat", alertB)), status: 404,
		gql: op(`query($id: ID!) { alertChatHistory(alertID: $id) { totalCount } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst reads own alert chat", actor: analystA,
		rest: get(p("/api/v1/alerts/%s/chat", alertA)), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			items := res.Items()
			if len(items) != 2 || items[0]["id"] != w.A.ChatMessageID {
				t.Fatalf("own chat %v", items)
			}
			for _, it := range items {
				if it["alert_id"] != w.A.AlertID || it["organization_id"] != w.A.ID {
					t.Fatalf("message of another conversation listed: %v", it)
				}
			}
		},
		gql: op(nodeQuery, idVar(func(w *tenantWorld) string { return w.A.ChatMessageID })),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if dig(data, "node", "__typename") != "ChatMessage" {
				t.Fatalf("own message as a node: %v", data)
			}
		}},
}
