package schema

import (
	"context"
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	gen "github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/hook"
	"github.com/seliq/seliq/enum"
)

// Incident groups alerts into the unit of work analysts own and clients read.
type Incident struct{ ent.Schema }

// Mixin of the Incident.
func (Incident) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Incident.
func (Incident) Fields() []ent.Field {
	return []ent.Field{
		field.Int("number").Immutable().Comment("per-organisation running number").
			Annotations(entgql.OrderField("NUMBER")),
		field.String("title").NotEmpty().MaxLen(1000).Annotations(entgql.OrderField("TITLE")),
		field.Text("description").Default(""),
		field.Text("summary").Default("").Comment("manual summary; overrides the AI one in client reports"),
		field.Text("ai_summary").Default(""),
		field.Enum("severity").GoType(enum.Severity("")).Default(string(enum.SeverityMedium)).
			Annotations(entgql.Type("Severity")),
		// severity_rank orders by severity, as on alerts.
		field.Int("severity_rank").Default(3).
			Annotations(entgql.OrderField("SEVERITY"), entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Enum("status").GoType(enum.IncidentStatus("")).Default(string(enum.IncidentStatusNew)).
			Annotations(entgql.Type("IncidentStatus"), entgql.OrderField("STATUS")),
		field.Enum("disposition").GoType(enum.Disposition("")).Optional().Nillable().
			Annotations(entgql.Type("Disposition")),
		field.UUID("assignee_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("group_id", uuid.UUID{}).Optional().Nillable(),
		field.Strings("tags").Optional(),
		// alert_count is kept by linking and unlinking in the same
		// transaction, so a list of incidents shows counts without a
		// COUNT per row.
		field.Int("alert_count").Default(0).Annotations(entgql.OrderField("ALERT_COUNT")),
		field.Time("acknowledged_at").Optional().Nillable(),
		field.Time("closed_at").Optional().Nillable(),
		field.Time("sla_ack_breached_at").Optional().Nillable(),
		field.Time("sla_resolve_breached_at").Optional().Nillable(),
	}
}

// Edges of the Incident.
func (Incident) Edges() []ent.Edge {
	return []ent.Edge{
		// Linked alerts, timeline and reports are paged by their own
		// queries (capped page sizes, typed orders), not as edges.
		edge.To("alerts", Alert.Type).Annotations(entgql.Skip()),
		edge.To("assignee", User.Type).Field("assignee_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("group", Group.Type).Field("group_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("timeline", TimelineEvent.Type).Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip()),
		edge.To("reports", Report.Type).Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip()),
	}
}

// Indexes of the Incident.
func (Incident) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "number").Unique(),
		index.Fields("organization_id", "status", "created_at"),
		index.Fields("organization_id", "severity_rank", "id"),
		index.Fields("organization_id", "assignee_id", "created_at"),
	}
}

// Hooks of the Incident.
func (Incident) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(keepIncidentSeverityRank, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)}
}

// keepIncidentSeverityRank derives severity_rank whenever severity is written.
func keepIncidentSeverityRank(next ent.Mutator) ent.Mutator {
	return hook.IncidentFunc(func(ctx context.Context, m *gen.IncidentMutation) (gen.Value, error) {
		if s, ok := m.Severity(); ok {
			m.SetSeverityRank(s.Rank())
		}
		return next.Mutate(ctx, m)
	})
}

// Annotations of the Incident.
func (Incident) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// TimelineEvent is one dated entry of an incident's story.
type TimelineEvent struct{ ent.Schema }

// Mixin of the TimelineEvent.
func (TimelineEvent) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the TimelineEvent.
func (TimelineEvent) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("incident_id", uuid.UUID{}).Immutable(),
		field.Enum("kind").GoType(enum.TimelineKind("")).Immutable().Annotations(entgql.Type("TimelineKind")),
		field.String("title").NotEmpty().MaxLen(1000),
		field.Text("description").Default(""),
		field.Time("occurred_at").Default(now).Annotations(entgql.OrderField("OCCURRED_AT")),
		field.Bool("automatic").Default(true).Immutable().Comment("automatic events cannot be edited or deleted"),
		field.UUID("actor_id", uuid.UUID{}).Optional().Nillable(),
		field.String("actor_name").Default("").Comment("kept when the actor is deleted"),
		field.JSON("data", map[string]any{}).Optional().Annotations(entgql.Type("Map")),
	}
}

// Edges of the TimelineEvent.
func (TimelineEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("incident", Incident.Type).Ref("timeline").Field("incident_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("actor", User.Type).Field("actor_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the TimelineEvent.
func (TimelineEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("incident_id", "occurred_at")}
}

// Annotations of the TimelineEvent.
func (TimelineEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

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
		edge.To("incident", Incident.Type).Field("incident_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
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
		field.Enum("kind").GoType(enum.ReportKind("")).Immutable().Annotations(entgql.Type("ReportKind")),
		field.Enum("format").GoType(enum.ReportFormat("")).Immutable().Annotations(entgql.Type("ReportFormat")),
		field.Enum("status").GoType(enum.JobStatus("")).Default(string(enum.JobStatusPending)).
			Annotations(entgql.Type("JobStatus")),
		field.String("file_name").Default(""),
		field.String("content_type").Default(""),
		field.Int("size").Default(0).Comment("bytes of content"),
		// content is served by the download route, never inside a listing.
		field.Bytes("content").Optional().Annotations(entgql.Skip()),
		field.Text("error").Default(""),
		field.Int("attempts").Default(0).Comment("renders started; a restart mid-render starts another"),
		field.Int("render_ms").Default(0),
		field.Time("completed_at").Optional().Nillable(),
		field.UUID("created_by_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the Report.
func (Report) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("incident", Incident.Type).Ref("reports").Field("incident_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("created_by", User.Type).Field("created_by_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Report.
func (Report) Indexes() []ent.Index {
	return []ent.Index{index.Fields("incident_id", "created_at"), index.Fields("status")}
}

// Annotations of the Report.
func (Report) Annotations() []schema.Annotation { return nil }
