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
		field.String("name").Comment("Display name.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("type").NotEmpty().Comment("catalogue entry, e.g. crowdstrike, wazuh, generic"),
		field.Enum("mode").Comment("push (the source posts alerts) or pull (Seliq polls the source).").GoType(enum.ConnectorMode("")).Default(string(enum.ConnectorModePush)).
			Annotations(entgql.Type("ConnectorMode")),
		field.Bool("enabled").Comment("Whether the connector takes (or polls) alerts; a disabled one answers 403.").Default(true),
		// settings may hold secrets (the catalogue marks them writeOnly);
		// GraphQL exposes them through a resolver that masks those.
		field.JSON("settings", map[string]any{}).Optional().Annotations(entgql.Skip()),
		field.Strings("dedup_fields").Comment("Fields fingerprinted for deduplication; empty uses the type's.").Optional(),
		field.Int("dedup_window_seconds").Comment("Rolling window in which a repeat merges into the open alert.").Default(600).Positive(),
		field.Int("poll_interval_seconds").Comment("Seconds between polls in pull mode.").Default(60).Positive(),
		field.Int("rate_limit_per_minute").Comment("Payloads accepted per minute; more answer 429.").Default(300).Positive(),
		field.String("key_prefix").Comment("First characters of the connector's key, to tell keys apart.").Default(""),
		field.Bytes("key_hash").Unique().Sensitive().Annotations(entgql.Skip()),
		field.Time("last_seen_at").Comment("When the connector last delivered a payload; null if never.").Optional().Nillable(),
		// The inbound email token (an email connector's URL credential): its
		// hash finds the connector in constant time, its sealed copy lets
		// admins read the URL again on the email settings.
		field.Bytes("inbound_token_hash").Optional().Nillable().Unique().Sensitive().Annotations(entgql.Skip()),
		field.String("inbound_token_sealed").Optional().Sensitive().Annotations(entgql.Skip()),
		// Pull connectors' health, shown to admins; the poller writes it.
		field.Time("last_polled_at").Comment("When a poll last ran (pull connectors); null if never.").Optional().Nillable(),
		field.Time("last_success_at").Comment("When a poll last succeeded; null if never.").Optional().Nillable(),
		field.String("last_error").Default("").Comment("why the last poll failed, in words; empty after a success"),
		field.Int("items_last_poll").Comment("Alerts the last poll read.").Default(0),
		field.Time("next_poll_at").Comment("When the next poll is due; null for push connectors.").Optional().Nillable(),
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
func (Alert) Mixin() []ent.Mixin {
	return []ent.Mixin{BaseMixin{}, TenantMixin{CreatedCovered: true}}
}

// Fields of the Alert.
func (Alert) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("connector_id", uuid.UUID{}).Comment("The connector that delivered it; null for alerts made another way or whose connector is gone.").Optional().Nillable(),
		field.String("source").Comment("The integration it came from, e.g. crowdstrike.").NotEmpty(),
		field.String("external_id").Comment("The source's own id for it; empty when it has none.").Default(""),
		field.String("title").Comment("One-line summary.").NotEmpty().MaxLen(1000).Annotations(entgql.OrderField("TITLE")),
		field.Text("description").Comment("Details, as the source gave them.").Default(""),
		field.Enum("severity").Comment("How bad it is, mapped from the vendor's scale.").GoType(enum.Severity("")).Default(string(enum.SeverityMedium)).
			Annotations(entgql.Type("Severity")),
		// severity_rank orders by severity (critical highest); the enum's
		// text would sort alphabetically. Kept in step with severity by a hook.
		field.Int("severity_rank").Default(3).
			Annotations(entgql.OrderField("SEVERITY"), entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Enum("status").Comment("Where triage is.").GoType(enum.AlertStatus("")).Default(string(enum.AlertStatusNew)).
			Annotations(entgql.Type("AlertStatus")),
		field.Enum("disposition").Comment("The verdict; set when closed.").GoType(enum.Disposition("")).Optional().Nillable().
			Annotations(entgql.Type("Disposition")),
		field.UUID("assignee_id", uuid.UUID{}).Comment("The user working on it; null when unassigned.").Optional().Nillable(),
		field.Strings("tags").Comment("Labels, from the source and analysts.").Optional(),
		field.Bool("suppressed").Comment("Whether automation (a suppress action, a maintenance window) closed it; cleared when reopened. Suppressed alerts are kept and left out of MTTR.").Default(false),
		field.String("suppression_reason").Comment("Why it was suppressed (the window's or rule's name); empty when not suppressed.").Default("").MaxLen(1000),
		field.JSON("entities", []schematype.Entity{}).Comment("Indicators extracted from the payload (IPs, domains, hashes, users...).").Optional().Annotations(entgql.Type("[AlertEntity!]")),
		field.Strings("mitre").Comment("MITRE ATT&CK technique ids, e.g. T1059.001.").Optional(),
		// attributes are the vendor fields the connector's mapping named (rule,
		// host, user, process…), which the query language reads.
		field.JSON("attributes", map[string]string{}).Comment("The vendor fields the connector mapped (rule, host, user, process...), which the query language reads as attributes.<name>.").Optional().Annotations(entgql.Type("Map")),
		// raw is the payload exactly as the connector sent it.
		field.JSON("raw", json.RawMessage{}).Comment("The payload exactly as the connector sent it.").Optional().Annotations(entgql.Type("JSON")),
		field.String("fingerprint").Comment("Hash of the dedup fields: repeats with the same fingerprint merge.").Default(""),
		// dedup_key is the fingerprint while the alert can still absorb
		// repeats; it is cleared when the alert is resolved or closed, or
		// when its window lapses, so the unique index (organization_id,
		// dedup_key) makes concurrent repeats merge instead of racing.
		field.String("dedup_key").Optional().Nillable().Annotations(entgql.Skip()),
		field.Int("occurrences").Comment("How many payloads merged into it.").Default(1).Annotations(entgql.OrderField("OCCURRENCES")),
		field.Time("first_seen_at").Comment("When the first occurrence arrived.").Default(now).Annotations(entgql.OrderField("FIRST_SEEN_AT")),
		field.Time("last_seen_at").Comment("When the latest occurrence arrived.").Default(now).Annotations(entgql.OrderField("LAST_SEEN_AT")),
		field.Time("event_time").Comment("When it happened, by the source's clock; null when not given.").Optional().Nillable(),
		field.Time("ingested_at").Comment("When Seliq received it.").Default(now).Immutable(),
		field.Time("acknowledged_at").Comment("When it was first acknowledged; null before.").Optional().Nillable(),
		field.Time("resolved_at").Comment("When it was resolved or closed; null while open.").Optional().Nillable(),
		field.UUID("incident_id", uuid.UUID{}).Comment("The incident it is linked to; null when none.").Optional().Nillable(),
	}
}

