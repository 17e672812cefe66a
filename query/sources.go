package query

import (
	"github.com/seliq/seliq/enum"
)

// colKind says how a field is read in SQL.
type colKind int

const (
	colPlain      colKind = iota // a column of the source's table
	colRelated                   // a column of the row a foreign key points to
	colObject                    // a foreign key itself: the related object or null
	colList                      // a JSON array of strings
	colEntities                  // a JSON array of {type, value}, of some types
	colAttributes                // a JSON object of strings
)

// column is where a field lives in SQL.
type column struct {
	kind colKind
	// name is the column on the source's table (the foreign key of a
	// related field or object).
	name string
	// nullable plain columns read as the empty string when NULL.
	nullable bool
	// rank is the column holding a ranked field's rank.
	rank string
	// table and target: the related row's table and column.
	table, target string
	// types are the stored entity types a colEntities field reads.
	types []string
}

func plain(name string) column    { return column{kind: colPlain, name: name} }
func nullable(name string) column { return column{kind: colPlain, name: name, nullable: true} }
func object(fk string) column     { return column{kind: colObject, name: fk} }
func jsonList(name string) column { return column{kind: colList, name: name} }
func entities(types ...string) column {
	return column{kind: colEntities, name: "entities", types: types}
}
func related(fk, table, target string) column {
	return column{kind: colRelated, name: fk, table: table, target: target}
}

// entityFields are the alert's indicators by kind; the stored types
// (ingest/entities) fold into the kinds an analyst asks for.
func entityFields() []*Field {
	kinds := []struct {
		name, doc string
		types     []string
	}{
		{"ip", "IPv4 and IPv6 addresses", []string{"ipv4", "ipv6"}},
		{"domain", "domain names", []string{"domain"}},
		{"host", "host names", []string{"hostname"}},
		{"user", "user accounts", []string{"user"}},
		{"hash", "file hashes (MD5, SHA-1, SHA-256)", []string{"md5", "sha1", "sha256"}},
		{"url", "URLs", []string{"url"}},
		{"email", "email addresses", []string{"email"}},
		{"cve", "CVE identifiers", []string{"cve"}},
	}
	out := make([]*Field, len(kinds))
	for i, k := range kinds {
		out[i] = &Field{Name: "entities." + k.name, Type: TypeStringList,
			Description: "The " + k.doc + " extracted from the alert.", col: entities(k.types...)}
	}
	return out
}

// severityField is the ranked severity of alerts and incidents.
func severityField() *Field {
	return &Field{Name: "severity", Type: TypeString, Description: `Severity; compares by rank (severity >= "high" is high or critical).`,
		Groupable: true, Values: enum.Severity("").Values(), Ranked: true,
		col: column{kind: colPlain, name: "severity", rank: "severity_rank"}}
}

// assigneeFields are the assignee object and its email and handle.
func assigneeFields(what string) []*Field {
	return []*Field{
		{Name: "assignee", Type: TypeObject, Description: "The analyst the " + what + " is assigned to; null when unassigned.", col: object("assignee_id")},
		{Name: "assignee.email", Type: TypeString, Description: `The assignee's email; "" when unassigned.`, Groupable: true,
			col: related("assignee_id", "users", "email")},
		{Name: "assignee.handle", Type: TypeString, Description: `The assignee's @handle; "" when unassigned.`, Groupable: true,
			col: related("assignee_id", "users", "handle")},
	}
}

