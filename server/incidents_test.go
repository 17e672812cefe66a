package server_test

// End-to-end tests of the incident routes (lifecycle, linking, timeline,
// notes, activity), reports and report settings, on both surfaces.

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

type incidentSuite struct {
	*suite
	alerts   []string // critical, high, low
	incident string   // incident #1
}

func TestIncidentRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := &incidentSuite{suite: newSuite(t, env, newCoverage())}
		key := s.rest(t, s.admin, http.MethodPost, "/api/v1/connectors", map[string]any{"name": "EDR", "type": "generic"}, http.StatusCreated).String("api_key")
		ing := s.rest(t, env.Connector(key), http.MethodPost, "/api/v1/alerts/ingest", []map[string]any{
			{"title": "Ransom note on FS01", "severity": "critical", "source_ip": "10.0.0.5"},
			{"title": "SMB lateral movement", "severity": "high"},
			{"title": "Port scan", "severity": "low"},
		}, http.StatusAccepted)
		for _, r := range ing.Body["results"].([]any) {
			s.alerts = append(s.alerts, digS(r, "id"))
		}

		t.Run("create", s.testCreate)
		t.Run("list_and_get", s.testListAndGet)
		t.Run("lifecycle", s.testLifecycle)
		t.Run("linking", s.testLinking)
		t.Run("notes_and_activity", s.testIncidentNotes)
		t.Run("timeline", s.testTimeline)
		t.Run("report_settings", s.testReportSettings)
		t.Run("template", s.testTemplate)
		t.Run("reports", s.testReports)
		t.Run("coverage", s.checkCoverage("incidents", "reports", "settings"))
	})
}

