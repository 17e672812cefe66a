package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
)

// newID returns a time-ordered UUID (v7): random enough to be unguessable,
// ordered enough to keep B-tree inserts local on large tables.
func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// now is the default of every timestamp: UTC, because SQLite stores times
// as text and text order is time order only within one offset.
func now() time.Time { return time.Now().UTC() }

// BaseMixin gives every entity a UUID id, timestamps and the policy shared by
// all of them: nothing is read or written without a viewer in the context.
type BaseMixin struct{ mixin.Schema }

// Fields of the BaseMixin.
func (BaseMixin) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(newID).Immutable(),
		field.Time("created_at").Default(now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").Default(now).UpdateDefault(now).
			Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

// Policy of the BaseMixin.
func (BaseMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.DenyIfNoViewer()},
		Mutation: privacy.MutationPolicy{rule.DenyIfNoViewer(), rule.DenyIfReadOnly(), rule.DenyTreeWrites()},
	}
}

// TenantMixin marks an entity as owned by one organisation. Its policy
// confines every query and mutation to the organisation the viewer acts in,
// so no resolver can forget the filter.
type TenantMixin struct {
	mixin.Schema
	// CreatedCovered: the entity has its own index led by (organization_id,
	// created_at) (alerts: storage's alerts_created_cover), so the mixin's
	// would be a copy every write pays for and no read needs.
	CreatedCovered bool
}

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("organization_id", uuid.UUID{}).Immutable(),
	}
}

// Edges of the TenantMixin.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("organization", Organization.Type).Field("organization_id").
			Unique().Required().Immutable().Annotations(entgql.Skip()),
	}
}

// Indexes of the TenantMixin.
func (m TenantMixin) Indexes() []ent.Index {
	if m.CreatedCovered {
		return nil
	}
	return []ent.Index{index.Fields("organization_id", "created_at")}
}

// Policy of the TenantMixin.
func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.FilterTenant()},
		Mutation: privacy.MutationPolicy{rule.SetTenantOnCreate(), rule.FilterTenant()},
	}
}
