package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
)

// The topics an event belongs to.
const (
	TopicAlert        = "alert"
	TopicIncident     = "incident"
	TopicNotification = "notification"
	// TopicPrincipal announces that a user's standing changed (a credential
	// revoked, a role or status changed): EntityID is the revoked session or
	// API token, or the user when all of it may have changed; UserID is the
	// user. Only watchers (Hub.Watch) receive it, never an organisation's
	// subscribers.
	TopicPrincipal = "principal"
	// TopicAutomation announces that an organisation's triggers changed
	// (EntityID is the trigger): every replica's trigger cache drops the
	// organisation's compiled triggers. Only watchers receive it.
	TopicAutomation = "automation"
)

// The kinds of change an event announces.
const (
	KindCreated = "created"
	KindUpdated = "updated"
	KindMerged  = "merged"
	KindDeleted = "deleted"
)

var (
	topics = []string{TopicAlert, TopicIncident, TopicNotification, TopicPrincipal, TopicAutomation}
	kinds  = []string{KindCreated, KindUpdated, KindMerged, KindDeleted}
)

// recordChunk bounds the rows of one INSERT: 1000 rows of 6 columns stay
// far below the bind-parameter limits of both dialects.
const recordChunk = 1000

// Event is what subscribers receive: a mirror of one outbox row. It names
// the entity, not its content; the receiver loads the entity as the viewer.
type Event struct {
	ID             int64
	OrganizationID uuid.UUID
	Topic, Kind    string
	EntityID       uuid.UUID
	// UserID is the one recipient of a notification.
	UserID    *uuid.UUID
	CreatedAt time.Time
}

// Record inserts events with client, one statement per 1000 rows. Pass the
// client of the transaction that makes the change, so the events exist
// exactly when the change does. ID and CreatedAt are assigned by the
// database and ignored here. All events are validated before any is written.
func Record(ctx context.Context, client *ent.Client, events ...Event) error {
	for i := range events {
		if err := events[i].validate(); err != nil {
			return fmt.Errorf("record event %d: %w", i, err)
		}
	}
	for chunk := range slices.Chunk(events, recordChunk) {
		builders := make([]*ent.EventCreate, len(chunk))
		for i, e := range chunk {
			builders[i] = client.Event.Create().
				SetOrganizationID(e.OrganizationID).
				SetTopic(e.Topic).
				SetKind(e.Kind).
				SetEntityID(e.EntityID).
				SetNillableUserID(e.UserID)
		}
		if err := client.Event.CreateBulk(builders...).Exec(ctx); err != nil {
			return fmt.Errorf("record events: %w", err)
		}
	}
	return nil
}

func (e *Event) validate() error {
	switch {
	case e.OrganizationID == uuid.Nil:
		return errors.New("organization id is required")
	case e.EntityID == uuid.Nil:
		return errors.New("entity id is required")
	case !slices.Contains(topics, e.Topic):
		return fmt.Errorf("unknown topic %q", e.Topic)
	case !slices.Contains(kinds, e.Kind):
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	return nil
}

// fromRows copies outbox rows into the events subscribers receive.
func fromRows(rows []*ent.Event) []Event {
	events := make([]Event, len(rows))
	for i, r := range rows {
		events[i] = Event{
			ID:             r.ID,
			OrganizationID: r.OrganizationID,
			Topic:          r.Topic,
			Kind:           r.Kind,
			EntityID:       r.EntityID,
			UserID:         r.UserID,
			CreatedAt:      r.CreatedAt,
		}
	}
	return events
}
