package server_test

// The cross-organisation test. Every feature that adds a tenant-owned entity
// or a route extends it:
//
//  1. give tenantOrg a field for one object of the new type and create it in
//     setupTenantWorld (through the API, as the provider admin acting in the
//     organisation with X-Seliq-Org);
//  2. add rows to crossOrgCases: one per operation, each proving that org A's
//     users cannot read or change org B's object (REST status and GraphQL
//     extensions.code), plus what the provider may do;
//  3. if the object can change, extend checkUntouched.
//
// Every row runs on both surfaces it declares, in both directions (A against
// B, then B against A) and on both databases.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// tenantOrg is one client organisation and what lives in it.
type tenantOrg struct {
	Name, ID, Slug           string
	Admin, Analyst           *apitest.Client
	AdminID, AnalystID       string
	AdminEmail, AnalystEmail string
	GroupID, ContactID       string
	TokenID, Token           string // the admin's personal API token
	ConnectorID, Key         string // a generic connector and its key
	AlertID, ViewID          string // an ingested alert (with one note) and a shared view
	IncidentID, EventID      string // an incident holding AlertID, and its manual timeline event
	ReportID                 string // a rendered report of IncidentID
	NotificationID           string // the admin's notification of a mention in IncidentID's note
	ChatMessageID            string // the analyst's question about AlertID (answered by the built-in analyst)
}

// tenantWorld is the provider organisation "default" with client
// organisations A and B below it.
type tenantWorld struct {
	env                             *apitest.Env
	Provider, ProviderAnalyst       *apitest.Client
	ProviderOrgID, ProviderAdminID  string
	ProviderGroupID, ProviderContID string
	A, B                            *tenantOrg
}

// swapped returns the world seen from B: every row then runs B against A.
func (w *tenantWorld) swapped() *tenantWorld {
	cp := *w
	cp.A, cp.B = w.B, w.A
	return &cp
}

func setupTenantWorld(t *testing.T, db *storage.DB) *tenantWorld {
	t.Helper()
	s := &suite{} // request helpers without coverage tracking
	env := apitest.Start(t, db)
	w := &tenantWorld{env: env, Provider: env.Admin()}
	me := s.rest(t, w.Provider, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
	w.ProviderOrgID, w.ProviderAdminID = me.String("organization_id"), me.String("id")
	s.createUser(t, w.Provider, "analyst@provider.test", "analyst", "provider-analyst-pw")
	w.ProviderAnalyst = env.Login("analyst@provider.test", "provider-analyst-pw")
	w.ProviderGroupID = s.rest(t, w.Provider, http.MethodPost, "/api/v1/groups", map[string]any{"name": "Provider SOC"}, http.StatusCreated).String("id")
	w.ProviderContID = s.rest(t, w.Provider, http.MethodPost, "/api/v1/organizations/"+w.ProviderOrgID+"/contacts",
		map[string]any{"name": "Provider Contact"}, http.StatusCreated).String("id")

	for _, o := range []*tenantOrg{{Name: "Client A", Slug: "client-a"}, {Name: "Client B", Slug: "client-b"}} {
		res := s.rest(t, w.Provider, http.MethodPost, "/api/v1/organizations", map[string]any{"name": o.Name, "slug": o.Slug}, http.StatusCreated)
		o.ID = res.String("id")
		in := w.Provider.As(o.Slug)
		o.AdminEmail, o.AnalystEmail = "admin@"+o.Slug+".test", "analyst@"+o.Slug+".test"
		o.AdminID = s.createUser(t, in, o.AdminEmail, "admin", "client-admin-password")
		o.AnalystID = s.createUser(t, in, o.AnalystEmail, "analyst", "client-analyst-password")
		o.Admin = env.Login(o.AdminEmail, "client-admin-password")
		o.Analyst = env.Login(o.AnalystEmail, "client-analyst-password")
		o.GroupID = s.rest(t, in, http.MethodPost, "/api/v1/groups",
			map[string]any{"name": o.Name + " SOC", "member_ids": []string{o.AnalystID}}, http.StatusCreated).String("id")
		o.ContactID = s.rest(t, in, http.MethodPost, "/api/v1/organizations/"+o.ID+"/contacts",
			map[string]any{"name": o.Name + " CISO", "email": "ciso@" + o.Slug + ".test"}, http.StatusCreated).String("id")
		tok := s.rest(t, o.Admin, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "automation"}, http.StatusCreated)
		o.TokenID, o.Token = tok.String("id"), tok.String("token")
		setupTenantAlerts(t, s, env, o)
		setupTenantIncidents(t, s, o)
		setupTenantChat(t, s, o)
		if w.A == nil {
			w.A = o
		} else {
			w.B = o
		}
	}
	return w
}