func (s *incidentSuite) testCreate(t *testing.T) {
	res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents",
		map[string]any{"title": "Ransomware on FS01", "alert_ids": s.alerts[:2], "tags": []string{"ransomware"}}, http.StatusCreated)
	s.incident = res.String("id")
	if num(res.Body["number"]) != 1 || res.String("severity") != "critical" || res.String("status") != "new" || num(res.Body["alert_count"]) != 2 {
		t.Fatalf("create: %s", res.Raw)
	}
	g := s.gql(t, s.analyst, `mutation { createIncident(input: {title: "Scan noise", severity: LOW}) { id number severity status } }`, nil)
	if dig(g, "createIncident", "number") != float64(2) || dig(g, "createIncident", "severity") != "LOW" {
		t.Fatalf("GraphQL create: %v", g)
	}
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": ""}, http.StatusUnprocessableEntity), "title")
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x", "alert_ids": []string{fakeID}}, http.StatusUnprocessableEntity), "alert_ids")
	s.rest(t, s.reader, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x"}, http.StatusForbidden)
	s.rest(t, s.env.Anonymous(), http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x"}, http.StatusUnauthorized)
	s.gqlErr(t, s.reader, `mutation { createIncident(input: {title: "x"}) { id } }`, nil, "FORBIDDEN")
}

func (s *incidentSuite) testListAndGet(t *testing.T) {
	res := s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?severity=critical,high&status=new&sort=-created_at", nil, http.StatusOK)
	if got := strs(res.Items(), "id"); len(got) != 1 || got[0] != s.incident || num(res.Body["total"]) != 1 {
		t.Fatalf("filtered list: %s", res.Raw)
	}
	res = s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?q=scan", nil, http.StatusOK)
	if got := strs(res.Items(), "title"); len(got) != 1 || got[0] != "Scan noise" {
		t.Fatalf("q: %s", res.Raw)
	}
	wantLoc(t, s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?status=open", nil, http.StatusUnprocessableEntity), "query:status")
	wantLoc(t, s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?colour=red", nil, http.StatusUnprocessableEntity), "query:colour")
	one := s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents/"+s.incident, nil, http.StatusOK)
	sev := one.Body["alert_severities"].([]any)
	if len(sev) != 2 || digS(sev[0], "value") != "critical" || num(dig(sev[0], "count")) != 1 {
		t.Fatalf("get: %s", one.Raw)
	}
	g := s.gql(t, s.reader, `query($id: ID!) { incident(id: $id) { number alerts(first: 10, orderBy: {field: SEVERITY, direction: DESC}) { totalCount edges { node { title incident { number } } } } } }`,
		map[string]any{"id": s.incident})
	if dig(g, "incident", "alerts", "totalCount") != float64(2) || digS(nodes(dig(g, "incident", "alerts"))[0], "title") != "Ransom note on FS01" {
		t.Fatalf("GraphQL get: %v", g)
	}
	g = s.gql(t, s.reader, `{ incidents(filter: {tag: ["ransomware"]}, orderBy: {field: NUMBER, direction: ASC}) { totalCount edges { node { number } } } }`, nil)
	if dig(g, "incidents", "totalCount") != float64(1) {
		t.Fatalf("GraphQL list: %v", g)
	}
	s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents/"+fakeID, nil, http.StatusNotFound)
	s.rest(t, s.env.Anonymous(), http.MethodGet, "/api/v1/incidents", nil, http.StatusUnauthorized)
}

func (s *incidentSuite) testLifecycle(t *testing.T) {
	path := "/api/v1/incidents/" + s.incident
	wantLoc(t, s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "closed"}, http.StatusUnprocessableEntity), "disposition")
	res := s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "in_progress", "assignee_id": s.analystID}, http.StatusOK)
	if res.String("status") != "in_progress" || res.Body["acknowledged_at"] == nil || res.String("assignee_id") != s.analystID {
		t.Fatalf("start: %s", res.Raw)
	}
	wantLoc(t, s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "new"}, http.StatusUnprocessableEntity), "status")
	res = s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"status": "closed", "disposition": "true_positive"}, http.StatusOK)
	if res.String("disposition") != "true_positive" || res.Body["closed_at"] == nil {
		t.Fatalf("close: %s", res.Raw)
	}
	g := s.gql(t, s.analyst, `mutation($id: ID!) { updateIncident(id: $id, input: {status: IN_PROGRESS, summary: "Contained; FS01 restored."}) { status disposition closedAt summary } }`,
		map[string]any{"id": s.incident})
	if dig(g, "updateIncident", "status") != "IN_PROGRESS" || dig(g, "updateIncident", "disposition") != nil || dig(g, "updateIncident", "closedAt") != nil {
		t.Fatalf("reopen: %v", g)
	}
	s.rest(t, s.reader, http.MethodPatch, path, map[string]any{"title": "x"}, http.StatusForbidden)
}

func (s *incidentSuite) testLinking(t *testing.T) {
	second := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Lateral movement"}, http.StatusCreated).String("id")
	res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+second+"/alerts", map[string]any{"alert_ids": []string{s.alerts[1], s.alerts[2]}}, http.StatusOK)
	if num(res.Body["linked"]) != 2 || num(res.Body["moved"]) != 1 || num(dig(res.Body, "incident", "alert_count")) != 2 {
		t.Fatalf("link: %s", res.Raw)
	}
	first := s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents/"+s.incident, nil, http.StatusOK)
	if num(first.Body["alert_count"]) != 1 {
		t.Fatalf("the first incident still counts %v alerts", first.Body["alert_count"])
	}
	res = s.rest(t, s.analyst, http.MethodDelete, "/api/v1/incidents/"+second+"/alerts/"+s.alerts[2], nil, http.StatusOK)
	if num(res.Body["alert_count"]) != 1 {
		t.Fatalf("unlink: %s", res.Raw)
	}
	s.rest(t, s.analyst, http.MethodDelete, "/api/v1/incidents/"+second+"/alerts/"+s.alerts[2], nil, http.StatusNotFound)
	g := s.gql(t, s.analyst, `mutation($inc: ID!, $a: ID!) { linkAlerts(incidentID: $inc, input: {alertIDs: [$a]}) { linked moved incident { alertCount } } }`,
		map[string]any{"inc": s.incident, "a": s.alerts[1]})
	if dig(g, "linkAlerts", "moved") != float64(1) {
		t.Fatalf("GraphQL link: %v", g)
	}
	s.gql(t, s.analyst, `mutation($inc: ID!, $a: ID!) { unlinkAlert(incidentID: $inc, alertID: $a) { alertCount } }`,
		map[string]any{"inc": s.incident, "a": s.alerts[1]})
	s.gql(t, s.analyst, `mutation($inc: ID!, $a: ID!) { linkAlerts(incidentID: $inc, input: {alertIDs: [$a]}) { linked } }`,
		map[string]any{"inc": s.incident, "a": s.alerts[1]})
	// The bulk alert action links through the same code.
	bulk := s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/bulk", map[string]any{"alert_ids": []string{s.alerts[2]}, "action": "link_incident", "changes": map[string]any{"incident_id": second}}, http.StatusOK)
	if num(bulk.Body["updated"]) != 1 {
		t.Fatalf("bulk link: %s", bulk.Raw)
	}
	tl := s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents/"+second+"/timeline?limit=100", nil, http.StatusOK)
	if items := tl.Items(); items[len(items)-1]["kind"] != "alert_linked" {
		t.Fatalf("bulk link is not on the timeline: %s", tl.Raw)
	}
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+second+"/alerts", map[string]any{"alert_ids": []string{}}, http.StatusUnprocessableEntity), "alert_ids")
}

