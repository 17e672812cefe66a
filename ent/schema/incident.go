package schema

import (
	"encoding/json"
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

// Incident groups alerts into the unit of work analysts own and clients read.
type Incident struct{ ent.Schema }

// Mixin of the Incident.
func (Incident) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Incident.
func (Incident) Fields() []ent.Field {
	return []ent.Field{
		field.Int("number").Immutable().Comment("per-organisation running number"),
		field.String("title").NotEmpty().MaxLen(1000),
		field.Text("description").Default(""),
		field.Text("summary").Default("").Comment("manual summary; overrides the AI one in client reports"),
		field.Text("ai_summary").Default(""),
		field.Enum("severity").GoType(enum.Severity("")).Default(string(enum.SeverityMedium)),
		field.Enum("status").GoType(enum.IncidentStatus("")).Default(string(enum.IncidentStatusNew)),
		field.Enum("disposition").GoType(enum.Disposition("")).Optional().Nillable(),
		field.UUID("assignee_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("group_id", uuid.UUID{}).Optional().Nillable(),
		field.Strings("tags").Optional(),
		field.Time("acknowledged_at").Optional().Nillable(),
		field.Time("closed_at").Optional().Nillable(),
		field.Time("sla_ack_breached_at").Optional().Nillable(),
		field.Time("sla_resolve_breached_at").Optional().Nillable(),
	}
}

// Edges of the Incident.
func (Incident) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("alerts", Alert.Type),
		edge.To("assignee", User.Type).Field("assignee_id").Unique(),
		edge.To("group", Group.Type).Field("group_id").Unique(),
		edge.To("timeline", TimelineEvent.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("reports", Report.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Incident.
func (Incident) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "number").Unique(),
		index.Fields("organization_id", "status"),
	}
}

// Annotations of the Incident.
func (Incident) Annotations() []schema.Annotation { return hidden() }

// TimelineEvent is one dated entry of an incident's story.
type TimelineEvent struct{ ent.Schema }

// Mixin of the TimelineEvent.
func (TimelineEvent) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the TimelineEvent.
func (TimelineEvent) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("incident_id", uuid.UUID{}).Immutable(),
		field.Enum("kind").GoType(enum.TimelineKind("")),
		field.String("title").NotEmpty().MaxLen(1000),
		field.Text("description").Default(""),
		field.Time("occurred_at").Default(now),
		field.Bool("automatic").Default(true).Immutable().Comment("automatic events cannot be edited or deleted"),
		field.UUID("actor_id", uuid.UUID{}).Optional().Nillable(),
		field.JSON("data", map[string]any{}).Optional(),
	}
}

// Edges of the TimelineEvent.
func (TimelineEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("incident", Incident.Type).Ref("timeline").Field("incident_id").Unique().Required().Immutable(),
		edge.To("actor", User.Type).Field("actor_id").Unique(),
	}
}

// Indexes of the TimelineEvent.
func (TimelineEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("incident_id", "occurred_at")}
}

// Annotations of the TimelineEvent.
func (TimelineEvent) Annotations() []schema.Annotation { return hidden() }

// Note is an analyst's comment on an alert or an incident.
type Note struct{ ent.Schema }

// Mixin of the Note.
func (Note) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Note.
func (Note) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("alert_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.UUID("incident_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.UUID("author_id", uuid.UUID{}).Optional().Nillable(),
		field.String("author_name").Default("").Comment("kept when the author is deleted"),
		field.Text("body").NotEmpty(),
		field.Strings("mentions").Optional(),
	}
}

// Edges of the Note.
func (Note) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("alert", Alert.Type).Field("alert_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("incident", Incident.Type).Field("incident_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip()),
		edge.To("author", User.Type).Field("author_id").Unique(),
	}
}

// Annotations of the Note.
func (Note) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Activity is the audit record of one change: who, when, what, before, after.
type Activity struct{ ent.Schema }

// Mixin of the Activity.
func (Activity) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Activity.
func (Activity) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("actor_id", uuid.UUID{}).Optional().Nillable(),
		field.String("actor_name").Default(""),
		field.String("entity_type").NotEmpty(),
		field.UUID("entity_id", uuid.UUID{}).Annotations(entgql.Type("ID")),
		field.String("action").NotEmpty(),
		field.String("field").Default(""),
		field.JSON("before", json.RawMessage{}).Optional().Annotations(entgql.Type("JSON")),
		field.JSON("after", json.RawMessage{}).Optional().Annotations(entgql.Type("JSON")),
	}
}

// Edges of the Activity.
func (Activity) Edges() []ent.Edge {
	return []ent.Edge{edge.To("actor", User.Type).Field("actor_id").Unique()}
}

// Indexes of the Activity.
func (Activity) Indexes() []ent.Index {
	return []ent.Index{index.Fields("entity_type", "entity_id", "created_at")}
}

// Annotations of the Activity.
func (Activity) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Report is a rendered incident document, internal or client-facing.
type Report struct{ ent.Schema }

// Mixin of the Report.
func (Report) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Report.
func (Report) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("incident_id", uuid.UUID{}).Immutable(),
		field.Enum("kind").GoType(enum.ReportKind("")),
		field.Enum("format").GoType(enum.ReportFormat("")),
		field.Enum("status").GoType(enum.JobStatus("")).Default(string(enum.JobStatusPending)),
		field.String("file_name").Default(""),
		field.Bytes("content").Optional(),
		field.Text("error").Default(""),
		field.UUID("created_by_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the Report.
func (Report) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("incident", Incident.Type).Ref("reports").Field("incident_id").Unique().Required().Immutable(),
	}
}

// Annotations of the Report.
func (Report) Annotations() []schema.Annotation { return hidden() }
