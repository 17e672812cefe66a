package server_test

// End-to-end tests of the alert routes (connectors, ingest, the triage
// queue, notes, activity, bulk actions and saved views) on both surfaces.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// alertSuite is a server with a generic connector and a few alerts.
type alertSuite struct {
	*suite
	connID, key string
}

func TestAlertRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := &alertSuite{suite: newSuite(t, env, newCoverage())}

		t.Run("catalogue", s.testCatalogue)
		t.Run("connectors", s.testConnectors)
		t.Run("ingest", s.testIngest)
		t.Run("queue", s.testQueue)
		t.Run("patch", s.testPatchAlert)
		t.Run("notes_and_activity", s.testNotesAndActivity)
		t.Run("bulk", s.testBulk)
		t.Run("views", s.testViews)
		t.Run("coverage", s.checkCoverage("alerts", "alert-views", "connectors", "activity"))
	})
}

func (s *alertSuite) testCatalogue(t *testing.T) {
	res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/connectors/catalogue", nil, http.StatusOK)
	keys := strs(res.Items(), "key")
	for _, want := range []string{"generic", "ocsf", "crowdstrike", "sentinelone", "defender", "splunk", "elastic", "wazuh", "suricata", "alertmanager", "email"} {
		if !slices.Contains(keys, want) {
			t.Errorf("catalogue lacks %s: %v", want, keys)
		}
	}
	for _, it := range res.Items() {
		if it["severity_scale"] == "" || len(it["dedup_fields"].([]any)) == 0 || len(it["mapping"].([]any)) == 0 || obj(it["settings_schema"])["type"] != "object" {
			t.Errorf("catalogue entry incomplete: %v", it)
		}
		if modes := it["modes"].([]any); len(modes) == 0 || (modes[0] != "push" && modes[0] != "pull") {
			t.Errorf("modes not in REST spelling: %v", it["modes"])
		}
	}
	data := s.gql(t, s.analyst, `{ connectorCatalogue { key modes settingsSchema mapping { target source } } }`, nil)
	if n := len(data["connectorCatalogue"].([]any)); n != len(keys) {
		t.Fatalf("GraphQL catalogue has %d types, REST %d", n, len(keys))
	}
}

