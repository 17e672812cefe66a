package audit

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/ent/setting"
	"github.com/seliq/seliq/internal/viewer"
)

// Track makes client record in the activity log every change to what
// decides who may do what: users (creation, role, deactivation, password
// resets, deletion), organisations, groups and their members, contacts, API
// tokens and the AI settings. It works in the data layer, so no path (REST,
// GraphQL, a CLI, a later feature) can change one of them unrecorded.
//
// Only listed fields are recorded: password hashes, token hashes, MFA
// secrets and API keys never are. A password change is an action without
// values; a secret in a settings document is recorded as set or unset.
// Changes made without a viewer (bootstrap, credential bookkeeping) have no
// actor and are not recorded.
func Track(client *ent.Client) {
	client.User.Use(userTracking.hook())
	client.Organization.Use(orgTracking.hook())
	client.Group.Use(groupTracking.hook())
	client.Contact.Use(contactTracking.hook())
	client.APIToken.Use(tokenTracking.hook())
	client.Setting.Use(trackSettings(map[string]string{"ai": "ai_settings", "email": "email_settings", "notifications": "notification_settings", "security": "security_settings"}))
}

// tracking is how one entity type is recorded.
type tracking struct {
	entity string
	// fields are recorded with their values.
	fields []string
	// secret is a field recorded as an action without values ("" for none).
	secret string
	// secretAction names that action for the entity with this id.
	secretAction func(ctx context.Context, id uuid.UUID) string
	// deleted is the action of a delete.
	deleted string
	// load reads an entity before its deletion.
	load func(ctx context.Context, c *ent.Client, id uuid.UUID) (any, error)
	// members, when set, records the "members" edge (groups).
	members func(ctx context.Context, c *ent.Client, id uuid.UUID) ([]uuid.UUID, error)
}

var (
	userTracking = tracking{
		entity: "user", deleted: "delete",
		fields: []string{"email", "name", "handle", "role", "active", "timezone", "mfa_enabled", "organization_id"},
		secret: "password_hash", secretAction: passwordAction,
		load: func(ctx context.Context, c *ent.Client, id uuid.UUID) (any, error) { return c.User.Get(ctx, id) },
	}
	orgTracking = tracking{
		entity: "organization", deleted: "delete",
		fields: []string{"name", "slug", "parent_id", "timezone", "contact_email", "region", "plan", "user_quota", "mfa_enabled", "mfa_enforced"},
		load: func(ctx context.Context, c *ent.Client, id uuid.UUID) (any, error) {
			return c.Organization.Get(ctx, id)
		},
	}
	groupTracking = tracking{
		entity: "group", deleted: "delete",
		fields: []string{"name", "description"},
		load:   func(ctx context.Context, c *ent.Client, id uuid.UUID) (any, error) { return c.Group.Get(ctx, id) },
		members: func(ctx context.Context, c *ent.Client, id uuid.UUID) ([]uuid.UUID, error) {
			return c.Group.Query().Where(group.ID(id)).QueryMembers().IDs(ctx)
		},
	}
	contactTracking = tracking{
		entity: "contact", deleted: "delete",
		fields: []string{"name", "email", "phone", "role", "notify_reports", "notify_incidents"},
		load:   func(ctx context.Context, c *ent.Client, id uuid.UUID) (any, error) { return c.Contact.Get(ctx, id) },
	}
	tokenTracking = tracking{
		entity: "api_token", deleted: "revoke",
		fields: []string{"name", "prefix", "user_id", "expires_at"},
		load:   func(ctx context.Context, c *ent.Client, id uuid.UUID) (any, error) { return c.APIToken.Get(ctx, id) },
	}
)

// passwordAction tells a user's own password change from an admin's reset.
func passwordAction(ctx context.Context, id uuid.UUID) string {
	if v := viewer.FromContext(ctx); v != nil && v.Kind == viewer.KindUser && v.UserID == id {
		return "password_change"
	}
	return "password_reset"
}

// tracked is what every generated mutation of a tracked type offers.
type tracked interface {
	ent.Mutation
	ID() (uuid.UUID, bool)
	IDs(ctx context.Context) ([]uuid.UUID, error)
	Client() *ent.Client
}

// membersEdge is what a group mutation says of its members.
type membersEdge interface {
	MembersIDs() []uuid.UUID
	RemovedMembersIDs() []uuid.UUID
	MembersCleared() bool
}

func (tr tracking) hook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			tm, ok := m.(tracked)
			if !ok || viewer.FromContext(ctx) == nil || !tr.concerns(m) {
				return next.Mutate(ctx, m)
			}
			after, err := tr.plan(ctx, tm)
			if err != nil {
				return nil, err
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			entries, err := after(ctx)
			if err != nil {
				return nil, err
			}
			return v, Record(ctx, tm.Client(), entries...)
		})
	}
}

// concerns reports whether m touches anything recorded: last-used stamps
// and other bookkeeping pass through without a query.
func (tr tracking) concerns(m ent.Mutation) bool {
	if m.Op().Is(ent.OpCreate | ent.OpDelete | ent.OpDeleteOne) {
		return true
	}
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		if f == tr.secret || slices.Contains(tr.fields, f) {
			return true
		}
	}
	return tr.members != nil && tr.membersChanged(m)
}

func (tr tracking) membersChanged(m ent.Mutation) bool {
	e, ok := m.(membersEdge)
	return ok && (len(e.MembersIDs()) > 0 || len(e.RemovedMembersIDs()) > 0 || e.MembersCleared())
}

