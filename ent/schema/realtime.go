package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Event is one row of the realtime outbox: written in the transaction of
// the change it announces, so it exists exactly when the change does, and
// read after commit by every replica's hub, which fans it out to the
// subscribers allowed to see it. Its id only grows, so a hub or a client
// resumes from the last id it saw and misses nothing. Rows carry ids, not
// objects: the receiving replica loads the object as the subscriber.
type Event struct{ ent.Schema }

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id").Immutable(),
		field.UUID("organization_id", uuid.UUID{}).Immutable(),
		field.String("topic").NotEmpty().Immutable().Comment("alert, incident or notification"),
		field.String("kind").NotEmpty().Immutable().Comment("created, updated, merged or deleted"),
		field.UUID("entity_id", uuid.UUID{}).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Optional().Nillable().Immutable().Comment("the one recipient, for notifications"),
		field.Time("created_at").Default(now).Immutable(),
	}
}

// Indexes of the Event.
func (Event) Indexes() []ent.Index {
	// Pruning deletes by age.
	return []ent.Index{index.Fields("created_at")}
}

// Annotations of the Event.
func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(), entsql.Annotation{Table: "realtime_events"}}
}
