package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
)

// Organization is a tenant. A provider (MSSP) organisation has client
// organisations as children; users of the provider may act in them.
type Organization struct{ ent.Schema }

// Mixin of the Organization.
func (Organization) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("Display name.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("slug").Comment("Unique short name used in URLs and X-Seliq-Org.").NotEmpty().MaxLen(63).Unique().Annotations(entgql.OrderField("SLUG")),
		field.String("timezone").Comment("IANA time zone of reports and schedules, e.g. Europe/Paris.").Default("UTC"),
		field.String("contact_email").Comment("Where to write to the organisation.").Optional(),
		field.String("region").Optional().Comment("data-residency region label"),
		field.String("plan").Comment("The service plan (free text).").Default("standard"),
		field.Int("user_quota").Default(0).NonNegative().Comment("seats allowed; 0 means unlimited"),
		field.Bool("mfa_enabled").Default(false).
			Comment("Read-only: true exactly when the organisation requires multi-factor authentication (mirrors mfa_enforced; every user may enrol their own MFA in any case). Setting another value is refused."),
		field.Bool("mfa_enforced").Default(false).
			Comment("Whether its users (and provider users acting in it) must use multi-factor authentication: the security settings' mfa_required, one value under two names. A user without it gets a session that can only enrol."),
		field.UUID("parent_id", uuid.UUID{}).Comment("The provider organisation above it; null for a top-level one.").Optional().Nillable(),
		field.String("inbound_email_token").Optional().Sensitive().Unique().
			Comment("secret path segment of the inbound email webhook"),
		// Set on top-level organisations only, by their admins, through
		// outbound/orgallow; not part of the Organization API type.
		field.Strings("outbound_allow").Optional().Annotations(entgql.Skip()).
			Comment("loopback and private CIDR ranges outbound calls of this provider's tree may reach"),
	}
}

// Edges of the Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", Organization.Type).Comment("The client organisations directly below it.").
			From("parent").Comment("The provider organisation above it.").Field("parent_id").Unique(),
		edge.From("users", User.Type).Ref("organization").Annotations(entgql.Skip()),
	}
}

// Annotations of the Organization.
func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("The organisations within the caller's scope: the acting one and those below it."),
		entsql.Annotation{Table: "organizations"},
	}
}

// Policy of the Organization.
func (Organization) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.FilterVisibleOrganizations()},
		Mutation: privacy.MutationPolicy{rule.AdminCreatesOrganizations(), rule.FilterVisibleOrganizations()},
	}
}
