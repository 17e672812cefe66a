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
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
)

// hidden keeps an entity out of the GraphQL schema: only the services read
// and write it (AI usage records, settings documents).
func hidden() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

// Connector is a security tool that sends (push) or is polled for (pull) alerts.
type Connector struct{ ent.Schema }

// Mixin of the Connector.
func (Connector) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Connector.
func (Connector) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("type").NotEmpty().Comment("catalogue entry, e.g. crowdstrike, wazuh, generic"),
		field.Enum("mode").GoType(enum.ConnectorMode("")).Default(string(enum.ConnectorModePush)).
			Annotations(entgql.Type("ConnectorMode")),
		field.Bool("enabled").Default(true),
		// settings may hold secrets (the catalogue marks them writeOnly);
		// GraphQL exposes them through a resolver that masks those.
		field.JSON("settings", map[string]any{}).Optional().Annotations(entgql.Skip()),
		field.Strings("dedup_fields").Optional(),
		field.Int("dedup_window_seconds").Default(600).Positive(),
		field.Int("poll_interval_seconds").Default(60).Positive(),
		field.Int("rate_limit_per_minute").Default(300).Positive(),
		field.String("key_prefix").Default(""),
		field.Bytes("key_hash").Unique().Sensitive().Annotations(entgql.Skip()),
		field.Time("last_seen_at").Optional().Nillable(),
		// Pull connectors' health, shown to admins; the poller writes it.
		field.Time("last_polled_at").Optional().Nillable(),
		field.Time("last_success_at").Optional().Nillable(),
		field.String("last_error").Default("").Comment("why the last poll failed, in words; empty after a success"),
		field.Int("items_last_poll").Default(0),
		field.Time("next_poll_at").Optional().Nillable(),
		// poll_requested_at is when an admin last asked to poll now; only
		// that request writes it, so a poll finishing at the same moment
		// cannot overwrite the request.
		field.Time("poll_requested_at").Optional().Nillable().Annotations(entgql.Skip()),
		// failing_since is when the current run of failed polls began;
		// failure_notified marks that admins were told of it (once).
		field.Time("failing_since").Optional().Nillable().Annotations(entgql.Skip()),
		field.Bool("failure_notified").Default(false).Annotations(entgql.Skip()),
		// poll_checkpoint is the vendor's position (time, id or cursor),
		// written in the transaction of the alerts read up to it.
		field.Text("poll_checkpoint").Default("").Annotations(entgql.Skip()),
		// The poll lease: one replica polls a connector at a time, and a
		// holder whose lease lapsed cannot commit (the token fences it).
		field.String("poll_lease_token").Default("").Annotations(entgql.Skip()),
		field.Time("poll_lease_until").Optional().Nillable().Annotations(entgql.Skip()),
	}
}

