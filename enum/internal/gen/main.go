// Command gen writes enum/enums_gen.go from the table below, so that every
// enum carries the same stored/GraphQL case mapping without hand-copied methods.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

type enumDef struct {
	name, doc string
	values    []value
}

// value is a stored value and what it means: the description GraphQL
// clients see (ent/entc.go puts it in the schema).
type value struct{ name, doc string }

var defs = []enumDef{
	{"Role", "a user's role", []value{
		{"admin", "Everything, including users, organisations, connectors and settings."},
		{"analyst", "Triage: changes alerts and incidents, writes notes, runs analyses and chat."},
		{"read_only", "Reads everything in scope and changes nothing but their own profile and views."}}},
	{"Severity", "alert and incident severity", []value{
		{"critical", "Needs action now: an active compromise or imminent damage."},
		{"high", "Needs action soon: likely malicious."},
		{"medium", "Worth a look: suspicious."},
		{"low", "Unlikely to matter on its own."},
		{"info", "Informational; no action expected."}}},
	{"AlertStatus", "alert triage status", []value{
		{"new", "Not looked at yet."},
		{"acknowledged", "Seen by an analyst; not worked on yet."},
		{"in_progress", "Being investigated."},
		{"resolved", "Dealt with; may still be reviewed."},
		{"closed", "Done, with a disposition."}}},
	{"IncidentStatus", "incident lifecycle status", []value{
		{"new", "Opened, not worked on yet."},
		{"in_progress", "Being investigated."},
		{"pending", "Waiting on someone outside the team (the client, a vendor)."},
		{"escalated", "Handed to a higher tier or the client's own team."},
		{"closed", "Done, with a disposition."}}},
	{"Disposition", "verdict recorded when an alert or incident is closed", []value{
		{"true_positive", "Malicious or policy-breaking activity, as reported."},
		{"false_positive", "The detection was wrong: nothing happened."},
		{"benign", "Real activity, but expected or harmless (an admin's scan, a test)."},
		{"duplicate", "Already covered by another alert or incident."}}},
	{"ConnectorMode", "whether a connector pushes alerts or is polled", []value{
		{"push", "The source posts alerts to the ingest endpoint with the connector's key."},
		{"pull", "Seliq polls the source's API every poll interval."}}},
	{"TimelineKind", "incident timeline event type", []value{
		{"alert_linked", "An alert was linked to the incident."},
		{"alert_unlinked", "An alert was unlinked from the incident."},
		{"status_changed", "The incident's status changed."},
		{"severity_changed", "The incident's severity changed."},
		{"assignee_changed", "The incident was assigned or unassigned."},
		{"note_added", "A note was written on the incident."},
		{"report_generated", "A report of the incident was rendered."},
		{"sla_at_risk", "75 % of an SLA window was used up before the timer was met."},
		{"sla_breached", "An SLA target passed before the timer was met."},
		{"analyst_action", "Something an analyst did outside Seliq, recorded by hand."},
		{"manual", "An event entered by hand."}}},
	{"ChatRole", "author of a chat message", []value{
		{"user", "The analyst's question."},
		{"assistant", "The AI analyst's answer."},
		{"system", "Instructions to the AI analyst."},
		{"tool", "The result of a lookup the AI analyst made."}}},
	{"ReportKind", "audience of an incident report", []value{
		{"internal", "For the team: everything, notes included."},
		{"client", "For the client organisation: no analysts' notes."}}},
	{"ReportFormat", "file format of an incident report", []value{
		{"pdf", "A PDF document."},
		{"html", "A self-contained HTML page."},
		{"markdown", "Markdown text."}}},
	{"JobStatus", "state of background work such as a report render or an analysis", []value{
		{"pending", "Queued, not started."},
		{"running", "Being worked on."},
		{"ready", "Done; the result is available."},
		{"failed", "Gave up; the error says why."}}},
	{"BulkAlertAction", "an action applied to many alerts at once", []value{
		{"update", "Apply changes (status, severity, assignee, tags, disposition)."},
		{"close", "Close with changes.disposition."},
		{"assign", "Assign to changes.assigneeID (null unassigns)."},
		{"link_incident", "Link to changes.incidentID."}}},
	{"AutomationTarget", "what kind of object an automation (a macro, a trigger's event) acts on", []value{
		{"alert", "Alerts."},
		{"incident", "Incidents."}}},
	{"NotificationKind", "notification event type", []value{
		{"assigned", "An alert or incident was assigned to you."},
		{"mentioned", "Someone mentioned you (@handle) in a note."},
		{"incident_status", "The status of an incident you are assigned changed."},
		{"sla_at_risk", "An incident you are assigned is close to its SLA deadline."},
		{"sla_breach", "An incident you are assigned missed its SLA deadline."},
		{"critical_alert", "A critical alert arrived in your organisation."},
		{"connector_failing", "A pull connector of your organisation has been failing for an hour."},
		{"automation_failed", "A trigger of your organisation failed 20 times in a row and was disabled."},
		{"automation", "An automation action (a trigger or a macro) notified you about an alert or incident."}}},
	{"SLAClockMode", "how an organisation's SLA clocks run", []value{
		{"24x7", "Round the clock: every hour counts."},
		{"business_hours", "Only the organisation's opening hours count; the clocks pause outside them and on holidays."}}},
	{"SLAState", "where one SLA timer of an incident stands", []value{
		{"ok", "Running, less than 75 % of the window used."},
		{"at_risk", "Running, at least 75 % of the window used."},
		{"breached", "The target passed before the timer was met."},
		{"met", "Acknowledged (or resolved) within the target."},
		{"paused", "Running, but the clock is stopped: outside business hours."}}},
	{"SLATimer", "one of an incident's two SLA clocks", []value{
		{"acknowledge", "From creation to the first action of a person."},
		{"resolve", "From creation to closing."}}},
	{"SMTPSecurity", "how the connection to an SMTP server is protected", []value{
		{"starttls", "Plain connection upgraded with STARTTLS, which the server must offer (port 587)."},
		{"tls", "TLS from the first byte, implicit TLS (port 465)."},
		{"none", "No encryption; accepted only for a server on the loopback interface (a local relay)."}}},
	{"TriggerEvent", "what an automation trigger runs on", []value{
		{"alert.created", "An alert was ingested (not a repeat merged into an open alert)."},
		{"alert.merged", "A repeat of an open alert was merged into it (occurrences grew)."},
		{"alert.updated", "An alert was changed by a person, a bulk action or a macro."},
		{"incident.created", "An incident was opened."},
		{"incident.updated", "An incident was changed by a person or a macro."},
		{"sla.at_risk", "An incident's SLA timer passed 75 % of its target."},
		{"sla.breached", "An incident's SLA timer passed its target."}}},
	{"Visibility", "who sees a saved object: its author alone or the whole organisation", []value{
		{"private", "Its author alone."},
		{"shared", "Everyone in the organisation."}}},
	{"WidgetKind", "what a dashboard widget shows", []value{
		{"metric", "A metric of the metrics service, with its parameters."},
		{"query", "A query of the query language, saved or inline."},
		{"sla", "The SLA figures (attainment, at risk, breached)."}}},
	{"WidgetVisualization", "how a dashboard widget is drawn", []value{
		{"number", "One figure."},
		{"bar", "Bars, one per value or bucket."},
		{"line", "A line over time."},
		{"pie", "Shares of a whole."},
		{"table", "Rows and columns."}}},
}