func (s *alertSuite) testConnectors(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors", map[string]any{"name": "Okta script", "type": "generic"}, http.StatusCreated)
		s.connID, s.key = res.String("id"), res.String("api_key")
		if !strings.HasPrefix(s.key, "sqk_") || res.String("type") != "generic" || res.String("mode") != "push" || res.Body["enabled"] != true {
			t.Fatalf("create: %s", res.Raw)
		}
		if _, leaked := res.Body["key_hash"]; leaked || !strings.HasPrefix(s.key, res.String("key_prefix")) {
			t.Fatalf("key handling: %s", res.Raw)
		}
		g := s.gql(t, s.admin, `mutation { createConnector(input: {name: "Wazuh", type: "wazuh", dedupWindowSeconds: 60}) { apiKey connector { id type dedupWindowSeconds } } }`, nil)
		if !strings.HasPrefix(digS(g, "createConnector", "apiKey"), "sqk_") || dig(g, "createConnector", "connector", "dedupWindowSeconds") != float64(60) {
			t.Fatalf("GraphQL create: %v", g)
		}
	})
	t.Run("create invalid", func(t *testing.T) {
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "x", "type": "nope"}, "type"},
			{map[string]any{"name": "", "type": "generic"}, "name"},
			{map[string]any{"name": "x", "type": "generic", "dedup_window_seconds": 0}, "dedup_window_seconds"},
			{map[string]any{"name": "x", "type": "generic", "mode": "sideways"}, "mode"},
		} {
			wantLoc(t, s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors", tc.body, http.StatusUnprocessableEntity), tc.field)
		}
		s.rest(t, s.analyst, http.MethodPost, "/api/v1/connectors", map[string]any{"name": "x", "type": "generic"}, http.StatusForbidden)
		s.gqlErr(t, s.analyst, `mutation { createConnector(input: {name: "x", type: "generic"}) { apiKey } }`, nil, "FORBIDDEN")
	})
	t.Run("list and get", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/connectors?sort=name", nil, http.StatusOK)
		if got := strs(res.Items(), "name"); !slices.Equal(got, []string{"Okta script", "Wazuh"}) || num(res.Body["total"]) != 2 {
			t.Fatalf("list: %s", res.Raw)
		}
		s.gql(t, s.analyst, `{ connectors(orderBy: {field: NAME, direction: ASC}) { totalCount edges { node { id name } } } }`, nil)
		one := s.rest(t, s.analyst, http.MethodGet, "/api/v1/connectors/"+s.connID, nil, http.StatusOK)
		if one.String("name") != "Okta script" {
			t.Fatalf("get: %s", one.Raw)
		}
		s.gql(t, s.analyst, `query($id: ID!) { connector(id: $id) { id settings } }`, map[string]any{"id": s.connID})
		s.rest(t, s.analyst, http.MethodGet, "/api/v1/connectors/"+fakeID, nil, http.StatusNotFound)
	})
	t.Run("patch", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/connectors/"+s.connID, map[string]any{"name": "Okta", "rate_limit_per_minute": 1000}, http.StatusOK)
		if res.String("name") != "Okta" || num(res.Body["rate_limit_per_minute"]) != 1000 {
			t.Fatalf("patch: %s", res.Raw)
		}
		s.gql(t, s.admin, `mutation($id: ID!) { updateConnector(id: $id, input: {enabled: true}) { id enabled } }`, map[string]any{"id": s.connID})
		s.rest(t, s.analyst, http.MethodPatch, "/api/v1/connectors/"+s.connID, map[string]any{"name": "x"}, http.StatusForbidden)
	})
	t.Run("poll a push connector", func(t *testing.T) {
		wantLoc(t, s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors/"+s.connID+"/poll", nil, http.StatusUnprocessableEntity), "mode")
		s.rest(t, s.analyst, http.MethodPost, "/api/v1/connectors/"+s.connID+"/poll", nil, http.StatusForbidden)
		s.gqlErr(t, s.admin, `mutation($id: ID!) { pollConnector(id: $id) { id } }`, map[string]any{"id": s.connID}, "BAD_USER_INPUT")
	})
	t.Run("rotate key", func(t *testing.T) {
		old := s.key
		res := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors/"+s.connID+"/rotate-key", nil, http.StatusOK)
		s.key = res.String("api_key")
		if s.key == old || !strings.HasPrefix(s.key, "sqk_") || res.String("id") != s.connID {
			t.Fatalf("rotate: %s", res.Raw)
		}
		alert := map[string]any{"title": "probe", "severity": "low"}
		s.rest(t, s.env.Connector(old), http.MethodPost, "/api/v1/alerts/ingest", alert, http.StatusUnauthorized)
		g := s.gql(t, s.admin, `mutation($id: ID!) { rotateConnectorKey(id: $id) { apiKey } }`, map[string]any{"id": s.connID})
		s.key = digS(g, "rotateConnectorKey", "apiKey")
		s.rest(t, s.env.Connector(s.key), http.MethodPost, "/api/v1/alerts/ingest", alert, http.StatusAccepted)
	})
	t.Run("dead letters", func(t *testing.T) {
		g := s.gql(t, s.admin, `{ connectors(orderBy: {field: NAME, direction: DESC}, first: 1) { edges { node { id type } } } }`, nil)
		wazuh := nodes(g["connectors"])[0]
		created := s.gql(t, s.admin, `mutation { rotateConnectorKey(id: "`+wazuh["id"].(string)+`") { apiKey } }`, nil)
		key := digS(created, "rotateConnectorKey", "apiKey")
		res := s.rest(t, s.env.Connector(key), http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"foo": 1}, http.StatusAccepted)
		if num(res.Body["dead_lettered"]) != 1 {
			t.Fatalf("unmappable payload: %s", res.Raw)
		}
		dl := s.rest(t, s.admin, http.MethodGet, "/api/v1/connectors/"+wazuh["id"].(string)+"/dead-letters", nil, http.StatusOK)
		if len(dl.Items()) != 1 || !strings.Contains(dl.Items()[0]["reason"].(string), "rule") || !strings.Contains(dl.Items()[0]["payload"].(string), `"foo"`) {
			t.Fatalf("dead letters: %s", dl.Raw)
		}
		s.gql(t, s.admin, `query($id: ID!) { deadLetters(connectorID: $id) { totalCount edges { node { reason payload } } } }`, map[string]any{"id": wazuh["id"]})
		s.rest(t, s.analyst, http.MethodGet, "/api/v1/connectors/"+wazuh["id"].(string)+"/dead-letters", nil, http.StatusForbidden)
		s.rest(t, s.admin, http.MethodDelete, "/api/v1/connectors/"+wazuh["id"].(string), nil, http.StatusNoContent)
		s.rest(t, s.env.Connector(key), http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"foo": 1}, http.StatusUnauthorized)
		tmp := s.gql(t, s.admin, `mutation { createConnector(input: {name: "tmp", type: "email"}) { connector { id } } }`, nil)
		s.gql(t, s.admin, `mutation($id: ID!) { deleteConnector(id: $id) { deletedID } }`, map[string]any{"id": dig(tmp, "createConnector", "connector", "id")})
	})
}

