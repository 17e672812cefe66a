package incidents

import (
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/opt"
)

// CreateIncidentInput opens an incident, from scratch or from alerts.
type CreateIncidentInput struct {
	Title       string         `json:"title"`
	Description *string        `json:"description,omitempty"`
	Summary     *string        `json:"summary,omitempty"`
	Severity    *enum.Severity `json:"severity,omitempty"`
	AssigneeID  *uuid.UUID     `json:"assigneeID,omitempty"`
	GroupID     *uuid.UUID     `json:"groupID,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
	// AlertIDs are linked at creation (moved from their incidents, if any).
	AlertIDs []uuid.UUID `json:"alertIDs,omitempty"`
}

// UpdateIncidentInput is a patch of one incident; nil leaves a field as it is.
type UpdateIncidentInput struct {
	Title       *string                      `json:"title,omitempty"`
	Description *string                      `json:"description,omitempty"`
	Summary     *string                      `json:"summary,omitempty"`
	Severity    *enum.Severity               `json:"severity,omitempty"`
	Status      *enum.IncidentStatus         `json:"status,omitempty"`
	Disposition opt.Value[*enum.Disposition] `json:"disposition"`
	AssigneeID  opt.Value[*uuid.UUID]        `json:"assigneeID"`
	GroupID     opt.Value[*uuid.UUID]        `json:"groupID"`
	Tags        []string                     `json:"tags,omitempty"`
}

// IncidentFilter selects incidents: values within a field are
// alternatives, fields combine with AND.
type IncidentFilter struct {
	Status     []enum.IncidentStatus `json:"status,omitempty"`
	Severity   []enum.Severity       `json:"severity,omitempty"`
	AssigneeID []uuid.UUID           `json:"assigneeID,omitempty"`
	Unassigned *bool                 `json:"unassigned,omitempty"`
	GroupID    []uuid.UUID           `json:"groupID,omitempty"`
	Tag        []string              `json:"tag,omitempty"`
	Q          *string               `json:"q,omitempty"`
	Since      *time.Time            `json:"since,omitempty"`
	Until      *time.Time            `json:"until,omitempty"`
	// Query is an expression of the query language over incidents,
	// combined with the other fields by AND.
	Query *string `json:"query,omitempty"`
	// SLAState keeps incidents with a timer in any of these states.
	SLAState []enum.SLAState `json:"slaState,omitempty"`
	// Organization "all" lists the SLA queue across a provider's whole
	// tree (see treeScope); with it, SLAState is required.
	Organization *string `json:"organization,omitempty"`
}

// LinkAlertsInput names the alerts to link.
type LinkAlertsInput struct {
	AlertIDs []uuid.UUID `json:"alertIDs"`
}

// LinkAlertsPayload reports what linking did.
type LinkAlertsPayload struct {
	Incident *ent.Incident `json:"incident"`
	// Linked counts alerts newly linked, Moved those of them taken from
	// another incident; alerts already linked here count in neither.
	Linked int `json:"linked"`
	Moved  int `json:"moved"`
}

// TimelineEventInput is a manual timeline entry.
type TimelineEventInput struct {
	Title       string     `json:"title"`
	Description *string    `json:"description,omitempty"`
	OccurredAt  *time.Time `json:"occurredAt,omitempty"`
}

// UpdateTimelineEventInput patches a manual timeline entry.
type UpdateTimelineEventInput struct {
	Title       *string    `json:"title,omitempty"`
	Description *string    `json:"description,omitempty"`
	OccurredAt  *time.Time `json:"occurredAt,omitempty"`
}
