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
		field.String("title").Comment("One-line summary.").NotEmpty().MaxLen(1000).Annotations(entgql.OrderField("TITLE")),
		field.Text("description").Comment("What happened, in detail.").Default(""),
		field.Text("summary").Default("").Comment("manual summary; overrides the AI one in client reports"),
		field.Text("ai_summary").Comment("The AI analyst's summary; empty until written.").Default(""),
		field.Enum("severity").Comment("How bad it is.").GoType(enum.Severity("")).Default(string(enum.SeverityMedium)).
			Annotations(entgql.Type("Severity")),
		// severity_rank orders by severity, as on alerts.
		field.Int("severity_rank").Default(3).
			Annotations(entgql.OrderField("SEVERITY"), entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Enum("status").Comment("Where the incident is in its lifecycle.").GoType(enum.IncidentStatus("")).Default(string(enum.IncidentStatusNew)).
			Annotations(entgql.Type("IncidentStatus"), entgql.OrderField("STATUS")),
		field.Enum("disposition").Comment("The verdict; set when closed.").GoType(enum.Disposition("")).Optional().Nillable().
			Annotations(entgql.Type("Disposition")),
		field.UUID("assignee_id", uuid.UUID{}).Comment("The user who owns it; null when unassigned.").Optional().Nillable(),
		field.UUID("group_id", uuid.UUID{}).Comment("The group that owns it; null when none.").Optional().Nillable(),
		field.Strings("tags").Comment("Labels.").Optional(),
		// alert_count is kept by linking and unlinking in the same
		// transaction, so a list of incidents shows counts without a
		// COUNT per row.
		field.Int("alert_count").Comment("How many alerts are linked.").Default(0).Annotations(entgql.OrderField("ALERT_COUNT")),
		field.Time("acknowledged_at").Comment("When work on it started; null before.").Optional().Nillable(),
		field.Time("closed_at").Comment("When it was closed; null while open.").Optional().Nillable(),
		field.Time("sla_ack_breached_at").Comment("When the acknowledgement deadline passed unmet; null if it was met or is still ahead.").Optional().Nillable(),
		field.Time("sla_resolve_breached_at").Comment("When the resolution deadline passed unmet; null if it was met or is still ahead.").Optional().Nillable(),
		// The SLA timers (package sla): each due time is null when the
		// organisation's settings do not track that timer for the severity.
		// The at-risk and breach stamps are written once, by a conditional
		// UPDATE, so that the job firing them is exactly-once.
		field.Time("sla_ack_due_at").Comment("When the incident must be acknowledged by; null when not tracked.").Optional().Nillable(),
		field.Time("sla_resolve_due_at").Comment("When the incident must be closed by; null when not tracked.").Optional().Nillable(),
		field.Time("sla_ack_at_risk_at").Comment("When 75 % of the acknowledgement window was used up unmet; null before.").Optional().Nillable(),
		field.Time("sla_resolve_at_risk_at").Comment("When 75 % of the resolution window was used up unmet; null before.").Optional().Nillable(),
		field.Time("sla_due_at").Comment("The earliest due time of the timers not yet met (breached ones included); null when none is running.").Optional().Nillable().
			Annotations(entgql.OrderField("SLA_DUE_AT")),
	}
}