// plan reads what must be read before the mutation runs (old values, the
// entities about to be deleted) and returns what builds the entries after.
func (tr tracking) plan(ctx context.Context, m tracked) (func(context.Context) ([]Entry, error), error) {
	c := m.Client()
	switch {
	case m.Op().Is(ent.OpCreate):
		return func(context.Context) ([]Entry, error) {
			id, _ := m.ID()
			after := tr.values(m)
			if e, ok := m.(membersEdge); ok && tr.members != nil && len(e.MembersIDs()) > 0 {
				after["members"] = e.MembersIDs()
			}
			return []Entry{{EntityType: tr.entity, EntityID: id, Action: "create", After: after}}, nil
		}, nil
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
		ids, err := m.IDs(ctx)
		if err != nil {
			return nil, err
		}
		entries := make([]Entry, 0, len(ids))
		for _, id := range ids {
			before, err := tr.snapshot(ctx, c, id)
			if err != nil {
				return nil, err
			}
			entries = append(entries, Entry{EntityType: tr.entity, EntityID: id, Action: tr.deleted, Before: before})
		}
		return func(context.Context) ([]Entry, error) { return entries, nil }, nil
	}
	ids, err := m.IDs(ctx)
	if err != nil {
		return nil, err
	}
	old := map[string]any{}
	if m.Op().Is(ent.OpUpdateOne) {
		for _, f := range tr.changed(m) {
			if old[f], err = m.OldField(ctx, f); err != nil {
				return nil, err
			}
		}
	}
	members := map[uuid.UUID][]uuid.UUID{}
	if tr.members != nil && tr.membersChanged(m) {
		for _, id := range ids {
			if members[id], err = tr.members(ctx, c, id); err != nil {
				return nil, err
			}
		}
	}
	return func(ctx context.Context) ([]Entry, error) {
		var entries []Entry
		for _, id := range ids {
			entries = append(entries, tr.updates(ctx, m, id, old)...)
			if before, ok := members[id]; ok {
				after, err := tr.members(ctx, c, id)
				if err != nil {
					return nil, err
				}
				entries = append(entries, Entry{EntityType: tr.entity, EntityID: id, Action: "update", Field: "members", Before: before, After: after})
			}
		}
		return entries, nil
	}, nil
}

// updates are the field changes of one updated entity; old is known for a
// single-entity update only.
func (tr tracking) updates(ctx context.Context, m tracked, id uuid.UUID, old map[string]any) []Entry {
	var entries []Entry
	for _, f := range tr.changed(m) {
		after, _ := m.Field(f)
		before, known := old[f]
		if known && same(before, after) {
			continue // set to what it was: nothing changed
		}
		entries = append(entries, Entry{EntityType: tr.entity, EntityID: id, Action: "update", Field: f, Before: before, After: after})
	}
	if tr.secret != "" && slices.Contains(m.Fields(), tr.secret) {
		entries = append(entries, Entry{EntityType: tr.entity, EntityID: id, Action: tr.secretAction(ctx, id)})
	}
	return entries
}

// changed are the recorded fields m sets or clears.
func (tr tracking) changed(m ent.Mutation) []string {
	var out []string
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		if slices.Contains(tr.fields, f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// values are the recorded fields a create sets (defaults included).
func (tr tracking) values(m ent.Mutation) map[string]any {
	out := map[string]any{}
	for _, f := range tr.fields {
		if v, ok := m.Field(f); ok {
			out[f] = v
		}
	}
	return out
}

// snapshot is the recorded fields of an entity, read through its JSON form
// (which already leaves sensitive fields out).
func (tr tracking) snapshot(ctx context.Context, c *ent.Client, id uuid.UUID) (map[string]any, error) {
	e, err := tr.load(ctx, c, id)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	all := map[string]any{}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range tr.fields {
		if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	return out, nil
}

func same(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// trackSettings records the settings documents named in kinds (key →
// entity type, the entity being the organisation): one entry per changed
// top-level field, secrets as set or unset. Documents are written as
// upserts, so only creates are seen.
func trackSettings(kinds map[string]string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			sm, ok := m.(*ent.SettingMutation)
			v := viewer.FromContext(ctx)
			if !ok || v == nil || !m.Op().Is(ent.OpCreate) {
				return next.Mutate(ctx, m)
			}
			key, _ := sm.Key()
			entity, tracked := kinds[key]
			if !tracked {
				return next.Mutate(ctx, m)
			}
			c := sm.Client()
			row, err := c.Setting.Query().Where(setting.OrganizationID(v.OrgID), setting.Key(key)).Only(ctx)
			var before map[string]any
			switch {
			case err == nil:
				before = row.Value
			case !ent.IsNotFound(err):
				return nil, err
			}
			after, _ := sm.Value()
			val, err := next.Mutate(ctx, m)
			if err != nil {
				return val, err
			}
			return val, Record(ctx, c, documentChanges(entity, v.OrgID, before, after)...)
		})
	}
}

// documentChanges compares two settings documents field by field.
func documentChanges(entity string, id uuid.UUID, before, after map[string]any) []Entry {
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var entries []Entry
	for _, k := range keys {
		b, a := before[k], after[k]
		if same(b, a) {
			continue
		}
		if secretName(k) {
			b, a = presence(b), presence(a)
		}
		entries = append(entries, Entry{EntityType: entity, EntityID: id, Action: "update", Field: k, Before: b, After: a})
	}
	return entries
}

// secretName reports whether a settings field holds a secret ("apiKey",
// "sealedKey", "webhookSecret", "smtpPassword", "authToken").
func secretName(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"secret", "password", "sealed"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return strings.HasSuffix(k, "key") || strings.HasSuffix(k, "token")
}

// presence is what is recorded of a secret: whether it is set.
func presence(v any) string {
	if v == nil || v == "" || v == false {
		return "unset"
	}
	return "set"
}
