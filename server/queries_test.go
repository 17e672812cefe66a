package server_test

// End-to-end tests of the query language's routes (sources, lookups, the
// runner and saved queries) on both surfaces, with tenancy, roles, errors
// and the alert queue's query filter.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

type querySuite struct {
	*suite
	key      string
	acme     *apitest.Client // the client organisation's admin
	savedID  string
	sharedID string
}

func TestQueryRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := &querySuite{suite: newSuite(t, env, newCoverage())}
		s.key = s.admin.ConnectorKey(t, "Prometheus relay")
		for _, a := range []map[string]any{
			{"title": "NodeDown fw-1", "severity": "critical", "source": "alertmanager", "tags": []string{"prod", "infra"},
				"attributes": map[string]any{"rule": "NodeDown", "host": "fw-1", "src_ip": "203.0.113.9"}},
			{"title": "NodeDown fw-2", "severity": "high", "source": "alertmanager", "tags": []string{"prod"},
				"attributes": map[string]any{"rule": "NodeDown", "host": "fw-2", "src_ip": "203.0.113.10"}},
			{"title": "Port scan", "severity": "low", "source": "suricata", "attributes": map[string]any{"src_ip": "198.51.100.7"}},
			{"title": "Mailbox rule", "severity": "medium", "source": "defender", "tags": []string{"email"}},
		} {
			env.Connector(s.key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", a, http.StatusAccepted)
		}
		// Another organisation with an alert every query here would match.
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
		s.admin.As("acme").CreateUser(t, acmeAdminEmail, "admin", acmeAdminPass)
		s.acme = env.Login(acmeAdminEmail, acmeAdminPass)
		acmeKey := s.acme.ConnectorKey(t, "Acme relay")
		env.Connector(acmeKey).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": "NodeDown acme", "severity": "critical",
			"source": "alertmanager", "tags": []string{"prod"}, "attributes": map[string]any{"rule": "NodeDown", "src_ip": "203.0.113.50"}}, http.StatusAccepted)

		t.Run("sources", s.testSources)
		t.Run("lookups", s.testLookups)
		t.Run("run", s.testRun)
		t.Run("errors", s.testQueryErrors)
		t.Run("saved", s.testSaved)
		t.Run("queue_filter", s.testQueueFilter)
		t.Run("coverage", s.checkCoverage("queries", "saved-queries"))
	})
}

func (s *querySuite) testSources(t *testing.T) {
	res := s.rest(t, s.reader, http.MethodGet, "/api/v1/queries/sources", nil, http.StatusOK)
	raw := res.Items()
	if len(raw) != 3 || raw[0]["name"] != "activity" || raw[1]["name"] != "alerts" {
		t.Fatalf("sources by name: %s", res.Raw)
	}
	alerts := raw[1]
	var names []string
	for _, f := range alerts["fields"].([]any) {
		fo := obj(f)
		names = append(names, fo["name"].(string))
		if fo["description"] == "" || len(fo["operators"].([]any)) == 0 {
			t.Errorf("field without description or operators: %v", fo)
		}
	}
	for _, want := range []string{"severity", "assignee.email", "entities.ip", "attributes", "incident.number", "connector.type"} {
		if !slices.Contains(names, want) {
			t.Errorf("alerts lacks %s: %v", want, names)
		}
	}
	data := s.gql(t, s.reader, `{ querySources { name timeField fields { name type groupable values } } }`, nil)
	if len(data["querySources"].([]any)) != 3 {
		t.Fatalf("GraphQL sources: %v", data)
	}
}

func (s *querySuite) testLookups(t *testing.T) {
	res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/queries/lookups?source=alerts&field=source", nil, http.StatusOK)
	vals := res.Items()
	if len(vals) != 3 || vals[0]["value"] != "alertmanager" || num(vals[0]["count"]) != 2 {
		t.Fatalf("source lookups (the other organisation's alert not counted): %s", res.Raw)
	}
	res = s.rest(t, s.analyst, http.MethodGet, "/api/v1/queries/lookups?source=alerts&field=attributes.rule&prefix=node", nil, http.StatusOK)
	if vals = res.Items(); len(vals) != 1 || vals[0]["value"] != "NodeDown" || num(vals[0]["count"]) != 2 {
		t.Fatalf("attribute lookups: %s", res.Raw)
	}
	data := s.gql(t, s.analyst, `{ queryLookups(source: "alerts", field: "entities.ip", prefix: "203.", limit: 5) { value count } }`, nil)
	if got := anyStrs(data["queryLookups"], "value"); !slices.Equal(got, []string{"203.0.113.10", "203.0.113.9"}) {
		t.Fatalf("entity lookups: %v", data)
	}
	data = s.gql(t, s.analyst, `{ queryLookups(source: "alerts", field: "tags") { value count } }`, nil)
	if got := anyStrs(data["queryLookups"], "value"); !slices.Equal(got, []string{"email", "infra", "prod"}) {
		t.Fatalf("tag lookups: %v", data)
	}
	wantLoc(t, s.analyst.Do(http.MethodGet, "/api/v1/queries/lookups?source=alerts&field=title", nil), "query:field")
	wantLoc(t, s.analyst.Do(http.MethodGet, "/api/v1/queries/lookups?source=alerts&field=source&limit=1000", nil), "query:limit")
}