// Edges of the Alert.
func (Alert) Edges() []ent.Edge {
	return []ent.Edge{
		// Deleting a connector or a user keeps their alerts.
		edge.To("connector", Connector.Type).Comment("The connector that delivered it.").Field("connector_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("assignee", User.Type).Comment("The user working on it.").Field("assignee_id").Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.From("incident", Incident.Type).Comment("The incident it is linked to.").Ref("alerts").Field("incident_id").Unique(),
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
		// The fingerprint's index is storage's (fingerprintIndexes): a hash
		// index on PostgreSQL, which ent's schema cannot declare.
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
		field.UUID("connector_id", uuid.UUID{}).Comment("The connector that received the payload."),
		field.Text("reason").Comment("Why it could not be mapped."),
		// payload is the unmappable item as received, for replay.
		field.Text("payload").Comment("The unmappable item as received, for replay."),
	}
}

// Edges of the DeadLetter.
func (DeadLetter) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("connector", Connector.Type).Comment("The connector that received the payload.").Field("connector_id").Unique().Required().
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
		field.String("name").Comment("Display name.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.UUID("owner_id", uuid.UUID{}).Comment("The user who saved it.").Optional().Nillable(),
		field.Bool("shared").Comment("Whether the whole organisation sees it.").Default(false),
		field.JSON("filters", schematype.AlertFilter{}).Comment("The queue filter it applies.").Optional().Annotations(entgql.Type("AlertViewFilter")),
		field.String("sort").Comment("The queue order, e.g. -last_seen_at; empty for the default.").Default(""),
		field.Strings("columns").Comment("The queue columns shown, in order.").Optional(),
	}
}

// Edges of the AlertView.
func (AlertView) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("owner", User.Type).Comment("The user who saved it.").Field("owner_id").Unique().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.From("hidden_by", User.Type).Ref("hidden_views").Annotations(entgql.Skip()),
	}
}

// Annotations of the AlertView.
func (AlertView) Annotations() []schema.Annotation { return nil }
