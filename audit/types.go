package audit

import (
	"time"

	"github.com/google/uuid"
)

// ActivitySearchInput narrows an activity search; nil fields match all.
type ActivitySearchInput struct {
	EntityType *string    `json:"entityType,omitempty"`
	EntityID   *uuid.UUID `json:"entityID,omitempty"`
	ActorID    *uuid.UUID `json:"actorID,omitempty"`
	Action     *string    `json:"action,omitempty"`
	Field      *string    `json:"field,omitempty"`
	Since      *time.Time `json:"since,omitempty"`
	Until      *time.Time `json:"until,omitempty"`
}
