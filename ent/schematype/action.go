package schematype

import "github.com/google/uuid"

// Action is one step of an automation action list (a macro's or a
// trigger's), in the shape REST clients send and the database stores; the
// automation/action package parses and validates it and runs it. Which
// parameters an action takes depends on its Type; the others stay empty.
type Action struct {
	Type string `json:"type"`
	// set_severity
	Severity string `json:"severity,omitempty"`
	// add_tags, remove_tags
	Tags []string `json:"tags,omitempty"`
	// set_status, suppress
	Status      string `json:"status,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	// assign (one of), notify
	UserID  *uuid.UUID `json:"user_id,omitempty"`
	GroupID *uuid.UUID `json:"group_id,omitempty"`
	// link_incident: an incident, or a correlation key and its window
	IncidentID  *uuid.UUID `json:"incident_id,omitempty"`
	IncidentKey string     `json:"incident_key,omitempty"`
	Window      string     `json:"window,omitempty"`
	// notify
	UserIDs    []uuid.UUID `json:"user_ids,omitempty"`
	GroupIDs   []uuid.UUID `json:"group_ids,omitempty"`
	ContactIDs []uuid.UUID `json:"contact_ids,omitempty"`
	Channels   []string    `json:"channels,omitempty"`
	Message    string      `json:"message,omitempty"`
	// webhook: Secret is write-only; what is stored is SecretSealed
	// (internal/secrets), and neither is ever returned.
	URL          string `json:"url,omitempty"`
	Secret       string `json:"secret,omitempty"`
	SecretSealed string `json:"secret_sealed,omitempty"`
	// apply_macro
	MacroID *uuid.UUID `json:"macro_id,omitempty"`
	// suppress
	Reason string `json:"reason,omitempty"`
}
