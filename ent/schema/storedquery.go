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

	"github.com/seliq/seliq/enum"
)

// StoredQuery is a named query-language expression over one source, with how
// to show its result, private to its author or shared with the organisation
// (GraphQL's SavedQuery).
type StoredQuery struct{ ent.Schema }

// Mixin of the StoredQuery.
func (StoredQuery) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the StoredQuery.
func (StoredQuery) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("What the query is called, 1 to 200 characters.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Text("description").Comment("What the query is for.").Default(""),
		field.String("source").Comment("The source it queries: alerts, incidents or activity.").NotEmpty(),
		// query compiled when saved; it is compiled again on every run, since
		// the fields of a source can change between releases.
		field.Text("query").Comment("The expression of the query language.").Default(""),
		field.String("sort").Comment("The default order of rows: a field, - first for descending; empty for the source's time field, newest first.").Default(""),
		field.Strings("group_by").Comment("The default grouping: fields to count per value of.").Optional(),
		field.String("interval").Comment("The default time-series interval (1m … 1w); empty for none.").Default(""),
		field.Enum("visibility").Comment("Who sees it: its author alone, or the organisation.").GoType(enum.Visibility("")).Default(string(enum.VisibilityPrivate)).
			Annotations(entgql.Type("Visibility")),
		field.UUID("author_id", uuid.UUID{}).Comment("The user who wrote it; null once deleted.").Optional().Nillable(),
	}
}

// Edges of the StoredQuery.
func (StoredQuery) Edges() []ent.Edge {
	return []ent.Edge{
		// A deleted author's shared queries stay with the organisation.
		edge.To("author", User.Type).Comment("The user who wrote it.").Field("author_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the StoredQuery.
func (StoredQuery) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "visibility", "name"), index.Fields("author_id")}
}

// Annotations of the StoredQuery. It is not named SavedQuery in ent: a
// first design's saved_queries table and its indexes may remain in old
// databases (storage keeps retired tables and their rows untouched), and
// ent names tables and indexes after the type. GraphQL calls it SavedQuery.
func (StoredQuery) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Type("SavedQuery")}
}