func (s *alertSuite) ingest(t *testing.T, body any, want int) *apitest.Response {
	t.Helper()
	return s.rest(t, s.env.Connector(s.key), http.MethodPost, "/api/v1/alerts/ingest", body, want)
}

func (s *alertSuite) testIngest(t *testing.T) {
	batch := []map[string]any{
		{"title": "Impossible travel for j.doe@example.com", "severity": "high", "tags": []string{"identity"}, "attributes": map[string]any{"user": "j.doe@example.com", "src_ip": "203.0.113.45"}},
		{"title": "Malware on FIN-LT-042", "severity": "critical", "tags": []string{"edr", "malware"}, "attributes": map[string]any{"host": "FIN-LT-042"}},
		{"title": "Port scan from 198.51.100.7", "severity": "low", "tags": []string{"network"}},
		{"title": "New admin account", "severity": "medium"},
	}
	res := s.ingest(t, batch, http.StatusAccepted)
	if num(res.Body["created"]) != 4 {
		t.Fatalf("ingest: %s", res.Raw)
	}
	again := s.ingest(t, batch[0], http.StatusAccepted)
	results := again.Body["results"].([]any)
	if num(again.Body["merged"]) != 1 || obj(results[0])["status"] != "merged" || num(obj(results[0])["occurrences"]) != 2 {
		t.Fatalf("repeat: %s", again.Raw)
	}
	wantLoc(t, s.ingest(t, map[string]any{"title": "x", "severity": "apocalyptic"}, http.StatusUnprocessableEntity), "severity")
	s.ingest(t, "{not json", http.StatusUnprocessableEntity)
	s.rest(t, s.env.Anonymous(), http.MethodPost, "/api/v1/alerts/ingest", batch[0], http.StatusUnauthorized)
	s.rest(t, s.env.Connector("sqk_wrong"), http.MethodPost, "/api/v1/alerts/ingest", batch[0], http.StatusUnauthorized)
	// A user's bearer token is not a connector key.
	s.rest(t, s.admin, http.MethodPost, "/api/v1/alerts/ingest", batch[0], http.StatusUnauthorized)
	// A connector key opens nothing but ingest.
	s.rest(t, s.env.Connector(s.key), http.MethodGet, "/api/v1/alerts", nil, http.StatusUnauthorized)
	big := fmt.Sprintf(`{"title": "big", "description": %q}`, strings.Repeat("x", 6<<20))
	s.ingest(t, big, http.StatusRequestEntityTooLarge)
}

// alertIDs lists the queue's ids, newest first.
func (s *alertSuite) alertIDs(t *testing.T, query string) []string {
	t.Helper()
	return strs(s.rest(t, s.analyst, http.MethodGet, "/api/v1/alerts"+query, nil, http.StatusOK).Items(), "id")
}

