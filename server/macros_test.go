package server_test

// End-to-end tests of the macro routes on both surfaces: CRUD with the
// action list refused naming the action, roles, another organisation, the
// save-time cycle check, and apply: all or nothing, audited per object,
// returning what changed.

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestMacroRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		s := newRouteSuite(t, db, newCoverage())
		env := s.env
		ingest := func(c *apitest.Client, n int) []string {
			key := c.ConnectorKey(t, "relay")
			for i := range n {
				env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": fmt.Sprint("Phish ", i), "severity": "medium", "source": "mail"}, http.StatusAccepted)
			}
			var ids []string
			for _, a := range s.rest(t, c, http.MethodGet, "/api/v1/alerts?limit=100", nil, http.StatusOK).Items() {
				ids = append(ids, a["id"].(string))
			}
			return ids
		}
		ours, theirs := ingest(s.admin, 3), ingest(s.acmeAdmin, 1)
		fp := []map[string]any{
			{"type": "set_status", "status": "closed", "disposition": "false_positive"},
			{"type": "add_tags", "tags": []string{"fp"}},
		}
		var id string
		t.Run("create", func(t *testing.T) {
			res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros", map[string]any{"name": "Close as false positive", "target": "alert", "actions": fp}, http.StatusCreated)
			id = res.String("id")
			if res.String("target") != "alert" || len(res.Body["actions"].([]any)) != 2 {
				t.Fatalf("create: %s", res.Raw)
			}
			bad := []map[string]any{fp[0], fp[1], {"type": "set_severity"}}
			wantActionLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/macros", map[string]any{"name": "bad", "target": "alert", "actions": bad}), "actions[2]", "severity")
			wantActionLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/macros", map[string]any{"name": "bad", "target": "alert", "actions": []map[string]any{{"type": "explode"}}}), "actions[0]", "type")
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros", map[string]any{"name": "Close as false positive", "target": "alert", "actions": fp}, http.StatusConflict)
			s.rest(t, s.reader, http.MethodPost, "/api/v1/macros", map[string]any{"name": "x", "target": "alert", "actions": fp}, http.StatusForbidden)
			g := s.gqlErr(t, s.analyst, `mutation { createMacro(input: {name: "g", target: INCIDENT, actions: [{type: "suppress", disposition: "benign", reason: "x"}]}) { id } }`, nil, "BAD_USER_INPUT")
			wantField(t, g, "actions[0].type")
			// A webhook's secret is sealed and never shown.
			hook := s.gql(t, s.analyst, `mutation($a: JSON!) { createMacro(input: {name: "hook", target: ALERT, actions: $a}) { id actions } }`,
				map[string]any{"a": []map[string]any{{"type": "webhook", "url": "https://chat.example/hook", "secret": "s3cret"}}})
			if acts := dig(hook, "createMacro", "actions").([]any); obj(acts[0])["secret"] != nil || obj(acts[0])["secret_sealed"] != nil || obj(acts[0])["url"] != "https://chat.example/hook" {
				t.Fatalf("webhook action shown as %v", acts)
			}
		})
		t.Run("read", func(t *testing.T) {
			for _, c := range []*apitest.Client{s.analyst, s.admin, s.reader} {
				if l := s.rest(t, c, http.MethodGet, "/api/v1/macros?target=alert", nil, http.StatusOK); len(l.Items()) != 2 {
					t.Fatalf("list: %s", l.Raw)
				}
			}
			if l := s.rest(t, s.acmeAdmin, http.MethodGet, "/api/v1/macros", nil, http.StatusOK); len(l.Items()) != 0 {
				t.Fatalf("another organisation sees %s", l.Raw)
			}
			m := s.gql(t, s.reader, `query($id: ID!) { macro(id: $id) { name target actions } macros(first: 10) { totalCount } }`, map[string]any{"id": id})
			if digS(m, "macro", "target") != "ALERT" || dig(m, "macros", "totalCount") != float64(2) {
				t.Fatalf("GraphQL: %v", m)
			}
			s.gqlErr(t, s.acmeAdmin, `query($id: ID!) { macro(id: $id) { id } }`, map[string]any{"id": id}, "NOT_FOUND")
		})
		t.Run("update", func(t *testing.T) {
			res := s.rest(t, s.analyst, http.MethodPatch, "/api/v1/macros/"+id, map[string]any{"description": "Closes phishing reports that were not", "actions": fp}, http.StatusOK)
			if res.String("description") == "" {
				t.Fatalf("update: %s", res.Raw)
			}
			// A macro applying itself, or one leading back to it, is refused when saved.
			self := []map[string]any{{"type": "apply_macro", "macro_id": id}}
			wantActionLoc(t, s.analyst.Do(http.MethodPatch, "/api/v1/macros/"+id, map[string]any{"actions": self}), "actions[0]", "macro_id")
			other := s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros", map[string]any{"name": "wrapper", "target": "alert", "actions": self}, http.StatusCreated).String("id")
			wantActionLoc(t, s.analyst.Do(http.MethodPatch, "/api/v1/macros/"+id, map[string]any{"actions": []map[string]any{{"type": "apply_macro", "macro_id": other}}}), "actions[0]", "macro_id")
			// A webhook's URL passes the outbound policy when saved, as when sent.
			private := []map[string]any{{"type": "add_tags", "tags": []string{"fp"}}, {"type": "webhook", "url": "http://192.168.1.10/hook", "secret": "s"}}
			wantActionLoc(t, s.analyst.Do(http.MethodPatch, "/api/v1/macros/"+id, map[string]any{"actions": private}), "actions[1]", "url")
			wantActionLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/macros", map[string]any{"name": "private hook", "target": "alert", "actions": private}), "actions[1]", "url")
			s.rest(t, s.acmeAdmin, http.MethodPatch, "/api/v1/macros/"+id, map[string]any{"name": "mine"}, http.StatusNotFound)
			s.rest(t, s.reader, http.MethodPatch, "/api/v1/macros/"+id, map[string]any{"name": "mine"}, http.StatusForbidden)
			s.gql(t, s.analyst, `mutation($id: ID!) { updateMacro(id: $id, input: {name: "Close as FP"}) { name } }`, map[string]any{"id": id})
			s.rest(t, s.analyst, http.MethodDelete, "/api/v1/macros/"+other, nil, http.StatusNoContent)
		})
		t.Run("apply", func(t *testing.T) {
			// Another organisation's alert among the ids: nothing is written.
			res := s.analyst.Do(http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": id, "alert_ids": []string{ours[0], theirs[0]}})
			wantLoc(t, res, "alert_ids")
			s.rest(t, s.acmeAdmin, http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": id, "alert_ids": theirs}, http.StatusNotFound)
			s.rest(t, s.reader, http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": id, "alert_ids": ours}, http.StatusForbidden)
			wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": id}), "alert_ids")
			if a := s.rest(t, s.admin, http.MethodGet, "/api/v1/alerts/"+ours[0], nil, http.StatusOK); a.String("status") != "new" {
				t.Fatalf("a refused apply wrote: %s", a.Raw)
			}
			done := s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": id, "alert_ids": ours[:2]}, http.StatusOK)
			if done.Body["matched"] != float64(2) || done.Body["updated"] != float64(2) || len(done.Body["results"].([]any)) != 2 {
				t.Fatalf("apply: %s", done.Raw)
			}
			changes := obj(done.Body["results"].([]any)[0])["changes"].([]any)
			if obj(changes[0])["field"] != "status" || obj(changes[0])["after"] != "closed" {
				t.Fatalf("changes: %v", changes)
			}
			a := s.rest(t, s.admin, http.MethodGet, "/api/v1/alerts/"+ours[0], nil, http.StatusOK)
			if a.String("status") != "closed" || a.String("disposition") != "false_positive" {
				t.Fatalf("alert after apply: %s", a.Raw)
			}
			// Audited per object, as done by the analyst, naming the macro.
			act := s.rest(t, s.admin, http.MethodGet, "/api/v1/alerts/"+ours[0]+"/activity?limit=100", nil, http.StatusOK).Items()
			var byMacro, byAnalyst int
			for _, e := range act {
				if e["action"] == "apply_macro" {
					byMacro++
				}
				if e["action"] != "create" && e["actor_id"] == s.analystID {
					byAnalyst++
				}
			}
			if byMacro != 1 || byAnalyst != len(act)-1 || len(act) != 5 {
				t.Fatalf("activity: %v", act)
			}
			// By query, through GraphQL: the third alert only (the others are closed).
			g := s.gql(t, s.analyst, `mutation($id: ID!) { applyMacro(input: {macroID: $id, query: "status == \"new\""}) { matched updated results { objectID changes { field before after } } } }`, map[string]any{"id": id})
			if dig(g, "applyMacro", "matched") != float64(1) || digS(obj(dig(g, "applyMacro", "results").([]any)[0]), "objectID") != ours[2] {
				t.Fatalf("apply by query: %v", g)
			}
		})
		t.Run("incident macro", func(t *testing.T) {
			inc := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing wave"}, http.StatusCreated).String("id")
			m := s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros", map[string]any{"name": "Escalate", "target": "incident",
				"actions": []map[string]any{{"type": "set_severity", "severity": "critical"}, {"type": "set_status", "status": "escalated"}}}, http.StatusCreated).String("id")
			wantLoc(t, s.analyst.Do(http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": m, "alert_ids": ours}), "alert_ids")
			done := s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": m, "incident_ids": []string{inc}}, http.StatusOK)
			if done.Body["updated"] != float64(1) {
				t.Fatalf("apply: %s", done.Raw)
			}
			got := s.rest(t, s.admin, http.MethodGet, "/api/v1/incidents/"+inc, nil, http.StatusOK)
			if got.String("severity") != "critical" || got.String("status") != "escalated" {
				t.Fatalf("incident after apply: %s", got.Raw)
			}
		})
		t.Run("fires alert.updated triggers", func(t *testing.T) {
			// A macro a person applies is their change: the organisation's
			// alert.updated triggers see it, with its changes, as they see an
			// edit or a bulk action; another organisation's do not.
			trig := s.rest(t, s.admin, http.MethodPost, "/api/v1/triggers", map[string]any{"name": "escalated by hand", "event": "alert.updated",
				"condition": `changes.severity.to == "critical"`, "actions": []map[string]any{{"type": "add_tags", "tags": []string{"escalated"}}}}, http.StatusCreated)
			s.rest(t, s.acmeAdmin, http.MethodPost, "/api/v1/triggers", map[string]any{"name": "theirs", "event": "alert.updated",
				"actions": []map[string]any{{"type": "add_tags", "tags": []string{"acme"}}}}, http.StatusCreated)
			crit := s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros", map[string]any{"name": "Make critical", "target": "alert",
				"actions": []map[string]any{{"type": "set_severity", "severity": "critical"}}}, http.StatusCreated).String("id")
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": crit, "alert_ids": []string{ours[2]}}, http.StatusOK)
			a := s.rest(t, s.admin, http.MethodGet, "/api/v1/alerts/"+ours[2], nil, http.StatusOK)
			tags, _ := a.Body["tags"].([]any)
			if a.String("severity") != "critical" || !slices.Contains(tags, any("escalated")) || slices.Contains(tags, any("acme")) {
				t.Fatalf("alert after the macro: %s", a.Raw)
			}
			s.rest(t, s.admin, http.MethodDelete, "/api/v1/triggers/"+trig.String("id"), nil, http.StatusNoContent)
		})
		t.Run("delete", func(t *testing.T) {
			s.rest(t, s.acmeAdmin, http.MethodDelete, "/api/v1/macros/"+id, nil, http.StatusNotFound)
			s.rest(t, s.reader, http.MethodDelete, "/api/v1/macros/"+id, nil, http.StatusForbidden)
			s.gql(t, s.analyst, `mutation($id: ID!) { deleteMacro(id: $id) { deletedID } }`, map[string]any{"id": id})
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/macros/apply", map[string]any{"macro_id": id, "alert_ids": ours}, http.StatusNotFound)
		})
		t.Run("coverage", s.checkCoverage("macros"))
	})
}

// wantActionLoc checks a 422 naming one parameter of one action: REST's loc
// is ["body", "actions[2]", "severity"].
func wantActionLoc(t *testing.T, res *apitest.Response, item, param string) {
	t.Helper()
	wantLoc(t, res, item)
	if loc := detailLoc(t, res); loc[len(loc)-1] != param {
		t.Fatalf("loc %v does not end with %s: %s", loc, param, res.Raw)
	}
}
