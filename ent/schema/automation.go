package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
)

// AutomationMacro is a macro: a named list of actions an analyst applies
// to alerts or incidents (package automation). Macro in GraphQL; the ent
// type is named apart from the retired macros table, since ent names
// indexes after the type and that table's indexes may remain.
type AutomationMacro struct{ ent.Schema }

// Mixin of the AutomationMacro.
func (AutomationMacro) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the AutomationMacro.
func (AutomationMacro) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("What the macro is called, 1 to 200 characters, unique in the organisation.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Text("description").Comment("What the macro is for.").Default(""),
		field.Enum("target").Comment("What it applies to: alerts or incidents.").GoType(enum.AutomationTarget("")).
			Annotations(entgql.Type("AutomationTarget")),
		// Returned through a resolver that strips webhook secrets.
		field.JSON("actions", []schematype.Action{}).Annotations(entgql.Skip()),
		field.UUID("author_id", uuid.UUID{}).Comment("The user who created it; null once deleted.").Optional().Nillable(),
	}
}

// Edges of the AutomationMacro.
func (AutomationMacro) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("author", User.Type).Comment("The user who created it.").Field("author_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the AutomationMacro.
func (AutomationMacro) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "name").Unique(), index.Fields("author_id")}
}

// Annotations of the AutomationMacro: the table is automation_macros, since a retired
// macros table may remain in old databases.
func (AutomationMacro) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("automation_macros"), entgql.Type("Macro"), entgql.RelayConnection()}
}

// Correlation is an organisation's open correlation key (a link_incident
// action's incident_key) and the incident it opened. The unique row is the
// lock that makes concurrent alerts of one key, on any replica, open one
// incident: each transaction upserts it first and waits for the other.
type Correlation struct{ ent.Schema }

// Mixin of the Correlation.
func (Correlation) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Correlation.
func (Correlation) Fields() []ent.Field {
	return []ent.Field{
		// key_hash is the SHA-256 of the evaluated key, so any key fits the index.
		field.String("key_hash").NotEmpty(),
		field.Text("key").Default(""),
		field.UUID("incident_id", uuid.UUID{}).Optional().Nillable(),
		field.Time("opened_at").Optional().Nillable(),
	}
}

// Indexes of the Correlation.
func (Correlation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "key_hash").Unique()}
}

// Annotations of the Correlation.
func (Correlation) Annotations() []schema.Annotation {
	return append(hidden(), entsql.Table("automation_correlations"))
}