// crossOrgCase is one row: who acts, the REST request and/or the GraphQL
// operation, and what each must answer.
type crossOrgCase struct {
	name  string
	actor func(w *tenantWorld) *apitest.Client

	// REST: method, path and body, answered with status.
	rest   func(w *tenantWorld) (method, path string, body any)
	status int

	// GraphQL: the operation, answered with extensions.code (""
	// means success), or refused before GraphQL runs with HTTP gqlStatus.
	gql       func(w *tenantWorld) (query string, vars map[string]any)
	code      string
	gqlStatus int

	// Optional assertions on a successful answer.
	checkREST func(t *testing.T, w *tenantWorld, res *apitest.Response)
	checkGQL  func(t *testing.T, w *tenantWorld, data map[string]any)
}

// Actors.
func adminA(w *tenantWorld) *apitest.Client   { return w.A.Admin }
func analystA(w *tenantWorld) *apitest.Client { return w.A.Analyst }
func provider(w *tenantWorld) *apitest.Client { return w.Provider }
func tokenA(w *tenantWorld) *apitest.Client   { return withAuth(w.env, "Token "+w.A.Token) }

// in returns an actor acting in the organisation org(w) names.
func in(actor func(*tenantWorld) *apitest.Client, org func(*tenantWorld) string) func(*tenantWorld) *apitest.Client {
	return func(w *tenantWorld) *apitest.Client { return actor(w).As(org(w)) }
}

func slugA(w *tenantWorld) string { return w.A.Slug }
func idA(w *tenantWorld) string   { return w.A.ID }
func slugB(w *tenantWorld) string { return w.B.Slug }
func idB(w *tenantWorld) string   { return w.B.ID }

// Request builders.
func get(path func(w *tenantWorld) string) func(*tenantWorld) (string, string, any) {
	return func(w *tenantWorld) (string, string, any) { return http.MethodGet, path(w), nil }
}

func send(method string, path func(w *tenantWorld) string, body any) func(*tenantWorld) (string, string, any) {
	return func(w *tenantWorld) (string, string, any) { return method, path(w), body }
}

func op(query string, vars func(w *tenantWorld) map[string]any) func(*tenantWorld) (string, map[string]any) {
	return func(w *tenantWorld) (string, map[string]any) {
		if vars == nil {
			return query, nil
		}
		return query, vars(w)
	}
}

func idVar(id func(w *tenantWorld) string) func(*tenantWorld) map[string]any {
	return func(w *tenantWorld) map[string]any { return map[string]any{"id": id(w)} }
}

func p(format string, args ...func(w *tenantWorld) string) func(*tenantWorld) string {
	return func(w *tenantWorld) string {
		out := format
		for _, a := range args {
			out = strings.Replace(out, "%s", a(w), 1)
		}
		return out
	}
}

// Fixture ids.
func userB(w *tenantWorld) string     { return w.B.AdminID }
func analystB(w *tenantWorld) string  { return w.B.AnalystID }
func groupA(w *tenantWorld) string    { return w.A.GroupID }
func groupB(w *tenantWorld) string    { return w.B.GroupID }
func contactB(w *tenantWorld) string  { return w.B.ContactID }
func tokenB(w *tenantWorld) string    { return w.B.TokenID }
func provOrg(w *tenantWorld) string   { return w.ProviderOrgID }
func provAdmin(w *tenantWorld) string { return w.ProviderAdminID }
func provGroup(w *tenantWorld) string { return w.ProviderGroupID }
func provCont(w *tenantWorld) string  { return w.ProviderContID }
func lit(s string) func(*tenantWorld) string {
	return func(*tenantWorld) string { return s }
}

// onlyUsersOf checks a REST user list holds exactly org's users.
func onlyUsersOf(org func(w *tenantWorld) *tenantOrg) func(t *testing.T, w *tenantWorld, res *apitest.Response) {
	return func(t *testing.T, w *tenantWorld, res *apitest.Response) {
		t.Helper()
		o := org(w)
		if got, want := strs(res.Items(), "email"), sorted(o.AdminEmail, o.AnalystEmail); !slices.Equal(got, want) || num(res.Body["total"]) != 2 {
			t.Fatalf("users %v (total %v), want %v", got, res.Body["total"], want)
		}
		for _, it := range res.Items() {
			if it["organization_id"] != o.ID {
				t.Fatalf("user of another organisation listed: %v", it)
			}
		}
	}
}

func onlyUsersOfGQL(org func(w *tenantWorld) *tenantOrg) func(t *testing.T, w *tenantWorld, data map[string]any) {
	return func(t *testing.T, w *tenantWorld, data map[string]any) {
		t.Helper()
		o := org(w)
		if got, want := strs(nodes(data["users"]), "email"), sorted(o.AdminEmail, o.AnalystEmail); !slices.Equal(got, want) || num(dig(data, "users", "totalCount")) != 2 {
			t.Fatalf("GraphQL users %v, want %v: %+v", got, want, data)
		}
	}
}

