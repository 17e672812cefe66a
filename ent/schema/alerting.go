package schema

import (
	"time"

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

// hidden keeps an entity out of the GraphQL schema until the issue that
// exposes it lands; the table exists now so the model does not churn later.
func hidden() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

// Connector is a security tool that sends (push) or is polled for (pull) alerts.
type Connector struct{ ent.Schema }

// Mixin of the Connector.
func (Connector) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Connector.
func (Connector) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("type").NotEmpty().Comment("catalogue entry, e.g. crowdstrike, wazuh, generic"),
		field.Enum("mode").GoType(enum.ConnectorMode("")).Default(string(enum.ConnectorModePush)),
		field.Bool("enabled").Default(true),
		field.JSON("settings", map[string]any{}).Optional(),
		field.Strings("dedup_fields").Optional(),
		field.Int("dedup_window_seconds").Default(600).Positive(),
		field.Int("poll_interval_seconds").Default(60).Positive(),
		field.Int("rate_limit_per_minute").Default(300).Positive(),
		field.String("key_prefix").Default(""),
		field.Bytes("key_hash").Unique().Sensitive(),
		field.Time("last_seen_at").Optional().Nillable(),
	}
}

// Annotations of the Connector.
func (Connector) Annotations() []schema.Annotation { return hidden() }

// Alert is one normalised detection from a connector.
type Alert struct{ ent.Schema }

// Mixin of the Alert.
func (Alert) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Alert.
func (Alert) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("connector_id", uuid.UUID{}).Optional().Nillable(),
		field.String("source").NotEmpty(),
		field.String("external_id").Default(""),
		field.String("title").NotEmpty().MaxLen(1000),
		field.Text("description").Default(""),
		field.Enum("severity").GoType(enum.Severity("")).Default(string(enum.SeverityMedium)),
		field.Enum("status").GoType(enum.AlertStatus("")).Default(string(enum.AlertStatusNew)),
		field.Enum("disposition").GoType(enum.Disposition("")).Optional().Nillable(),
		field.UUID("assignee_id", uuid.UUID{}).Optional().Nillable(),
		field.Strings("tags").Optional(),
		field.JSON("entities", []schematype.Entity{}).Optional(),
		field.Strings("mitre").Optional(),
		field.JSON("raw", map[string]any{}).Optional(),
		field.String("fingerprint").Default(""),
		field.Int("occurrences").Default(1),
		field.Time("first_seen_at").Default(time.Now),
		field.Time("last_seen_at").Default(time.Now),
		field.Time("event_time").Optional().Nillable(),
		field.Time("ingested_at").Default(time.Now).Immutable(),
		field.Time("acknowledged_at").Optional().Nillable(),
		field.Time("resolved_at").Optional().Nillable(),
		field.UUID("incident_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the Alert.
func (Alert) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("connector", Connector.Type).Field("connector_id").Unique(),
		edge.To("assignee", User.Type).Field("assignee_id").Unique(),
		edge.From("incident", Incident.Type).Ref("alerts").Field("incident_id").Unique(),
	}
}

// Indexes of the Alert.
func (Alert) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "status", "severity"),
		index.Fields("organization_id", "last_seen_at"),
		index.Fields("organization_id", "fingerprint"),
		index.Fields("connector_id", "external_id"),
	}
}

// Annotations of the Alert.
func (Alert) Annotations() []schema.Annotation { return hidden() }

// DeadLetter keeps a payload that parsed but could not be mapped.
type DeadLetter struct{ ent.Schema }

// Mixin of the DeadLetter.
func (DeadLetter) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the DeadLetter.
func (DeadLetter) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("connector_id", uuid.UUID{}),
		field.Text("reason"),
		field.Bytes("payload"),
	}
}

// Edges of the DeadLetter.
func (DeadLetter) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("connector", Connector.Type).Field("connector_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Annotations of the DeadLetter.
func (DeadLetter) Annotations() []schema.Annotation { return hidden() }

// AlertView is a named saved filter over the alert queue, personal or shared.
type AlertView struct{ ent.Schema }

// Mixin of the AlertView.
func (AlertView) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the AlertView.
func (AlertView) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.UUID("owner_id", uuid.UUID{}).Optional().Nillable(),
		field.Bool("shared").Default(false),
		field.JSON("filters", map[string]any{}).Optional(),
		field.String("sort").Default(""),
		field.Strings("columns").Optional(),
	}
}

// Edges of the AlertView.
func (AlertView) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("owner", User.Type).Field("owner_id").Unique(),
		edge.From("hidden_by", User.Type).Ref("hidden_views"),
	}
}

// Annotations of the AlertView.
func (AlertView) Annotations() []schema.Annotation { return hidden() }
