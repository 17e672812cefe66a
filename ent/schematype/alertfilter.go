package schematype

import (
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
)

// AlertFilter selects alerts in the triage queue. It is the GraphQL
// AlertFilter input, the REST list's query parameters, a saved view's
// filters and a bulk action's target, so that all four mean the same thing.
// Within a field values are alternatives (OR); fields combine with AND.
type AlertFilter struct {
	Status      []enum.AlertStatus `json:"status,omitempty"`
	Severity    []enum.Severity    `json:"severity,omitempty"`
	Source      []string           `json:"source,omitempty"`
	ConnectorID []uuid.UUID        `json:"connector_id,omitempty"`
	AssigneeID  []uuid.UUID        `json:"assignee_id,omitempty"`
	// Unassigned selects alerts nobody owns (OR with AssigneeID).
	Unassigned *bool `json:"unassigned,omitempty"`
	// Tag matches alerts carrying any of the tags.
	Tag []string `json:"tag,omitempty"`
	// Entity matches alerts with an extracted entity of exactly this value.
	Entity *string `json:"entity,omitempty"`
	// Since and Until bound last_seen_at: [Since, Until).
	Since *time.Time `json:"since,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// Q is free text, matched case-insensitively in the title, the
	// description and the rule name (attributes.rule).
	Q          *string    `json:"q,omitempty"`
	IncidentID *uuid.UUID `json:"incident_id,omitempty"`
	// Query is an expression of the query language over alerts, combined
	// with the other fields by AND.
	Query *string `json:"query,omitempty"`
}