func orgA(w *tenantWorld) *tenantOrg { return w.A }

const usersQuery = `{ users { totalCount edges { node { email organizationID } } } }`

// nodeQuery resolves any object by id.
const nodeQuery = `query($id: ID!) { node(id: $id) { id __typename } }`

// crossOrgCases is the table. Rows read "actor does X to B's thing".
var crossOrgCases = []crossOrgCase{
	// --- users
	{name: "admin reads B's user", actor: adminA,
		rest: get(p("/api/v1/users/%s", userB)), status: 404,
		gql: op(`query($id: ID!) { user(id: $id) { id } }`, idVar(userB)), code: "NOT_FOUND"},
	{name: "analyst reads B's user", actor: analystA,
		rest: get(p("/api/v1/users/%s", analystB)), status: 404,
		gql: op(`query($id: ID!) { user(id: $id) { id } }`, idVar(analystB)), code: "NOT_FOUND"},
	{name: "admin reads the provider's admin", actor: adminA,
		rest: get(p("/api/v1/users/%s", provAdmin)), status: 404,
		gql: op(`query($id: ID!) { user(id: $id) { id } }`, idVar(provAdmin)), code: "NOT_FOUND"},
	{name: "admin renames B's user", actor: adminA,
		rest: send("PATCH", p("/api/v1/users/%s", analystB), map[string]any{"name": "pwned"}), status: 404,
		gql: op(`mutation($id: ID!) { updateUser(id: $id, input: {name: "pwned"}) { id } }`, idVar(analystB)), code: "NOT_FOUND"},
	{name: "admin promotes B's analyst", actor: adminA,
		rest: send("PATCH", p("/api/v1/users/%s", analystB), map[string]any{"role": "admin"}), status: 404,
		gql: op(`mutation($id: ID!) { updateUser(id: $id, input: {role: ADMIN}) { id } }`, idVar(analystB)), code: "NOT_FOUND"},
	{name: "admin deactivates B's admin", actor: adminA,
		rest: send("PATCH", p("/api/v1/users/%s", userB), map[string]any{"active": false}), status: 404,
		gql: op(`mutation($id: ID!) { updateUser(id: $id, input: {active: false}) { id } }`, idVar(userB)), code: "NOT_FOUND"},
	{name: "admin deletes B's user", actor: adminA,
		rest: send("DELETE", p("/api/v1/users/%s", analystB), nil), status: 404,
		gql: op(`mutation($id: ID!) { deleteUser(id: $id) { deletedID } }`, idVar(analystB)), code: "NOT_FOUND"},
	{name: "admin resets B's password", actor: adminA,
		rest: send("POST", p("/api/v1/users/%s/reset-password", userB), map[string]any{"password": "taken-over-password"}), status: 404,
		gql: op(`mutation($id: ID!) { resetPassword(id: $id) { temporaryPassword } }`, idVar(userB)), code: "NOT_FOUND"},
	{name: "admin resets the provider admin's password", actor: adminA,
		rest: send("POST", p("/api/v1/users/%s/reset-password", provAdmin), nil), status: 404,
		gql: op(`mutation($id: ID!) { resetPassword(id: $id) { temporaryPassword } }`, idVar(provAdmin)), code: "NOT_FOUND"},
	{name: "analyst lists only own users", actor: analystA,
		rest: get(lit("/api/v1/users?limit=100")), status: 200, checkREST: onlyUsersOf(orgA),
		gql: op(usersQuery, nil), checkGQL: onlyUsersOfGQL(orgA)},
	{name: "admin sees only own seats", actor: adminA,
		rest: get(lit("/api/v1/users/quota")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if num(res.Body["used"]) != 2 {
				t.Fatalf("quota counts other organisations: %s", res.Raw)
			}
		}},

	// --- groups
	{name: "admin reads B's group", actor: adminA,
		rest: get(p("/api/v1/groups/%s", groupB)), status: 404,
		gql: op(`query($id: ID!) { group(id: $id) { id } }`, idVar(groupB)), code: "NOT_FOUND"},
	{name: "analyst reads the provider's group", actor: analystA,
		rest: get(p("/api/v1/groups/%s", provGroup)), status: 404,
		gql: op(`query($id: ID!) { group(id: $id) { id } }`, idVar(provGroup)), code: "NOT_FOUND"},
	{name: "admin renames B's group", actor: adminA,
		rest: send("PATCH", p("/api/v1/groups/%s", groupB), map[string]any{"name": "pwned"}), status: 404,
		gql: op(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "pwned"}) { id } }`, idVar(groupB)), code: "NOT_FOUND"},
	{name: "admin deletes B's group", actor: adminA,
		rest: send("DELETE", p("/api/v1/groups/%s", groupB), nil), status: 404,
		gql: op(`mutation($id: ID!) { deleteGroup(id: $id) { deletedID } }`, idVar(groupB)), code: "NOT_FOUND"},
	{name: "admin empties B's group", actor: adminA,
		rest: send("PUT", p("/api/v1/groups/%s/members", groupB), map[string]any{"user_ids": []string{}}), status: 404,
		gql: op(`mutation($id: ID!) { setGroupMembers(id: $id, userIDs: []) { id } }`, idVar(groupB)), code: "NOT_FOUND"},
	{name: "admin adds B's user to own group", actor: adminA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "PUT", "/api/v1/groups/" + w.A.GroupID + "/members", map[string]any{"user_ids": []string{w.A.AnalystID, w.B.AnalystID}}
		}, status: 422,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($id: ID!, $u: [ID!]!) { setGroupMembers(id: $id, userIDs: $u) { id } }`, map[string]any{"id": w.A.GroupID, "u": []string{w.B.AnalystID}}
		}, code: "BAD_USER_INPUT"},
	{name: "admin creates a group with B's user", actor: adminA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "POST", "/api/v1/groups", map[string]any{"name": "Mixed", "member_ids": []string{w.B.AdminID}}
		}, status: 422,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($m: [ID!]) { createGroup(input: {name: "Mixed", memberIDs: $m}) { id } }`, map[string]any{"m": []string{w.B.AdminID}}
		}, code: "BAD_USER_INPUT"},
	{name: "analyst lists only own groups", actor: analystA,
		rest: get(lit("/api/v1/groups")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if got := strs(res.Items(), "id"); !slices.Equal(got, []string{w.A.GroupID}) {
				t.Fatalf("groups %v, want only %s", got, w.A.GroupID)
			}
		},
		gql: op(`{ groups { totalCount edges { node { id } } } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if got := strs(nodes(data["groups"]), "id"); !slices.Equal(got, []string{w.A.GroupID}) {
				t.Fatalf("GraphQL groups %v", got)
			}
		}},

	// --- contacts
	{name: "admin lists B's contacts", actor: adminA,
		rest: get(p("/api/v1/organizations/%s/contacts", idB)), status: 404,
		gql: op(`query($id: ID!) { contacts(organizationID: $id) { totalCount } }`, idVar(idB)), code: "NOT_FOUND"},
	{name: "analyst lists the provider's contacts", actor: analystA,
		rest: get(p("/api/v1/organizations/%s/contacts", provOrg)), status: 404,
		gql: op(`query($id: ID!) { contacts(organizationID: $id) { totalCount } }`, idVar(provOrg)), code: "NOT_FOUND"},
	{name: "admin adds a contact to B", actor: adminA,
		rest: send("POST", p("/api/v1/organizations/%s/contacts", idB), map[string]any{"name": "Spy"}), status: 404,
		gql: op(`mutation($id: ID!) { createContact(organizationID: $id, input: {name: "Spy"}) { id } }`, idVar(idB)), code: "NOT_FOUND"},
	{name: "admin edits B's contact", actor: adminA,
		rest: send("PATCH", p("/api/v1/organizations/%s/contacts/%s", idB, contactB), map[string]any{"email": "spy@evil.test"}), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($o: ID!, $id: ID!) { updateContact(organizationID: $o, id: $id, input: {name: "Spy"}) { id } }`, map[string]any{"o": w.B.ID, "id": w.B.ContactID}
		}, code: "NOT_FOUND"},
	{name: "admin edits B's contact under own organisation", actor: adminA,
		rest: send("PATCH", p("/api/v1/organizations/%s/contacts/%s", idA, contactB), map[string]any{"email": "spy@evil.test"}), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($o: ID!, $id: ID!) { updateContact(organizationID: $o, id: $id, input: {name: "Spy"}) { id } }`, map[string]any{"o": w.A.ID, "id": w.B.ContactID}
		}, code: "NOT_FOUND"},
	{name: "admin deletes B's contact", actor: adminA,
		rest: send("DELETE", p("/api/v1/organizations/%s/contacts/%s", idB, contactB), nil), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($o: ID!, $id: ID!) { deleteContact(organizationID: $o, id: $id) { deletedID } }`, map[string]any{"o": w.B.ID, "id": w.B.ContactID}
		}, code: "NOT_FOUND"},
	{name: "admin deletes B's contact under own organisation", actor: adminA,
		rest: send("DELETE", p("/api/v1/organizations/%s/contacts/%s", idA, contactB), nil), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($o: ID!, $id: ID!) { deleteContact(organizationID: $o, id: $id) { deletedID } }`, map[string]any{"o": w.A.ID, "id": w.B.ContactID}
		}, code: "NOT_FOUND"},
	{name: "admin deletes the provider's contact", actor: adminA,
		rest: send("DELETE", p("/api/v1/organizations/%s/contacts/%s", provOrg, provCont), nil), status: 404},

	// --- organisations
	{name: "admin reads B by id", actor: adminA,
		rest: get(p("/api/v1/organizations/%s", idB)), status: 404,
		gql: op(`query($id: ID!) { organization(id: $id) { id } }`, idVar(idB)), code: "NOT_FOUND"},
	{name: "analyst reads B by slug", actor: analystA,
		rest: get(p("/api/v1/organizations/by-slug/%s", slugB)), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `query($s: String!) { organizationBySlug(slug: $s) { id } }`, map[string]any{"s": w.B.Slug}
		}, code: "NOT_FOUND"},
	{name: "admin reads the provider by id", actor: adminA,
		rest: get(p("/api/v1/organizations/%s", provOrg)), status: 404,
		gql: op(`query($id: ID!) { organization(id: $id) { id } }`, idVar(provOrg)), code: "NOT_FOUND"},
	{name: "admin reads the provider by slug", actor: adminA,
		rest: get(lit("/api/v1/organizations/by-slug/default")), status: 404,
		gql: op(`{ organizationBySlug(slug: "default") { id } }`, nil), code: "NOT_FOUND"},
	{name: "admin renames B", actor: adminA,
		rest: send("PATCH", p("/api/v1/organizations/%s", idB), map[string]any{"name": "pwned"}), status: 404,
		gql: op(`mutation($id: ID!) { updateOrganization(id: $id, input: {name: "pwned"}) { id } }`, idVar(idB)), code: "NOT_FOUND"},
	{name: "admin enforces MFA on the provider", actor: adminA,
		rest: send("PATCH", p("/api/v1/organizations/%s", provOrg), map[string]any{"mfa_enforced": true}), status: 404,
		gql: op(`mutation($id: ID!) { updateOrganization(id: $id, input: {mfaEnforced: true}) { id } }`, idVar(provOrg)), code: "NOT_FOUND"},
	{name: "client admin changes own slug", actor: adminA,
		rest: send("PATCH", p("/api/v1/organizations/%s", idA), map[string]any{"slug": "client-x"}), status: 403,
		gql: op(`mutation($id: ID!) { updateOrganization(id: $id, input: {slug: "client-x"}) { id } }`, idVar(idA)), code: "FORBIDDEN"},
	{name: "admin creates an organisation under B", actor: adminA,
		rest: func(w *tenantWorld) (string, string, any) {
			return "POST", "/api/v1/organizations", map[string]any{"name": "Sub", "slug": "sub-of-b", "parent_id": w.B.ID}
		}, status: 403,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($p: ID) { createOrganization(input: {name: "Sub", slug: "sub-of-b", parentID: $p}) { id } }`, map[string]any{"p": w.B.ID}
		}, code: "FORBIDDEN"},
	{name: "analyst lists only own organisation", actor: analystA,
		rest: get(lit("/api/v1/organizations")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if got := strs(res.Items(), "id"); !slices.Equal(got, []string{w.A.ID}) || num(res.Body["total"]) != 1 {
				t.Fatalf("organizations %v", got)
			}
		},
		gql: op(`{ organizations { totalCount edges { node { id } } } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if got := strs(nodes(data["organizations"]), "id"); !slices.Equal(got, []string{w.A.ID}) {
				t.Fatalf("GraphQL organizations %v", got)
			}
		}},
	{name: "admin reads own organisation's parent", actor: adminA,
		rest: get(p("/api/v1/organizations/%s", idA)), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			// The parent id is part of the record; the parent itself is not readable.
			if res.String("parent_id") != w.ProviderOrgID {
				t.Fatalf("parent_id: %s", res.Raw)
			}
			if p := obj(res.Body["parent"]); p != nil && p["name"] != nil {
				t.Fatalf("the parent organisation leaks through the edge: %s", res.Raw)
			}
		}},

	// --- API tokens and node
	{name: "admin revokes B's API token", actor: adminA,
		rest: send("DELETE", p("/api/v1/users/me/api-tokens/%s", tokenB), nil), status: 404,
		gql: op(`mutation($id: ID!) { revokeAPIToken(id: $id) { deletedID } }`, idVar(tokenB)), code: "NOT_FOUND"},
	{name: "node: B's user", actor: adminA, gql: op(nodeQuery, idVar(userB)), code: "NOT_FOUND"},
	{name: "node: B's group", actor: analystA, gql: op(nodeQuery, idVar(groupB)), code: "NOT_FOUND"},
	{name: "node: B's contact", actor: adminA, gql: op(nodeQuery, idVar(contactB)), code: "NOT_FOUND"},
	{name: "node: B", actor: adminA, gql: op(nodeQuery, idVar(idB)), code: "NOT_FOUND"},
	{name: "node: the provider", actor: adminA, gql: op(nodeQuery, idVar(provOrg)), code: "NOT_FOUND"},
	{name: "node: B's API token", actor: adminA, gql: op(nodeQuery, idVar(tokenB)), code: "NOT_FOUND"},
	{name: "nodes: B's user and group", actor: adminA,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{w.B.AdminID, w.B.GroupID}}
		}, code: "NOT_FOUND"},

	// --- X-Seliq-Org outside the caller's tree
	{name: "admin targets B by slug", actor: in(adminA, slugB),
		rest: get(lit("/api/v1/users")), status: 403, gql: op(usersQuery, nil), gqlStatus: 403},
	{name: "admin targets B by id", actor: in(adminA, idB),
		rest: get(lit("/api/v1/groups")), status: 403, gql: op(usersQuery, nil), gqlStatus: 403},
	{name: "analyst targets B by slug", actor: in(analystA, slugB),
		rest: get(lit("/api/v1/users/me")), status: 403, gql: op(`{ me { id } }`, nil), gqlStatus: 403},
	{name: "admin targets the provider by slug", actor: in(adminA, lit("default")),
		rest: get(lit("/api/v1/users")), status: 403, gql: op(usersQuery, nil), gqlStatus: 403},
	{name: "admin targets the provider by id", actor: in(adminA, provOrg),
		rest: send("POST", lit("/api/v1/groups"), map[string]any{"name": "Planted"}), status: 403,
		gql: op(`mutation { createGroup(input: {name: "Planted"}) { id } }`, nil), gqlStatus: 403},
	{name: "admin targets an unknown organisation", actor: in(adminA, lit("no-such-org")),
		rest: get(lit("/api/v1/users")), status: 403, gql: op(usersQuery, nil), gqlStatus: 403},
	{name: "API token targets B", actor: in(tokenA, slugB),
		rest: get(lit("/api/v1/users")), status: 403, gql: op(usersQuery, nil), gqlStatus: 403},
	{name: "admin targets own organisation", actor: in(adminA, slugA),
		rest: get(lit("/api/v1/users")), status: 200, checkREST: onlyUsersOf(orgA),
		gql: op(usersQuery, nil), checkGQL: onlyUsersOfGQL(orgA)},

	// --- the provider acts in its clients
	{name: "provider admin lists A's users by slug", actor: in(provider, slugA),
		rest: get(lit("/api/v1/users")), status: 200, checkREST: onlyUsersOf(orgA),
		gql: op(usersQuery, nil), checkGQL: onlyUsersOfGQL(orgA)},
	{name: "provider admin lists A's users by id", actor: in(provider, idA),
		rest: get(lit("/api/v1/users")), status: 200, checkREST: onlyUsersOf(orgA),
		gql: op(usersQuery, nil), checkGQL: onlyUsersOfGQL(orgA)},
	{name: "provider analyst lists A's users", actor: in(func(w *tenantWorld) *apitest.Client { return w.ProviderAnalyst }, slugA),
		rest: get(lit("/api/v1/users")), status: 200, checkREST: onlyUsersOf(orgA),
		gql: op(usersQuery, nil), checkGQL: onlyUsersOfGQL(orgA)},
	{name: "provider analyst cannot administer A", actor: in(func(w *tenantWorld) *apitest.Client { return w.ProviderAnalyst }, slugA),
		rest: send("POST", lit("/api/v1/groups"), map[string]any{"name": "Analyst Made"}), status: 403,
		gql: op(`mutation { createGroup(input: {name: "Analyst Made"}) { id } }`, nil), code: "FORBIDDEN"},
	{name: "provider admin reads A's user", actor: in(provider, slugA),
		rest: get(func(w *tenantWorld) string { return "/api/v1/users/" + w.A.AnalystID }), status: 200,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `query($id: ID!) { user(id: $id) { email } }`, map[string]any{"id": w.A.AnalystID}
		}},
	{name: "provider admin reads A's group", actor: in(provider, idA),
		rest: get(p("/api/v1/groups/%s", groupA)), status: 200,
		gql: op(`query($id: ID!) { group(id: $id) { name } }`, idVar(groupA))},
	{name: "provider admin creates a group in A by slug", actor: in(provider, slugA),
		rest: send("POST", lit("/api/v1/groups"), map[string]any{"name": "Made by provider (REST)"}), status: 201,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if res.String("organization_id") != w.A.ID {
				t.Fatalf("group created in %s, want A %s", res.String("organization_id"), w.A.ID)
			}
		},
		gql: op(`mutation { createGroup(input: {name: "Made by provider (GraphQL)"}) { organizationID } }`, nil),
		checkGQL: func(t *testing.T, w *tenantWorld, data map[string]any) {
			if digS(data, "createGroup", "organizationID") != w.A.ID {
				t.Fatalf("group created in the wrong organisation: %+v", data)
			}
		}},
	{name: "provider admin creates a user in A by id", actor: in(provider, idA),
		rest: func(w *tenantWorld) (string, string, any) {
			return "POST", "/api/v1/users", map[string]any{"email": "extra@" + w.A.Slug + ".test", "role": "read_only"}
		}, status: 201,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if res.String("organization_id") != w.A.ID {
				t.Fatalf("user created in %s, want A", res.String("organization_id"))
			}
			// Leave A with its two users for the other rows.
			if d := w.Provider.As(w.A.ID).Do(http.MethodDelete, "/api/v1/users/"+res.String("id"), nil); d.Status != http.StatusNoContent {
				t.Fatalf("cleanup: %d %s", d.Status, d.Raw)
			}
		}},
	{name: "provider admin manages A's contacts", actor: in(provider, slugA),
		rest: send("POST", p("/api/v1/organizations/%s/contacts", idA), map[string]any{"name": "Provider-made contact"}), status: 201,
		gql: op(`query($id: ID!) { contacts(organizationID: $id) { totalCount } }`, idVar(idA))},
	{name: "provider admin manages A's contacts without the header", actor: provider,
		rest: get(p("/api/v1/organizations/%s/contacts", idA)), status: 200,
		gql: op(`query($id: ID!) { contacts(organizationID: $id) { totalCount } }`, idVar(idA))},
	{name: "provider admin reads A by id and slug without the header", actor: provider,
		rest: get(p("/api/v1/organizations/by-slug/%s", slugA)), status: 200,
		gql: op(`query($id: ID!) { organization(id: $id) { slug } }`, idVar(idA))},
	{name: "provider admin renames A", actor: provider,
		rest: func(w *tenantWorld) (string, string, any) {
			return "PATCH", "/api/v1/organizations/" + w.A.ID, map[string]any{"name": w.A.Name}
		}, status: 200,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `mutation($id: ID!, $n: String!) { updateOrganization(id: $id, input: {name: $n}) { name } }`, map[string]any{"id": w.A.ID, "n": w.A.Name}
		}},
	{name: "provider admin acting in A does not reach B's user", actor: in(provider, slugA),
		rest: get(p("/api/v1/users/%s", userB)), status: 404,
		gql: op(`query($id: ID!) { user(id: $id) { id } }`, idVar(userB)), code: "NOT_FOUND"},
	{name: "provider admin acting in A does not reach B", actor: in(provider, slugA),
		rest: get(p("/api/v1/organizations/%s", idB)), status: 404,
		gql: op(`query($id: ID!) { organization(id: $id) { id } }`, idVar(idB)), code: "NOT_FOUND"},
	{name: "provider admin without the header acts at home", actor: provider,
		rest: get(func(w *tenantWorld) string { return "/api/v1/users/" + w.A.AdminID }), status: 404,
		gql: func(w *tenantWorld) (string, map[string]any) {
			return `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": w.A.AdminID}
		}, code: "NOT_FOUND"},
	{name: "provider admin counts A's seats", actor: in(provider, slugA),
		rest: get(lit("/api/v1/users/quota")), status: 200,
		checkREST: func(t *testing.T, w *tenantWorld, res *apitest.Response) {
			if num(res.Body["used"]) != 2 {
				t.Fatalf("A's seats: %s", res.Raw)
			}
		}},
}

func TestCrossOrganization(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	cases := slices.Concat(crossOrgCases, alertCrossOrgCases, incidentCrossOrgCases, chatCrossOrgCases)
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		world := setupTenantWorld(t, db)
		s := &suite{}
		for _, dir := range []struct {
			name string
			w    *tenantWorld
		}{{"A→B", world}, {"B→A", world.swapped()}} {
			t.Run(dir.name, func(t *testing.T) {
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) { runCrossOrgCase(t, s, dir.w, tc) })
				}
			})
		}
		t.Run("untouched", func(t *testing.T) {
			checkUntouched(t, s, world, world.A)
			checkUntouched(t, s, world, world.B)
		})
	})
}

func runCrossOrgCase(t *testing.T, s *suite, w *tenantWorld, tc crossOrgCase) {
	if tc.rest == nil && tc.gql == nil {
		t.Fatal("a row needs a REST request or a GraphQL operation")
	}
	if tc.rest != nil {
		t.Run("rest", func(t *testing.T) {
			method, path, body := tc.rest(w)
			res := s.rest(t, tc.actor(w), method, path, body, tc.status)
			if tc.status >= 400 && tc.status != http.StatusUnprocessableEntity {
				wantDetail(t, res)
			}
			if tc.checkREST != nil {
				tc.checkREST(t, w, res)
			}
		})
	}
	if tc.gql != nil {
		t.Run("graphql", func(t *testing.T) {
			q, vars := tc.gql(w)
			c := tc.actor(w)
			if tc.gqlStatus != 0 {
				if g := c.GraphQL(q, vars); g.Status != tc.gqlStatus || len(g.Data) > 0 {
					t.Fatalf("GraphQL status %d, want %d: %+v", g.Status, tc.gqlStatus, g)
				}
				return
			}
			if tc.code == "" {
				data := s.gql(t, c, q, vars)
				if tc.checkGQL != nil {
					tc.checkGQL(t, w, data)
				}
				return
			}
			g := s.gqlErr(t, c, q, vars, tc.code)
			for k, v := range g.Data {
				list, isList := v.([]any)
				if isList && !slices.ContainsFunc(list, func(e any) bool { return e != nil }) {
					continue
				}
				if v != nil {
					t.Fatalf("refused operation returned data %s: %+v", k, g.Data)
				}
			}
		})
	}
}

// checkUntouched proves no row changed o's users, group, contact,
// organisation or credentials.
func checkUntouched(t *testing.T, s *suite, w *tenantWorld, o *tenantOrg) {
	t.Helper()
	as := w.Provider.As(o.Slug)
	checkChatUntouched(t, s, as, o)
	users := s.rest(t, as, http.MethodGet, "/api/v1/users", nil, http.StatusOK)
	if got := strs(users.Items(), "email"); !slices.Equal(got, sorted(o.AdminEmail, o.AnalystEmail)) {
		t.Fatalf("%s users: %v", o.Slug, got)
	}
	for _, u := range users.Items() {
		wantRole := "analyst"
		if u["id"] == o.AdminID {
			wantRole = "admin"
		}
		if u["active"] != true || u["role"] != wantRole || u["name"] != "" {
			t.Fatalf("%s user changed: %v", o.Slug, u)
		}
	}
	g := s.rest(t, as, http.MethodGet, "/api/v1/groups/"+o.GroupID, nil, http.StatusOK)
	if g.String("name") != o.Name+" SOC" || !slices.Equal(anyStrs(g.Body["members"], "id"), []string{o.AnalystID}) {
		t.Fatalf("%s group changed: %s", o.Slug, g.Raw)
	}
	cs := s.rest(t, w.Provider, http.MethodGet, "/api/v1/organizations/"+o.ID+"/contacts?sort=name", nil, http.StatusOK)
	found := false
	for _, c := range cs.Items() {
		if c["id"] == o.ContactID {
			found = c["name"] == o.Name+" CISO" && c["email"] == "ciso@"+o.Slug+".test"
		}
		if c["name"] == "Spy" {
			t.Fatalf("%s got a planted contact", o.Slug)
		}
	}
	if !found {
		t.Fatalf("%s contact changed: %s", o.Slug, cs.Raw)
	}
	org := s.rest(t, w.Provider, http.MethodGet, "/api/v1/organizations/"+o.ID, nil, http.StatusOK)
	if org.String("name") != o.Name || org.String("slug") != o.Slug || org.Body["mfa_enforced"] != false {
		t.Fatalf("%s organisation changed: %s", o.Slug, org.Raw)
	}
	login(t, w.env, o.AdminEmail, "client-admin-password", http.StatusOK)
	s.rest(t, withAuth(w.env, "Token "+o.Token), http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
	s.rest(t, o.Admin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
	// Nothing was planted in the provider organisation either.
	groups := s.rest(t, w.Provider, http.MethodGet, "/api/v1/groups", nil, http.StatusOK)
	if got := strs(groups.Items(), "name"); !slices.Equal(got, []string{"Provider SOC"}) {
		t.Fatalf("provider groups: %v", got)
	}
	checkAlertsUntouched(t, s, w, o)
	checkIncidentsUntouched(t, s, w, o)
	prov := s.rest(t, w.Provider, http.MethodGet, "/api/v1/organizations/"+w.ProviderOrgID, nil, http.StatusOK)
	if prov.Body["mfa_enforced"] != false || len(prov.Body["children"].([]any)) != 2 {
		t.Fatalf("provider organisation changed: %s", prov.Raw)
	}
}
