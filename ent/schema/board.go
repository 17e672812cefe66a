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

// Board is a dashboard: a named grid of widgets, each a metric, a query or
// the SLA figures, private to its author or shared with the organisation
// (GraphQL's Dashboard).
type Board struct{ ent.Schema }

// Mixin of the Board.
func (Board) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Board.
func (Board) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("What the dashboard is called, 1 to 200 characters.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Text("description").Comment("What the dashboard is for.").Default(""),
		field.Enum("visibility").Comment("Who sees it: its author alone, or the organisation.").GoType(enum.Visibility("")).Default(string(enum.VisibilityPrivate)).
			Annotations(entgql.Type("Visibility")),
		field.UUID("author_id", uuid.UUID{}).Comment("The user who made it; null once deleted.").Optional().Nillable(),
		// Widgets are read and written whole with their dashboard; GraphQL
		// shows them through a resolver that also computes their data.
		field.JSON("widgets", []schematype.Widget{}).Comment("The widgets of the grid, validated together (ids, positions, overlap).").
			Annotations(entgql.Skip()),
	}
}

// Edges of the Board.
func (Board) Edges() []ent.Edge {
	return []ent.Edge{
		// A deleted author's shared dashboards stay with the organisation.
		edge.To("author", User.Type).Comment("The user who made it.").Field("author_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Board.
func (Board) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "visibility", "name"), index.Fields("author_id")}
}

// Annotations of the Board. It is not named Dashboard in ent: a first
// design's dashboards table and its indexes may remain in old databases
// (storage keeps retired tables and their rows untouched), and ent names
// tables and indexes after the type. GraphQL calls it Dashboard.
func (Board) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Type("Dashboard")}
}
