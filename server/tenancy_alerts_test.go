package server_test

// The alert part of the cross-organisation table: connectors, alerts, notes,
// activity, bulk actions and views of B are out of A's reach.

import (
	"net/http"
	"slices"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
)

// setupTenantAlerts gives o a connector, one ingested alert with a note, and
// a shared view.
func setupTenantAlerts(t *testing.T, s *suite, env *apitest.Env, o *tenantOrg) {
	t.Helper()
	conn := s.rest(t, o.Admin, http.MethodPost, "/api/v1/connectors", map[string]any{"name": o.Name + " EDR", "type": "generic"}, http.StatusCreated)
	o.ConnectorID, o.Key = conn.String("id"), conn.String("api_key")
	ing := s.rest(t, env.Connector(o.Key), http.MethodPost, "/api/v1/alerts/ingest",
		map[string]any{"title": "Beacon from " + o.Slug, "severity": "high", "tags": []string{o.Slug}}, http.StatusAccepted)
	o.AlertID = digS(ing.Body["results"].([]any)[0], "id")
	s.rest(t, o.Analyst, http.MethodPost, "/api/v1/alerts/"+o.AlertID+"/notes", map[string]any{"body": "first look"}, http.StatusCreated)
	o.ViewID = s.rest(t, o.Admin, http.MethodPost, "/api/v1/alert-views", map[string]any{"name": "Shared " + o.Slug, "shared": true}, http.StatusCreated).String("id")
}

func alertB(w *tenantWorld) string     { return w.B.AlertID }
func connectorB(w *tenantWorld) string { return w.B.ConnectorID }
func viewB(w *tenantWorld) string      { return w.B.ViewID }

// onlyAlertOf checks a REST alert list holds exactly org's alert.
func onlyAlertOf(t *testing.T, w *tenantWorld, res *apitest.Response) {
	if got := strs(res.Items(), "id"); !slices.Equal(got, []string{w.A.AlertID}) || num(res.Body["total"]) != 1 {
		t.Fatalf("alerts %v, want only A's %s: %s", got, w.A.AlertID, res.Raw)
	}
}