func (s *querySuite) testRun(t *testing.T) {
	q := `severity >= "high" && entities.ip.exists(i, i.startsWith("203.0.113."))`
	t.Run("rows", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": q,
			"fields": []string{"title", "attributes", "severity"}, "sort": "title", "limit": 1}, http.StatusOK)
		rows := res.Body["rows"].([]any)
		if len(rows) != 1 || obj(rows[0])["title"] != "NodeDown fw-1" || res.Body["has_next_page"] != true {
			t.Fatalf("first page: %s", res.Raw)
		}
		if dig(rows[0], "attributes", "rule") != "NodeDown" || obj(rows[0])["id"] == "" {
			t.Fatalf("row fields: %s", res.Raw)
		}
		next := s.rest(t, s.analyst, http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": q,
			"fields": []string{"title"}, "sort": "title", "limit": 1, "cursor": res.String("next_cursor")}, http.StatusOK)
		rows = next.Body["rows"].([]any)
		if len(rows) != 1 || obj(rows[0])["title"] != "NodeDown fw-2" || next.Body["has_next_page"] != false {
			t.Fatalf("second page: %s", next.Raw)
		}
	})
	t.Run("grouped", func(t *testing.T) {
		data := s.gql(t, s.analyst, `{ runQuery(source: "alerts", query: "severity >= \"high\" && entities.ip.exists(i, i.startsWith(\"203.0.113.\"))", groupBy: ["source"]) { total groups { key count other } } }`, nil)
		groups := dig(data, "runQuery", "groups").([]any)
		if len(groups) != 1 || obj(groups[0])["count"] != float64(2) || obj(groups[0])["key"].([]any)[0] != "alertmanager" {
			t.Fatalf("groups: %v", data)
		}
		res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "",
			"group_by": []string{"severity"}, "top": 2}, http.StatusOK)
		g := res.Body["groups"].([]any)
		if len(g) != 3 || obj(g[2])["other"] != true || num(obj(g[2])["count"]) != 2 || num(res.Body["total"]) != 4 {
			t.Fatalf("top 2 and other: %s", res.Raw)
		}
	})
	t.Run("series", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": `status == "new"`,
			"interval": "1h", "group_by": []string{"severity"}}, http.StatusOK)
		series, _ := res.Body["series"].([]any)
		if len(series) < 24 || len(series) > 25 || num(res.Body["total"]) != 4 || res.String("time_zone") != "UTC" {
			t.Fatalf("series of a day by hour: %d buckets: %s", len(series), res.Raw)
		}
		if len(series) == 0 {
			t.Fatalf("no series: %s", res.Raw)
		}
		last := obj(series[len(series)-1])
		if gs, _ := last["groups"].([]any); num(last["count"]) != 4 || len(gs) != 4 {
			t.Fatalf("the last hour holds the alerts, by severity: %v", last)
		}
	})
	t.Run("tenancy", func(t *testing.T) {
		res := s.rest(t, s.acme, http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": `true || source == "suricata"`}, http.StatusOK)
		if rows := res.Body["rows"].([]any); len(rows) != 1 || obj(rows[0])["title"] != "NodeDown acme" {
			t.Fatalf("acme sees: %s", res.Raw)
		}
		s.rest(t, s.env.Anonymous(), http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "true"}, http.StatusUnauthorized)
		s.rest(t, withAuth(s.env, "Bearer sqs_wrong"), http.MethodGet, "/api/v1/queries/sources", nil, http.StatusUnauthorized)
	})
}

