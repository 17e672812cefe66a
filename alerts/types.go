package alerts

import (
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/opt"
)

// UpdateAlertInput is a patch of one alert; nil leaves a field unchanged.
type UpdateAlertInput struct {
	Status   *enum.AlertStatus `json:"status,omitempty"`
	Severity *enum.Severity    `json:"severity,omitempty"`
	// AssigneeID set to null unassigns.
	AssigneeID opt.Value[*uuid.UUID] `json:"assigneeID"`
	Tags       []string              `json:"tags,omitempty"`
	// Disposition set to null clears it (when reopening).
	Disposition opt.Value[*enum.Disposition] `json:"disposition"`
}

// AddNoteInput is the body of a note.
type AddNoteInput struct {
	Body string `json:"body"`
}

// BulkAlertsInput picks alerts by id or by filter and names one action.
type BulkAlertsInput struct {
	AlertIDs []uuid.UUID             `json:"alertIDs,omitempty"`
	Filter   *schematype.AlertFilter `json:"filter,omitempty"`
	Action   enum.BulkAlertAction    `json:"action"`
	Changes  *BulkAlertChanges       `json:"changes,omitempty"`
}

// BulkAlertChanges are the values a bulk action writes.
type BulkAlertChanges struct {
	Status      *enum.AlertStatus     `json:"status,omitempty"`
	Severity    *enum.Severity        `json:"severity,omitempty"`
	AssigneeID  opt.Value[*uuid.UUID] `json:"assigneeID"`
	Tags        []string              `json:"tags,omitempty"`
	AddTags     []string              `json:"addTags,omitempty"`
	RemoveTags  []string              `json:"removeTags,omitempty"`
	Disposition *enum.Disposition     `json:"disposition,omitempty"`
	IncidentID  *uuid.UUID            `json:"incidentID,omitempty"`
}

// BulkAlertsPayload reports what a bulk action did.
type BulkAlertsPayload struct {
	Action  enum.BulkAlertAction `json:"action"`
	Matched int                  `json:"matched"`
	Updated int                  `json:"updated"`
}

// FacetValue is the number of alerts with one value of a field; a nil Value
// counts alerts without one.
type FacetValue struct {
	Value *string `json:"value"`
	Count int     `json:"count"`
}

// AlertFacets are the value counts of the queue's filterable fields.
type AlertFacets struct {
	Status    []*FacetValue `json:"status"`
	Severity  []*FacetValue `json:"severity"`
	Source    []*FacetValue `json:"source"`
	Connector []*FacetValue `json:"connector"`
	Assignee  []*FacetValue `json:"assignee"`
	Tags      []*FacetValue `json:"tags"`
}
