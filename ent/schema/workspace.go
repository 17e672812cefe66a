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

// Notification is one in-app message for one user.
type Notification struct{ ent.Schema }

// Mixin of the Notification.
func (Notification) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Comment("The user it is for.").Immutable(),
		field.Enum("kind").Comment("What it is about.").GoType(enum.NotificationKind("")).Immutable().Annotations(entgql.Type("NotificationKind")),
		field.String("title").Comment("One-line summary.").NotEmpty(),
		field.Text("body").Comment("Details.").Default(""),
		field.String("entity_type").Comment("What kind of object it is about: alert, incident...").Default(""),
		field.UUID("entity_id", uuid.UUID{}).Comment("The object it is about.").Optional().Nillable().Annotations(entgql.Type("ID")),
		field.Time("read_at").Comment("When the user read it; null while unread.").Optional().Nillable(),
	}
}

// Edges of the Notification.
func (Notification) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable().Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip()),
	}
}

// Indexes of the Notification.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "read_at", "created_at")}
}

// Annotations of the Notification.
func (Notification) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// ChatMessage is one turn of a conversation about an alert or an incident.
type ChatMessage struct{ ent.Schema }

// Mixin of the ChatMessage.
func (ChatMessage) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the ChatMessage.
func (ChatMessage) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("alert_id", uuid.UUID{}).Comment("The alert discussed; null for an incident chat.").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.UUID("incident_id", uuid.UUID{}).Comment("The incident discussed; null for an alert chat.").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.UUID("user_id", uuid.UUID{}).Optional().Nillable().Comment("who asked; set on the user's turns").
			Annotations(entgql.Type("ID")),
		field.Enum("role").Comment("Who wrote it.").GoType(enum.ChatRole("")).Annotations(entgql.Type("ChatRole")),
		field.Text("content").Comment("The message text."),
		field.Int("prompt_tokens").Comment("Tokens sent to the provider for this turn.").Default(0),
		field.Int("completion_tokens").Comment("Tokens the provider answered with.").Default(0),
	}
}

// Indexes of the ChatMessage.
func (ChatMessage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("alert_id", "created_at"), index.Fields("incident_id", "created_at")}
}

// Annotations of the ChatMessage.
func (ChatMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Analysis is an AI triage result for an alert or an incident.
type Analysis struct{ ent.Schema }

// Mixin of the Analysis.
func (Analysis) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Analysis.
func (Analysis) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("alert_id", uuid.UUID{}).Comment("The alert analysed; null for an incident analysis.").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.UUID("incident_id", uuid.UUID{}).Comment("The incident analysed; null for an alert analysis.").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.Enum("status").Comment("Whether it is done yet.").GoType(enum.JobStatus("")).Default(string(enum.JobStatusPending)).
			Annotations(entgql.Type("JobStatus")),
		field.String("provider").Comment("Who analysed: builtin, openai_compatible or anthropic.").Default("builtin"),
		field.String("model").Comment("The model used; empty for the built-in analyst.").Default(""),
		field.String("verdict").Comment("The conclusion, e.g. likely_malicious.").Default(""),
		field.Float("confidence").Comment("How sure the verdict is, 0 to 1.").Default(0),
		field.Enum("severity").Comment("The severity the analysis suggests; null for none.").GoType(enum.Severity("")).Optional().Nillable().Annotations(entgql.Type("Severity")),
		// result is the whole analysis: summary, reasons, techniques, IOCs,
		// related items and next steps.
		field.JSON("result", map[string]any{}).Comment("The whole analysis: summary, reasons, techniques, indicators, related items and next steps.").Optional().Annotations(entgql.Type("Map")),
		field.Int("prompt_tokens").Comment("Tokens sent to the provider.").Default(0),
		field.Int("completion_tokens").Comment("Tokens the provider answered with.").Default(0),
		field.Bool("flagged_inaccurate").Comment("Whether an analyst flagged it as wrong.").Default(false),
		field.Text("error").Comment("Why it failed; empty otherwise.").Default(""),
		field.Time("completed_at").Comment("When it finished; null before.").Optional().Nillable(),
		// requested_by is the user who asked for the analysis (nil for
		// automatic ones), kept on the row so that a job queued again at
		// start (Resume) records its token usage for the same user.
		field.UUID("requested_by", uuid.UUID{}).Optional().Nillable().Immutable().Annotations(entgql.Skip()),
	}
}

// Indexes of the Analysis.
func (Analysis) Indexes() []ent.Index {
	return []ent.Index{index.Fields("alert_id", "created_at"), index.Fields("incident_id", "created_at")}
}

// Annotations of the Analysis.
func (Analysis) Annotations() []schema.Annotation { return nil }

// AIUsage records the tokens of one provider call, for quotas and reports.
type AIUsage struct{ ent.Schema }

// Mixin of the AIUsage.
func (AIUsage) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the AIUsage.
func (AIUsage) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Optional().Nillable(),
		field.String("feature").NotEmpty(),
		field.String("provider").NotEmpty(),
		field.String("model").Default(""),
		field.Int("prompt_tokens").Default(0),
		field.Int("completion_tokens").Default(0),
		// reserved_tokens is the budget a provider call holds against the
		// monthly quota while it runs (ai/config.Open); the call's Record
		// settles it to zero with the real tokens, and a call that ends
		// without usage deletes the row.
		field.Int("reserved_tokens").Default(0).NonNegative(),
	}
}

// Annotations of the AIUsage.
func (AIUsage) Annotations() []schema.Annotation { return hidden() }

// Setting is one organisation-wide settings document (ai, email, security,
// sla, report), stored as JSON so that each group evolves on its own.
type Setting struct{ ent.Schema }

// Mixin of the Setting.
func (Setting) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Setting.
func (Setting) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty(),
		field.JSON("value", map[string]any{}),
		field.Bytes("blob").Optional().Comment("binary payload, e.g. the uploaded report template"),
	}
}

// Indexes of the Setting.
func (Setting) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "key").Unique()}
}

// Annotations of the Setting.
func (Setting) Annotations() []schema.Annotation { return hidden() }