func (s *alertSuite) testQueue(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alerts?sort=-severity&limit=2", nil, http.StatusOK)
		items := res.Items()
		if num(res.Body["total"]) != 5 || len(items) != 2 || items[0]["severity"] != "critical" || items[1]["severity"] != "high" || res.Body["next_cursor"] == nil {
			t.Fatalf("page 1: %s", res.Raw)
		}
		if items[0]["source"] != "generic" || items[0]["status"] != "new" || len(items[0]["entities"].([]any)) == 0 {
			t.Fatalf("alert fields: %v", items[0])
		}
		next := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alerts?sort=-severity&limit=2&cursor="+url.QueryEscape(res.Body["next_cursor"].(string)), nil, http.StatusOK)
		if got := next.Items(); len(got) != 2 || got[0]["severity"] != "medium" {
			t.Fatalf("page 2: %s", next.Raw)
		}
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"?severity=high,critical", 2},
			{"?severity=high&severity=critical", 2},
			{"?tag=malware", 1},
			{"?tag=network,identity", 2},
			{"?q=TRAVEL", 1},
			{"?entity=203.0.113.45", 1},
			{"?unassigned=true&severity=low", 2}, // the port scan and the key-rotation probe
			{"?status=closed", 0},
			{"?connector_id=" + s.connID, 5},
			{"?source=generic&since=2000-01-01T00:00:00Z", 5},
			{"?until=2000-01-01T00:00:00Z", 0},
		} {
			if got := s.alertIDs(t, tc.query); len(got) != tc.want {
				t.Errorf("%s: %d alerts, want %d", tc.query, len(got), tc.want)
			}
		}
		g := s.gql(t, s.analyst, `{ alerts(first: 10, filter: {severity: [HIGH, CRITICAL]}, orderBy: {field: SEVERITY, direction: DESC}) { totalCount edges { node { id severity entities { type value } raw } } } }`, nil)
		if n := dig(g, "alerts", "totalCount"); n != float64(2) || digS(nodes(g["alerts"])[0], "severity") != "CRITICAL" {
			t.Fatalf("GraphQL list: %v", g)
		}
	})
	t.Run("list invalid", func(t *testing.T) {
		for _, tc := range []struct{ query, field string }{
			{"?bogus=1", "bogus"},
			{"?status=exploded", "status"},
			{"?unassigned=maybe", "unassigned"},
			{"?since=yesterday", "since"},
			{"?limit=many", "limit"},
			{"?q=a&q=b", "q"},
		} {
			res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alerts"+tc.query, nil, http.StatusUnprocessableEntity)
			wantLoc(t, res, "query:"+tc.field)
		}
	})
	t.Run("facets", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alerts/facets?severity=critical", nil, http.StatusOK)
		count := func(field, value string) float64 {
			for _, v := range res.Body[field].([]any) {
				if obj(v)["value"] == value {
					return num(obj(v)["count"])
				}
			}
			return 0
		}
		// Severity ignores its own filter; the others apply it.
		if count("severity", "high") != 1 || count("severity", "critical") != 1 || count("status", "new") != 1 || count("tags", "malware") != 1 || count("tags", "identity") != 0 {
			t.Fatalf("facets: %s", res.Raw)
		}
		for _, f := range []string{"status", "severity", "source", "connector", "assignee", "tags"} {
			if _, ok := res.Body[f].([]any); !ok {
				t.Fatalf("facet %s missing: %s", f, res.Raw)
			}
		}
		s.gql(t, s.analyst, `{ alertFacets(filter: {status: [NEW]}) { status { value count } tags { value count } assignee { value count } } }`, nil)
	})
	t.Run("get", func(t *testing.T) {
		id := s.alertIDs(t, "?tag=identity")[0]
		res := s.rest(t, s.reader, http.MethodGet, "/api/v1/alerts/"+id, nil, http.StatusOK)
		if num(res.Body["occurrences"]) != 2 || res.String("fingerprint") == "" || obj(res.Body["raw"])["title"] == nil {
			t.Fatalf("get: %s", res.Raw)
		}
		s.gql(t, s.reader, `query($id: ID!) { alert(id: $id) { id title connector { name } } }`, map[string]any{"id": id})
		s.rest(t, s.reader, http.MethodGet, "/api/v1/alerts/"+fakeID, nil, http.StatusNotFound)
		s.rest(t, s.reader, http.MethodGet, "/api/v1/alerts/not-a-uuid", nil, http.StatusUnprocessableEntity)
	})
}

