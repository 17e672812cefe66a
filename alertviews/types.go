package alertviews

import "github.com/seliq/seliq/ent/schematype"

// CreateAlertViewInput declares a saved view of the alert queue.
type CreateAlertViewInput struct {
	Name    string                  `json:"name"`
	Shared  *bool                   `json:"shared,omitempty"`
	Filters *schematype.AlertFilter `json:"filters,omitempty"`
	Sort    *string                 `json:"sort,omitempty"`
	Columns []string                `json:"columns,omitempty"`
}

// UpdateAlertViewInput changes a view; nil leaves a field unchanged.
type UpdateAlertViewInput struct {
	Name    *string                 `json:"name,omitempty"`
	Shared  *bool                   `json:"shared,omitempty"`
	Filters *schematype.AlertFilter `json:"filters,omitempty"`
	Sort    *string                 `json:"sort,omitempty"`
	Columns []string                `json:"columns,omitempty"`
}
