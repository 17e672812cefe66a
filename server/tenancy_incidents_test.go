package server_test

// The incident part of the cross-organisation table: B's incidents, their
// linked alerts, timeline, notes, activity, reports and report settings
// are out of A's reach.

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
)

// setupTenantIncidents gives o an incident holding o's alert, with a note,
// a manual timeline event and a rendered report.
func setupTenantIncidents(t *testing.T, s *suite, o *tenantOrg) {
	t.Helper()
	inc := s.rest(t, o.Analyst, http.MethodPost, "/api/v1/incidents",
		map[string]any{"title": "Intrusion at " + o.Slug, "alert_ids": []string{o.AlertID}}, http.StatusCreated)
	o.IncidentID = inc.String("id")
	admin := s.rest(t, o.Admin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK).String("handle")
	s.rest(t, o.Analyst, http.MethodPost, "/api/v1/incidents/"+o.IncidentID+"/notes", map[string]any{"body": "scoping, cc @" + admin}, http.StatusCreated)
	feed := s.rest(t, o.Admin, http.MethodGet, "/api/v1/notifications", nil, http.StatusOK).Items()
	if len(feed) != 1 {
		t.Fatalf("%s admin's feed: %v", o.Slug, feed)
	}
	o.NotificationID = feed[0]["id"].(string)
	s.rest(t, o.Analyst, http.MethodPost, "/api/v1/alerts/"+o.AlertID+"/analyse", nil, http.StatusAccepted)
	s.rest(t, o.Analyst, http.MethodPost, "/api/v1/incidents/"+o.IncidentID+"/analysis", nil, http.StatusAccepted)
	o.EventID = s.rest(t, o.Analyst, http.MethodPost, "/api/v1/incidents/"+o.IncidentID+"/timeline",
		map[string]any{"title": "Attacker logged in"}, http.StatusCreated).String("id")
	rep := s.rest(t, o.Analyst, http.MethodPost, "/api/v1/incidents/"+o.IncidentID+"/reports",
		map[string]any{"kind": "client", "format": "markdown"}, http.StatusAccepted)
	o.ReportID = rep.String("id")
	awaitReport(t, s, o.Analyst, o.IncidentID, o.ReportID)
}

// awaitReport polls a report until the worker has rendered it.
func awaitReport(t *testing.T, s *suite, c *apitest.Client, incidentID, reportID string) map[string]any {
	t.Helper()
	var done map[string]any
	testenv.Eventually(t, 60*time.Second, "report "+reportID+" rendered", func() bool {
		list := s.rest(t, c, http.MethodGet, "/api/v1/incidents/"+incidentID+"/reports", nil, http.StatusOK)
		for _, r := range list.Items() {
			if r["id"] == reportID && (r["status"] == "ready" || r["status"] == "failed") {
				if r["status"] != "ready" {
					t.Fatalf("report failed: %v", r["error"])
				}
				done = r
			}
		}
		return done != nil
	})
	return done
}

func incidentB(w *tenantWorld) string { return w.B.IncidentID }
func eventB(w *tenantWorld) string    { return w.B.EventID }
func reportB(w *tenantWorld) string   { return w.B.ReportID }
func incidentA(w *tenantWorld) string { return w.A.IncidentID }

func incVar(id func(w *tenantWorld) string) func(*tenantWorld) map[string]any {
	return func(w *tenantWorld) map[string]any { return map[string]any{"inc": id(w)} }
}

