package trigger

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/opt"
)

// CreateInput is a new trigger.
type CreateInput struct {
	Name           string
	Enabled        *bool
	Event          enum.TriggerEvent
	Condition      *string
	Actions        json.RawMessage
	StopProcessing *bool
	// Position is its place among the event's triggers from 1; nil puts it last.
	Position    *int
	ActiveFrom  *time.Time
	ActiveUntil *time.Time
	Schedule    *schematype.TriggerSchedule
}

// UpdateInput changes a trigger; absent fields keep their value, and the
// period and schedule set to null are cleared.
type UpdateInput struct {
	Name           *string
	Enabled        *bool
	Event          *enum.TriggerEvent
	Condition      *string
	Actions        json.RawMessage
	StopProcessing *bool
	ActiveFrom     opt.Value[*time.Time]
	ActiveUntil    opt.Value[*time.Time]
	Schedule       opt.Value[*schematype.TriggerSchedule]
}

// ReorderInput moves a trigger: exactly one of the three.
type ReorderInput struct {
	Position *int
	Before   *uuid.UUID
	After    *uuid.UUID
}

// TestInput picks the recent objects a trigger is tested against.
type TestInput struct {
	Limit *int
}

// TestResult is what a trigger would have done to recent objects.
type TestResult struct {
	Examined int          `json:"examined"`
	Matches  []*TestMatch `json:"matches"`
}

// TestMatch is one object the trigger matched and its actions' effects.
type TestMatch struct {
	ID      uuid.UUID       `json:"id"`
	Kind    string          `json:"kind"`
	Title   string          `json:"title"`
	Effects json.RawMessage `json:"effects"`
}