func (s *incidentSuite) testIncidentNotes(t *testing.T) {
	path := "/api/v1/incidents/" + s.incident + "/notes"
	n := s.rest(t, s.analyst, http.MethodPost, path, map[string]any{"body": "@admin please approve isolating FS01"}, http.StatusCreated)
	if mentions, _ := n.Body["mentions"].([]any); len(mentions) != 1 || mentions[0] != "admin" {
		t.Fatalf("note: %s", n.Raw)
	}
	// The mention is a notification for the admin (handle "admin").
	ctx := viewer.NewContext(t.Context(), &viewer.Viewer{Kind: viewer.KindUser, Role: "admin", OrgID: orgUUID(t, s.providerOrgID), HomeOrgID: orgUUID(t, s.providerOrgID)})
	got, err := s.env.DB.Client.Notification.Query().Where(notification.KindEQ("mentioned")).All(ctx)
	if err != nil || len(got) != 1 || got[0].UserID.String() != s.adminID {
		t.Fatalf("mention notifications: %v %v", got, err)
	}
	s.gql(t, s.analyst, `mutation($id: ID!) { addIncidentNote(incidentID: $id, input: {body: "imaging done"}) { id } }`, map[string]any{"id": s.incident})
	list := s.rest(t, s.reader, http.MethodGet, path, nil, http.StatusOK)
	if num(list.Body["total"]) != 2 {
		t.Fatalf("notes: %s", list.Raw)
	}
	s.gql(t, s.reader, `query($id: ID!) { incidentNotes(incidentID: $id) { totalCount } }`, map[string]any{"id": s.incident})
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, path, map[string]any{"body": " "}, http.StatusUnprocessableEntity), "body")
	s.rest(t, s.reader, http.MethodPost, path, map[string]any{"body": "x"}, http.StatusForbidden)

	act := s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents/"+s.incident+"/activity?limit=200", nil, http.StatusOK)
	actions := strs(act.Items(), "action")
	for _, want := range []string{"create", "update", "link_alert", "unlink_alert", "note"} {
		if !strings.Contains(strings.Join(actions, ","), want) {
			t.Errorf("activity lacks %s: %v", want, actions)
		}
	}
	s.gql(t, s.reader, `query($id: ID!) { incidentActivity(incidentID: $id) { totalCount } }`, map[string]any{"id": s.incident})
}