func (s *alertSuite) testPatchAlert(t *testing.T) {
	id := s.alertIDs(t, "?tag=malware")[0]
	path := "/api/v1/alerts/" + id
	res := s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "acknowledged", "assignee_id": s.analystID, "tags": []string{"edr", "triaged"}}, http.StatusOK)
	if res.String("status") != "acknowledged" || res.Body["acknowledged_at"] == nil || res.String("assignee_id") != s.analystID {
		t.Fatalf("acknowledge: %s", res.Raw)
	}
	wantLoc(t, s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "closed"}, http.StatusUnprocessableEntity), "disposition")
	wantLoc(t, s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"assignee_id": fakeID}, http.StatusUnprocessableEntity), "assignee_id")
	wantLoc(t, s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"severity": "extreme"}, http.StatusUnprocessableEntity), "severity")
	s.rest(t, s.reader, http.MethodPatch, path, map[string]any{"status": "resolved"}, http.StatusForbidden)
	closed := s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "closed", "disposition": "true_positive", "assignee_id": nil}, http.StatusOK)
	if closed.String("disposition") != "true_positive" || closed.Body["resolved_at"] == nil || closed.Body["assignee_id"] != nil {
		t.Fatalf("close: %s", closed.Raw)
	}
	g := s.gql(t, s.analyst, `mutation($id: ID!) { updateAlert(id: $id, input: {status: IN_PROGRESS, disposition: null}) { status disposition resolvedAt } }`, map[string]any{"id": id})
	if digS(g, "updateAlert", "status") != "IN_PROGRESS" || dig(g, "updateAlert", "disposition") != nil {
		t.Fatalf("reopen: %v", g)
	}
	// A repeat of a closed alert starts a new one.
	s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "closed", "disposition": "benign"}, http.StatusOK)
	again := s.ingest(t, map[string]any{"title": "Malware on FIN-LT-042", "severity": "critical", "attributes": map[string]any{"host": "FIN-LT-042"}}, http.StatusAccepted)
	if r := obj(again.Body["results"].([]any)[0]); r["status"] != "created" || r["id"] == id {
		t.Fatalf("repeat of a closed alert: %s", again.Raw)
	}
}

func (s *alertSuite) testNotesAndActivity(t *testing.T) {
	id := s.alertIDs(t, "?tag=identity")[0]
	note := s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/"+id+"/notes", map[string]any{"body": "Checked with @admin, travel is real."}, http.StatusCreated)
	if note.String("body") == "" || note.String("author_id") != s.analystID {
		t.Fatalf("note: %s", note.Raw)
	}
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/"+id+"/notes", map[string]any{"body": "  "}, http.StatusUnprocessableEntity), "body")
	s.rest(t, s.reader, http.MethodPost, "/api/v1/alerts/"+id+"/notes", map[string]any{"body": "x"}, http.StatusForbidden)
	s.gql(t, s.analyst, `mutation($id: ID!) { addAlertNote(alertID: $id, input: {body: "second"}) { id body } }`, map[string]any{"id": id})
	notes := s.rest(t, s.reader, http.MethodGet, "/api/v1/alerts/"+id+"/notes", nil, http.StatusOK)
	if got := strs(notes.Items(), "body"); len(got) != 2 || got[1] != "second" {
		t.Fatalf("notes: %s", notes.Raw)
	}
	s.gql(t, s.reader, `query($id: ID!) { alertNotes(alertID: $id) { totalCount edges { node { body authorName } } } }`, map[string]any{"id": id})

	s.rest(t, s.analyst, http.MethodPatch, "/api/v1/alerts/"+id, map[string]any{"severity": "critical"}, http.StatusOK)
	act := s.rest(t, s.reader, http.MethodGet, "/api/v1/alerts/"+id+"/activity", nil, http.StatusOK)
	found := false
	for _, a := range act.Items() {
		if a["field"] == "severity" && a["before"] == "high" && a["after"] == "critical" && a["actor_id"] == s.analystID {
			found = true
		}
	}
	if !found {
		t.Fatalf("activity lacks the severity change: %s", act.Raw)
	}
	s.gql(t, s.reader, `query($id: ID!) { alertActivity(alertID: $id) { totalCount edges { node { action field before after actorName } } } }`, map[string]any{"id": id})
	search := s.rest(t, s.reader, http.MethodPost, "/api/v1/activity/search", map[string]any{"entity_type": "alert", "field": "severity"}, http.StatusOK)
	if len(search.Items()) == 0 || search.Items()[0]["entity_id"] != id {
		t.Fatalf("activity search: %s", search.Raw)
	}
	wantLoc(t, s.rest(t, s.reader, http.MethodPost, "/api/v1/activity/search", map[string]any{"colour": "red"}, http.StatusUnprocessableEntity), "colour")
	s.gql(t, s.reader, `{ searchActivity(filter: {entityType: "connector"}, first: 5) { totalCount edges { node { action entityID } } } }`, nil)
}

