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

// User is a person who logs in. Users belong to a home organisation.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// Emails are stored lower-cased; login is by email across all organisations.
		field.String("email").Comment("Email address, stored lower-cased; login is by email.").NotEmpty().MaxLen(254).Unique().Annotations(entgql.OrderField("EMAIL")),
		field.String("name").Comment("Display name.").Default("").MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("handle").NotEmpty().MaxLen(64).Comment("used for @mentions"),
		field.String("password_hash").Sensitive().Annotations(entgql.Skip()),
		field.Enum("role").Comment("What the user may do.").GoType(enum.Role("")).Default(string(enum.RoleAnalyst)),
		field.Bool("active").Comment("False when deactivated: the user cannot log in.").Default(true),
		field.String("timezone").Comment("IANA time zone the user reads times in, e.g. Europe/Paris.").Default("UTC"),
		field.Time("last_login_at").Comment("When the user last logged in; null if never.").Optional().Nillable(),
		field.Time("password_changed_at").Optional().Nillable().Annotations(entgql.Skip()),
		field.String("mfa_secret").Optional().Sensitive().Annotations(entgql.Skip()).
			Comment("the TOTP secret sealed by internal/secrets; set while enrolling, kept once mfa_enabled"),
		field.Bool("mfa_enabled").Comment("Whether the user has multi-factor authentication on.").Default(false),
		field.Strings("mfa_recovery_codes").Optional().Sensitive().Annotations(entgql.Skip()).
			Comment("hashes of the unused one-time recovery codes"),
		field.Int64("mfa_last_step").Default(0).Annotations(entgql.Skip()).
			Comment("the last TOTP time step accepted, so a code is never accepted twice"),
		field.JSON("notification_prefs", map[string]map[string]bool{}).Optional().Annotations(entgql.Skip()),
		field.JSON("features", map[string]bool{}).Optional().Annotations(entgql.Skip()),
		field.UUID("default_view_id", uuid.UUID{}).Optional().Nillable().Annotations(entgql.Skip()),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("groups", Group.Type).Comment("The groups the user is a member of.").Ref("members"),
		edge.To("sessions", Session.Type).Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip()),
		edge.To("api_tokens", APIToken.Type).Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip()),
		edge.To("login_lockouts", LoginLockout.Type).Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip()),
		edge.To("default_view", AlertView.Type).Field("default_view_id").Unique().Annotations(entgql.Skip()),
		edge.To("hidden_views", AlertView.Type).Annotations(entgql.Skip()),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "handle").Unique()}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField().Description("The users of the acting organisation.")}
}

// Group is a team of users (e.g. "Tier 1"), used for assignment.
type Group struct{ ent.Schema }

// Mixin of the Group.
func (Group) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Group.
func (Group) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("Display name, e.g. Tier 1.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("description").Comment("What the group is for.").Default("").MaxLen(2000),
		// assign_cursor counts round-robin assignments to the group (the
		// assign action): incremented in the assigning transaction, so
		// concurrent assignments take successive members.
		field.Int("assign_cursor").Default(0).Annotations(entgql.Skip()),
	}
}

// Edges of the Group.
func (Group) Edges() []ent.Edge {
	return []ent.Edge{edge.To("members", User.Type).Comment("The users in the group.")}
}

// Indexes of the Group.
func (Group) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "name").Unique()}
}

// Annotations of the Group.
func (Group) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField().Description("The groups of the acting organisation.")}
}

// Contact is a client-side person who receives reports and notices.
type Contact struct{ ent.Schema }

// Mixin of the Contact.
func (Contact) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Contact.
func (Contact) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("Full name.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("email").Comment("Email address; empty when unknown.").Default("").MaxLen(254),
		field.String("phone").Comment("Phone number; empty when unknown.").Default("").MaxLen(50),
		field.String("role").Comment("Role at the organisation, e.g. CISO.").Default("").MaxLen(100),
		field.Bool("notify_reports").Comment("Whether the contact receives incident reports.").Default(true),
		field.Bool("notify_incidents").Comment("Whether the contact is told about incidents.").Default(false),
	}
}

// Annotations of the Contact.
func (Contact) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Session is a login: an opaque bearer token stored only as its hash.
type Session struct{ ent.Schema }

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("token_hash").Unique().Sensitive(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.Time("expires_at"),
		field.Time("last_seen_at").Optional().Nillable(),
		field.String("ip").Default(""),
		field.String("user_agent").Default(""),
		field.Bool("mfa_pending").Default(false).
			Comment("a login waiting for its second factor (the mfa_token): it authenticates nothing"),
		field.Int("mfa_attempts").Default(0).Comment("wrong codes sent with this mfa_token"),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Annotations of the Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

// APIToken is a named, per-user credential sent as "Authorization: Token ...".
// It carries the user's role; only a hash of the secret is stored.
type APIToken struct{ ent.Schema }

// Mixin of the APIToken.
func (APIToken) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the APIToken.
func (APIToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("What the token is for, e.g. siem.").NotEmpty().MaxLen(100),
		field.String("prefix").Immutable().Comment("first characters of the secret, shown in lists"),
		field.Bytes("token_hash").Unique().Sensitive().Annotations(entgql.Skip()),
		field.UUID("user_id", uuid.UUID{}).Comment("The user the token acts as.").Immutable(),
		field.Time("last_used_at").Comment("When the token was last used; null if never.").Optional().Nillable(),
		field.Time("expires_at").Comment("When the token stops working; null for never.").Optional().Nillable(),
	}
}

// Edges of the APIToken.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Comment("The user the token acts as.").Ref("api_tokens").Field("user_id").Unique().Required().Immutable(),
	}
}

// Annotations of the APIToken.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Type("APIToken")}
}

// LoginLockout counts one account's failed logins from one address; past the
// organisation's lockout threshold that address may not try the account again
// until locked_until. Per address, so nobody can lock a victim out from
// everywhere; an admin unlocks by deleting the rows.
type LoginLockout struct{ ent.Schema }

// Mixin of the LoginLockout.
func (LoginLockout) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the LoginLockout.
func (LoginLockout) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable().Comment("the account tried"),
		field.String("ip").Immutable().Comment("the client address the attempts came from"),
		field.Int("failures").Default(0).Comment("failed attempts since the last success or lockout"),
		field.Time("locked_until").Optional().Nillable().Comment("when the lockout ends; null when not locked"),
	}
}

// Edges of the LoginLockout.
func (LoginLockout) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("login_lockouts").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the LoginLockout.
func (LoginLockout) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "ip").Unique()}
}

// Annotations of the LoginLockout.
func (LoginLockout) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
