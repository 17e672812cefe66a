package server_test

// End-to-end tests of the dashboard routes on both surfaces: CRUD, who may
// see and change, another organisation, widget data in one GraphQL request,
// and export → import into another organisation.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestDashboardRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := &querySuite{suite: newSuite(t, env, newCoverage())}
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
		s.admin.As("acme").CreateUser(t, acmeAdminEmail, "admin", acmeAdminPass)
		s.acme = env.Login(acmeAdminEmail, acmeAdminPass)
		// The same alerts in both organisations.
		for _, c := range []*apitest.Client{s.admin, s.acme} {
			key := c.ConnectorKey(t, "relay")
			for i, sev := range []string{"critical", "critical", "high", "low"} {
				env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": fmt.Sprint("NodeDown ", i), "severity": sev, "source": "alertmanager"}, http.StatusAccepted)
			}
		}
		sq := s.rest(t, s.analyst, http.MethodPost, "/api/v1/saved-queries", map[string]any{"name": "Critical", "source": "alerts",
			"query": `severity == "critical"`, "group_by": []string{"severity"}, "visibility": "shared"}, http.StatusCreated).String("id")
		widgets := []map[string]any{
			{"id": "open", "title": "Unassigned", "kind": "metric", "metric": "alerts/unassigned-count", "visualization": "number", "x": 0, "y": 0, "w": 3, "h": 2},
			{"id": "sev", "title": "By severity", "kind": "metric", "metric": "alerts/by-severity", "params": map[string]any{"period": "24h"}, "visualization": "pie", "x": 3, "y": 0, "w": 3, "h": 2},
			{"id": "q", "title": "High", "kind": "query", "query": map[string]any{"source": "alerts", "query": `severity >= "high"`, "group_by": []string{"severity"}}, "visualization": "bar", "x": 6, "y": 0, "w": 6, "h": 2},
			{"id": "saved", "title": "Critical", "kind": "query", "saved_query_id": sq, "visualization": "table", "x": 0, "y": 2, "w": 12, "h": 4},
		}
		var id string
		t.Run("create", func(t *testing.T) {
			res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "SOC", "visibility": "shared", "widgets": widgets}, http.StatusCreated)
			id = res.String("id")
			ws, _ := res.Body["widgets"].([]any)
			if res.String("visibility") != "shared" || len(ws) != 4 || obj(ws[3])["saved_query_id"] != sq || obj(ws[0])["kind"] != "metric" {
				t.Fatalf("create: %s", res.Raw)
			}
			if _, has := obj(ws[0])["data"]; has {
				t.Fatalf("REST bodies leave widget data out: %s", res.Raw)
			}
			bad := slices.Clone(widgets)
			bad[2] = map[string]any{"id": "x", "title": "x", "kind": "metric", "metric": "alerts/nope", "visualization": "bar", "x": 6, "y": 0, "w": 6, "h": 2}
			res = s.analyst.Do(http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "bad", "widgets": bad})
			wantLoc(t, res, "widgets[2]")
			if loc := detailLoc(t, res); !slices.Equal(loc, []string{"body", "widgets[2]", "metric"}) {
				t.Fatalf("loc %v", loc)
			}
			// An sla widget shows the SLA engine's figures.
			slaWidget := map[string]any{"id": "s", "title": "SLA", "kind": "sla", "visualization": "table", "x": 0, "y": 0, "w": 12, "h": 2}
			slaID := s.rest(t, s.analyst, http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "sla", "widgets": []map[string]any{slaWidget}}, http.StatusCreated).String("id")
			sd := s.gql(t, s.analyst, `query($id: ID!) { dashboard(id: $id) { widgets { data } } }`, map[string]any{"id": slaID})
			if rows := dig(obj(dig(sd, "dashboard", "widgets").([]any)[0]), "data", "rows"); rows == nil || len(rows.([]any)) != 10 {
				t.Fatalf("sla widget data: %v", sd)
			}
			s.rest(t, s.analyst, http.MethodDelete, "/api/v1/dashboards/"+slaID, nil, http.StatusNoContent)
			// The provider's roll-up of them: the total and a row per
			// organisation of the tree; any other organisation value is refused.
			slaWidget["params"] = map[string]any{"organization": "all"}
			rollID := s.rest(t, s.analyst, http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "sla", "widgets": []map[string]any{slaWidget}}, http.StatusCreated).String("id")
			rd := s.gql(t, s.analyst, `query($id: ID!) { dashboard(id: $id) { widgets { data } } }`, map[string]any{"id": rollID})
			data := obj(dig(obj(dig(rd, "dashboard", "widgets").([]any)[0]), "data"))
			if orgs, _ := data["organizations"].([]any); len(orgs) == 0 || len(data["total"].([]any)) != 2 {
				t.Fatalf("sla roll-up widget data: %v", rd)
			}
			s.rest(t, s.analyst, http.MethodDelete, "/api/v1/dashboards/"+rollID, nil, http.StatusNoContent)
			slaWidget["params"] = map[string]any{"organization": "acme"}
			wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "sla", "widgets": []map[string]any{slaWidget}}), "widgets[0]")
			wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "overlap", "widgets": []map[string]any{widgets[0], widgets[0]}}), "widgets[1]")
			s.rest(t, s.reader, http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "x"}, http.StatusForbidden)
			g := s.gqlErr(t, s.analyst, `mutation { createDashboard(input: {name: "q", widgets: [{id: "a", title: "a", kind: QUERY, visualization: TABLE, query: {source: "alerts", query: "severity =="}, x: 0, y: 0, w: 1, h: 1}]}) { id } }`, nil, "BAD_USER_INPUT")
			wantField(t, g, "widgets[0].query.query")
		})
		t.Run("read", func(t *testing.T) {
			for _, c := range []*apitest.Client{s.analyst, s.admin, s.reader} {
				s.rest(t, c, http.MethodGet, "/api/v1/dashboards/"+id, nil, http.StatusOK)
				if l := s.rest(t, c, http.MethodGet, "/api/v1/dashboards", nil, http.StatusOK); len(l.Items()) != 1 {
					t.Fatalf("list: %s", l.Raw)
				}
			}
			s.rest(t, s.acme, http.MethodGet, "/api/v1/dashboards/"+id, nil, http.StatusNotFound)
			s.rest(t, s.acme, http.MethodGet, "/api/v1/dashboards/"+id+"/export", nil, http.StatusNotFound)
			if l := s.rest(t, s.acme, http.MethodGet, "/api/v1/dashboards", nil, http.StatusOK); len(l.Items()) != 0 {
				t.Fatalf("another organisation lists %s", l.Raw)
			}
			data := s.gql(t, s.reader, `query($id: ID!) { dashboard(id: $id) { name widgets { id kind data } } }`, map[string]any{"id": id})
			ws := dig(data, "dashboard", "widgets").([]any)
			if len(ws) != 4 || num(obj(obj(ws[0])["data"])["count"]) != 4 || num(obj(obj(ws[1])["data"])["total"]) != 4 ||
				num(obj(obj(ws[2])["data"])["total"]) != 3 || num(obj(obj(ws[3])["data"])["total"]) != 2 {
				t.Fatalf("widget data: %v", data)
			}
		})
		t.Run("edit", func(t *testing.T) {
			s.rest(t, s.admin, http.MethodPatch, "/api/v1/dashboards/"+id, map[string]any{"description": "by the admin"}, http.StatusOK)
			s.rest(t, s.reader, http.MethodPatch, "/api/v1/dashboards/"+id, map[string]any{"name": "x"}, http.StatusForbidden)
			s.rest(t, s.acme, http.MethodPatch, "/api/v1/dashboards/"+id, map[string]any{"name": "x"}, http.StatusNotFound)
			s.rest(t, s.acme, http.MethodDelete, "/api/v1/dashboards/"+id, nil, http.StatusNotFound)
			res := s.rest(t, s.analyst, http.MethodPatch, "/api/v1/dashboards/"+id, map[string]any{"widgets": widgets[:3]}, http.StatusOK)
			if ws, _ := res.Body["widgets"].([]any); len(ws) != 3 || res.String("description") != "by the admin" {
				t.Fatalf("patch: %s", res.Raw)
			}
			s.rest(t, s.analyst, http.MethodPatch, "/api/v1/dashboards/"+id, map[string]any{"widgets": widgets}, http.StatusOK)
		})
		t.Run("export_import", func(t *testing.T) {
			doc := s.rest(t, s.reader, http.MethodGet, "/api/v1/dashboards/"+id+"/export", nil, http.StatusOK)
			if num(doc.Body["version"]) != 1 || len(doc.Body["saved_queries"].([]any)) != 1 {
				t.Fatalf("export: %s", doc.Raw)
			}
			imported := s.rest(t, s.acme, http.MethodPost, "/api/v1/dashboards/import", doc.Raw, http.StatusCreated)
			if imported.String("organization_id") == s.providerOrgID || imported.String("name") != "SOC" {
				t.Fatalf("import: %s", imported.Raw)
			}
			q := `query($id: ID!) { dashboard(id: $id) { widgets { id data } } }`
			here := s.gql(t, s.reader, q, map[string]any{"id": id})
			there := s.gql(t, s.acme, q, map[string]any{"id": imported.String("id")})
			a, _ := json.Marshal(here)
			b, _ := json.Marshal(there)
			if string(a) != string(b) {
				t.Fatalf("the same data gives other figures after import:\n%s\n%s", a, b)
			}
			var bad map[string]any
			_ = json.Unmarshal(doc.Raw, &bad)
			bad["version"] = 7
			wantLoc(t, s.acme.Do(http.MethodPost, "/api/v1/dashboards/import", bad), "version")
			s.rest(t, s.reader, http.MethodPost, "/api/v1/dashboards/import", doc.Raw, http.StatusForbidden)
		})
		t.Run("graphql", func(t *testing.T) {
			vars := map[string]any{"id": id}
			data := s.gql(t, s.analyst, `mutation($id: ID!) { updateDashboard(id: $id, input: {name: "SOC morning"}) { name visibility } }`, vars)
			if digS(data, "updateDashboard", "name") != "SOC morning" || digS(data, "updateDashboard", "visibility") != "SHARED" {
				t.Fatalf("update: %v", data)
			}
			data = s.gql(t, s.reader, `query($id: ID!) { dashboards(first: 5) { totalCount edges { node { id } } } dashboardExport(id: $id) }`, vars)
			if num(dig(data, "dashboards", "totalCount")) != 1 || num(dig(data, "dashboardExport", "version")) != 1 {
				t.Fatalf("list and export: %v", data)
			}
			data = s.gql(t, s.analyst, `mutation($doc: DashboardDocument!) { importDashboard(document: $doc) { id name author { email } } }`, map[string]any{"doc": dig(data, "dashboardExport")})
			copyID := digS(data, "importDashboard", "id")
			if copyID == id || digS(data, "importDashboard", "author", "email") != apitest.AnalystEmail {
				t.Fatalf("import: %v", data)
			}
			// The data of many dashboards at once is refused before it runs.
			g := s.analyst.GraphQL(`{ dashboards(first: 50) { edges { node { widgets { data } } } } }`, nil)
			if len(g.Errors) == 0 || !strings.Contains(g.Errors[0].Message, "complexity") {
				t.Fatalf("50 dashboards' data: %+v", g.Errors)
			}
			s.gql(t, s.analyst, `mutation($id: ID!) { deleteDashboard(id: $id) { deletedID } }`, map[string]any{"id": copyID})
			s.gqlErr(t, s.reader, `mutation($id: ID!) { deleteDashboard(id: $id) { deletedID } }`, vars, "FORBIDDEN")
		})
		t.Run("delete", func(t *testing.T) {
			s.rest(t, s.reader, http.MethodDelete, "/api/v1/dashboards/"+id, nil, http.StatusForbidden)
			s.rest(t, s.analyst, http.MethodDelete, "/api/v1/dashboards/"+id, nil, http.StatusNoContent)
			s.rest(t, s.analyst, http.MethodGet, "/api/v1/dashboards/"+id, nil, http.StatusNotFound)
		})
		t.Run("coverage", s.checkCoverage("dashboards"))
	})
}