func (s *alertSuite) testBulk(t *testing.T) {
	ids := s.alertIDs(t, "?status=new")
	res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/bulk", map[string]any{"alert_ids": ids[:2], "action": "assign", "changes": map[string]any{"assignee_id": s.analystID}}, http.StatusOK)
	if num(res.Body["matched"]) != 2 || num(res.Body["updated"]) != 2 || res.String("action") != "assign" {
		t.Fatalf("bulk assign: %s", res.Raw)
	}
	if got := s.alertIDs(t, "?assignee_id="+s.analystID); len(got) != 2 {
		t.Fatalf("assigned: %v", got)
	}
	byFilter := s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/bulk", map[string]any{"filter": map[string]any{"status": []string{"new"}}, "action": "close", "changes": map[string]any{"disposition": "benign"}}, http.StatusOK)
	if num(byFilter.Body["matched"]) != float64(len(ids)) {
		t.Fatalf("bulk close: %s", byFilter.Raw)
	}
	if got := s.alertIDs(t, "?status=new"); len(got) != 0 {
		t.Fatalf("still new after bulk close: %v", got)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"action": "close", "changes": map[string]any{"disposition": "benign"}}, "alert_ids"},
		{map[string]any{"alert_ids": ids[:1], "action": "close"}, "disposition"},
		{map[string]any{"alert_ids": ids[:1], "action": "explode"}, "action"},
	} {
		wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/bulk", tc.body, http.StatusUnprocessableEntity), tc.field)
	}
	s.rest(t, s.reader, http.MethodPost, "/api/v1/alerts/bulk", map[string]any{"alert_ids": ids[:1], "action": "assign", "changes": map[string]any{"assignee_id": nil}}, http.StatusForbidden)
	g := s.gql(t, s.analyst, `mutation($ids: [ID!]) { bulkAlerts(input: {alertIDs: $ids, action: UPDATE, changes: {addTags: ["reviewed"]}}) { matched updated } }`, map[string]any{"ids": ids})
	if dig(g, "bulkAlerts", "updated") != float64(len(ids)) {
		t.Fatalf("bulk tags: %v", g)
	}
}