// Annotations of the Connector.
func (Connector) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

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
		field.String("title").NotEmpty().MaxLen(1000).Annotations(entgql.OrderField("TITLE")),
		field.Text("description").Default(""),
		field.Enum("severity").GoType(enum.Severity("")).Default(string(enum.SeverityMedium)).
			Annotations(entgql.Type("Severity")),
		// severity_rank orders by severity (critical highest); the enum's
		// text would sort alphabetically. Kept in step with severity by a hook.
		field.Int("severity_rank").Default(3).
			Annotations(entgql.OrderField("SEVERITY"), entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Enum("status").GoType(enum.AlertStatus("")).Default(string(enum.AlertStatusNew)).
			Annotations(entgql.Type("AlertStatus")),
		field.Enum("disposition").GoType(enum.Disposition("")).Optional().Nillable().
			Annotations(entgql.Type("Disposition")),
		field.UUID("assignee_id", uuid.UUID{}).Optional().Nillable(),
		field.Strings("tags").Optional(),
		field.JSON("entities", []schematype.Entity{}).Optional().Annotations(entgql.Type("[AlertEntity!]")),
		field.Strings("mitre").Optional(),
		// raw is the payload exactly as the connector sent it.
		field.JSON("raw", json.RawMessage{}).Optional().Annotations(entgql.Type("JSON")),
		field.String("fingerprint").Default(""),
		// dedup_key is the fingerprint while the alert can still absorb
		// repeats; it is cleared when the alert is resolved or closed, or
		// when its window lapses, so the unique index (organization_id,
		// dedup_key) makes concurrent repeats merge instead of racing.
		field.String("dedup_key").Optional().Nillable().Annotations(entgql.Skip()),
		field.Int("occurrences").Default(1).Annotations(entgql.OrderField("OCCURRENCES")),
		field.Time("first_seen_at").Default(now).Annotations(entgql.OrderField("FIRST_SEEN_AT")),
		field.Time("last_seen_at").Default(now).Annotations(entgql.OrderField("LAST_SEEN_AT")),
		field.Time("event_time").Optional().Nillable(),
		field.Time("ingested_at").Default(now).Immutable(),
		field.Time("acknowledged_at").Optional().Nillable(),
		field.Time("resolved_at").Optional().Nillable(),
		field.UUID("incident_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the Alert.
func (Alert) Edges() []ent.Edge {
	return []ent.Edge{
		// Deleting a connector or a user keeps their alerts.
		edge.To("connector", Connector.Type).Field("connector_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("assignee", User.Type).Field("assignee_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.From("incident", Incident.Type).Ref("alerts").Field("incident_id").Unique(),
	}
}

// Indexes of the Alert.
func (Alert) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "dedup_key").Unique(),
		index.Fields("organization_id", "last_seen_at"),
		index.Fields("organization_id", "status", "last_seen_at"),
		// Counts and facets under status and severity filters (the triage
		// queue's commonest) are answered from this index alone.
		index.Fields("organization_id", "status", "severity"),
		// Sorting by severity breaks ties by id (entgql's cursor order), so
		// the index ends with id: a page is read off the index, not sorted.
		index.Fields("organization_id", "severity_rank", "id"),
		index.Fields("organization_id", "source", "last_seen_at"),
		index.Fields("organization_id", "connector_id", "last_seen_at"),
		index.Fields("organization_id", "assignee_id", "last_seen_at"),
		index.Fields("organization_id", "fingerprint"),
		index.Fields("incident_id"),
	}
}

// Hooks of the Alert.
func (Alert) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(keepSeverityRank, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)}
}

// keepSeverityRank derives severity_rank whenever severity is written.
func keepSeverityRank(next ent.Mutator) ent.Mutator {
	return hook.AlertFunc(func(ctx context.Context, m *gen.AlertMutation) (gen.Value, error) {
		if s, ok := m.Severity(); ok {
			m.SetSeverityRank(s.Rank())
		}
		return next.Mutate(ctx, m)
	})
}

// Annotations of the Alert.
func (Alert) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// DeadLetter keeps a payload that parsed but could not be mapped.
type DeadLetter struct{ ent.Schema }

// Mixin of the DeadLetter.
func (DeadLetter) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the DeadLetter.
func (DeadLetter) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("connector_id", uuid.UUID{}),
		field.Text("reason"),
		// payload is the unmappable item as received, for replay.
		field.Text("payload"),
	}
}

// Edges of the DeadLetter.
func (DeadLetter) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("connector", Connector.Type).Field("connector_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the DeadLetter.
func (DeadLetter) Indexes() []ent.Index {
	return []ent.Index{index.Fields("connector_id", "created_at")}
}

// Annotations of the DeadLetter.
func (DeadLetter) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// AlertView is a named saved filter over the alert queue, personal or shared.
type AlertView struct{ ent.Schema }

// Mixin of the AlertView.
func (AlertView) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the AlertView.
func (AlertView) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.UUID("owner_id", uuid.UUID{}).Optional().Nillable(),
		field.Bool("shared").Default(false),
		field.JSON("filters", schematype.AlertFilter{}).Optional().Annotations(entgql.Type("AlertViewFilter")),
		field.String("sort").Default(""),
		field.Strings("columns").Optional(),
	}
}

// Edges of the AlertView.
func (AlertView) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("owner", User.Type).Field("owner_id").Unique().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.From("hidden_by", User.Type).Ref("hidden_views").Annotations(entgql.Skip()),
	}
}

// Annotations of the AlertView.
func (AlertView) Annotations() []schema.Annotation { return nil }