var alertCrossOrgCases = []crossOrgCase{
	// --- alerts
	{name: "analyst reads B's alert", actor: analystA,
		rest: get(p("/api/v1/alerts/%s", alertB)), status: 404,
		gql: op(`query($id: ID!) { alert(id: $id) { id } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst resolves B's alert", actor: analystA,
		rest: send("PATCH", p("/api/v1/alerts/%s", alertB), map[string]any{"status": "resolved"}), status: 404,
		gql: op(`mutation($id: ID!) { updateAlert(id: $id, input: {status: RESOLVED}) { id } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst reads B's alert notes", actor: analystA,
		rest: get(p("/api/v1/alerts/%s/notes", alertB)), status: 404,
		gql: op(`query($id: ID!) { alertNotes(alertID: $id) { totalCount } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst notes on B's alert", actor: analystA,
		rest: send("POST", p("/api/v1/alerts/%s/notes", alertB), map[string]any{"body": "planted"}), status: 404,
		gql: op(`mutation($id: ID!) { addAlertNote(alertID: $id, input: {body: "planted"}) { id } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst reads B's alert activity", actor: analystA,
		rest: get(p("/api/v1/alerts/%s/activity", alertB)), status: 404,
		gql: op(`query($id: ID!) { alertActivity(alertID: $id) { totalCount } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst lists only own alerts", actor: analystA,
		rest: get(lit("/api/v1/alerts")), status: 200, checkREST: onlyAlertOf,
		gql: op(`{ alerts { totalCount edges { node { id } } } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if got := strs(nodes(data["alerts"]), "id"); !slices.Equal(got, []string{w.A.AlertID}) {
				t.Fatalf("GraphQL alerts %v", got)
			}
		}},
	{name: "analyst filters for B's tag", actor: analystA,
		rest: get(p("/api/v1/alerts?tag=%s", slugB)), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if len(res.Items()) != 0 || num(res.Body["total"]) != 0 {
				t.Fatalf("B's alert through a filter: %s", res.Raw)
			}
		}},
	{name: "analyst counts only own facets", actor: analystA,
		rest: get(lit("/api/v1/alerts/facets")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			tags := res.Body["tags"].([]any)
			if len(tags) != 1 || digS(tags[0], "value") != w.A.Slug || num(obj(tags[0])["count"]) != 1 {
				t.Fatalf("facets leak: %s", res.Raw)
			}
		},
		gql: op(`{ alertFacets { tags { value count } } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if tags := dig(data, "alertFacets", "tags").([]any); len(tags) != 1 || digS(tags[0], "value") != w.A.Slug {
				t.Fatalf("GraphQL facets leak: %v", data)
			}
		}},
	{name: "analyst bulk-closes B's alert by id", actor: analystA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "POST", "/api/v1/alerts/bulk", map[string]any{"alert_ids": []string{w.B.AlertID}, "action": "close", "changes": map[string]any{"disposition": "benign"}}
		}, status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if num(res.Body["matched"]) != 0 || num(res.Body["updated"]) != 0 {
				t.Fatalf("bulk reached B: %s", res.Raw)
			}
		},
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($ids: [ID!]) { bulkAlerts(input: {alertIDs: $ids, action: ASSIGN, changes: {assigneeID: null}}) { matched } }`, map[string]any{"ids": []string{w.B.AlertID}}
		},
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if dig(data, "bulkAlerts", "matched") != float64(0) {
				t.Fatalf("GraphQL bulk reached B: %v", data)
			}
		}},
	{name: "analyst bulk-closes B's alerts by filter", actor: analystA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "POST", "/api/v1/alerts/bulk", map[string]any{"filter": map[string]any{"tag": []string{w.B.Slug}}, "action": "close", "changes": map[string]any{"disposition": "benign"}}
		}, status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if num(res.Body["matched"]) != 0 {
				t.Fatalf("bulk by filter reached B: %s", res.Raw)
			}
		}},
	{name: "analyst searches only own activity", actor: analystA,
		rest: send("POST", lit("/api/v1/activity/search?limit=500"), map[string]any{}), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			for _, it := range res.Items() {
				if it["entity_id"] == w.B.AlertID || it["entity_id"] == w.B.ConnectorID || it["organization_id"] != w.A.ID {
					t.Fatalf("B's activity listed: %v", it)
				}
			}
		},
		gql: op(`{ searchActivity(first: 500) { edges { node { organizationID } } } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			for _, n := range nodes(data["searchActivity"]) {
				if n["organizationID"] != w.A.ID {
					t.Fatalf("B's activity listed: %v", n)
				}
			}
		}},

	// --- connectors
	{name: "admin reads B's connector", actor: adminA,
		rest: get(p("/api/v1/connectors/%s", connectorB)), status: 404,
		gql: op(`query($id: ID!) { connector(id: $id) { id } }`, idVar(connectorB)), code: "NOT_FOUND"},
	{name: "admin disables B's connector", actor: adminA,
		rest: send("PATCH", p("/api/v1/connectors/%s", connectorB), map[string]any{"enabled": false}), status: 404,
		gql: op(`mutation($id: ID!) { updateConnector(id: $id, input: {enabled: false}) { id } }`, idVar(connectorB)), code: "NOT_FOUND"},
	{name: "admin rotates B's connector key", actor: adminA,
		rest: send("POST", p("/api/v1/connectors/%s/rotate-key", connectorB), nil), status: 404,
		gql: op(`mutation($id: ID!) { rotateConnectorKey(id: $id) { apiKey } }`, idVar(connectorB)), code: "NOT_FOUND"},
	{name: "admin reads B's dead letters", actor: adminA,
		rest: get(p("/api/v1/connectors/%s/dead-letters", connectorB)), status: 404,
		gql: op(`query($id: ID!) { deadLetters(connectorID: $id) { totalCount } }`, idVar(connectorB)), code: "NOT_FOUND"},
	{name: "admin deletes B's connector", actor: adminA,
		rest: send("DELETE", p("/api/v1/connectors/%s", connectorB), nil), status: 404,
		gql: op(`mutation($id: ID!) { deleteConnector(id: $id) { deletedID } }`, idVar(connectorB)), code: "NOT_FOUND"},
	{name: "analyst lists only own connectors", actor: analystA,
		rest: get(lit("/api/v1/connectors")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if got := strs(res.Items(), "id"); !slices.Equal(got, []string{w.A.ConnectorID}) {
				t.Fatalf("connectors %v", got)
			}
		}},
	{name: "analyst creates a connector", actor: analystA,
		rest: send("POST", lit("/api/v1/connectors"), map[string]any{"name": "rogue", "type": "generic"}), status: 403,
		gql: op(`mutation { createConnector(input: {name: "rogue", type: "generic"}) { apiKey } }`, nil), code: "FORBIDDEN"},

	// --- views
	{name: "analyst renames B's shared view", actor: analystA,
		rest: send("PATCH", p("/api/v1/alert-views/%s", viewB), map[string]any{"name": "pwned"}), status: 404,
		gql: op(`mutation($id: ID!) { updateAlertView(id: $id, input: {name: "pwned"}) { id } }`, idVar(viewB)), code: "NOT_FOUND"},
	{name: "admin deletes B's shared view", actor: adminA,
		rest: send("DELETE", p("/api/v1/alert-views/%s", viewB), nil), status: 404,
		gql: op(`mutation($id: ID!) { deleteAlertView(id: $id) { deletedID } }`, idVar(viewB)), code: "NOT_FOUND"},
	{name: "analyst hides B's shared view", actor: analystA,
		rest: send("POST", p("/api/v1/alert-views/%s/hide", viewB), nil), status: 404,
		gql: op(`mutation($id: ID!) { hideAlertView(id: $id) { id } }`, idVar(viewB)), code: "NOT_FOUND"},
	{name: "analyst unhides B's shared view", actor: analystA,
		rest: send("DELETE", p("/api/v1/alert-views/%s/hide", viewB), nil), status: 404,
		gql: op(`mutation($id: ID!) { unhideAlertView(id: $id) { id } }`, idVar(viewB)), code: "NOT_FOUND"},
	{name: "analyst facets B's connector", actor: analystA,
		rest: get(p("/api/v1/alerts/facets?connector_id=%s", connectorB)), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if st := res.Body["status"].([]any); len(st) != 0 {
				t.Fatalf("facets counted B's alerts: %s", res.Raw)
			}
		}},
	{name: "analyst makes B's view the default", actor: analystA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "PUT", "/api/v1/alert-views/me/default", map[string]any{"view_id": w.B.ViewID}
		}, status: 404,
		gql: op(`mutation($id: ID) { setDefaultAlertView(viewID: $id) { id } }`, idVar(viewB)), code: "NOT_FOUND"},
	{name: "analyst lists only own views", actor: analystA,
		rest: get(lit("/api/v1/alert-views")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if got := strs(res.Items(), "id"); !slices.Equal(got, []string{w.A.ViewID}) {
				t.Fatalf("views %v", got)
			}
		}},

	// --- the provider
	{name: "provider admin triages A's alert", actor: in(provider, slugA),
		rest: get(p("/api/v1/alerts/%s", func(w *tenantWorld) string { return w.A.AlertID })), status: 200,
		gql: op(`{ alerts { totalCount } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if dig(data, "alerts", "totalCount") != float64(1) {
				t.Fatalf("provider in A: %v", data)
			}
		}},
	{name: "provider admin at home does not see A's alerts", actor: provider,
		rest: get(p("/api/v1/alerts/%s", func(w *tenantWorld) string { return w.A.AlertID })), status: 404},
}

// checkAlertsUntouched proves o's alert, note, connector and view are as
// set up, and its key still authenticates.
func checkAlertsUntouched(t *testing.T, s *suite, w *tenantWorld, o *tenantOrg) {
	t.Helper()
	as := w.Provider.As(o.Slug)
	a := s.rest(t, as, http.MethodGet, "/api/v1/alerts/"+o.AlertID, nil, http.StatusOK)
	if a.String("status") != "new" || num(a.Body["occurrences"]) != 1 || a.Body["assignee_id"] != nil || a.String("title") != "Beacon from "+o.Slug {
		t.Fatalf("%s alert changed: %s", o.Slug, a.Raw)
	}
	if notes := s.rest(t, as, http.MethodGet, "/api/v1/alerts/"+o.AlertID+"/notes", nil, http.StatusOK); len(notes.Items()) != 1 {
		t.Fatalf("%s notes changed: %s", o.Slug, notes.Raw)
	}
	c := s.rest(t, as, http.MethodGet, "/api/v1/connectors/"+o.ConnectorID, nil, http.StatusOK)
	if c.Body["enabled"] != true || c.String("name") != o.Name+" EDR" {
		t.Fatalf("%s connector changed: %s", o.Slug, c.Raw)
	}
	// A payload without a title is refused after the key is accepted: the
	// key still works and nothing is written.
	s.rest(t, w.env.Connector(o.Key), http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"severity": "low"}, http.StatusUnprocessableEntity)
	views := s.rest(t, as, http.MethodGet, "/api/v1/alert-views", nil, http.StatusOK)
	if got := strs(views.Items(), "name"); !slices.Equal(got, []string{"Shared " + o.Slug}) {
		t.Fatalf("%s views changed: %v", o.Slug, got)
	}
}