func (s *querySuite) testQueryErrors(t *testing.T) {
	res := s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "status == \"new\" &&\n sevrity == \"high\""})
	wantLoc(t, res, "query")
	if !strings.Contains(string(res.Raw), "line 2, column 2") || !strings.Contains(string(res.Raw), `"suggestion":"severity"`) {
		t.Fatalf("position and suggestion: %s", res.Raw)
	}
	wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "tickets", "query": "true"}), "source")
	wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "true", "interval": "2h"}), "interval")
	wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "true", "group_by": []string{"title"}}), "group_by")
	wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "true", "sort": "tags"}), "sort")
	wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "true", "cursor": "junk"}), "cursor")
	big := s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": strings.Repeat(`title == "a" || `, 300) + "true"})
	wantLoc(t, big, "query")
	if big.Body["code"] != "QUERY_TOO_EXPENSIVE" {
		t.Fatalf("oversized query: %d %s", big.Status, big.Raw)
	}
	buckets := s.analyst.Do(http.MethodPost, "/api/v1/queries/run", map[string]any{"source": "alerts", "query": "true", "interval": "1m", "since": "2020-01-01T00:00:00Z"})
	wantLoc(t, buckets, "interval")
	if buckets.Body["code"] != "QUERY_TOO_EXPENSIVE" {
		t.Fatalf("too many buckets: %d %s", buckets.Status, buckets.Raw)
	}
	g := s.gqlErr(t, s.analyst, `{ runQuery(source: "alerts", query: "severity >= \"hgh\"") { total } }`, nil, "BAD_USER_INPUT")
	wantField(t, g, "query")
	if g.Errors[0].Extensions["suggestion"] != "high" || g.Errors[0].Extensions["line"] != float64(1) {
		t.Fatalf("GraphQL error extensions: %+v", g.Errors)
	}
}

func (s *querySuite) testSaved(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/saved-queries", map[string]any{"name": "Prod outages", "source": "alerts",
			"query": `"prod" in tags && attributes.rule == "NodeDown"`, "group_by": []string{"severity"}}, http.StatusCreated)
		s.savedID = res.String("id")
		if res.String("visibility") != "private" || res.String("author_id") == "" {
			t.Fatalf("create: %s", res.Raw)
		}
		data := s.gql(t, s.analyst, `mutation { createSavedQuery(input: {name: "High by source", source: "alerts", query: "severity >= \"high\"", visibility: SHARED}) { id visibility } }`, nil)
		s.sharedID = digS(data, "createSavedQuery", "id")
		wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/saved-queries", map[string]any{"name": "bad", "source": "alerts", "query": "severity =="}), "query")
		wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/saved-queries", map[string]any{"name": " ", "source": "alerts", "query": "true"}), "name")
		s.rest(t, s.reader, http.MethodPost, "/api/v1/saved-queries", map[string]any{"name": "x", "source": "alerts", "query": "true"}, http.StatusForbidden)
	})
	t.Run("read", func(t *testing.T) {
		list := s.rest(t, s.analyst, http.MethodGet, "/api/v1/saved-queries", nil, http.StatusOK)
		if got := strs(list.Items(), "name"); !slices.Equal(got, []string{"High by source", "Prod outages"}) {
			t.Fatalf("author's list: %s", list.Raw)
		}
		// The private query is the author's alone; the shared one is everyone's.
		list = s.rest(t, s.admin, http.MethodGet, "/api/v1/saved-queries", nil, http.StatusOK)
		if got := strs(list.Items(), "name"); !slices.Equal(got, []string{"High by source"}) {
			t.Fatalf("admin's list: %s", list.Raw)
		}
		s.rest(t, s.admin, http.MethodGet, "/api/v1/saved-queries/"+s.savedID, nil, http.StatusNotFound)
		s.rest(t, s.acme, http.MethodGet, "/api/v1/saved-queries/"+s.sharedID, nil, http.StatusNotFound)
		s.rest(t, s.reader, http.MethodGet, "/api/v1/saved-queries/"+s.sharedID, nil, http.StatusOK)
		data := s.gql(t, s.analyst, `query($id: ID!) { savedQuery(id: $id) { name groupBy author { email } } savedQueries(first: 10) { totalCount } }`, map[string]any{"id": s.savedID})
		if digS(data, "savedQuery", "author", "email") != apitest.AnalystEmail || dig(data, "savedQueries", "totalCount") != float64(2) {
			t.Fatalf("GraphQL read: %v", data)
		}
	})
	t.Run("run", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/saved-queries/"+s.savedID+"/run", map[string]any{}, http.StatusOK)
		if g := res.Body["groups"].([]any); len(g) != 2 || num(res.Body["total"]) != 2 {
			t.Fatalf("saved run groups by severity: %s", res.Raw)
		}
		data := s.gql(t, s.reader, `query($id: ID!) { runSavedQuery(id: $id, input: {limit: 1}) { rows hasNextPage } }`, map[string]any{"id": s.sharedID})
		if rows := dig(data, "runSavedQuery", "rows").([]any); len(rows) != 1 || dig(data, "runSavedQuery", "hasNextPage") != true {
			t.Fatalf("shared run: %v", data)
		}
		s.rest(t, s.acme, http.MethodPost, "/api/v1/saved-queries/"+s.sharedID+"/run", map[string]any{}, http.StatusNotFound)
	})
	t.Run("update", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodPatch, "/api/v1/saved-queries/"+s.savedID, map[string]any{"group_by": []string{}, "query": `"prod" in tags`}, http.StatusOK)
		if res.Body["group_by"] != nil && len(res.Body["group_by"].([]any)) != 0 {
			t.Fatalf("group_by cleared: %s", res.Raw)
		}
		wantLoc(t, s.analyst.Do(http.MethodPatch, "/api/v1/saved-queries/"+s.savedID, map[string]any{"query": "prod in"}), "query")
		// A shared query: its author and an admin may change it, another analyst may not.
		other, _ := s.env.NewUser(t, s.admin, "other@provider.test", "analyst")
		s.rest(t, other, http.MethodPatch, "/api/v1/saved-queries/"+s.sharedID, map[string]any{"name": "mine"}, http.StatusForbidden)
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/saved-queries/"+s.sharedID, map[string]any{"description": "for the morning review"}, http.StatusOK)
		s.gql(t, s.analyst, `mutation($id: ID!) { updateSavedQuery(id: $id, input: {name: "High alerts"}) { name } }`, map[string]any{"id": s.sharedID})
		s.rest(t, s.acme, http.MethodPatch, "/api/v1/saved-queries/"+s.sharedID, map[string]any{"name": "x"}, http.StatusNotFound)
		act := s.rest(t, s.admin, http.MethodPost, "/api/v1/activity/search", map[string]any{"entity_type": "saved_query"}, http.StatusOK)
		if len(act.Items()) < 4 {
			t.Fatalf("activity records saved-query changes: %s", act.Raw)
		}
	})
	t.Run("delete", func(t *testing.T) {
		s.rest(t, s.acme, http.MethodDelete, "/api/v1/saved-queries/"+s.savedID, nil, http.StatusNotFound)
		s.rest(t, s.analyst, http.MethodDelete, "/api/v1/saved-queries/"+s.savedID, nil, http.StatusNoContent)
		s.gql(t, s.admin, `mutation($id: ID!) { deleteSavedQuery(id: $id) { deletedID } }`, map[string]any{"id": s.sharedID})
		s.rest(t, s.analyst, http.MethodGet, "/api/v1/saved-queries/"+s.sharedID, nil, http.StatusNotFound)
	})
}

