package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// system is the context fixtures write with: privacy allows everything, as
// auth.System does (testenv cannot import auth: auth imports realtime/hub,
// whose own tests use testenv).
func system() context.Context {
	return privacy.DecisionContext(context.Background(), privacy.Allow)
}

// OrgOption sets a field of the organisation Org creates.
type OrgOption func(*ent.OrganizationCreate)

// Slug sets the organisation's slug (and its name, unless Name sets one).
func Slug(slug string) OrgOption {
	return func(c *ent.OrganizationCreate) { c.SetSlug(slug) }
}

// Name sets the organisation's display name.
func Name(name string) OrgOption {
	return func(c *ent.OrganizationCreate) { c.SetName(name) }
}

// Parent makes the organisation a client of the organisation parent.
func Parent(parent uuid.UUID) OrgOption {
	return func(c *ent.OrganizationCreate) { c.SetParentID(parent) }
}

// Org creates an organisation. Without options it is top-level with a
// unique slug "org-<random>"; the name defaults to the slug.
func Org(t testing.TB, db *storage.DB, opts ...OrgOption) *ent.Organization {
	t.Helper()
	c := db.Client.Organization.Create()
	for _, o := range opts {
		o(c)
	}
	slug, ok := c.Mutation().Slug()
	if !ok {
		slug = "org-" + uuid.NewString()[:8]
		c.SetSlug(slug)
	}
	if _, ok := c.Mutation().Name(); !ok {
		c.SetName(slug)
	}
	org, err := c.Save(system())
	if err != nil {
		t.Fatalf("create organisation %s: %v", slug, err)
	}
	return org
}

// UserOption sets a field of the user User creates.
type UserOption func(*ent.UserCreate)

// Handle sets the user's handle; the email defaults to handle@<org slug>.test.
func Handle(handle string) UserOption {
	return func(c *ent.UserCreate) { c.SetHandle(handle) }
}

// Email sets the user's email.
func Email(email string) UserOption {
	return func(c *ent.UserCreate) { c.SetEmail(email) }
}

// FullName sets the user's display name.
func FullName(name string) UserOption {
	return func(c *ent.UserCreate) { c.SetName(name) }
}

// PasswordHash sets the stored password hash (auth.HashPassword's output);
// without it the user has a hash no password matches.
func PasswordHash(hash string) UserOption {
	return func(c *ent.UserCreate) { c.SetPasswordHash(hash) }
}

// Inactive creates the user deactivated.
func Inactive() UserOption {
	return func(c *ent.UserCreate) { c.SetActive(false) }
}

// User creates a user of org with role. Without options its handle is
// "<role>-<random>" and its email handle@<org slug>.test.
func User(t testing.TB, db *storage.DB, org *ent.Organization, role enum.Role, opts ...UserOption) *ent.User {
	t.Helper()
	c := db.Client.User.Create().SetOrganizationID(org.ID).SetRole(role).SetPasswordHash("x")
	for _, o := range opts {
		o(c)
	}
	handle, ok := c.Mutation().Handle()
	if !ok {
		handle = string(role) + "-" + uuid.NewString()[:8]
		c.SetHandle(handle)
	}
	if _, ok := c.Mutation().Email(); !ok {
		c.SetEmail(handle + "@" + org.Slug + ".test")
	}
	u, err := c.Save(system())
	if err != nil {
		t.Fatalf("create user %s: %v", handle, err)
	}
	return u
}

// As returns a context acting as u in org, which is u's home organisation
// unless org says otherwise (a provider's user working in a client).
func As(u *ent.User, org *ent.Organization) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, UserID: u.ID, Role: u.Role,
		HomeOrgID: u.OrganizationID, OrgID: org.ID, VisibleOrgIDs: []uuid.UUID{org.ID}, TopLevel: org.ParentID == nil})
}

// UserContext creates a user of org with role and returns a context acting
// as them in org, with their id. The user is real: changes are recorded in
// the activity log with their actor, and an actor that does not exist
// fails the change.
func UserContext(t testing.TB, db *storage.DB, org *ent.Organization, role enum.Role, opts ...UserOption) (context.Context, uuid.UUID) {
	t.Helper()
	u := User(t, db, org, role, opts...)
	return As(u, org), u.ID
}

// Connector creates a connector of typ in org and returns it with its key,
// which authenticates as the connector. set adjusts the connector before it
// is saved.
func Connector(t testing.TB, db *storage.DB, org *ent.Organization, typ string, set ...func(*ent.ConnectorCreate)) (*ent.Connector, string) {
	t.Helper()
	key := credential.NewSecret(credential.PrefixConnector)
	c := db.Client.Connector.Create().SetOrganizationID(org.ID).SetName(typ + " connector").SetType(typ).
		SetKeyPrefix(key[:8]).SetKeyHash(credential.HashSecret(key))
	for _, f := range set {
		f(c)
	}
	conn, err := c.Save(system())
	if err != nil {
		t.Fatalf("create connector: %v", err)
	}
	return conn, key
}

// GenericAlert is a generic-connector ingest payload for one alert.
func GenericAlert(title, host string) []byte {
	b, _ := json.Marshal(map[string]any{
		"title": title, "severity": "high", "source": "unit-test",
		"attributes": map[string]string{"host": host, "src_ip": "203.0.113.9"},
	})
	return b
}

// GenericBatch is a JSON array of ingest payloads.
func GenericBatch(items ...[]byte) []byte {
	raws := make([]json.RawMessage, len(items))
	for i, it := range items {
		raws[i] = it
	}
	b, _ := json.Marshal(raws)
	return b
}

// triggerConditions are the kinds of alert.created conditions a SOC
// writes: routing by source and severity, host patterns, tags, title
// words, entity lookups; %d takes a number so that copies differ.
var triggerConditions = []string{
	`source == "crowdstrike" && severity == "critical"`,
	`source == "sentinelone" && severity >= "high" && !("triaged" in tags)`,
	`attributes.host.startsWith("web-prod-") && title.contains("NodeDown")`,
	`title.matches("(?i)ransom|encrypt") && severity >= "medium"`,
	`attributes.host.startsWith("ingest-2%d-00")`,
	`"vip" in tags || attributes.user.endsWith("@board.example")`,
	`entities.ip.exists(i, i.startsWith("198.51.100."))`,
	`connector.type == "wazuh" && attributes.rule == "5710"`,
	`severity == "info" && source == "bench-noise-%d"`,
	`title.contains("Impossible travel") && assignee == null`,
}

// TriggerConditions are n realistic alert.created conditions: the ones
// cmd/seliq-bench's trigger run enables, and the condition benchmark
// evaluates, so both measure the same conditions.
func TriggerConditions(n int) []string {
	out := make([]string, n)
	for i := range out {
		cond := triggerConditions[i%len(triggerConditions)]
		if strings.Contains(cond, "%d") {
			cond = fmt.Sprintf(cond, i%10)
		}
		out[i] = cond
	}
	return out
}
