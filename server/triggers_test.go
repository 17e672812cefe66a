package server_test

// End-to-end tests of the trigger routes on both surfaces: CRUD and
// positions, reorder, the test run, 422s naming the field, roles and
// another organisation, and a trigger acting on ingest (an alert born
// routed).

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestTriggerRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := &querySuite{suite: newSuite(t, env, newCoverage())}
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
		s.admin.As("acme").CreateUser(t, acmeAdminEmail, "admin", acmeAdminPass)
		s.acme = env.Login(acmeAdminEmail, acmeAdminPass)

		route := map[string]any{"name": "Route CrowdStrike criticals", "event": "alert.created",
			"condition": `source == "crowdstrike" && severity == "critical"`,
			"actions":   []map[string]any{{"type": "add_tags", "tags": []string{"edr"}}, {"type": "set_status", "status": "acknowledged"}}}
		var ids []string
		t.Run("create", func(t *testing.T) {
			res := s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers", route, http.StatusCreated)
			if res.String("event") != "alert.created" || res.Body["position"] != float64(1) || res.Body["enabled"] != true || res.Body["fired_count"] != float64(0) {
				t.Fatalf("create: %s", res.Raw)
			}
			ids = append(ids, res.String("id"))
			for _, name := range []string{"second", "third"} {
				ids = append(ids, s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers",
					map[string]any{"name": name, "event": "alert.created", "actions": []any{}}, http.StatusCreated).String("id"))
			}
			// Another event numbers its own positions.
			other := s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers", map[string]any{"name": "on close", "event": "alert.updated",
				"condition": `changes.status.to == "closed"`, "actions": []map[string]any{{"type": "add_tags", "tags": []string{"closed"}}}}, http.StatusCreated)
			if other.Body["position"] != float64(1) {
				t.Fatalf("positions per event: %s", other.Raw)
			}
			s.rest(t, s.admin, http.MethodDelete, "/api/v1/triggers/"+other.String("id"), nil, http.StatusNoContent)
		})
		t.Run("refusals", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				body  map[string]any
				field string
			}{
				{"unknown action", map[string]any{"name": "x", "event": "alert.created", "actions": []map[string]any{{"type": "add_tags", "tags": []string{"a"}}, {"type": "explode"}}}, "actions[1] type"},
				{"missing parameter", map[string]any{"name": "x", "event": "alert.created", "actions": []map[string]any{{"type": "set_severity"}}}, "actions[0] severity"},
				{"bad condition", map[string]any{"name": "x", "event": "alert.created", "condition": "severity ==", "actions": []any{}}, "condition"},
				{"changes on created", map[string]any{"name": "x", "event": "alert.created", "condition": `changes.status.to == "closed"`, "actions": []any{}}, "condition"},
				{"bad event", map[string]any{"name": "x", "event": "alert.exploded", "actions": []any{}}, "event"},
				{"empty name", map[string]any{"name": "", "event": "alert.created", "actions": []any{}}, "name"},
				{"bad day", map[string]any{"name": "x", "event": "alert.created", "actions": []any{}, "schedule": map[string]any{"days": []string{"sunday"}, "from": "02:00", "until": "04:00"}}, "schedule days 0"},
				{"bad zone", map[string]any{"name": "x", "event": "alert.created", "actions": []any{}, "schedule": map[string]any{"days": []string{"sun"}, "from": "02:00", "until": "04:00", "time_zone": "Mars/Olympus"}}, "schedule time_zone"},
				{"empty period", map[string]any{"name": "x", "event": "alert.created", "actions": []any{}, "active_from": "2026-01-02T00:00:00Z", "active_until": "2026-01-01T00:00:00Z"}, "active_until"},
				// A webhook's URL passes the outbound policy when saved, as when sent.
				{"private webhook", map[string]any{"name": "x", "event": "alert.created", "actions": []map[string]any{{"type": "add_tags", "tags": []string{"a"}},
					{"type": "webhook", "url": "http://10.1.2.3/hook", "secret": "s"}}}, "actions[1] url"},
				{"loopback webhook", map[string]any{"name": "x", "event": "alert.created", "actions": []map[string]any{{"type": "webhook", "url": "http://[::1]:8080/hook", "secret": "s"}}}, "actions[0] url"},
				{"metadata webhook", map[string]any{"name": "x", "event": "alert.created", "actions": []map[string]any{{"type": "webhook", "url": "http://169.254.169.254/latest", "secret": "s"}}}, "actions[0] url"},
				{"webhook scheme", map[string]any{"name": "x", "event": "alert.created", "actions": []map[string]any{{"type": "webhook", "url": "gopher://chat.example/hook", "secret": "s"}}}, "actions[0] url"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s.cov.markPath(http.MethodPost, "/api/v1/triggers")
					res := s.admin.Do(http.MethodPost, "/api/v1/triggers", tc.body)
					if res.Status != http.StatusUnprocessableEntity {
						t.Fatalf("status %d, want 422: %s", res.Status, res.Raw)
					}
					if loc := strings.Join(detailLoc(t, res), " "); loc != "body "+tc.field {
						t.Fatalf("loc %q, want %q: %s", loc, "body "+tc.field, res.Raw)
					}
				})
			}
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/triggers", route, http.StatusForbidden)
			s.rest(t, s.reader, http.MethodPost, "/api/v1/triggers", route, http.StatusForbidden)
			s.rest(t, s.reader, http.MethodPost, "/api/v1/triggers/"+ids[0]+"/test", map[string]any{}, http.StatusForbidden)
			g := s.gqlErr(t, s.admin, `mutation { createTrigger(input: {name: "x", event: ALERT_CREATED, actions: [{type: "set_severity"}]}) { id } }`, nil, "BAD_USER_INPUT")
			wantField(t, g, "actions[0].severity")
		})
		t.Run("webhook secret", func(t *testing.T) {
			// Sealed when saved, never shown on either surface.
			hook := s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers", map[string]any{"name": "Chat", "event": "sla.breached",
				"actions": []map[string]any{{"type": "webhook", "url": "https://chat.example/hook", "secret": "s3cret-value"}}}, http.StatusCreated)
			id := hook.String("id")
			g := s.gql(t, s.admin, `query($id: ID!) { trigger(id: $id) { actions } }`, map[string]any{"id": id})
			for _, shown := range []string{string(hook.Raw), string(s.rest(t, s.reader, http.MethodGet, "/api/v1/triggers/"+id, nil, http.StatusOK).Raw), fmt.Sprint(g)} {
				if strings.Contains(shown, "s3cret-value") || strings.Contains(shown, "secret_sealed") || !strings.Contains(shown, "chat.example") {
					t.Fatalf("webhook shown as %s", shown)
				}
			}
			s.rest(t, s.admin, http.MethodDelete, "/api/v1/triggers/"+id, nil, http.StatusNoContent)
		})
		t.Run("reorder", func(t *testing.T) {
			res := s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers/"+ids[2]+"/reorder", map[string]any{"position": 1}, http.StatusOK)
			if res.Body["position"] != float64(1) {
				t.Fatalf("reorder: %s", res.Raw)
			}
			s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers/"+ids[0]+"/reorder", map[string]any{"before": ids[2]}, http.StatusOK)
			s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers/"+ids[1]+"/reorder", map[string]any{"position": 99}, http.StatusOK)
			list := s.rest(t, s.reader, http.MethodGet, "/api/v1/triggers?event=alert.created", nil, http.StatusOK).Items()
			got := []string{}
			for i, it := range list {
				if it["position"] != float64(i+1) {
					t.Fatalf("positions not dense: %v", list)
				}
				got = append(got, it["id"].(string))
			}
			if want := []string{ids[0], ids[2], ids[1]}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
				t.Fatalf("order %v, want %v", got, want)
			}
			wantLoc(t, s.admin.Do(http.MethodPost, "/api/v1/triggers/"+ids[1]+"/reorder", map[string]any{"position": 1, "after": ids[0]}), "position")
			wantLoc(t, s.admin.Do(http.MethodPost, "/api/v1/triggers/"+ids[1]+"/reorder", map[string]any{"after": fakeID}), "after")
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/triggers/"+ids[1]+"/reorder", map[string]any{"position": 1}, http.StatusForbidden)
		})
		t.Run("another organisation", func(t *testing.T) {
			s.rest(t, s.acme, http.MethodGet, "/api/v1/triggers/"+ids[0], nil, http.StatusNotFound)
			s.rest(t, s.acme, http.MethodPatch, "/api/v1/triggers/"+ids[0], map[string]any{"enabled": false}, http.StatusNotFound)
			s.rest(t, s.acme, http.MethodPost, "/api/v1/triggers/"+ids[0]+"/reorder", map[string]any{"position": 1}, http.StatusNotFound)
			s.rest(t, s.acme, http.MethodPost, "/api/v1/triggers/"+ids[0]+"/test", map[string]any{}, http.StatusNotFound)
			s.rest(t, s.acme, http.MethodDelete, "/api/v1/triggers/"+ids[0], nil, http.StatusNotFound)
			if l := s.rest(t, s.acme, http.MethodGet, "/api/v1/triggers", nil, http.StatusOK).Items(); len(l) != 0 {
				t.Fatalf("another organisation lists %v", l)
			}
		})
		t.Run("fires on ingest", func(t *testing.T) {
			key := s.admin.ConnectorKey(t, "crowdstrike")
			acmeKey := s.acme.ConnectorKey(t, "crowdstrike")
			s.cov.markPath(http.MethodPost, "/api/v1/alerts/ingest")
			env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": "Falcon detection", "severity": "critical", "source": "crowdstrike"}, http.StatusAccepted)
			env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": "Minor", "severity": "low", "source": "crowdstrike"}, http.StatusAccepted)
			env.Connector(acmeKey).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": "Acme falcon", "severity": "critical", "source": "crowdstrike"}, http.StatusAccepted)
			for _, tc := range []struct {
				c            *apitest.Client
				title, state string
				tagged       bool
			}{{s.reader, "Falcon detection", "acknowledged", true}, {s.reader, "Minor", "new", false}, {s.acme, "Acme falcon", "new", false}} {
				items := s.rest(t, tc.c, http.MethodGet, "/api/v1/alerts?q="+url.QueryEscape(tc.title), nil, http.StatusOK).Items()
				if len(items) != 1 || items[0]["status"] != tc.state || (len(items[0]["tags"].([]any)) > 0) != tc.tagged {
					t.Fatalf("%s: %v", tc.title, items)
				}
			}
			tr := s.rest(t, s.reader, http.MethodGet, "/api/v1/triggers/"+ids[0], nil, http.StatusOK)
			if tr.Body["fired_count"] != float64(1) || tr.String("last_fired_at") == "" {
				t.Fatalf("stats: %s", tr.Raw)
			}
			// The test run matches the stored alert again and writes nothing.
			res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/triggers/"+ids[0]+"/test", map[string]any{"limit": 10}, http.StatusOK)
			matches, _ := res.Body["matches"].([]any)
			if res.Body["examined"] != float64(2) || len(matches) != 1 || obj(matches[0])["title"] != "Falcon detection" {
				t.Fatalf("test: %s", res.Raw)
			}
			if again := s.rest(t, s.reader, http.MethodGet, "/api/v1/triggers/"+ids[0], nil, http.StatusOK); again.Body["fired_count"] != float64(1) {
				t.Fatalf("a test run counted: %s", again.Raw)
			}
			wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/triggers/"+ids[0]+"/test", map[string]any{"limit": 0}), "limit")
		})
		t.Run("update and delete", func(t *testing.T) {
			res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/triggers/"+ids[2], map[string]any{"event": "alert.merged", "enabled": false,
				"schedule": map[string]any{"days": []string{"sun"}, "from": "02:00", "until": "04:00", "time_zone": "Europe/Berlin"}}, http.StatusOK)
			if res.String("event") != "alert.merged" || res.Body["position"] != float64(1) || digS(res.Body, "schedule", "time_zone") != "Europe/Berlin" {
				t.Fatalf("patch: %s", res.Raw)
			}
			res = s.rest(t, s.admin, http.MethodPatch, "/api/v1/triggers/"+ids[2], map[string]any{"schedule": nil}, http.StatusOK)
			if res.Body["schedule"] != nil {
				t.Fatalf("schedule not cleared: %s", res.Raw)
			}
			list := s.rest(t, s.admin, http.MethodGet, "/api/v1/triggers?event=alert.created", nil, http.StatusOK).Items()
			if len(list) != 2 || list[1]["position"] != float64(2) {
				t.Fatalf("the old event's gap: %v", list)
			}
			s.rest(t, s.admin, http.MethodDelete, "/api/v1/triggers/"+ids[0], nil, http.StatusNoContent)
			s.rest(t, s.admin, http.MethodGet, "/api/v1/triggers/"+ids[0], nil, http.StatusNotFound)
			if l := s.rest(t, s.admin, http.MethodGet, "/api/v1/triggers?event=alert.created", nil, http.StatusOK).Items(); len(l) != 1 || l[0]["position"] != float64(1) {
				t.Fatalf("after delete: %v", l)
			}
			data := s.gql(t, s.reader, `query { triggers(event: ALERT_MERGED) { edges { node { name event position } } } trigger(id: "`+ids[2]+`") { event } }`, nil)
			if n := nodes(data["triggers"]); len(n) != 1 || n[0]["event"] != "ALERT_MERGED" {
				t.Fatalf("graphql: %v", data)
			}
		})
	})
}