func (s *querySuite) testQueueFilter(t *testing.T) {
	q := `severity >= "high" && entities.ip.exists(i, i.startsWith("203.0.113."))`
	res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alerts?status=new&query="+url.QueryEscape(q), nil, http.StatusOK)
	if got := strs(res.Items(), "title"); !slices.Equal(got, []string{"NodeDown fw-1", "NodeDown fw-2"}) {
		t.Fatalf("queue with query: %s", res.Raw)
	}
	data := s.gql(t, s.analyst, `{ alerts(filter: {query: "attributes.rule == \"NodeDown\"", severity: [CRITICAL]}) { totalCount edges { node { title attributes } } } }`, nil)
	if n := nodes(data["alerts"]); len(n) != 1 || n[0]["title"] != "NodeDown fw-1" || dig(n[0], "attributes", "host") != "fw-1" {
		t.Fatalf("GraphQL queue with query: %v", data)
	}
	// The queue's text search finds the rule name.
	res = s.rest(t, s.analyst, http.MethodGet, "/api/v1/alerts?q=nodedown", nil, http.StatusOK)
	if len(res.Items()) != 2 {
		t.Fatalf("q covers the rule: %s", res.Raw)
	}
	wantLoc(t, s.analyst.Do(http.MethodGet, "/api/v1/alerts?query="+url.QueryEscape("severity >"), nil), "query:query")
	// A saved view holds the same text.
	view := s.analyst.Must(t, http.MethodPost, "/api/v1/alert-views", map[string]any{"name": "Outages", "filters": map[string]any{"query": `attributes.rule == "NodeDown"`}}, http.StatusCreated)
	if dig(view.Body, "filters", "query") != `attributes.rule == "NodeDown"` {
		t.Fatalf("view keeps its query: %s", view.Raw)
	}
	wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/alert-views", map[string]any{"name": "Broken", "filters": map[string]any{"query": "rule =="}}), "query")
}