var incidentCrossOrgCases = []crossOrgCase{
	{name: "analyst reads B's incident", actor: analystA,
		rest: get(p("/api/v1/incidents/%s", incidentB)), status: 404,
		gql: op(`query($id: ID!) { incident(id: $id) { id } }`, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst resolves B's incident as a node", actor: analystA,
		gql: op(nodeQuery, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst resolves B's report as a node", actor: analystA,
		gql: op(nodeQuery, idVar(reportB)), code: "NOT_FOUND"},
	{name: "analyst resolves B's timeline event as a node", actor: analystA,
		gql: op(nodeQuery, idVar(eventB)), code: "NOT_FOUND"},
	{name: "analyst lists only own incidents", actor: analystA,
		rest: get(lit("/api/v1/incidents")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if got := strs(res.Items(), "id"); !slices.Equal(got, []string{w.A.IncidentID}) {
				t.Fatalf("incidents %v, want only A's", got)
			}
		},
		gql: op(`{ incidents { totalCount edges { node { id } } } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if got := strs(nodes(data["incidents"]), "id"); !slices.Equal(got, []string{w.A.IncidentID}) {
				t.Fatalf("GraphQL incidents %v", got)
			}
		}},
	{name: "analyst closes B's incident", actor: analystA,
		rest: send("PATCH", p("/api/v1/incidents/%s", incidentB), map[string]any{"status": "closed", "disposition": "benign"}), status: 404,
		gql: op(`mutation($id: ID!) { updateIncident(id: $id, input: {status: CLOSED, disposition: BENIGN}) { id } }`, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst links own alert to B's incident", actor: analystA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "POST", "/api/v1/incidents/" + w.B.IncidentID + "/alerts", map[string]any{"alert_ids": []string{w.A.AlertID}}
		}, status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($inc: ID!, $a: ID!) { linkAlerts(incidentID: $inc, input: {alertIDs: [$a]}) { linked } }`, map[string]any{"inc": w.B.IncidentID, "a": w.A.AlertID}
		}, code: "NOT_FOUND"},
	{name: "analyst pulls B's alert into own incident", actor: analystA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "POST", "/api/v1/incidents/" + w.A.IncidentID + "/alerts", map[string]any{"alert_ids": []string{w.B.AlertID}}
		}, status: 422,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($inc: ID!, $a: ID!) { linkAlerts(incidentID: $inc, input: {alertIDs: [$a]}) { linked } }`, map[string]any{"inc": w.A.IncidentID, "a": w.B.AlertID}
		}, code: "BAD_USER_INPUT"},
	{name: "analyst unlinks B's alert", actor: analystA,
		rest: send("DELETE", p("/api/v1/incidents/%s/alerts/%s", incidentB, alertB), nil), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($inc: ID!, $a: ID!) { unlinkAlert(incidentID: $inc, alertID: $a) { id } }`, map[string]any{"inc": w.B.IncidentID, "a": w.B.AlertID}
		}, code: "NOT_FOUND"},
	{name: "analyst reads B's incident notes", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/notes", incidentB)), status: 404,
		gql: op(`query($inc: ID!) { incidentNotes(incidentID: $inc) { totalCount } }`, incVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst notes on B's incident", actor: analystA,
		rest: send("POST", p("/api/v1/incidents/%s/notes", incidentB), map[string]any{"body": "planted"}), status: 404,
		gql: op(`mutation($inc: ID!) { addIncidentNote(incidentID: $inc, input: {body: "planted"}) { id } }`, incVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst reads B's incident activity", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/activity", incidentB)), status: 404,
		gql: op(`query($inc: ID!) { incidentActivity(incidentID: $inc) { totalCount } }`, incVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst reads B's timeline", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/timeline", incidentB)), status: 404,
		gql: op(`query($inc: ID!) { incidentTimeline(incidentID: $inc) { totalCount } }`, incVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst adds to B's timeline", actor: analystA,
		rest: send("POST", p("/api/v1/incidents/%s/timeline", incidentB), map[string]any{"title": "planted"}), status: 404,
		gql: op(`mutation($inc: ID!) { addTimelineEvent(incidentID: $inc, input: {title: "planted"}) { id } }`, incVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst edits B's timeline event", actor: analystA,
		rest: send("PATCH", p("/api/v1/incidents/%s/timeline/%s", incidentB, eventB), map[string]any{"title": "rewritten"}), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($inc: ID!, $e: ID!) { updateTimelineEvent(incidentID: $inc, eventID: $e, input: {title: "rewritten"}) { id } }`, map[string]any{"inc": w.B.IncidentID, "e": w.B.EventID}
		}, code: "NOT_FOUND"},
	{name: "analyst edits B's event through own incident", actor: analystA,
		rest: send("PATCH", p("/api/v1/incidents/%s/timeline/%s", incidentA, eventB), map[string]any{"title": "rewritten"}), status: 404},
	{name: "analyst deletes B's timeline event", actor: analystA,
		rest: send("DELETE", p("/api/v1/incidents/%s/timeline/%s", incidentB, eventB), nil), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($inc: ID!, $e: ID!) { deleteTimelineEvent(incidentID: $inc, eventID: $e) { deletedID } }`, map[string]any{"inc": w.B.IncidentID, "e": w.B.EventID}
		}, code: "NOT_FOUND"},
	{name: "analyst lists B's reports", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/reports", incidentB)), status: 404,
		gql: op(`query($inc: ID!) { incidentReports(incidentID: $inc) { id } }`, incVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst reports on B's incident", actor: analystA,
		rest: send("POST", p("/api/v1/incidents/%s/reports", incidentB), map[string]any{"format": "pdf"}), status: 404,
		gql: op(`mutation($inc: ID!) { createReport(incidentID: $inc) { id } }`, incVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst downloads B's report", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/reports/%s/download", incidentB, reportB)), status: 404},
	{name: "analyst downloads B's report through own incident", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/reports/%s/download", incidentA, reportB)), status: 404},
	{name: "analyst reads B's report", actor: analystA,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `query($inc: ID!, $r: ID!) { report(incidentID: $inc, reportID: $r) { id } }`, map[string]any{"inc": w.B.IncidentID, "r": w.B.ReportID}
		}, code: "NOT_FOUND"},
	{name: "analyst deletes B's report", actor: analystA,
		rest: send("DELETE", p("/api/v1/incidents/%s/reports/%s", incidentB, reportB), nil), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($inc: ID!, $r: ID!) { deleteReport(incidentID: $inc, reportID: $r) { deletedID } }`, map[string]any{"inc": w.B.IncidentID, "r": w.B.ReportID}
		}, code: "NOT_FOUND"},
	{name: "analyst analyses B's alert", actor: analystA,
		rest: send("POST", p("/api/v1/alerts/%s/analyse", alertB), nil), status: 404,
		gql: op(`mutation($id: ID!) { analyseAlert(alertID: $id) { id } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst reads B's alert analysis", actor: analystA,
		rest: get(p("/api/v1/alerts/%s/analysis", alertB)), status: 404,
		gql: op(`query($id: ID!) { alertAnalysis(alertID: $id) { id } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst analyses B's incident", actor: analystA,
		rest: send("POST", p("/api/v1/incidents/%s/analysis", incidentB), nil), status: 404,
		gql: op(`mutation($id: ID!) { analyseIncident(incidentID: $id) { id } }`, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst analyses B's alert with the built-in engine", actor: analystA,
		rest: send("POST", p("/api/v1/alerts/%s/analyse", alertB), map[string]any{"engine": "builtin"}), status: 404,
		gql: op(`mutation($id: ID!) { analyseAlert(alertID: $id, input: {engine: "builtin"}) { id } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst analyses B's incident with the built-in engine", actor: analystA,
		rest: send("POST", p("/api/v1/incidents/%s/analysis", incidentB), map[string]any{"engine": "builtin"}), status: 404,
		gql: op(`mutation($id: ID!) { analyseIncident(incidentID: $id, input: {engine: "builtin"}) { id } }`, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "analyst analyses B's alert with the configured engine", actor: analystA,
		rest: send("POST", p("/api/v1/alerts/%s/analyse", alertB), map[string]any{"engine": "auto"}), status: 404,
		gql: op(`mutation($id: ID!) { analyseAlert(alertID: $id, input: {engine: "auto"}) { id } }`, idVar(alertB)), code: "NOT_FOUND"},
	{name: "analyst reads B's incident analysis", actor: analystA,
		rest: get(p("/api/v1/incidents/%s/analysis", incidentB)), status: 404,
		gql: op(`query($id: ID!) { incidentAnalysis(incidentID: $id) { id } }`, idVar(incidentB)), code: "NOT_FOUND"},
	{name: "admin reads only own notifications", actor: adminA,
		rest: get(lit("/api/v1/notifications")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if got := strs(res.Items(), "id"); !slices.Equal(got, []string{w.A.NotificationID}) {
				t.Fatalf("notifications %v, want only A's", got)
			}
		},
		gql: op(`{ notifications { edges { node { id } } } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if got := strs(nodes(data["notifications"]), "id"); !slices.Equal(got, []string{w.A.NotificationID}) {
				t.Fatalf("GraphQL notifications %v", got)
			}
		}},
	{name: "admin marks B's notification read", actor: adminA,
		rest: send("POST", p("/api/v1/notifications/%s/read", func(w *tenantWorld) string { return w.B.NotificationID }), nil), status: 404,
		gql: op(`mutation($id: ID!) { markNotificationRead(id: $id) { id } }`, idVar(func(w *tenantWorld) string { return w.B.NotificationID })), code: "NOT_FOUND"},
	{name: "provider admin marks all read in B leaves B's admin's unread", actor: in(provider, slugB),
		rest: send("POST", lit("/api/v1/notifications/read-all"), nil), status: 200},
	{name: "admin changes B's report settings", actor: in(adminA, slugB),
		rest: send("PATCH", lit("/api/v1/settings/report"), map[string]any{"company_name": "Pwned"}), status: 403,
		gql: op(`mutation { updateReportSettings(input: {companyName: "Pwned"}) { companyName } }`, nil), gqlStatus: 403},
	{name: "admin changes B's AI settings", actor: in(adminA, slugB),
		rest: send("PATCH", lit("/api/v1/settings/ai"), map[string]any{"model": "pwned"}), status: 403,
		gql: op(`mutation { updateAISettings(input: {model: "pwned"}) { model } }`, nil), gqlStatus: 403},
	{name: "admin's AI settings change is A's alone", actor: adminA,
		rest: send("PATCH", lit("/api/v1/settings/ai"), map[string]any{"model": "a-model"}), status: 200},
	{name: "admin uploads B's template", actor: in(adminA, slugB),
		rest: send("POST", lit("/api/v1/settings/report/template"), "# pwned"), status: 403},
	{name: "admin reads B's template", actor: in(adminA, slugB),
		rest: get(lit("/api/v1/settings/report/template")), status: 403},
	{name: "admin deletes B's template", actor: in(adminA, slugB),
		rest: send("DELETE", lit("/api/v1/settings/report/template"), nil), status: 403},
	{name: "admin's settings change is A's alone", actor: adminA,
		rest: send("PATCH", lit("/api/v1/settings/report"), map[string]any{"footer": "A's footer"}), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if res.String("footer") != "A's footer" {
				t.Fatalf("settings: %s", res.Raw)
			}
		}},
}

// checkIncidentsUntouched proves o's incident, timeline, note, report and
// report settings are as set up.
func checkIncidentsUntouched(t *testing.T, s *suite, w *tenantWorld, o *tenantOrg) {
	t.Helper()
	as := w.Provider.As(o.Slug)
	inc := s.rest(t, as, http.MethodGet, "/api/v1/incidents/"+o.IncidentID, nil, http.StatusOK)
	if inc.String("status") != "new" || inc.String("title") != "Intrusion at "+o.Slug || num(inc.Body["alert_count"]) != 1 {
		t.Fatalf("%s incident changed: %s", o.Slug, inc.Raw)
	}
	tl := s.rest(t, as, http.MethodGet, "/api/v1/incidents/"+o.IncidentID+"/timeline", nil, http.StatusOK)
	var manual []string
	for _, e := range tl.Items() {
		if e["automatic"] == false {
			manual = append(manual, e["title"].(string))
		}
	}
	if !slices.Equal(manual, []string{"Attacker logged in"}) {
		t.Fatalf("%s manual events: %v", o.Slug, manual)
	}
	if notes := s.rest(t, as, http.MethodGet, "/api/v1/incidents/"+o.IncidentID+"/notes", nil, http.StatusOK); len(notes.Items()) != 1 {
		t.Fatalf("%s incident notes changed: %s", o.Slug, notes.Raw)
	}
	s.rest(t, as, http.MethodGet, "/api/v1/incidents/"+o.IncidentID+"/reports/"+o.ReportID+"/download", nil, http.StatusOK)
	unread := s.rest(t, o.Admin, http.MethodGet, "/api/v1/notifications?unread=true", nil, http.StatusOK)
	if got := strs(unread.Items(), "id"); !slices.Equal(got, []string{o.NotificationID}) {
		t.Fatalf("%s admin's unread notifications: %v", o.Slug, got)
	}
	set := s.rest(t, as, http.MethodGet, "/api/v1/settings/report", nil, http.StatusOK)
	if ai := s.rest(t, as, http.MethodGet, "/api/v1/settings/ai", nil, http.StatusOK); ai.String("model") == "pwned" {
		t.Fatalf("%s AI settings changed: %s", o.Slug, ai.Raw)
	}
	if set.String("company_name") == "Pwned" || set.Body["custom_template"] != false {
		t.Fatalf("%s report settings changed: %s", o.Slug, set.Raw)
	}
}