func (s *alertSuite) testViews(t *testing.T) {
	personal := s.rest(t, s.analyst, http.MethodPost, "/api/v1/alert-views", map[string]any{
		"name": "My criticals", "filters": map[string]any{"severity": []string{"critical"}, "status": []string{"new", "acknowledged"}},
		"sort": "-last_seen_at", "columns": []string{"title", "severity"},
	}, http.StatusCreated)
	if f := obj(personal.Body["filters"]); personal.String("id") == "" || personal.Body["shared"] != false || !slices.Equal(anyList(f["status"]), []string{"new", "acknowledged"}) {
		t.Fatalf("create view: %s", personal.Raw)
	}
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/alert-views", map[string]any{"name": "x", "filters": map[string]any{"severity": []string{"dire"}}}, http.StatusUnprocessableEntity), "severity")
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/alert-views", map[string]any{"name": "x", "sort": "colour"}, http.StatusUnprocessableEntity), "sort")
	sharedView := s.gql(t, s.admin, `mutation { createAlertView(input: {name: "Team queue", shared: true, filters: {unassigned: true}}) { id shared filters { unassigned } } }`, nil)
	sharedID := digS(sharedView, "createAlertView", "id")

	list := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alert-views", nil, http.StatusOK)
	if got := strs(list.Items(), "name"); !slices.Equal(got, []string{"My criticals", "Team queue"}) {
		t.Fatalf("views: %s", list.Raw)
	}
	// The admin does not see the analyst's personal view.
	if got := strs(s.rest(t, s.admin, http.MethodGet, "/api/v1/alert-views", nil, http.StatusOK).Items(), "name"); !slices.Equal(got, []string{"Team queue"}) {
		t.Fatalf("admin's views: %v", got)
	}
	s.gql(t, s.analyst, `{ alertViews { id name hidden isDefault } }`, nil)
	s.rest(t, s.admin, http.MethodPatch, "/api/v1/alert-views/"+personal.String("id"), map[string]any{"name": "mine"}, http.StatusNotFound)
	s.rest(t, s.analyst, http.MethodPatch, "/api/v1/alert-views/"+sharedID, map[string]any{"name": "ours"}, http.StatusForbidden)
	upd := s.rest(t, s.analyst, http.MethodPatch, "/api/v1/alert-views/"+personal.String("id"), map[string]any{"name": "Criticals"}, http.StatusOK)
	if upd.String("name") != "Criticals" {
		t.Fatalf("update view: %s", upd.Raw)
	}
	s.gql(t, s.admin, `mutation($id: ID!) { updateAlertView(id: $id, input: {columns: ["title"]}) { columns } }`, map[string]any{"id": sharedID})

	def := s.rest(t, s.analyst, http.MethodPut, "/api/v1/alert-views/me/default", map[string]any{"view_id": sharedID}, http.StatusOK)
	if def.String("id") != sharedID || def.Body["is_default"] != true {
		t.Fatalf("set default: %s", def.Raw)
	}
	if got := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alert-views/me/default", nil, http.StatusOK); got.String("id") != sharedID {
		t.Fatalf("get default: %s", got.Raw)
	}
	s.gql(t, s.analyst, `{ defaultAlertView { id } }`, nil)
	s.gql(t, s.analyst, `mutation($id: ID) { setDefaultAlertView(viewID: $id) { id } }`, map[string]any{"id": personal.String("id")})

	hidden := s.rest(t, s.analyst, http.MethodPost, "/api/v1/alert-views/"+sharedID+"/hide", nil, http.StatusOK)
	if hidden.Body["hidden"] != true {
		t.Fatalf("hide: %s", hidden.Raw)
	}
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/alert-views/"+personal.String("id")+"/hide", nil, http.StatusUnprocessableEntity), "path:view_id")
	s.gql(t, s.admin, `mutation($id: ID!) { hideAlertView(id: $id) { hidden } }`, map[string]any{"id": sharedID})
	s.gql(t, s.admin, `mutation($id: ID!) { unhideAlertView(id: $id) { hidden } }`, map[string]any{"id": sharedID})
	if un := s.rest(t, s.analyst, http.MethodDelete, "/api/v1/alert-views/"+sharedID+"/hide", nil, http.StatusOK); un.Body["hidden"] != false {
		t.Fatalf("unhide: %s", un.Raw)
	}
	s.rest(t, s.analyst, http.MethodDelete, "/api/v1/alert-views/"+personal.String("id"), nil, http.StatusNoContent)
	if got := s.rest(t, s.analyst, http.MethodGet, "/api/v1/alert-views/me/default", nil, http.StatusOK); strings.TrimSpace(string(got.Raw)) != "null" {
		t.Fatalf("default after delete: %s", got.Raw)
	}
	s.gql(t, s.admin, `mutation($id: ID!) { deleteAlertView(id: $id) { deletedID } }`, map[string]any{"id": sharedID})
	s.rest(t, s.reader, http.MethodPost, "/api/v1/alert-views", map[string]any{"name": "x"}, http.StatusForbidden)
}

func anyList(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// Bulk actions are limited per user (100 a minute by default; 2 here).
func TestBulkRateLimit(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{BulkLimit: 2})
		s := &suite{env: env}
		admin := env.Admin()
		body := map[string]any{"filter": map[string]any{"status": []string{"new"}}, "action": "assign", "changes": map[string]any{"assignee_id": nil}}
		for range 2 {
			s.rest(t, admin, http.MethodPost, "/api/v1/alerts/bulk", body, http.StatusOK)
		}
		res := s.rest(t, admin, http.MethodPost, "/api/v1/alerts/bulk", body, http.StatusTooManyRequests)
		if res.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %s", res.Raw)
		}
		s.gqlErr(t, admin, `mutation { bulkAlerts(input: {filter: {}, action: ASSIGN, changes: {assigneeID: null}}) { matched } }`, nil, "RATE_LIMITED")
		// Another user has a budget of their own.
		s.createUser(t, admin, analystEmail, "analyst", analystPassword)
		s.rest(t, env.Login(analystEmail, analystPassword), http.MethodPost, "/api/v1/alerts/bulk", body, http.StatusOK)
	})
}