func (s *incidentSuite) testTimeline(t *testing.T) {
	path := "/api/v1/incidents/" + s.incident + "/timeline"
	auto := s.rest(t, s.reader, http.MethodGet, path+"?limit=100", nil, http.StatusOK).Items()[0]
	if auto["automatic"] != true {
		t.Fatalf("first event: %v", auto)
	}
	ev := s.rest(t, s.analyst, http.MethodPost, path, map[string]any{"title": "User opened the invoice", "occurred_at": "2026-01-02T09:30:00+01:00"}, http.StatusCreated)
	if ev.String("kind") != "manual" || ev.Body["automatic"] != false || ev.String("occurred_at") != "2026-01-02T08:30:00Z" {
		t.Fatalf("add: %s", ev.Raw)
	}
	first := s.rest(t, s.reader, http.MethodGet, path, nil, http.StatusOK).Items()[0]
	if first["id"] != ev.String("id") {
		t.Fatalf("the earlier manual event is not first: %v", first)
	}
	s.rest(t, s.analyst, http.MethodPatch, path+"/"+ev.String("id"), map[string]any{"description": "from finance@"}, http.StatusOK)
	s.rest(t, s.analyst, http.MethodPatch, path+"/"+auto["id"].(string), map[string]any{"title": "rewritten"}, http.StatusConflict)
	s.rest(t, s.analyst, http.MethodDelete, path+"/"+auto["id"].(string), nil, http.StatusConflict)
	g := s.gqlErr(t, s.analyst, `mutation($inc: ID!, $e: ID!) { deleteTimelineEvent(incidentID: $inc, eventID: $e) { deletedID } }`,
		map[string]any{"inc": s.incident, "e": auto["id"]}, "CONFLICT")
	_ = g
	s.gql(t, s.analyst, `mutation($inc: ID!, $e: ID!) { updateTimelineEvent(incidentID: $inc, eventID: $e, input: {title: "User opened the invoice.pdf"}) { title } }`,
		map[string]any{"inc": s.incident, "e": ev.String("id")})
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, path, map[string]any{"title": "future", "occurred_at": "2999-01-01T00:00:00Z"}, http.StatusUnprocessableEntity), "occurred_at")
	s.rest(t, s.analyst, http.MethodDelete, path+"/"+ev.String("id"), nil, http.StatusNoContent)
	e2 := s.gql(t, s.analyst, `mutation($inc: ID!) { addTimelineEvent(incidentID: $inc, input: {title: "Firewall rule added"}) { id } }`, map[string]any{"inc": s.incident})
	s.gql(t, s.analyst, `mutation($inc: ID!, $e: ID!) { deleteTimelineEvent(incidentID: $inc, eventID: $e) { deletedID } }`,
		map[string]any{"inc": s.incident, "e": digS(e2, "addTimelineEvent", "id")})
	tl := s.gql(t, s.reader, `query($inc: ID!) { incidentTimeline(incidentID: $inc, first: 5) { totalCount edges { node { id kind title automatic actorName } } } }`, map[string]any{"inc": s.incident})
	// Incidents, their events and alerts resolve through node(id) too.
	for typ, id := range map[string]string{"Incident": s.incident, "TimelineEvent": digS(nodes(tl["incidentTimeline"])[0], "id"), "Alert": s.alerts[0]} {
		n := obj(s.gql(t, s.reader, `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": id})["node"])
		if n["__typename"] != typ || n["id"] != id {
			t.Fatalf("node(%s) = %v, want a %s", id, n, typ)
		}
	}
}

func (s *incidentSuite) testReportSettings(t *testing.T) {
	def := s.rest(t, s.reader, http.MethodGet, "/api/v1/settings/report", nil, http.StatusOK)
	if def.String("default_format") != "pdf" || dig(def.Body, "sections", "notes") != true || def.Body["custom_template"] != false {
		t.Fatalf("defaults: %s", def.Raw)
	}
	res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/report", map[string]any{
		"company_name": "Seliq MSSP", "accent_color": "#0a7d5a", "confidentiality": "TLP:AMBER", "sections": map[string]any{"entities": false}}, http.StatusOK)
	if res.String("accent_color") != "#0A7D5A" || dig(res.Body, "sections", "entities") != false || dig(res.Body, "sections", "timeline") != true {
		t.Fatalf("patch: %s", res.Raw)
	}
	wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/report", map[string]any{"accent_color": "teal"}, http.StatusUnprocessableEntity), "accent_color")
	s.rest(t, s.analyst, http.MethodPatch, "/api/v1/settings/report", map[string]any{"footer": "x"}, http.StatusForbidden)
	s.gql(t, s.admin, `mutation { updateReportSettings(input: {footer: "Questions: soc@seliq.example", sections: {entities: true}}) { footer sections { entities } } }`, nil)
	s.gqlErr(t, s.analyst, `mutation { updateReportSettings(input: {footer: "x"}) { footer } }`, nil, "FORBIDDEN")
	s.gql(t, s.reader, `{ reportSettings { companyName accentColor customTemplate } }`, nil)
}

// brokenTemplate fails on line 3: the Document has no field Severity.
const brokenTemplate = "# Incident {{ .Incident.Number }}\n\nTitle: {{ .Incident.Title }}{{ .Severity }}\n"

func (s *incidentSuite) testTemplate(t *testing.T) {
	get := s.env.Anonymous().Do(http.MethodGet, "/api/v1/settings/report/template", nil)
	if get.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous template download: %d", get.Status)
	}
	builtin := s.reader.Do(http.MethodGet, "/api/v1/settings/report/template", nil)
	if builtin.Status != http.StatusOK || !strings.Contains(builtin.Header.Get("Content-Disposition"), "attachment") ||
		builtin.Header.Get("X-Seliq-Template") != "builtin" || !bytes.Contains(builtin.Raw, []byte("{{")) {
		t.Fatalf("builtin template: %d %v", builtin.Status, builtin.Header)
	}
	bad := s.admin.DoRaw(http.MethodPost, "/api/v1/settings/report/template", "text/plain", []byte(brokenTemplate))
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Raw), "line 3") {
		t.Fatalf("broken template: %d %s", bad.Status, bad.Raw)
	}
	g := s.gqlErr(t, s.admin, `mutation($src: String!) { uploadReportTemplate(source: $src) { custom } }`, map[string]any{"src": brokenTemplate}, "BAD_USER_INPUT")
	if !strings.Contains(g.Errors[0].Message, "line 3") {
		t.Fatalf("GraphQL broken template: %+v", g.Errors)
	}
	if s.analyst.DoRaw(http.MethodPost, "/api/v1/settings/report/template", "text/plain", []byte("# ok\n")).Status != http.StatusForbidden {
		t.Fatalf("an analyst uploaded a template")
	}
	if huge := s.admin.DoRaw(http.MethodPost, "/api/v1/settings/report/template", "text/plain", bytes.Repeat([]byte("x"), 2<<20)); huge.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge template: %d", huge.Status)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "custom.md.tmpl")
	_, _ = fw.Write([]byte("# {{ .Branding.CompanyName }} — incident {{ .Incident.Number }}\n\nCUSTOM-TEMPLATE-MARKER {{ md .Incident.Title }}\n"))
	_ = mw.Close()
	up := s.admin.DoRaw(http.MethodPost, "/api/v1/settings/report/template", mw.FormDataContentType(), body.Bytes())
	if up.Status != http.StatusOK || up.Body["custom"] != true {
		t.Fatalf("upload: %d %s", up.Status, up.Raw)
	}
	if got := s.reader.Do(http.MethodGet, "/api/v1/settings/report/template", nil); !bytes.Contains(got.Raw, []byte("CUSTOM-TEMPLATE-MARKER")) {
		t.Fatalf("download after upload: %s", got.Raw)
	}
	rep := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+s.incident+"/reports", map[string]any{"format": "markdown"}, http.StatusAccepted)
	awaitReport(t, s.suite, s.analyst, s.incident, rep.String("id"))
	md := s.analyst.Do(http.MethodGet, "/api/v1/incidents/"+s.incident+"/reports/"+rep.String("id")+"/download", nil)
	if !bytes.Contains(md.Raw, []byte("CUSTOM-TEMPLATE-MARKER Ransomware on FS01")) || !bytes.Contains(md.Raw, []byte("Seliq MSSP")) {
		t.Fatalf("report through the custom template: %s", md.Raw)
	}
	s.gql(t, s.reader, `{ reportTemplate { custom updatedAt } }`, nil)
	s.rest(t, s.analyst, http.MethodDelete, "/api/v1/settings/report/template", nil, http.StatusForbidden)
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/settings/report/template", nil, http.StatusNoContent)
	g2 := s.gql(t, s.admin, `mutation { deleteReportTemplate { custom } }`, nil)
	if dig(g2, "deleteReportTemplate", "custom") != false {
		t.Fatalf("after delete: %v", g2)
	}
	s.gql(t, s.admin, `mutation { uploadReportTemplate(source: "# {{ .Incident.Title }}\n") { custom } }`, nil)
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/settings/report/template", nil, http.StatusNoContent)
}

func (s *incidentSuite) testReports(t *testing.T) {
	base := "/api/v1/incidents/" + s.incident + "/reports"
	rep := s.rest(t, s.analyst, http.MethodPost, base, map[string]any{"kind": "client", "format": "pdf"}, http.StatusAccepted)
	if rep.String("status") != "pending" {
		t.Fatalf("create: %s", rep.Raw)
	}
	ready := awaitReport(t, s.suite, s.reader, s.incident, rep.String("id"))
	if ready["content_type"] != "application/pdf" || num(ready["size"]) == 0 {
		t.Fatalf("ready: %v", ready)
	}
	dl := s.reader.Do(http.MethodGet, base+"/"+rep.String("id")+"/download", nil)
	if dl.Status != http.StatusOK || dl.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(dl.Raw, []byte("%PDF-")) ||
		dl.Header.Get("Content-Disposition") != `attachment; filename=incident-1-client-report.pdf` {
		t.Fatalf("download: %d %v", dl.Status, dl.Header)
	}
	checkPDFRenders(t, dl.Raw)
	if s.env.Anonymous().Do(http.MethodGet, base+"/"+rep.String("id")+"/download", nil).Status != http.StatusUnauthorized {
		t.Fatalf("anonymous download allowed")
	}
	g := s.gql(t, s.analyst, `mutation($id: ID!) { createReport(incidentID: $id, input: {kind: INTERNAL, format: HTML}) { id status kind format } }`, map[string]any{"id": s.incident})
	html := digS(g, "createReport", "id")
	awaitReport(t, s.suite, s.reader, s.incident, html)
	page := s.reader.Do(http.MethodGet, base+"/"+html+"/download", nil)
	if !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") || !strings.Contains(page.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("html download headers: %v", page.Header)
	}
	s.gql(t, s.reader, `query($inc: ID!, $r: ID!) { report(incidentID: $inc, reportID: $r) { status fileName size renderMs } incidentReports(incidentID: $inc) { id } }`,
		map[string]any{"inc": s.incident, "r": html})
	wantLoc(t, s.rest(t, s.analyst, http.MethodPost, base, map[string]any{"format": "docx"}, http.StatusUnprocessableEntity), "format")
	s.rest(t, s.reader, http.MethodPost, base, map[string]any{}, http.StatusForbidden)
	s.rest(t, s.reader, http.MethodDelete, base+"/"+html, nil, http.StatusForbidden)
	s.rest(t, s.analyst, http.MethodDelete, base+"/"+html, nil, http.StatusNoContent)
	if s.reader.Do(http.MethodGet, base+"/"+html+"/download", nil).Status != http.StatusNotFound {
		t.Fatalf("a deleted report still downloads")
	}
	s.gql(t, s.analyst, `mutation($inc: ID!, $r: ID!) { deleteReport(incidentID: $inc, reportID: $r) { deletedID } }`, map[string]any{"inc": s.incident, "r": rep.String("id")})
	s.rest(t, s.reader, http.MethodGet, base, nil, http.StatusOK)
}

// checkPDFRenders rasterises the first page with poppler's pdftoppm, as a
// reader's viewer would; CI installs poppler-utils.
func checkPDFRenders(t *testing.T, pdf []byte) {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", in, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	png, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(png) != 1 {
		t.Fatalf("pdftoppm wrote %v", png)
	}
	if st, err := os.Stat(png[0]); err != nil || st.Size() < 1000 {
		t.Fatalf("page 1 image: %v %v", st, err)
	}
}

func orgUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