func init() {
	alertFields := []*Field{
		severityField(),
		{Name: "status", Type: TypeString, Description: "Triage status.", Groupable: true,
			Values: enum.AlertStatus("").Values(), col: plain("status")},
		{Name: "disposition", Type: TypeString, Description: `Disposition once closed; "" while there is none.`, Groupable: true,
			Values: append([]string{""}, enum.Disposition("").Values()...), col: nullable("disposition")},
		{Name: "source", Type: TypeString, Description: "The tool the alert came from, e.g. crowdstrike.", Groupable: true, col: plain("source")},
		{Name: "suppression_reason", Type: TypeString, Description: `Why automation suppressed (closed) the alert: the rule's or maintenance window's reason; "" when not suppressed, so suppression_reason != "" picks suppressed alerts.`,
			Groupable: true, col: plain("suppression_reason")},
		{Name: "connector", Type: TypeObject, Description: "The connector that received the alert; null once deleted.", col: object("connector_id")},
		{Name: "connector.name", Type: TypeString, Description: `The connector's name; "" without a connector.`, Groupable: true,
			col: related("connector_id", "connectors", "name")},
		{Name: "connector.type", Type: TypeString, Description: `The connector's catalogue type; "" without a connector.`, Groupable: true,
			col: related("connector_id", "connectors", "type")},
	}
	alertFields = append(alertFields, assigneeFields("alert")...)
	alertFields = append(alertFields, []*Field{
		{Name: "tags", Type: TypeStringList, Description: "Labels on the alert.", col: jsonList("tags")},
		{Name: "techniques", Type: TypeStringList, Description: "MITRE ATT&CK technique ids, e.g. T1059.001.", col: jsonList("mitre")},
		{Name: "title", Type: TypeString, Description: "Title.", col: plain("title")},
		{Name: "description", Type: TypeString, Description: "Description.", col: plain("description")},
		{Name: "external_id", Type: TypeString, Description: `The vendor's id of the detection; "" when it sent none.`, col: plain("external_id")},
		{Name: "occurrences", Type: TypeInt, Description: "How many times the alert was seen (repeats deduplicated into it).", col: plain("occurrences")},
		{Name: "created_at", Type: TypeTimestamp, Description: "When Seliq first stored the alert.", col: plain("created_at")},
		{Name: "first_seen_at", Type: TypeTimestamp, Description: "First occurrence.", col: plain("first_seen_at")},
		{Name: "last_seen_at", Type: TypeTimestamp, Description: "Latest occurrence.", col: plain("last_seen_at")},
		{Name: "incident", Type: TypeObject, Description: "The incident the alert belongs to; null when it belongs to none.", col: object("incident_id")},
		{Name: "incident.number", Type: TypeInt, Description: "The incident's number; 0 when the alert belongs to none.",
			col: related("incident_id", "incidents", "number")},
		{Name: "incident.status", Type: TypeString, Description: `The incident's status; "" when the alert belongs to none.`, Groupable: true,
			Values: append([]string{""}, enum.IncidentStatus("").Values()...), col: related("incident_id", "incidents", "status")},
		{Name: "attributes", Type: TypeStringMap, Description: `The vendor fields the connector mapped: attributes.rule, attributes.host, attributes.user, attributes.process…; a field the alert lacks reads "".`,
			col: column{kind: colAttributes, name: "attributes"}},
	}...)
	alertFields = append(alertFields, entityFields()...)
	register(&Source{Name: "alerts", Description: "Alerts in the triage queue.", timeField: "last_seen_at", Fields: alertFields})

	incidentFields := []*Field{
		{Name: "number", Type: TypeInt, Description: "The incident's number in its organisation.", col: plain("number")},
		{Name: "title", Type: TypeString, Description: "Title.", col: plain("title")},
		{Name: "description", Type: TypeString, Description: "Description.", col: plain("description")},
		severityField(),
		{Name: "status", Type: TypeString, Description: "Status.", Groupable: true, Values: enum.IncidentStatus("").Values(), col: plain("status")},
		{Name: "disposition", Type: TypeString, Description: `Disposition; "" while there is none.`, Groupable: true,
			Values: append([]string{""}, enum.Disposition("").Values()...), col: nullable("disposition")},
		{Name: "tags", Type: TypeStringList, Description: "Labels.", col: jsonList("tags")},
		{Name: "alert_count", Type: TypeInt, Description: "Alerts linked to the incident.", col: plain("alert_count")},
		{Name: "created_at", Type: TypeTimestamp, Description: "When the incident was opened.", col: plain("created_at")},
		{Name: "updated_at", Type: TypeTimestamp, Description: "Last change.", col: plain("updated_at")},
	}
	incidentFields = append(incidentFields, assigneeFields("incident")...)
	register(&Source{Name: "incidents", Description: "Incidents.", timeField: "created_at", Fields: incidentFields})

	register(&Source{Name: "activity", Description: "The activity log: every recorded change.", timeField: "created_at", Fields: []*Field{
		{Name: "action", Type: TypeString, Description: "What was done, e.g. update, create, delete.", Groupable: true, col: plain("action")},
		{Name: "entity_type", Type: TypeString, Description: "The kind of object changed, e.g. alert, incident.", Groupable: true, col: plain("entity_type")},
		{Name: "field", Type: TypeString, Description: `The field changed; "" for a whole-object action.`, Groupable: true, col: plain("field")},
		{Name: "actor", Type: TypeObject, Description: "The user who acted; null for the system.", col: object("actor_id")},
		{Name: "actor.name", Type: TypeString, Description: `The actor's name as recorded; "" for the system.`, Groupable: true, col: plain("actor_name")},
		{Name: "actor.email", Type: TypeString, Description: `The actor's email; "" for the system or a deleted user.`, Groupable: true,
			col: related("actor_id", "users", "email")},
		{Name: "created_at", Type: TypeTimestamp, Description: "When it happened.", col: plain("created_at")},
	}})
}