func camel(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '.' })
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "")
}

func main() {
	var b bytes.Buffer
	b.WriteString("// Code generated by enum/internal/gen; DO NOT EDIT.\n\npackage enum\n\nimport \"io\"\n")
	for _, d := range defs {
		vals := strings.ToLower(d.name[:1]) + d.name[1:] + "Values"
		fmt.Fprintf(&b, "\n// %s is %s.\ntype %s string\n\nconst (\n", d.name, d.doc, d.name)
		quoted := make([]string, len(d.values))
		for i, v := range d.values {
			fmt.Fprintf(&b, "\t// %s%s: %s\n\t%s%s %s = %q\n", d.name, camel(v.name), v.doc, d.name, camel(v.name), d.name, v.name)
			quoted[i] = fmt.Sprintf("%q", v.name)
		}
		fmt.Fprintf(&b, ")\n\nvar %s = []string{%s}\n", vals, strings.Join(quoted, ", "))
		fmt.Fprintf(&b, "\n// Values lists the stored values (ent derives the column type from it).\nfunc (%s) Values() []string { return %s }\n", d.name, vals)
		fmt.Fprintf(&b, "\n// Valid reports whether the value is one of the set.\nfunc (e %s) Valid() bool { return Valid(string(e), %s) }\n", d.name, vals)
		fmt.Fprintf(&b, "\n// MarshalGQL writes the GraphQL (upper-case) spelling.\nfunc (e %s) MarshalGQL(w io.Writer) { marshal(w, string(e)) }\n", d.name)
		fmt.Fprintf(&b, "\n// UnmarshalGQL reads either spelling.\nfunc (e *%s) UnmarshalGQL(v any) error {\n\ts, err := unmarshal(v, %s)\n\t*e = %s(s)\n\treturn err\n}\n", d.name, vals, d.name)
	}
	// The descriptions, for the GraphQL schema (ent/entc.go).
	b.WriteString("\n// Docs describes each enum and its values by stored value, for the GraphQL\n// schema: the enum's own line under \"\".\nvar Docs = map[string]map[string]string{\n")
	for _, d := range defs {
		fmt.Fprintf(&b, "\t%q: {\"\": %q", d.name, strings.ToUpper(d.doc[:1])+d.doc[1:]+".")
		for _, v := range d.values {
			fmt.Fprintf(&b, ", %q: %q", v.name, v.doc)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("enums_gen.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