// Edges of the Incident.
func (Incident) Edges() []ent.Edge {
	return []ent.Edge{
		// Linked alerts, timeline and reports are paged by their own
		// queries (capped page sizes, typed orders), not as edges.
		edge.To("alerts", Alert.Type).Annotations(entgql.Skip()),
		edge.To("assignee", User.Type).Comment("The user who owns it.").Field("assignee_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("group", Group.Type).Comment("The group that owns it.").Field("group_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
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
		index.Fields("organization_id", "sla_due_at"),
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
		field.UUID("incident_id", uuid.UUID{}).Comment("The incident it belongs to.").Immutable(),
		field.Enum("kind").Comment("What kind of event it is.").GoType(enum.TimelineKind("")).Immutable().Annotations(entgql.Type("TimelineKind")),
		field.String("title").Comment("One-line summary.").NotEmpty().MaxLen(1000),
		field.Text("description").Comment("Details.").Default(""),
		field.Time("occurred_at").Comment("When it happened.").Default(now).Annotations(entgql.OrderField("OCCURRED_AT")),
		field.Bool("automatic").Default(true).Immutable().Comment("automatic events cannot be edited or deleted"),
		field.UUID("actor_id", uuid.UUID{}).Comment("The user who did it; null for automatic events or a deleted user.").Optional().Nillable(),
		field.String("actor_name").Default("").Comment("kept when the actor is deleted"),
		field.JSON("data", map[string]any{}).Comment("Details of an automatic event (the old and new value, the alert linked...).").Optional().Annotations(entgql.Type("Map")),
	}
}

// Edges of the TimelineEvent.
func (TimelineEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("incident", Incident.Type).Ref("timeline").Field("incident_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("actor", User.Type).Comment("The user who did it.").Field("actor_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
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
		field.UUID("alert_id", uuid.UUID{}).Comment("The alert it is on; null for an incident note.").Optional().Nillable().Immutable(),
		field.UUID("incident_id", uuid.UUID{}).Comment("The incident it is on; null for an alert note.").Optional().Nillable().Immutable(),
		field.UUID("author_id", uuid.UUID{}).Comment("Who wrote it; null when the author was deleted.").Optional().Nillable(),
		field.String("author_name").Default("").Comment("kept when the author is deleted"),
		field.Text("body").Comment("The note, Markdown.").NotEmpty(),
		field.Strings("mentions").Comment("Handles of the users it mentions.").Optional(),
	}
}

// Edges of the Note.
func (Note) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("alert", Alert.Type).Comment("The alert it is on.").Field("alert_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("incident", Incident.Type).Comment("The incident it is on.").Field("incident_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("author", User.Type).Comment("Who wrote it.").Field("author_id").Unique(),
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
		field.UUID("actor_id", uuid.UUID{}).Comment("Who made the change; null for the system or a deleted user.").Optional().Nillable(),
		field.String("actor_name").Comment("Who made the change, kept when the user is deleted.").Default(""),
		field.String("entity_type").Comment("What kind of object changed: alert, incident, connector...").NotEmpty(),
		field.UUID("entity_id", uuid.UUID{}).Comment("The object that changed.").Annotations(entgql.Type("ID")),
		field.String("action").Comment("What was done: create, update, delete...").NotEmpty(),
		field.String("field").Comment("The field that changed; empty for the whole object.").Default(""),
		field.JSON("before", json.RawMessage{}).Comment("The value before the change.").Optional().Annotations(entgql.Type("JSON")),
		field.JSON("after", json.RawMessage{}).Comment("The value after the change.").Optional().Annotations(entgql.Type("JSON")),
	}
}

// Edges of the Activity.
func (Activity) Edges() []ent.Edge {
	return []ent.Edge{edge.To("actor", User.Type).Comment("Who made the change.").Field("actor_id").Unique()}
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
		field.UUID("incident_id", uuid.UUID{}).Comment("The incident it reports on.").Immutable(),
		field.Enum("kind").Comment("Who it is for.").GoType(enum.ReportKind("")).Immutable().Annotations(entgql.Type("ReportKind")),
		field.Enum("format").Comment("Its file format.").GoType(enum.ReportFormat("")).Immutable().Annotations(entgql.Type("ReportFormat")),
		field.Enum("status").Comment("Whether it is rendered yet.").GoType(enum.JobStatus("")).Default(string(enum.JobStatusPending)).
			Annotations(entgql.Type("JobStatus")),
		field.String("file_name").Comment("The file name it downloads as.").Default(""),
		field.String("content_type").Comment("The media type of the file.").Default(""),
		field.Int("size").Default(0).Comment("bytes of content"),
		// content is served by the download route, never inside a listing.
		field.Bytes("content").Optional().Annotations(entgql.Skip()),
		field.Text("error").Comment("Why rendering failed; empty otherwise.").Default(""),
		field.Int("attempts").Default(0).Comment("renders started; a restart mid-render starts another"),
		field.Int("render_ms").Comment("How long rendering took, in milliseconds.").Default(0),
		field.Time("completed_at").Comment("When rendering finished; null before.").Optional().Nillable(),
		field.UUID("created_by_id", uuid.UUID{}).Comment("Who asked for it; null when that user was deleted.").Optional().Nillable(),
	}
}

// Edges of the Report.
func (Report) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("incident", Incident.Type).Ref("reports").Field("incident_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("created_by", User.Type).Comment("Who asked for it.").Field("created_by_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Report.
func (Report) Indexes() []ent.Index {
	return []ent.Index{index.Fields("incident_id", "created_at"), index.Fields("status")}
}

// Annotations of the Report.
func (Report) Annotations() []schema.Annotation { return nil }
