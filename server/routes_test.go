package server_test

// End-to-end tests of every route of rest.Routes on both surfaces: the REST
// path and the GraphQL operation it projects. A coverage check at the end of
// TestRoutes fails when a route of this suite's tags (auth, users,
// api-tokens, organizations, groups) was not exercised on both surfaces.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/rest"
	"github.com/seliq/seliq/storage"
)

const (
	analystEmail    = apitest.AnalystEmail
	analystPassword = apitest.AnalystPassword
	readerEmail     = apitest.ReaderEmail
	readerPassword  = apitest.ReaderPassword
	acmeAdminEmail  = "admin@acme.test"
	acmeAdminPass   = "acme-admin-password"
)

// ---------------------------------------------------------------------------
// Coverage of routes and GraphQL root fields.

// coverage records which REST routes and GraphQL root fields a test called.
type coverage struct {
	mu   sync.Mutex
	rest map[string]bool // "METHOD /api/v1/pattern"
	gql  map[string]bool // root field name
}

func newCoverage() *coverage {
	return &coverage{rest: map[string]bool{}, gql: map[string]bool{}}
}

var paramRe = regexp.MustCompile(`\{[a-z_]+\}`)

func routeKey(r rest.Route) string { return r.Method + " " + r.Path }

// markPath records the route a request path is served by (static segments
// win over parameters, as in chi).
func (cv *coverage) markPath(method, path string) {
	path, _, _ = strings.Cut(path, "?")
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	best, bestParams := "", 1<<30
	for _, r := range rest.Routes {
		if r.Method != method {
			continue
		}
		re := regexp.MustCompile("^" + paramRe.ReplaceAllString(regexp.QuoteMeta(r.Path), `[^/]+`) + "$")
		// QuoteMeta escapes the braces; match the escaped form too.
		re2 := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(r.Path), `[^/]+`) + "$")
		if re.MatchString(path) || re2.MatchString(path) {
			if n := strings.Count(r.Path, "{"); n < bestParams {
				best, bestParams = routeKey(r), n
			}
		}
	}
	if best != "" {
		cv.mu.Lock()
		cv.rest[best] = true
		cv.mu.Unlock()
	}
}

// markQuery records the root fields of a GraphQL document.
func (cv *coverage) markQuery(q string) {
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		return
	}
	cv.mu.Lock()
	defer cv.mu.Unlock()
	for _, op := range doc.Operations {
		for _, sel := range op.SelectionSet {
			if f, ok := sel.(*ast.Field); ok {
				cv.gql[f.Name] = true
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Request helpers shared by the tests of this package.

// suite holds one server and the principals the route tests use.
type suite struct {
	env *apitest.Env
	cov *coverage

	admin, analyst, reader, acmeAdmin  *apitest.Client
	adminID, analystID, readerID       string
	providerOrgID, acmeID, acmeAdminID string
}

// rest sends a REST request and fails unless it answers want.
func (s *suite) rest(t *testing.T, c *apitest.Client, method, path string, body any, want int) *apitest.Response {
	t.Helper()
	if s.cov != nil {
		s.cov.markPath(method, path)
	}
	return c.Must(t, method, path, body, want)
}

// gql runs a GraphQL operation that must succeed and returns its data.
func (s *suite) gql(t *testing.T, c *apitest.Client, q string, vars map[string]any) map[string]any {
	t.Helper()
	if s.cov != nil {
		s.cov.markQuery(q)
	}
	g := c.GraphQL(q, vars)
	if g.Status != http.StatusOK || len(g.Errors) > 0 {
		t.Fatalf("GraphQL %s: status %d, errors %+v", oneLine(q), g.Status, g.Errors)
	}
	return g.Data
}

// gqlErr runs a GraphQL operation that must fail with code and returns the
// result.
func (s *suite) gqlErr(t *testing.T, c *apitest.Client, q string, vars map[string]any, code string) *apitest.GraphQLResult {
	t.Helper()
	if s.cov != nil {
		s.cov.markQuery(q)
	}
	g := c.GraphQL(q, vars)
	if g.Code() != code {
		t.Fatalf("GraphQL %s: status %d, code %q, want %q: %+v", oneLine(q), g.Status, g.Code(), code, g.Errors)
	}
	return g
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// wantLoc checks a 422 body names field in its loc, after the part of the
// request it came from: "path:user_id" and "query:limit" name path and query
// parameters, a bare name a body field.
func wantLoc(t *testing.T, res *apitest.Response, field string) {
	t.Helper()
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", res.Status, res.Raw)
	}
	loc := detailLoc(t, res)
	want := "body"
	if src, name, ok := strings.Cut(field, ":"); ok {
		want, field = src, name
	}
	if loc[0] != want {
		t.Fatalf("loc %v should start with %s: %s", loc, want, res.Raw)
	}
	if field == "" {
		if len(loc) != 1 {
			t.Fatalf("loc %v, want [body]: %s", loc, res.Raw)
		}
		return
	}
	if !slices.Contains(loc[1:], field) {
		t.Fatalf("loc %v does not name %q: %s", loc, field, res.Raw)
	}
}

func detailLoc(t *testing.T, res *apitest.Response) []string {
	t.Helper()
	var body struct {
		Detail []struct {
			Loc  []string `json:"loc"`
			Msg  string   `json:"msg"`
			Type string   `json:"type"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(res.Raw, &body); err != nil || len(body.Detail) == 0 {
		t.Fatalf("422 body is not {\"detail\": [{loc, msg, type}]}: %v: %s", err, res.Raw)
	}
	d := body.Detail[0]
	if len(d.Loc) == 0 || d.Msg == "" || d.Type == "" {
		t.Fatalf("incomplete validation detail: %s", res.Raw)
	}
	return d.Loc
}

// wantDetail checks a non-422 error body is {"detail": "<non-empty>"}.
func wantDetail(t *testing.T, res *apitest.Response) string {
	t.Helper()
	d, ok := res.Body["detail"].(string)
	if !ok || d == "" {
		t.Fatalf("error body has no detail string: %d %s", res.Status, res.Raw)
	}
	return d
}

// wantField checks a GraphQL BAD_USER_INPUT error names field.
func wantField(t *testing.T, g *apitest.GraphQLResult, field string) {
	t.Helper()
	if len(g.Errors) == 0 {
		t.Fatalf("no errors")
	}
	if f, _ := g.Errors[0].Extensions["field"].(string); f != field && !strings.HasPrefix(f, field+".") {
		t.Fatalf("extensions.field %q, want %q: %+v", f, field, g.Errors)
	}
}

// obj and dig navigate decoded JSON.
func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func dig(v any, keys ...string) any {
	for _, k := range keys {
		v = obj(v)[k]
	}
	return v
}

func digS(v any, keys ...string) string { s, _ := dig(v, keys...).(string); return s }

// nodes returns the nodes of a GraphQL connection.
func nodes(conn any) []map[string]any {
	var out []map[string]any
	edges, _ := obj(conn)["edges"].([]any)
	for _, e := range edges {
		out = append(out, obj(obj(e)["node"]))
	}
	return out
}

// strs collects key from each item.
func strs(items []map[string]any, key string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := it[key].(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func anyStrs(v any, key string) []string {
	list, _ := v.([]any)
	items := make([]map[string]any, 0, len(list))
	for _, it := range list {
		items = append(items, obj(it))
	}
	return strs(items, key)
}

func sorted(s ...string) []string { out := slices.Clone(s); slices.Sort(out); return out }

func num(v any) float64 { f, _ := v.(float64); return f }

// withAuth returns an anonymous client sending authorization verbatim.
func withAuth(env *apitest.Env, authorization string) *apitest.Client {
	c := env.Anonymous()
	c.Authorization = authorization
	return c
}

// newSuite is a suite on env with the provider organisation's team logged
// in; cov, when set, records the routes the suite calls.
func newSuite(t *testing.T, env *apitest.Env, cov *coverage) *suite {
	t.Helper()
	tm := env.Team(t)
	return &suite{env: env, cov: cov, admin: tm.Admin, analyst: tm.Analyst, reader: tm.Reader,
		adminID: tm.AdminID, analystID: tm.AnalystID, readerID: tm.ReaderID, providerOrgID: tm.OrgID}
}

// createUser creates a user over REST in c's acting organisation.
func (s *suite) createUser(t *testing.T, c *apitest.Client, email, role, password string) string {
	t.Helper()
	if s.cov != nil {
		s.cov.markPath(http.MethodPost, "/api/v1/users")
	}
	return c.CreateUser(t, email, role, password)
}

func login(t *testing.T, env *apitest.Env, email, password string, want int) *apitest.Response {
	t.Helper()
	res := env.Anonymous().Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": email, "password": password})
	if res.Status != want {
		t.Fatalf("login %s: status %d, want %d: %s", email, res.Status, want, res.Raw)
	}
	return res
}

const fakeID = "00000000-0000-7000-8000-000000000000"

// ---------------------------------------------------------------------------

// TestRoutes runs each group of routes on a server of its own, so that any
// one runs alone (-run 'TestRoutes/sqlite/groups/users').
func TestRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDialect(t, func(t *testing.T, d testenv.Dialect) {
		groups := []struct {
			name string
			test func(*suite, *testing.T)
		}{
			{"auth", (*suite).testAuth},
			{"me", (*suite).testMe},
			{"users", (*suite).testUsers},
			{"quota", (*suite).testQuota},
			{"organizations", (*suite).testOrganizations},
			{"contacts", (*suite).testContacts},
			{"groups", (*suite).testGroups},
			{"api_tokens", (*suite).testAPITokens},
			{"trailing_slash", (*suite).testTrailingSlash},
			{"bad_input", (*suite).testBadInput},
			{"unauthenticated", (*suite).testUnauthenticated},
			{"analyst_forbidden", (*suite).testAnalystForbidden},
			{"read_only", (*suite).testReadOnly},
			{"node", (*suite).testNode},
			{"depth_limit", (*suite).testDepthLimit},
			{"openapi", (*suite).testOpenAPI},
		}
		cov := newCoverage()
		var ran atomic.Int32
		// Each group has its own server and database, so they run in
		// parallel; t.Run of the wrapper returns once all of them are done.
		t.Run("groups", func(t *testing.T) {
			for _, g := range groups {
				t.Run(g.name, func(t *testing.T) {
					t.Parallel()
					ran.Add(1)
					g.test(newRouteSuite(t, testenv.Open(t, d), cov), t)
				})
			}
		})
		t.Run("coverage", func(t *testing.T) {
			if int(ran.Load()) < len(groups) {
				t.Skip("not every group ran")
			}
			(&suite{cov: cov}).coverageOf(t, []string{"auth", "users", "api-tokens", "organizations", "groups"})
		})
	})
}

// newRouteSuite starts a server on db with the provider's team and a client
// organisation, acme, with its own admin.
func newRouteSuite(t *testing.T, db *storage.DB, cov *coverage) *suite {
	t.Helper()
	s := newSuite(t, apitest.Start(t, db), cov)
	s.acmeID = s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated).String("id")
	s.acmeAdminID = s.createUser(t, s.admin.As("acme"), acmeAdminEmail, "admin", acmeAdminPass)
	s.acmeAdmin = s.env.Login(acmeAdminEmail, acmeAdminPass)
	return s
}

// checkCoverage fails when a route of the given tags was not called on REST
// or its GraphQL field was not called directly.
func (s *suite) checkCoverage(tags ...string) func(t *testing.T) {
	return func(t *testing.T) { s.coverageOf(t, tags) }
}

func (s *suite) coverageOf(t *testing.T, tags []string) {
	for _, r := range rest.Routes {
		if !slices.Contains(tags, r.Tag) {
			continue
		}
		if !s.cov.rest[routeKey(r)] {
			t.Errorf("REST route %s is not exercised", routeKey(r))
		}
		if !s.cov.gql[r.Field] {
			t.Errorf("GraphQL field %s (route %s) is not exercised", r.Field, routeKey(r))
		}
	}
}

// ---------------------------------------------------------------------------

func (s *suite) testAuth(t *testing.T) {
	env := s.env
	anon := env.Anonymous()

	t.Run("second factor with an unknown MFA token", func(t *testing.T) {
		s.rest(t, anon, http.MethodPost, "/api/v1/auth/mfa", map[string]any{"mfa_token": "sqm_unknown", "code": "123456"}, http.StatusUnauthorized)
		s.gqlErr(t, anon, `mutation { completeMFALogin(input: {mfaToken: "sqm_unknown", code: "123456"}) { accessToken } }`, nil, "UNAUTHENTICATED")
	})

	t.Run("rest login and logout", func(t *testing.T) {
		before := time.Now()
		// Emails are case-insensitive.
		res := s.rest(t, anon, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": strings.ToUpper(apitest.AdminEmail), "password": apitest.AdminPassword}, http.StatusOK)
		tok := res.String("access_token")
		if !strings.HasPrefix(tok, "sqs_") || len(tok) < 30 {
			t.Fatalf("access_token %q", tok)
		}
		if res.String("token_type") != "bearer" {
			t.Fatalf("token_type %q", res.String("token_type"))
		}
		exp, err := time.Parse(time.RFC3339Nano, res.String("expires_at"))
		if err != nil || exp.Before(before.Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
			t.Fatalf("expires_at %q (session TTL is 1h): %v", res.String("expires_at"), err)
		}
		u := obj(res.Body["user"])
		if u["id"] != s.adminID || u["email"] != apitest.AdminEmail || u["role"] != "admin" || u["organization_id"] != s.providerOrgID {
			t.Fatalf("login user: %s", res.Raw)
		}
		if u["last_login_at"] == nil {
			t.Fatalf("last_login_at not set: %s", res.Raw)
		}
		for _, secret := range []string{"password_hash", "password", "mfa_secret"} {
			if _, ok := u[secret]; ok {
				t.Fatalf("login user exposes %s: %s", secret, res.Raw)
			}
		}
		c := withAuth(env, "Bearer "+tok)
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		out := s.rest(t, c, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusNoContent)
		if len(out.Raw) != 0 {
			t.Fatalf("204 with a body: %s", out.Raw)
		}
		gone := s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		wantDetail(t, gone)
		s.rest(t, c, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusUnauthorized)
		if g := c.GraphQL(`{ me { id } }`, nil); g.Status != http.StatusUnauthorized {
			t.Fatalf("GraphQL with a logged-out token: %+v", g)
		}
		// Other sessions of the same user are unaffected.
		s.rest(t, s.admin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
	})

	t.Run("graphql login and logout", func(t *testing.T) {
		data := s.gql(t, anon, `mutation($in: LoginInput!) { login(input: $in) { accessToken tokenType expiresAt user { id email role } } }`,
			map[string]any{"in": map[string]any{"email": analystEmail, "password": analystPassword}})
		l := obj(data["login"])
		tok, _ := l["accessToken"].(string)
		if !strings.HasPrefix(tok, "sqs_") || l["tokenType"] != "bearer" || digS(l, "user", "role") != "ANALYST" || digS(l, "user", "id") != s.analystID {
			t.Fatalf("login payload: %+v", l)
		}
		if _, err := time.Parse(time.RFC3339Nano, l["expiresAt"].(string)); err != nil {
			t.Fatalf("expiresAt: %v", err)
		}
		c := withAuth(env, "Bearer "+tok)
		if digS(s.gql(t, c, `{ me { email } }`, nil), "me", "email") != analystEmail {
			t.Fatal("token from GraphQL login does not work")
		}
		if s.gql(t, c, `mutation { logout }`, nil)["logout"] != true {
			t.Fatal("logout did not return true")
		}
		if g := c.GraphQL(`{ me { email } }`, nil); g.Status != http.StatusUnauthorized {
			t.Fatalf("token works after GraphQL logout: %+v", g)
		}
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
	})

	t.Run("failed logins", func(t *testing.T) {
		cases := []struct {
			name   string
			body   any
			status int
			loc    string
		}{
			{"wrong password", map[string]any{"email": apitest.AdminEmail, "password": "not-the-password"}, 401, ""},
			{"unknown email", map[string]any{"email": "nobody@provider.test", "password": "whatever-password"}, 401, ""},
			{"missing password", map[string]any{"email": apitest.AdminEmail}, 422, "password"},
			{"empty password", map[string]any{"email": apitest.AdminEmail, "password": ""}, 422, "password"},
			{"missing email", map[string]any{"password": "x"}, 422, "email"},
			{"unknown field", map[string]any{"email": apitest.AdminEmail, "password": "x", "remember_me": true}, 422, "remember_me"},
			{"no body", nil, 422, "email"},
		}
		var details []string
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := s.rest(t, anon, http.MethodPost, "/api/v1/auth/login", tc.body, tc.status)
				if tc.status == 422 {
					wantLoc(t, res, tc.loc)
					return
				}
				details = append(details, wantDetail(t, res))
				if res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
			})
		}
		// Unknown user and wrong password look the same.
		if len(details) == 2 && details[0] != details[1] {
			t.Errorf("login failures are distinguishable: %q vs %q", details[0], details[1])
		}
		s.gqlErr(t, anon, `mutation { login(input: {email: "admin@provider.test", password: "nope-nope-nope"}) { accessToken } }`, nil, "UNAUTHENTICATED")
		g := s.gqlErr(t, anon, `mutation { login(input: {email: "admin@provider.test", password: ""}) { accessToken } }`, nil, "BAD_USER_INPUT")
		wantField(t, g, "password")
	})

	t.Run("deactivated user cannot log in", func(t *testing.T) {
		id := s.createUser(t, s.admin, "leaver@provider.test", "analyst", "leaver-password-1")
		c := s.env.Login("leaver@provider.test", "leaver-password-1")
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/users/"+id, map[string]any{"active": false}, http.StatusOK)
		login(t, env, "leaver@provider.test", "leaver-password-1", http.StatusUnauthorized)
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		s.rest(t, s.admin, http.MethodDelete, "/api/v1/users/"+id, nil, http.StatusNoContent)
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testMe(t *testing.T) {
	t.Run("get", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		if res.String("id") != s.adminID || res.String("email") != apitest.AdminEmail || res.String("role") != "admin" ||
			res.Body["active"] != true || res.String("timezone") != "UTC" || res.String("organization_id") != s.providerOrgID {
			t.Fatalf("me: %s", res.Raw)
		}
		if _, ok := res.Body["groups"].([]any); !ok {
			t.Fatalf("me.groups is not a list: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `{ me { id email role organizationID active } }`, nil)
		if digS(data, "me", "id") != s.adminID || digS(data, "me", "role") != "ADMIN" || digS(data, "me", "organizationID") != s.providerOrgID {
			t.Fatalf("GraphQL me: %+v", data)
		}
		// Acting in a client organisation does not change who "me" is.
		in := s.rest(t, s.admin.As("acme"), http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		if in.String("id") != s.adminID || in.String("organization_id") != s.providerOrgID {
			t.Fatalf("me acting in acme: %s", in.Raw)
		}
	})

	t.Run("update profile", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodPatch, "/api/v1/users/me",
			map[string]any{"name": "Ann Analyst", "handle": "ann", "timezone": "Europe/Paris"}, http.StatusOK)
		if res.String("name") != "Ann Analyst" || res.String("handle") != "ann" || res.String("timezone") != "Europe/Paris" || res.String("id") != s.analystID {
			t.Fatalf("update me: %s", res.Raw)
		}
		data := s.gql(t, s.analyst, `mutation($in: UpdateMeInput!) { updateMe(input: $in) { id name timezone } }`,
			map[string]any{"in": map[string]any{"name": "Ann A.", "timezone": "UTC"}})
		if digS(data, "updateMe", "name") != "Ann A." || digS(data, "updateMe", "timezone") != "UTC" {
			t.Fatalf("GraphQL updateMe: %+v", data)
		}
		if got := s.rest(t, s.analyst, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK); got.String("name") != "Ann A." {
			t.Fatalf("update not persisted: %s", got.Raw)
		}
	})

	t.Run("invalid updates", func(t *testing.T) {
		cases := []struct {
			name string
			body map[string]any
			loc  string
		}{
			{"bad timezone", map[string]any{"timezone": "Mars/Olympus_Mons"}, "timezone"},
			{"empty name", map[string]any{"name": "  "}, "name"},
			{"bad handle", map[string]any{"handle": "no spaces allowed"}, "handle"},
			{"role is not self-service", map[string]any{"role": "admin"}, "role"},
			{"active is not self-service", map[string]any{"active": false}, "active"},
			{"password without current", map[string]any{"password": "brand-new-password-1"}, "current_password"},
			{"wrong current password", map[string]any{"password": "brand-new-password-1", "current_password": "wrong-password-99"}, "current_password"},
			{"new password too short", map[string]any{"password": "short", "current_password": analystPassword}, "password"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantLoc(t, s.rest(t, s.analyst, http.MethodPatch, "/api/v1/users/me", tc.body, http.StatusUnprocessableEntity), tc.loc)
			})
		}
		g := s.gqlErr(t, s.analyst, `mutation { updateMe(input: {password: "brand-new-password-1", currentPassword: "wrong-password-99"}) { id } }`, nil, "BAD_USER_INPUT")
		wantField(t, g, "current_password")
		if got := s.rest(t, s.analyst, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK); got.String("role") != "analyst" || got.Body["active"] != true {
			t.Fatalf("refused updates changed the user: %s", got.Raw)
		}
		login(t, s.env, analystEmail, analystPassword, http.StatusOK)
	})

	t.Run("change password", func(t *testing.T) {
		const next = "analyst-password-2"
		s.rest(t, s.analyst, http.MethodPatch, "/api/v1/users/me",
			map[string]any{"password": next, "current_password": analystPassword}, http.StatusOK)
		login(t, s.env, analystEmail, analystPassword, http.StatusUnauthorized)
		login(t, s.env, analystEmail, next, http.StatusOK)
		// And back over GraphQL.
		s.gql(t, s.analyst, `mutation($p: String!, $c: String!) { updateMe(input: {password: $p, currentPassword: $c}) { id } }`,
			map[string]any{"p": analystPassword, "c": next})
		login(t, s.env, analystEmail, next, http.StatusUnauthorized)
		s.analyst = s.env.Login(analystEmail, analystPassword)
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testUsers(t *testing.T) {
	env := s.env
	var hireID, gqlUserID string

	t.Run("unlock", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPost, "/api/v1/users/"+s.readerID+"/unlock", nil, http.StatusOK)
		if res.String("id") != s.readerID {
			t.Fatalf("unlock: %s", res.Raw)
		}
		s.rest(t, s.analyst, http.MethodPost, "/api/v1/users/"+s.readerID+"/unlock", nil, http.StatusForbidden)
		s.gqlErr(t, s.acmeAdmin, `mutation($id: ID!) { unlockUser(id: $id) { id } }`, map[string]any{"id": s.readerID}, "NOT_FOUND")
		s.gql(t, s.admin, `mutation($id: ID!) { unlockUser(id: $id) { id } }`, map[string]any{"id": s.readerID})
	})

	t.Run("list", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodGet, "/api/v1/users", nil, http.StatusOK)
		emails := strs(res.Items(), "email")
		if !slices.Equal(emails, sorted(apitest.AdminEmail, analystEmail, readerEmail)) {
			t.Fatalf("users: %v", emails)
		}
		if num(res.Body["total"]) != 3 || res.Body["next_cursor"] != nil {
			t.Fatalf("list envelope: %s", res.Raw)
		}
		for _, it := range res.Items() {
			if it["organization_id"] != s.providerOrgID || it["role"] == "" || it["role"] != strings.ToLower(it["role"].(string)) {
				t.Fatalf("user item: %v", it)
			}
		}
		// Pagination and sorting.
		page := s.rest(t, s.admin, http.MethodGet, "/api/v1/users?limit=1&sort=email", nil, http.StatusOK)
		cur, _ := page.Body["next_cursor"].(string)
		if len(page.Items()) != 1 || page.Items()[0]["email"] != apitest.AdminEmail || cur == "" || num(page.Body["total"]) != 3 {
			t.Fatalf("first page: %s", page.Raw)
		}
		page2 := s.rest(t, s.admin, http.MethodGet, "/api/v1/users?limit=1&sort=email&cursor="+url.QueryEscape(cur), nil, http.StatusOK)
		if len(page2.Items()) != 1 || page2.Items()[0]["email"] != analystEmail {
			t.Fatalf("second page: %s", page2.Raw)
		}
		desc := s.rest(t, s.admin, http.MethodGet, "/api/v1/users?sort=-email", nil, http.StatusOK)
		if len(desc.Items()) != 3 || desc.Items()[0]["email"] != readerEmail {
			t.Fatalf("sort=-email: %s", desc.Raw)
		}
		data := s.gql(t, s.admin, `{ users(first: 2, orderBy: {field: EMAIL, direction: ASC}) { totalCount pageInfo { hasNextPage } edges { node { email role } } } }`, nil)
		got := nodes(data["users"])
		if num(dig(data, "users", "totalCount")) != 3 || dig(data, "users", "pageInfo", "hasNextPage") != true ||
			len(got) != 2 || got[0]["email"] != apitest.AdminEmail || got[0]["role"] != "ADMIN" || got[1]["role"] != "ANALYST" {
			t.Fatalf("GraphQL users: %+v", data)
		}
	})

	t.Run("create", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPost, "/api/v1/users", map[string]any{
			"email": "New.Hire@Provider.TEST", "name": "New Hire", "password": "new-hire-password", "timezone": "Asia/Tokyo",
		}, http.StatusCreated)
		hireID = res.String("id")
		if res.String("email") != "new.hire@provider.test" || res.String("role") != "analyst" || res.String("name") != "New Hire" ||
			res.String("handle") != "new.hire" || res.String("timezone") != "Asia/Tokyo" || res.Body["active"] != true ||
			res.String("organization_id") != s.providerOrgID || hireID == "" {
			t.Fatalf("created user: %s", res.Raw)
		}
		if _, ok := res.Body["password_hash"]; ok {
			t.Fatalf("password hash exposed: %s", res.Raw)
		}
		login(t, env, "new.hire@provider.test", "new-hire-password", http.StatusOK)

		data := s.gql(t, s.admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id email role organizationID } }`,
			map[string]any{"in": map[string]any{"email": "gql.user@provider.test", "role": "READ_ONLY"}})
		gqlUserID = digS(data, "createUser", "id")
		if digS(data, "createUser", "role") != "READ_ONLY" || digS(data, "createUser", "organizationID") != s.providerOrgID {
			t.Fatalf("GraphQL createUser: %+v", data)
		}
		// Without a password nobody can log in until a reset.
		login(t, env, "gql.user@provider.test", "", http.StatusUnprocessableEntity)
	})

	t.Run("create invalid", func(t *testing.T) {
		cases := []struct {
			name   string
			body   any
			status int
			loc    string
		}{
			{"bad email", map[string]any{"email": "not-an-email"}, 422, "email"},
			{"missing email", map[string]any{"name": "x"}, 422, "email"},
			// A taken email is a 422 on email, as for another tenant's (directory.errEmailUnavailable).
			{"duplicate email", map[string]any{"email": analystEmail}, 422, "email"},
			{"duplicate email other case", map[string]any{"email": strings.ToUpper(readerEmail)}, 422, "email"},
			{"short password", map[string]any{"email": "pw@provider.test", "password": "short"}, 422, "password"},
			{"wrong role", map[string]any{"email": "role@provider.test", "role": "superuser"}, 422, "role"},
			{"graphql-style role", map[string]any{"email": "role@provider.test", "role": 3}, 422, "role"},
			{"bad timezone", map[string]any{"email": "tz@provider.test", "timezone": "Nowhere/City"}, 422, "timezone"},
			{"bad handle", map[string]any{"email": "h@provider.test", "handle": "a b"}, 422, "handle"},
			{"unknown field", map[string]any{"email": "u@provider.test", "organization_id": s.acmeID}, 422, "organization_id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := s.rest(t, s.admin, http.MethodPost, "/api/v1/users", tc.body, tc.status)
				if tc.status == 422 {
					wantLoc(t, res, tc.loc)
				} else {
					wantDetail(t, res)
				}
			})
		}
		wantField(t, s.gqlErr(t, s.admin, `mutation { createUser(input: {email: "analyst@provider.test"}) { id } }`, nil, "BAD_USER_INPUT"), "email")
		wantField(t, s.gqlErr(t, s.admin, `mutation { createUser(input: {email: "nope"}) { id } }`, nil, "BAD_USER_INPUT"), "email")
		s.gqlErr(t, s.admin, `mutation { createUser(input: {email: "x@provider.test", role: SUPERUSER}) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED")
		if n := num(s.rest(t, s.admin, http.MethodGet, "/api/v1/users", nil, 200).Body["total"]); n != 5 {
			t.Fatalf("refused creates changed the user count: %v", n)
		}
	})

	t.Run("get", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodGet, "/api/v1/users/"+hireID, nil, http.StatusOK)
		if res.String("id") != hireID || res.String("email") != "new.hire@provider.test" {
			t.Fatalf("get user: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `query($id: ID!) { user(id: $id) { id email role } }`, map[string]any{"id": gqlUserID})
		if digS(data, "user", "email") != "gql.user@provider.test" || digS(data, "user", "role") != "READ_ONLY" {
			t.Fatalf("GraphQL user: %+v", data)
		}
		wantDetail(t, s.rest(t, s.admin, http.MethodGet, "/api/v1/users/"+fakeID, nil, http.StatusNotFound))
		s.gqlErr(t, s.admin, `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": fakeID}, "NOT_FOUND")
		wantLoc(t, s.rest(t, s.admin, http.MethodGet, "/api/v1/users/not-a-uuid", nil, http.StatusUnprocessableEntity), "path:user_id")
		wantField(t, s.gqlErr(t, s.admin, `{ user(id: "not-a-uuid") { id } }`, nil, "BAD_USER_INPUT"), "id")
	})

	t.Run("patch", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/users/"+hireID,
			map[string]any{"name": "Renamed Hire", "role": "read_only", "handle": "hire", "timezone": "UTC"}, http.StatusOK)
		if res.String("name") != "Renamed Hire" || res.String("role") != "read_only" || res.String("handle") != "hire" || res.String("email") != "new.hire@provider.test" {
			t.Fatalf("patch user: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `mutation($id: ID!) { updateUser(id: $id, input: {role: ANALYST, name: "Hire"}) { id name role } }`, map[string]any{"id": hireID})
		if digS(data, "updateUser", "role") != "ANALYST" || digS(data, "updateUser", "name") != "Hire" {
			t.Fatalf("GraphQL updateUser: %+v", data)
		}
		for _, tc := range []struct {
			name string
			body map[string]any
			loc  string
		}{
			{"wrong role", map[string]any{"role": "god"}, "role"},
			{"bad handle", map[string]any{"handle": "bad handle!"}, "handle"},
			{"email is immutable", map[string]any{"email": "other@provider.test"}, "email"},
			{"password is not patched", map[string]any{"password": "x-password-long"}, "password"},
			{"bad timezone", map[string]any{"timezone": "Atlantis"}, "timezone"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/users/"+hireID, tc.body, http.StatusUnprocessableEntity), tc.loc)
			})
		}
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/users/"+fakeID, map[string]any{"name": "x"}, http.StatusNotFound)
		s.gqlErr(t, s.admin, `mutation { updateUser(id: "`+fakeID+`", input: {name: "x"}) { id } }`, nil, "NOT_FOUND")
		// Handles are unique within the organisation.
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/users/"+hireID, map[string]any{"handle": "admin"}, http.StatusConflict)
	})

	t.Run("deactivate and reactivate", func(t *testing.T) {
		c := env.Login("new.hire@provider.test", "new-hire-password")
		res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/users/"+hireID, map[string]any{"active": false}, http.StatusOK)
		if res.Body["active"] != false {
			t.Fatalf("deactivate: %s", res.Raw)
		}
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		login(t, env, "new.hire@provider.test", "new-hire-password", http.StatusUnauthorized)
		s.gql(t, s.admin, `mutation($id: ID!) { updateUser(id: $id, input: {active: true}) { active } }`, map[string]any{"id": hireID})
		login(t, env, "new.hire@provider.test", "new-hire-password", http.StatusOK)
	})

	t.Run("reset password", func(t *testing.T) {
		c := env.Login("new.hire@provider.test", "new-hire-password")
		res := s.rest(t, s.admin, http.MethodPost, "/api/v1/users/"+hireID+"/reset-password", map[string]any{}, http.StatusOK)
		temp := res.String("temporary_password")
		if len(temp) < 12 || digS(res.Body, "user", "id") != hireID {
			t.Fatalf("reset: %s", res.Raw)
		}
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		login(t, env, "new.hire@provider.test", "new-hire-password", http.StatusUnauthorized)
		login(t, env, "new.hire@provider.test", temp, http.StatusOK)

		// No body at all also generates one.
		res = s.rest(t, s.admin, http.MethodPost, "/api/v1/users/"+hireID+"/reset-password", nil, http.StatusOK)
		if res.String("temporary_password") == "" || res.String("temporary_password") == temp {
			t.Fatalf("reset without body: %s", res.Raw)
		}

		// A chosen password is not echoed.
		c = env.Login("new.hire@provider.test", res.String("temporary_password"))
		res = s.rest(t, s.admin, http.MethodPost, "/api/v1/users/"+hireID+"/reset-password", map[string]any{"password": "chosen-password-42"}, http.StatusOK)
		if v, ok := res.Body["temporary_password"]; !ok || v != nil {
			t.Fatalf("chosen password: temporary_password should be null: %s", res.Raw)
		}
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		login(t, env, "new.hire@provider.test", "chosen-password-42", http.StatusOK)
		wantLoc(t, s.rest(t, s.admin, http.MethodPost, "/api/v1/users/"+hireID+"/reset-password", map[string]any{"password": "short"}, http.StatusUnprocessableEntity), "password")
		s.rest(t, s.admin, http.MethodPost, "/api/v1/users/"+fakeID+"/reset-password", nil, http.StatusNotFound)

		// GraphQL, for the user created without a password.
		data := s.gql(t, s.admin, `mutation($id: ID!) { resetPassword(id: $id) { temporaryPassword user { id email } } }`, map[string]any{"id": gqlUserID})
		gtemp := digS(data, "resetPassword", "temporaryPassword")
		if gtemp == "" || digS(data, "resetPassword", "user", "id") != gqlUserID {
			t.Fatalf("GraphQL resetPassword: %+v", data)
		}
		login(t, env, "gql.user@provider.test", gtemp, http.StatusOK)
		data = s.gql(t, s.admin, `mutation($id: ID!) { resetPassword(id: $id, input: {password: "gql-chosen-password"}) { temporaryPassword } }`, map[string]any{"id": gqlUserID})
		if dig(data, "resetPassword", "temporaryPassword") != nil {
			t.Fatalf("GraphQL resetPassword echoed a chosen password: %+v", data)
		}
		login(t, env, "gql.user@provider.test", "gql-chosen-password", http.StatusOK)
		s.gqlErr(t, s.admin, `mutation { resetPassword(id: "`+fakeID+`") { temporaryPassword } }`, nil, "NOT_FOUND")
	})

	t.Run("delete", func(t *testing.T) {
		c := env.Login("new.hire@provider.test", "chosen-password-42")
		out := s.rest(t, s.admin, http.MethodDelete, "/api/v1/users/"+hireID, nil, http.StatusNoContent)
		if len(out.Raw) != 0 {
			t.Fatalf("204 with a body: %s", out.Raw)
		}
		s.rest(t, s.admin, http.MethodGet, "/api/v1/users/"+hireID, nil, http.StatusNotFound)
		s.rest(t, s.admin, http.MethodDelete, "/api/v1/users/"+hireID, nil, http.StatusNotFound)
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		login(t, env, "new.hire@provider.test", "chosen-password-42", http.StatusUnauthorized)

		data := s.gql(t, s.admin, `mutation($id: ID!) { deleteUser(id: $id) { deletedID } }`, map[string]any{"id": gqlUserID})
		if digS(data, "deleteUser", "deletedID") != gqlUserID {
			t.Fatalf("GraphQL deleteUser: %+v", data)
		}
		s.gqlErr(t, s.admin, `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": gqlUserID}, "NOT_FOUND")
		s.gqlErr(t, s.admin, `mutation($id: ID!) { deleteUser(id: $id) { deletedID } }`, map[string]any{"id": gqlUserID}, "NOT_FOUND")

		// Nobody deletes themselves.
		wantDetail(t, s.rest(t, s.admin, http.MethodDelete, "/api/v1/users/"+s.adminID, nil, http.StatusConflict))
		s.gqlErr(t, s.admin, `mutation($id: ID!) { deleteUser(id: $id) { deletedID } }`, map[string]any{"id": s.adminID}, "CONFLICT")
	})

	t.Run("last admin stays", func(t *testing.T) {
		inAcme := s.admin.As("acme")
		s.rest(t, inAcme, http.MethodPatch, "/api/v1/users/"+s.acmeAdminID, map[string]any{"role": "analyst"}, http.StatusConflict)
		s.rest(t, inAcme, http.MethodPatch, "/api/v1/users/"+s.acmeAdminID, map[string]any{"active": false}, http.StatusConflict)
		s.rest(t, inAcme, http.MethodDelete, "/api/v1/users/"+s.acmeAdminID, nil, http.StatusConflict)
		s.gqlErr(t, inAcme, `mutation($id: ID!) { updateUser(id: $id, input: {role: READ_ONLY}) { id } }`, map[string]any{"id": s.acmeAdminID}, "CONFLICT")
		if got := s.rest(t, s.acmeAdmin, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK); got.String("role") != "admin" {
			t.Fatalf("acme admin demoted: %s", got.Raw)
		}
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testQuota(t *testing.T) {
	org := s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations",
		map[string]any{"name": "Quota Co", "slug": "quota-co", "user_quota": 2}, http.StatusCreated)
	if num(org.Body["user_quota"]) != 2 {
		t.Fatalf("user_quota not set: %s", org.Raw)
	}
	q := s.admin.As("quota-co")
	wantQuota := func(t *testing.T, used, allowed, remaining float64) {
		t.Helper()
		res := s.rest(t, q, http.MethodGet, "/api/v1/users/quota", nil, http.StatusOK)
		if num(res.Body["used"]) != used || num(res.Body["allowed"]) != allowed || num(res.Body["remaining"]) != remaining {
			t.Fatalf("quota: %s, want used %v allowed %v remaining %v", res.Raw, used, allowed, remaining)
		}
		data := s.gql(t, q, `{ userQuota { used allowed remaining } }`, nil)
		if num(dig(data, "userQuota", "used")) != used || num(dig(data, "userQuota", "allowed")) != allowed || num(dig(data, "userQuota", "remaining")) != remaining {
			t.Fatalf("GraphQL quota: %+v", data)
		}
	}
	wantQuota(t, 0, 2, 2)
	first := s.createUser(t, q, "one@quota.test", "admin", "")
	s.gql(t, q, `mutation { createUser(input: {email: "two@quota.test"}) { id } }`, nil)
	wantQuota(t, 2, 2, 0)
	full := s.rest(t, q, http.MethodPost, "/api/v1/users", map[string]any{"email": "three@quota.test"}, http.StatusConflict)
	if !strings.Contains(wantDetail(t, full), "quota") {
		t.Fatalf("409 does not mention the quota: %s", full.Raw)
	}
	s.gqlErr(t, q, `mutation { createUser(input: {email: "three@quota.test"}) { id } }`, nil, "CONFLICT")
	wantQuota(t, 2, 2, 0)

	// A deactivated user frees their seat.
	users := s.rest(t, q, http.MethodGet, "/api/v1/users?sort=email", nil, http.StatusOK).Items()
	if len(users) != 2 || users[0]["id"] != first {
		t.Fatalf("quota-co users: %v", users)
	}
	s.rest(t, q, http.MethodPatch, "/api/v1/users/"+users[1]["id"].(string), map[string]any{"active": false}, http.StatusOK)
	wantQuota(t, 1, 2, 1)
	s.createUser(t, q, "three@quota.test", "analyst", "")
	wantQuota(t, 2, 2, 0)
	// Raising the quota adds seats.
	s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+org.String("id"), map[string]any{"user_quota": 3}, http.StatusOK)
	wantQuota(t, 2, 3, 1)

	// The provider organisation has no quota: allowed and remaining are null.
	res := s.rest(t, s.admin, http.MethodGet, "/api/v1/users/quota", nil, http.StatusOK)
	if v, ok := res.Body["allowed"]; !ok || v != nil || res.Body["remaining"] != nil || num(res.Body["used"]) < 3 {
		t.Fatalf("unlimited quota: %s", res.Raw)
	}
}

// ---------------------------------------------------------------------------

func (s *suite) testOrganizations(t *testing.T) {
	var globexID, initechID string

	t.Run("list", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations", nil, http.StatusOK)
		if got := strs(res.Items(), "slug"); !slices.Equal(got, []string{"acme", "default"}) || num(res.Body["total"]) != 2 {
			t.Fatalf("organizations: %v: %s", got, res.Raw)
		}
		for _, it := range res.Items() {
			want := any(s.providerOrgID)
			if it["slug"] == "default" {
				want = nil
			}
			if it["parent_id"] != want {
				t.Fatalf("parent_id of %v: %v, want %v", it["slug"], it["parent_id"], want)
			}
		}
		data := s.gql(t, s.admin, `{ organizations { totalCount edges { node { id slug parentID } } } }`, nil)
		if num(dig(data, "organizations", "totalCount")) != 2 {
			t.Fatalf("GraphQL organizations: %+v", data)
		}
		// A client admin sees only their organisation.
		own := s.rest(t, s.acmeAdmin, http.MethodGet, "/api/v1/organizations", nil, http.StatusOK)
		if got := strs(own.Items(), "slug"); !slices.Equal(got, []string{"acme"}) || num(own.Body["total"]) != 1 {
			t.Fatalf("client admin organizations: %s", own.Raw)
		}
		if n := num(dig(s.gql(t, s.acmeAdmin, `{ organizations { totalCount } }`, nil), "organizations", "totalCount")); n != 1 {
			t.Fatalf("client admin GraphQL organizations: %v", n)
		}
	})

	t.Run("create", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{
			"name": "Globex", "slug": "globex", "timezone": "America/New_York", "contact_email": "soc@globex.test",
			"region": "eu-west", "plan": "gold", "mfa_enforced": true,
		}, http.StatusCreated)
		globexID = res.String("id")
		want := map[string]any{
			"name": "Globex", "slug": "globex", "timezone": "America/New_York", "contact_email": "soc@globex.test",
			"region": "eu-west", "plan": "gold", "mfa_enforced": true, "mfa_enabled": true, "user_quota": float64(0),
			"parent_id": s.providerOrgID,
		}
		for k, v := range want {
			if res.Body[k] != v {
				t.Errorf("created organization %s = %v, want %v", k, res.Body[k], v)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, res.String("created_at")); err != nil || globexID == "" {
			t.Fatalf("created organization: %s", res.Raw)
		}
		if digS(res.Body, "parent", "slug") != "default" {
			t.Fatalf("parent not embedded: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `mutation { createOrganization(input: {name: "Initech", slug: "initech", userQuota: 5}) { id slug parentID plan userQuota timezone } }`, nil)
		c := obj(data["createOrganization"])
		initechID, _ = c["id"].(string)
		if c["slug"] != "initech" || c["parentID"] != s.providerOrgID || c["plan"] != "standard" || num(c["userQuota"]) != 5 || c["timezone"] != "UTC" {
			t.Fatalf("GraphQL createOrganization: %+v", c)
		}
	})

	t.Run("create invalid", func(t *testing.T) {
		cases := []struct {
			name   string
			body   map[string]any
			status int
			loc    string
		}{
			{"duplicate slug", map[string]any{"name": "Acme 2", "slug": "acme"}, 409, ""},
			{"bad slug", map[string]any{"name": "Bad", "slug": "Bad Slug!"}, 422, "slug"},
			{"slug with leading hyphen", map[string]any{"name": "Bad", "slug": "-bad"}, 422, "slug"},
			{"empty slug", map[string]any{"name": "Bad", "slug": ""}, 422, "slug"},
			{"missing slug", map[string]any{"name": "Bad"}, 422, "slug"},
			{"missing name", map[string]any{"slug": "noname"}, 422, "name"},
			{"bad contact email", map[string]any{"name": "X", "slug": "x-co", "contact_email": "nope"}, 422, "contact_email"},
			{"negative quota", map[string]any{"name": "X", "slug": "x-co", "user_quota": -1}, 422, "user_quota"},
			{"bad timezone", map[string]any{"name": "X", "slug": "x-co", "timezone": "Moon/Base"}, 422, "timezone"},
			{"parent out of scope", map[string]any{"name": "X", "slug": "x-co", "parent_id": fakeID}, 422, "parent_id"},
			{"unknown field", map[string]any{"name": "X", "slug": "x-co", "inbound_email_token": "t"}, 422, "inbound_email_token"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", tc.body, tc.status)
				if tc.status == 422 {
					wantLoc(t, res, tc.loc)
				} else {
					wantDetail(t, res)
				}
			})
		}
		s.gqlErr(t, s.admin, `mutation { createOrganization(input: {name: "Dup", slug: "globex"}) { id } }`, nil, "CONFLICT")
		wantField(t, s.gqlErr(t, s.admin, `mutation { createOrganization(input: {name: "Bad", slug: "UPPER"}) { id } }`, nil, "BAD_USER_INPUT"), "slug")
		if n := num(s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations", nil, 200).Body["total"]); n != 4 {
			t.Fatalf("refused creates changed the organisation count: %v", n)
		}
	})

	t.Run("get by id and slug", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/"+globexID, nil, http.StatusOK)
		if res.String("slug") != "globex" || res.String("region") != "eu-west" {
			t.Fatalf("get organization: %s", res.Raw)
		}
		bySlug := s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/by-slug/globex", nil, http.StatusOK)
		if bySlug.String("id") != globexID {
			t.Fatalf("by slug: %s", bySlug.Raw)
		}
		if digS(s.gql(t, s.admin, `query($id: ID!) { organization(id: $id) { slug } }`, map[string]any{"id": initechID}), "organization", "slug") != "initech" {
			t.Fatal("GraphQL organization")
		}
		if digS(s.gql(t, s.admin, `{ organizationBySlug(slug: "initech") { id } }`, nil), "organizationBySlug", "id") != initechID {
			t.Fatal("GraphQL organizationBySlug")
		}
		// The provider organisation lists its children.
		prov := s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/"+s.providerOrgID, nil, http.StatusOK)
		if got := anyStrs(prov.Body["children"], "slug"); !slices.Equal(got, []string{"acme", "globex", "initech"}) {
			t.Fatalf("children: %v", got)
		}
		wantDetail(t, s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/by-slug/no-such-org", nil, http.StatusNotFound))
		s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/"+fakeID, nil, http.StatusNotFound)
		s.gqlErr(t, s.admin, `{ organizationBySlug(slug: "no-such-org") { id } }`, nil, "NOT_FOUND")
		s.gqlErr(t, s.admin, `query($id: ID!) { organization(id: $id) { id } }`, map[string]any{"id": fakeID}, "NOT_FOUND")
	})

	t.Run("patch by provider admin", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{
			"name": "Globex Corp", "slug": "globex-corp", "plan": "platinum", "user_quota": 10, "mfa_enabled": true, "contact_email": "",
		}, http.StatusOK)
		if res.String("name") != "Globex Corp" || res.String("slug") != "globex-corp" || res.String("plan") != "platinum" ||
			num(res.Body["user_quota"]) != 10 || res.Body["mfa_enabled"] != true || res.String("region") != "eu-west" {
			t.Fatalf("patch organization: %s", res.Raw)
		}
		s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/by-slug/globex", nil, http.StatusNotFound)
		s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/by-slug/globex-corp", nil, http.StatusOK)
		data := s.gql(t, s.admin, `mutation($id: ID!) { updateOrganization(id: $id, input: {timezone: "Europe/Berlin", slug: "globex"}) { slug timezone } }`, map[string]any{"id": globexID})
		if digS(data, "updateOrganization", "slug") != "globex" || digS(data, "updateOrganization", "timezone") != "Europe/Berlin" {
			t.Fatalf("GraphQL updateOrganization: %+v", data)
		}
		// Globex requires MFA, which the provider's admin has not: acting
		// in it, the admin's session may only enrol.
		s.rest(t, s.admin.As("globex"), http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{"region": "us-east"}, http.StatusForbidden)
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{"mfa_enforced": false}, http.StatusOK)
		// Acting in the client organisation via X-Seliq-Org works too.
		in := s.rest(t, s.admin.As("globex"), http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{"region": "us-east"}, http.StatusOK)
		if in.String("region") != "us-east" {
			t.Fatalf("patch acting in globex: %s", in.Raw)
		}
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{"slug": "acme"}, http.StatusConflict)
		wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{"slug": "No_Good"}, 422), "slug")
		wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{"parent_id": s.acmeID}, 422), "parent_id")
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+fakeID, map[string]any{"name": "x"}, http.StatusNotFound)
		s.gqlErr(t, s.admin, `mutation($id: ID!) { updateOrganization(id: $id, input: {slug: "initech"}) { id } }`, map[string]any{"id": globexID}, "CONFLICT")
	})

	t.Run("patch by client admin", func(t *testing.T) {
		path := "/api/v1/organizations/" + s.acmeID
		// mfa_enforced is enforced now: setting it would leave this admin,
		// who has no MFA, an enrol-only session (server/security_test.go).
		res := s.rest(t, s.acmeAdmin, http.MethodPatch, path, map[string]any{"name": "Acme Inc", "timezone": "Europe/London", "mfa_enforced": false}, http.StatusOK)
		if res.String("name") != "Acme Inc" || res.String("timezone") != "Europe/London" || res.Body["mfa_enforced"] != false {
			t.Fatalf("client admin patch: %s", res.Raw)
		}
		for _, body := range []map[string]any{{"slug": "acme-renamed"}, {"plan": "free-upgrade"}, {"user_quota": 1000}, {"name": "Acme", "slug": "acme2"}} {
			res := s.rest(t, s.acmeAdmin, http.MethodPatch, path, body, http.StatusForbidden)
			wantDetail(t, res)
		}
		s.gqlErr(t, s.acmeAdmin, `mutation($id: ID!) { updateOrganization(id: $id, input: {slug: "acme-gql"}) { id } }`, map[string]any{"id": s.acmeID}, "FORBIDDEN")
		got := s.rest(t, s.acmeAdmin, http.MethodGet, "/api/v1/organizations/by-slug/acme", nil, http.StatusOK)
		if got.String("name") != "Acme Inc" || got.String("plan") != "standard" || num(got.Body["user_quota"]) != 0 {
			t.Fatalf("refused patches changed the organisation: %s", got.Raw)
		}
		// The parent is out of the client's scope.
		s.rest(t, s.acmeAdmin, http.MethodPatch, "/api/v1/organizations/"+s.providerOrgID, map[string]any{"name": "Hijacked"}, http.StatusNotFound)
		s.rest(t, s.acmeAdmin, http.MethodPatch, "/api/v1/organizations/"+globexID, map[string]any{"name": "Hijacked"}, http.StatusNotFound)
		s.rest(t, s.admin, http.MethodPatch, path, map[string]any{"name": "Acme"}, http.StatusOK)
	})

	t.Run("client admin cannot create organizations", func(t *testing.T) {
		wantDetail(t, s.rest(t, s.acmeAdmin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Sub", "slug": "acme-sub"}, http.StatusForbidden))
		s.gqlErr(t, s.acmeAdmin, `mutation { createOrganization(input: {name: "Sub", slug: "acme-sub"}) { id } }`, nil, "FORBIDDEN")
		s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/by-slug/acme-sub", nil, http.StatusNotFound)
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testContacts(t *testing.T) {
	base := "/api/v1/organizations/" + s.acmeID + "/contacts"
	var carolID, daveID string

	t.Run("create", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPost, base, map[string]any{
			"name": "Carol CISO", "email": "carol@acme.test", "phone": "+1 555 0100", "role": "CISO",
		}, http.StatusCreated)
		carolID = res.String("id")
		if res.String("organization_id") != s.acmeID || res.String("name") != "Carol CISO" || res.String("email") != "carol@acme.test" ||
			res.String("phone") != "+1 555 0100" || res.String("role") != "CISO" || res.Body["notify_reports"] != true || res.Body["notify_incidents"] != false {
			t.Fatalf("created contact: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `mutation($org: ID!) { createContact(organizationID: $org, input: {name: "Dave Duty", notifyIncidents: true, notifyReports: false}) { id organizationID notifyIncidents notifyReports } }`,
			map[string]any{"org": s.acmeID})
		c := obj(data["createContact"])
		daveID, _ = c["id"].(string)
		if c["organizationID"] != s.acmeID || c["notifyIncidents"] != true || c["notifyReports"] != false {
			t.Fatalf("GraphQL createContact: %+v", c)
		}
		// The client's own admin manages its contacts too.
		own := s.rest(t, s.acmeAdmin, http.MethodPost, base, map[string]any{"name": "Erin Exec"}, http.StatusCreated)
		s.rest(t, s.acmeAdmin, http.MethodDelete, base+"/"+own.String("id"), nil, http.StatusNoContent)
	})

	t.Run("create invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body map[string]any
			loc  string
		}{
			{"missing name", map[string]any{"email": "x@acme.test"}, "name"},
			{"blank name", map[string]any{"name": " "}, "name"},
			{"bad email", map[string]any{"name": "X", "email": "not-mail"}, "email"},
			{"unknown field", map[string]any{"name": "X", "organization_id": s.providerOrgID}, "organization_id"},
			{"wrong type", map[string]any{"name": "X", "notify_reports": "yes"}, "notify_reports"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantLoc(t, s.rest(t, s.admin, http.MethodPost, base, tc.body, http.StatusUnprocessableEntity), tc.loc)
			})
		}
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations/"+fakeID+"/contacts", map[string]any{"name": "X"}, http.StatusNotFound)
		wantField(t, s.gqlErr(t, s.admin, `mutation($org: ID!) { createContact(organizationID: $org, input: {name: "X", email: "bad"}) { id } }`, map[string]any{"org": s.acmeID}, "BAD_USER_INPUT"), "email")
	})

	t.Run("list", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodGet, base+"?sort=name", nil, http.StatusOK)
		if got := strs(res.Items(), "name"); !slices.Equal(got, []string{"Carol CISO", "Dave Duty"}) || num(res.Body["total"]) != 2 || res.Body["next_cursor"] != nil {
			t.Fatalf("contacts: %s", res.Raw)
		}
		data := s.gql(t, s.acmeAdmin, `query($org: ID!) { contacts(organizationID: $org, orderBy: {field: NAME}) { totalCount edges { node { id name } } } }`, map[string]any{"org": s.acmeID})
		if num(dig(data, "contacts", "totalCount")) != 2 || nodes(data["contacts"])[0]["id"] != carolID {
			t.Fatalf("GraphQL contacts: %+v", data)
		}
		// The provider's own list is separate.
		prov := s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/"+s.providerOrgID+"/contacts", nil, http.StatusOK)
		if num(prov.Body["total"]) != 0 {
			t.Fatalf("provider contacts: %s", prov.Raw)
		}
	})

	t.Run("patch", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPatch, base+"/"+carolID, map[string]any{"role": "CTO", "notify_reports": false, "phone": "+1 555 0199"}, http.StatusOK)
		if res.String("role") != "CTO" || res.Body["notify_reports"] != false || res.String("name") != "Carol CISO" || res.String("phone") != "+1 555 0199" {
			t.Fatalf("patch contact: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `mutation($org: ID!, $id: ID!) { updateContact(organizationID: $org, id: $id, input: {name: "David Duty"}) { name notifyIncidents } }`,
			map[string]any{"org": s.acmeID, "id": daveID})
		if digS(data, "updateContact", "name") != "David Duty" || dig(data, "updateContact", "notifyIncidents") != true {
			t.Fatalf("GraphQL updateContact: %+v", data)
		}
		wantLoc(t, s.rest(t, s.admin, http.MethodPatch, base+"/"+carolID, map[string]any{"email": "nope"}, 422), "email")
		// A contact is reached only under its own organisation.
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/organizations/"+s.providerOrgID+"/contacts/"+carolID, map[string]any{"name": "Moved"}, http.StatusNotFound)
		s.rest(t, s.admin, http.MethodPatch, base+"/"+fakeID, map[string]any{"name": "x"}, http.StatusNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		s.rest(t, s.admin, http.MethodDelete, "/api/v1/organizations/"+s.providerOrgID+"/contacts/"+carolID, nil, http.StatusNotFound)
		out := s.rest(t, s.admin, http.MethodDelete, base+"/"+carolID, nil, http.StatusNoContent)
		if len(out.Raw) != 0 {
			t.Fatalf("204 with a body: %s", out.Raw)
		}
		s.rest(t, s.admin, http.MethodDelete, base+"/"+carolID, nil, http.StatusNotFound)
		s.rest(t, s.admin, http.MethodPatch, base+"/"+carolID, map[string]any{"name": "x"}, http.StatusNotFound)
		data := s.gql(t, s.admin, `mutation($org: ID!, $id: ID!) { deleteContact(organizationID: $org, id: $id) { deletedID } }`, map[string]any{"org": s.acmeID, "id": daveID})
		if digS(data, "deleteContact", "deletedID") != daveID {
			t.Fatalf("GraphQL deleteContact: %+v", data)
		}
		s.gqlErr(t, s.admin, `mutation($org: ID!, $id: ID!) { deleteContact(organizationID: $org, id: $id) { deletedID } }`, map[string]any{"org": s.acmeID, "id": daveID}, "NOT_FOUND")
		if n := num(s.rest(t, s.admin, http.MethodGet, base, nil, http.StatusOK).Body["total"]); n != 0 {
			t.Fatalf("contacts left: %v", n)
		}
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testGroups(t *testing.T) {
	var tier1, tier2 string
	members := func(t *testing.T, id string) []string {
		t.Helper()
		res := s.rest(t, s.admin, http.MethodGet, "/api/v1/groups/"+id, nil, http.StatusOK)
		return anyStrs(res.Body["members"], "id")
	}

	t.Run("create", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups", map[string]any{
			"name": "Tier 1", "description": "First line", "member_ids": []string{s.analystID},
		}, http.StatusCreated)
		tier1 = res.String("id")
		if res.String("name") != "Tier 1" || res.String("description") != "First line" || res.String("organization_id") != s.providerOrgID ||
			!slices.Equal(anyStrs(res.Body["members"], "id"), []string{s.analystID}) {
			t.Fatalf("created group: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `mutation($m: [ID!]) { createGroup(input: {name: "Tier 2", memberIDs: $m}) { id name description members { id } } }`,
			map[string]any{"m": []string{s.readerID}})
		tier2 = digS(data, "createGroup", "id")
		if digS(data, "createGroup", "description") != "" || !slices.Equal(anyStrs(dig(data, "createGroup", "members"), "id"), []string{s.readerID}) {
			t.Fatalf("GraphQL createGroup: %+v", data)
		}
		// Membership shows on the user.
		u := s.rest(t, s.admin, http.MethodGet, "/api/v1/users/"+s.analystID, nil, http.StatusOK)
		if !slices.Equal(anyStrs(u.Body["groups"], "name"), []string{"Tier 1"}) {
			t.Fatalf("user groups: %s", u.Raw)
		}
	})

	t.Run("create invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			loc    string
		}{
			{"duplicate name", map[string]any{"name": "Tier 1"}, 409, ""},
			{"missing name", map[string]any{"description": "x"}, 422, "name"},
			{"member from another org", map[string]any{"name": "Mixed", "member_ids": []string{s.analystID, s.acmeAdminID}}, 422, "member_ids"},
			{"unknown member", map[string]any{"name": "Ghosts", "member_ids": []string{fakeID}}, 422, "member_ids"},
			{"member id not a uuid", map[string]any{"name": "Ghosts", "member_ids": []string{"bob"}}, 422, "member_ids"},
			{"description too long", map[string]any{"name": "Long", "description": strings.Repeat("x", 2001)}, 422, "description"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups", tc.body, tc.status)
				if tc.status == 422 {
					wantLoc(t, res, tc.loc)
				} else {
					wantDetail(t, res)
				}
			})
		}
		wantField(t, s.gqlErr(t, s.admin, `mutation($m: [ID!]) { createGroup(input: {name: "Mixed", memberIDs: $m}) { id } }`,
			map[string]any{"m": []string{s.acmeAdminID}}, "BAD_USER_INPUT"), "member_ids")
		s.gqlErr(t, s.admin, `mutation { createGroup(input: {name: "Tier 2"}) { id } }`, nil, "CONFLICT")
		if n := num(s.rest(t, s.admin, http.MethodGet, "/api/v1/groups", nil, http.StatusOK).Body["total"]); n != 2 {
			t.Fatalf("refused creates changed the group count: %v", n)
		}
	})

	t.Run("get and list", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodGet, "/api/v1/groups/"+tier1, nil, http.StatusOK)
		if res.String("name") != "Tier 1" || digS(res.Body["members"].([]any)[0], "email") != analystEmail {
			t.Fatalf("get group: %s", res.Raw)
		}
		list := s.rest(t, s.analyst, http.MethodGet, "/api/v1/groups?sort=-name", nil, http.StatusOK)
		if got := list.Items(); len(got) != 2 || got[0]["name"] != "Tier 2" || num(list.Body["total"]) != 2 {
			t.Fatalf("groups: %s", list.Raw)
		}
		data := s.gql(t, s.admin, `query($id: ID!) { group(id: $id) { name members { email } } groups { totalCount } }`, map[string]any{"id": tier2})
		if digS(data, "group", "name") != "Tier 2" || num(dig(data, "groups", "totalCount")) != 2 {
			t.Fatalf("GraphQL group/groups: %+v", data)
		}
		s.rest(t, s.admin, http.MethodGet, "/api/v1/groups/"+fakeID, nil, http.StatusNotFound)
		s.gqlErr(t, s.admin, `query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": fakeID}, "NOT_FOUND")
	})

	t.Run("patch", func(t *testing.T) {
		res := s.rest(t, s.admin, http.MethodPatch, "/api/v1/groups/"+tier1, map[string]any{"name": "Tier One", "description": "Triage"}, http.StatusOK)
		if res.String("name") != "Tier One" || res.String("description") != "Triage" {
			t.Fatalf("patch group: %s", res.Raw)
		}
		data := s.gql(t, s.admin, `mutation($id: ID!) { updateGroup(id: $id, input: {description: "Escalations"}) { name description } }`, map[string]any{"id": tier2})
		if digS(data, "updateGroup", "description") != "Escalations" || digS(data, "updateGroup", "name") != "Tier 2" {
			t.Fatalf("GraphQL updateGroup: %+v", data)
		}
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/groups/"+tier1, map[string]any{"name": "Tier 2"}, http.StatusConflict)
		wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/groups/"+tier1, map[string]any{"member_ids": []string{}}, 422), "member_ids")
		wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/groups/"+tier1, map[string]any{"name": ""}, 422), "name")
		s.rest(t, s.admin, http.MethodPatch, "/api/v1/groups/"+fakeID, map[string]any{"name": "x"}, http.StatusNotFound)
	})

	t.Run("replace members", func(t *testing.T) {
		path := "/api/v1/groups/" + tier1 + "/members"
		res := s.rest(t, s.admin, http.MethodPut, path, map[string]any{"user_ids": []string{s.adminID, s.readerID}}, http.StatusOK)
		if got := anyStrs(res.Body["members"], "id"); !slices.Equal(got, sorted(s.adminID, s.readerID)) || res.String("id") != tier1 {
			t.Fatalf("replace members: %s", res.Raw)
		}
		if got := members(t, tier1); !slices.Equal(got, sorted(s.adminID, s.readerID)) {
			t.Fatalf("members after replace: %v", got)
		}
		// A user of another organisation is refused; nothing changes.
		bad := s.rest(t, s.admin, http.MethodPut, path, map[string]any{"user_ids": []string{s.adminID, s.acmeAdminID}}, http.StatusUnprocessableEntity)
		wantLoc(t, bad, "user_ids")
		if got := members(t, tier1); !slices.Equal(got, sorted(s.adminID, s.readerID)) {
			t.Fatalf("members after refused replace: %v", got)
		}
		wantLoc(t, s.rest(t, s.admin, http.MethodPut, path, map[string]any{"members": []string{s.adminID}}, 422), "members")
		wantLoc(t, s.rest(t, s.admin, http.MethodPut, path, map[string]any{}, 422), "user_ids")
		wantLoc(t, s.rest(t, s.admin, http.MethodPut, path, map[string]any{"user_ids": s.adminID}, 422), "user_ids")
		wantLoc(t, s.rest(t, s.admin, http.MethodPut, path, map[string]any{"user_ids": []string{s.adminID}, "id": tier2}, 422), "id")
		s.rest(t, s.admin, http.MethodPut, "/api/v1/groups/"+fakeID+"/members", map[string]any{"user_ids": []string{}}, http.StatusNotFound)

		data := s.gql(t, s.admin, `mutation($id: ID!, $u: [ID!]!) { setGroupMembers(id: $id, userIDs: $u) { id members { email } } }`,
			map[string]any{"id": tier1, "u": []string{s.analystID}})
		if got := anyStrs(dig(data, "setGroupMembers", "members"), "email"); !slices.Equal(got, []string{analystEmail}) {
			t.Fatalf("GraphQL setGroupMembers: %+v", data)
		}
		wantField(t, s.gqlErr(t, s.admin, `mutation($id: ID!, $u: [ID!]!) { setGroupMembers(id: $id, userIDs: $u) { id } }`,
			map[string]any{"id": tier1, "u": []string{s.acmeAdminID}}, "BAD_USER_INPUT"), "user_ids")
		empty := s.rest(t, s.admin, http.MethodPut, path, map[string]any{"user_ids": []string{}}, http.StatusOK)
		if got, _ := empty.Body["members"].([]any); len(got) != 0 {
			t.Fatalf("members not emptied: %s", empty.Raw)
		}
	})

	t.Run("delete", func(t *testing.T) {
		out := s.rest(t, s.admin, http.MethodDelete, "/api/v1/groups/"+tier1, nil, http.StatusNoContent)
		if len(out.Raw) != 0 {
			t.Fatalf("204 with a body: %s", out.Raw)
		}
		s.rest(t, s.admin, http.MethodGet, "/api/v1/groups/"+tier1, nil, http.StatusNotFound)
		s.rest(t, s.admin, http.MethodDelete, "/api/v1/groups/"+tier1, nil, http.StatusNotFound)
		data := s.gql(t, s.admin, `mutation($id: ID!) { deleteGroup(id: $id) { deletedID } }`, map[string]any{"id": tier2})
		if digS(data, "deleteGroup", "deletedID") != tier2 {
			t.Fatalf("GraphQL deleteGroup: %+v", data)
		}
		s.gqlErr(t, s.admin, `mutation($id: ID!) { deleteGroup(id: $id) { deletedID } }`, map[string]any{"id": tier2}, "NOT_FOUND")
		// Members stay.
		s.rest(t, s.admin, http.MethodGet, "/api/v1/users/"+s.readerID, nil, http.StatusOK)
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testAPITokens(t *testing.T) {
	env := s.env
	const base = "/api/v1/users/me/api-tokens"
	var restID, restSecret, gqlID, gqlSecret string

	t.Run("create", func(t *testing.T) {
		exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		res := s.rest(t, s.analyst, http.MethodPost, base, map[string]any{"name": "ci pipeline", "expires_at": exp.Format(time.RFC3339)}, http.StatusCreated)
		restID, restSecret = res.String("id"), res.String("token")
		if !strings.HasPrefix(restSecret, "sqt_") || len(restSecret) < 30 || restID == "" {
			t.Fatalf("created token: %s", res.Raw)
		}
		prefix := res.String("prefix")
		if prefix == "" || !strings.HasPrefix(restSecret, prefix) || len(prefix) >= len(restSecret) {
			t.Fatalf("prefix %q of %q", prefix, restSecret)
		}
		if res.String("name") != "ci pipeline" || res.String("user_id") != s.analystID || res.Body["last_used_at"] != nil {
			t.Fatalf("created token: %s", res.Raw)
		}
		if got, err := time.Parse(time.RFC3339Nano, res.String("expires_at")); err != nil || !got.Equal(exp) {
			t.Fatalf("expires_at %q, want %v", res.String("expires_at"), exp)
		}
		for _, k := range []string{"token_hash", "api_token"} {
			if _, ok := res.Body[k]; ok {
				t.Fatalf("create response has %s: %s", k, res.Raw)
			}
		}
		data := s.gql(t, s.analyst, `mutation { createAPIToken(input: {name: "graphql"}) { token apiToken { id name prefix userID } } }`, nil)
		gqlSecret, gqlID = digS(data, "createAPIToken", "token"), digS(data, "createAPIToken", "apiToken", "id")
		if !strings.HasPrefix(gqlSecret, digS(data, "createAPIToken", "apiToken", "prefix")) || digS(data, "createAPIToken", "apiToken", "userID") != s.analystID || gqlSecret == restSecret {
			t.Fatalf("GraphQL createAPIToken: %+v", data)
		}
	})

	t.Run("create invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body map[string]any
			loc  string
		}{
			{"missing name", map[string]any{}, "name"},
			{"blank name", map[string]any{"name": "  "}, "name"},
			{"name too long", map[string]any{"name": strings.Repeat("n", 101)}, "name"},
			{"expired", map[string]any{"name": "old", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"},
			{"malformed expiry", map[string]any{"name": "old", "expires_at": "tomorrow"}, "expires_at"},
			{"secret cannot be chosen", map[string]any{"name": "mine", "token": "sqt_chosen"}, "token"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantLoc(t, s.rest(t, s.analyst, http.MethodPost, base, tc.body, http.StatusUnprocessableEntity), tc.loc)
			})
		}
		wantField(t, s.gqlErr(t, s.analyst, `mutation { createAPIToken(input: {name: "x", expiresAt: "yesterday"}) { token } }`, nil, "BAD_USER_INPUT"), "expires_at")
	})

	t.Run("authenticate with Token scheme", func(t *testing.T) {
		c := withAuth(env, "Token "+restSecret)
		me := s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		if me.String("id") != s.analystID {
			t.Fatalf("Token auth me: %s", me.Raw)
		}
		if digS(s.gql(t, c, `{ me { email role } }`, nil), "me", "role") != "ANALYST" {
			t.Fatal("Token auth over GraphQL")
		}
		g := withAuth(env, "token "+gqlSecret) // the scheme is case-insensitive
		if digS(s.gql(t, g, `{ me { id } }`, nil), "me", "id") != s.analystID {
			t.Fatal("GraphQL-created token does not work")
		}
		// The token carries the user's role: no admin writes.
		s.rest(t, c, http.MethodPost, "/api/v1/groups", map[string]any{"name": "via token"}, http.StatusForbidden)
		// Logout ends sessions; a token is revoked instead.
		wantLoc(t, s.rest(t, c, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusUnprocessableEntity), "authorization")
		// A token is not a bearer session and vice versa.
		s.rest(t, withAuth(env, "Bearer "+restSecret), http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		s.rest(t, withAuth(env, "Token "+strings.TrimPrefix(s.analyst.Authorization, "Bearer ")), http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
	})

	t.Run("list never shows secrets", func(t *testing.T) {
		res := s.rest(t, s.analyst, http.MethodGet, base, nil, http.StatusOK)
		items := res.Items()
		if got := strs(items, "id"); !slices.Equal(got, sorted(restID, gqlID)) || num(res.Body["total"]) != 2 {
			t.Fatalf("tokens: %s", res.Raw)
		}
		for _, it := range items {
			if _, ok := it["token"]; ok {
				t.Fatalf("list item has the secret: %v", it)
			}
			if it["prefix"] == "" || it["name"] == "" {
				t.Fatalf("list item lacks name/prefix: %v", it)
			}
			if it["id"] == restID && it["last_used_at"] == nil {
				t.Fatalf("last_used_at not recorded: %v", it)
			}
		}
		for _, secret := range []string{restSecret, gqlSecret} {
			if bytes.Contains(res.Raw, []byte(secret)) {
				t.Fatalf("list contains a secret")
			}
		}
		data := s.gql(t, s.analyst, `{ apiTokens { id name prefix lastUsedAt createdAt } }`, nil)
		if got := anyStrs(data["apiTokens"], "id"); !slices.Equal(got, sorted(restID, gqlID)) {
			t.Fatalf("GraphQL apiTokens: %+v", data)
		}
		// Tokens are personal.
		if n := num(s.rest(t, s.admin, http.MethodGet, base, nil, http.StatusOK).Body["total"]); n != 0 {
			t.Fatalf("admin sees the analyst's tokens: %v", n)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		c := withAuth(env, "Token "+restSecret)
		// Not someone else's.
		s.rest(t, s.admin, http.MethodDelete, base+"/"+restID, nil, http.StatusNotFound)
		s.gqlErr(t, s.admin, `mutation($id: ID!) { revokeAPIToken(id: $id) { deletedID } }`, map[string]any{"id": gqlID}, "NOT_FOUND")
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)

		out := s.rest(t, s.analyst, http.MethodDelete, base+"/"+restID, nil, http.StatusNoContent)
		if len(out.Raw) != 0 {
			t.Fatalf("204 with a body: %s", out.Raw)
		}
		wantDetail(t, s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized))
		if g := c.GraphQL(`{ me { id } }`, nil); g.Status != http.StatusUnauthorized {
			t.Fatalf("revoked token on GraphQL: %+v", g)
		}
		s.rest(t, s.analyst, http.MethodDelete, base+"/"+restID, nil, http.StatusNotFound)

		g := withAuth(env, "Token "+gqlSecret)
		data := s.gql(t, g, `mutation($id: ID!) { revokeAPIToken(id: $id) { deletedID } }`, map[string]any{"id": gqlID})
		if digS(data, "revokeAPIToken", "deletedID") != gqlID {
			t.Fatalf("GraphQL revokeAPIToken: %+v", data)
		}
		s.rest(t, g, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		if n := num(s.rest(t, s.analyst, http.MethodGet, base, nil, http.StatusOK).Body["total"]); n != 0 {
			t.Fatalf("tokens left: %v", n)
		}
	})

	t.Run("provider token acts in a client organisation", func(t *testing.T) {
		res := s.rest(t, s.admin.As("acme"), http.MethodPost, base, map[string]any{"name": "msp automation"}, http.StatusCreated)
		if res.String("organization_id") != s.providerOrgID {
			t.Fatalf("a token belongs to the user's home organisation: %s", res.Raw)
		}
		c := withAuth(env, "Token "+res.String("token")).As("acme")
		users := s.rest(t, c, http.MethodGet, "/api/v1/users", nil, http.StatusOK)
		if got := strs(users.Items(), "email"); !slices.Equal(got, []string{acmeAdminEmail}) {
			t.Fatalf("users via token in acme: %v", got)
		}
		s.rest(t, s.admin, http.MethodDelete, base+"/"+res.String("id"), nil, http.StatusNoContent)
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testTrailingSlash(t *testing.T) {
	// Reads answer the same with and without the slash.
	for _, path := range []string{
		"/api/v1/users/me", "/api/v1/users", "/api/v1/users/quota", "/api/v1/users/" + s.readerID,
		"/api/v1/users/me/api-tokens", "/api/v1/organizations", "/api/v1/organizations/" + s.acmeID,
		"/api/v1/organizations/by-slug/acme", "/api/v1/organizations/" + s.acmeID + "/contacts", "/api/v1/groups",
	} {
		t.Run("GET "+path+"/", func(t *testing.T) {
			plain := s.rest(t, s.admin, http.MethodGet, path, nil, http.StatusOK)
			slash := s.rest(t, s.admin, http.MethodGet, path+"/", nil, http.StatusOK)
			if !bytes.Equal(plain.Raw, slash.Raw) {
				t.Fatalf("bodies differ:\n%s\n%s", plain.Raw, slash.Raw)
			}
		})
	}
	// Writes too.
	res := s.rest(t, s.env.Anonymous(), http.MethodPost, "/api/v1/auth/login/", map[string]any{"email": readerEmail, "password": readerPassword}, http.StatusOK)
	reader := withAuth(s.env, "Bearer "+res.String("access_token"))
	g := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups/", map[string]any{"name": "Slashed"}, http.StatusCreated)
	gid := g.String("id")
	s.rest(t, s.admin, http.MethodPatch, "/api/v1/groups/"+gid+"/", map[string]any{"description": "x"}, http.StatusOK)
	s.rest(t, s.admin, http.MethodPut, "/api/v1/groups/"+gid+"/members/", map[string]any{"user_ids": []string{s.readerID}}, http.StatusOK)
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/groups/"+gid+"/", nil, http.StatusNoContent)
	tok := s.rest(t, reader, http.MethodPost, "/api/v1/users/me/api-tokens/", map[string]any{"name": "slash"}, http.StatusCreated)
	s.rest(t, reader, http.MethodDelete, "/api/v1/users/me/api-tokens/"+tok.String("id")+"/", nil, http.StatusNoContent)
	s.rest(t, reader, http.MethodPatch, "/api/v1/users/me/", map[string]any{"name": "x"}, http.StatusForbidden)
	s.rest(t, reader, http.MethodPost, "/api/v1/auth/logout/", nil, http.StatusNoContent)
	s.rest(t, reader, http.MethodGet, "/api/v1/users/me/", nil, http.StatusUnauthorized)
}

// ---------------------------------------------------------------------------

func (s *suite) testBadInput(t *testing.T) {
	big := `{"name": "` + strings.Repeat("x", rest.MaxBodyBytes) + `"}`
	cases := []struct {
		name         string
		method, path string
		body         any
		status       int
		loc          string // for 422: the field the loc names ("" = the body itself)
	}{
		{"malformed JSON", "PATCH", "/api/v1/users/me", `{"name":`, 422, ""},
		{"not JSON at all", "POST", "/api/v1/groups", `name=x`, 422, ""},
		{"trailing data", "PATCH", "/api/v1/users/me", `{"name": "x"} {"name": "y"}`, 422, ""},
		{"body is not an object", "PATCH", "/api/v1/users/me", `"hello"`, 422, ""},
		{"array body for spread args", "PUT", "/api/v1/groups/" + fakeID + "/members", `[]`, 422, ""},
		{"unknown field", "PATCH", "/api/v1/users/me", map[string]any{"nickname": "x"}, 422, "nickname"},
		{"unknown nested object", "POST", "/api/v1/organizations", map[string]any{"name": "X", "slug": "x-co", "extra": map[string]any{"a": 1}}, 422, "extra"},
		{"wrong enum value", "POST", "/api/v1/users", map[string]any{"email": "enum@provider.test", "role": "superuser"}, 422, "role"},
		{"wrong enum case", "PATCH", "/api/v1/users/" + s.readerID, map[string]any{"role": "Read Only"}, 422, "role"},
		{"enum is not a number", "PATCH", "/api/v1/users/" + s.readerID, map[string]any{"role": 1}, 422, "role"},
		{"string for int", "POST", "/api/v1/organizations", map[string]any{"name": "X", "slug": "x-co", "user_quota": "ten"}, 422, "user_quota"},
		{"fraction for int", "POST", "/api/v1/organizations", map[string]any{"name": "X", "slug": "x-co", "user_quota": 1.5}, 422, "user_quota"},
		{"string for boolean", "POST", "/api/v1/organizations", map[string]any{"name": "X", "slug": "x-co", "mfa_enabled": "yes"}, 422, "mfa_enabled"},
		{"scalar for list", "PUT", "/api/v1/groups/" + fakeID + "/members", map[string]any{"user_ids": "abc"}, 422, "user_ids"},
		{"bad id in list", "POST", "/api/v1/groups", map[string]any{"name": "BadIDs", "member_ids": []string{"nope"}}, 422, "member_ids"},
		{"null for required", "POST", "/api/v1/groups", map[string]any{"name": nil}, 422, "name"},
		{"malformed path id", "GET", "/api/v1/users/not-a-uuid", nil, 422, "path:user_id"},
		{"malformed path id on delete", "DELETE", "/api/v1/groups/42", nil, 422, "path:group_id"},
		{"malformed contact id", "PATCH", "/api/v1/organizations/" + s.acmeID + "/contacts/x", map[string]any{"name": "x"}, 422, "path:contact_id"},
		{"malformed organisation id", "GET", "/api/v1/organizations/acme", nil, 422, "path:organization_id"},
		{"limit not a number", "GET", "/api/v1/users?limit=abc", nil, 422, "query:limit"},
		{"limit too large", "GET", "/api/v1/users?limit=501", nil, 422, "query:limit"},
		{"negative limit", "GET", "/api/v1/groups?limit=-1", nil, 422, "query:limit"},
		{"garbage cursor", "GET", "/api/v1/users?cursor=garbage", nil, 422, "query:cursor"},
		{"unknown sort field", "GET", "/api/v1/users?sort=password_hash", nil, 422, ""},
		{"body over 1 MiB", "PATCH", "/api/v1/users/me", big, 413, ""},
		{"login body over 1 MiB", "POST", "/api/v1/auth/login", big, 413, ""},
		{"unknown endpoint", "GET", "/api/v1/no-such-thing", nil, 404, ""},
		{"wrong method", "PUT", "/api/v1/users/me", map[string]any{}, 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := s.rest(t, s.admin, tc.method, tc.path, tc.body, tc.status)
			switch {
			case tc.status == 422 && tc.name == "unknown sort field":
				detailLoc(t, res)
			case tc.status == 422:
				wantLoc(t, res, tc.loc)
			case tc.status >= 400:
				wantDetail(t, res)
			}
		})
	}

	t.Run("chunked body over 1 MiB", func(t *testing.T) {
		// No Content-Length: the limit applies while reading.
		body := io.MultiReader(strings.NewReader(`{"name": "`), strings.NewReader(strings.Repeat("y", rest.MaxBodyBytes)), strings.NewReader(`"}`))
		req, _ := http.NewRequest(http.MethodPatch, s.env.URL+"/api/v1/users/me", body)
		req.Header.Set("Authorization", s.admin.Authorization)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(raw, []byte(`"detail"`)) {
			t.Fatalf("chunked large body: %d %s", resp.StatusCode, raw)
		}
	})

	t.Run("graphql body over 1 MiB", func(t *testing.T) {
		res := s.admin.Do(http.MethodPost, "/graphql", `{"query": "{ me { id } }", "variables": {"x": "`+strings.Repeat("z", rest.MaxBodyBytes)+`"}}`)
		if res.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("GraphQL large body: %d %s", res.Status, res.Raw)
		}
	})

	t.Run("graphql malformed", func(t *testing.T) {
		g := s.admin.GraphQL(`{ me { id `, nil)
		if g.Code() != "GRAPHQL_PARSE_FAILED" {
			t.Fatalf("parse error: %+v", g)
		}
		if g := s.admin.GraphQL(`{ me { noSuchField } }`, nil); g.Code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("validation error: %+v", g)
		}
		wantField(t, s.gqlErr(t, s.admin, `query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": "nope"}, "BAD_USER_INPUT"), "id")
		s.gqlErr(t, s.admin, `{ users(after: "garbage") { totalCount } }`, nil, "BAD_USER_INPUT")
	})

}

// ---------------------------------------------------------------------------

// testUnauthenticated calls every protected route without, and with bad,
// credentials.
func (s *suite) testUnauthenticated(t *testing.T) {
	creds := []struct {
		name, header string
	}{
		{"missing", ""},
		{"garbage bearer", "Bearer sqs_garbage"},
		{"garbage token", "Token sqt_garbage"},
		{"empty bearer", "Bearer "},
		{"unknown scheme", "Basic YWRtaW46cGFzcw=="},
		{"no scheme", strings.TrimPrefix(s.admin.Authorization, "Bearer ")},
	}
	for _, cr := range creds {
		t.Run(cr.name, func(t *testing.T) {
			c := withAuth(s.env, cr.header)
			for _, r := range rest.Routes {
				if r.Public {
					continue
				}
				path := paramRe.ReplaceAllStringFunc(r.Path, func(p string) string {
					if p == "{slug}" {
						return "acme"
					}
					return s.acmeID
				})
				var body any
				if r.Body != "" {
					body = map[string]any{}
				}
				res := c.Do(r.Method, path, body)
				if res.Status != http.StatusUnauthorized {
					t.Errorf("%s %s: status %d, want 401: %s", r.Method, path, res.Status, res.Raw)
					continue
				}
				if res.Header.Get("WWW-Authenticate") == "" || res.String("detail") == "" {
					t.Errorf("%s %s: 401 without WWW-Authenticate or detail: %v %s", r.Method, path, res.Header, res.Raw)
				}
			}
			if cr.header == "" {
				for _, q := range []string{`{ me { id } }`, `{ users { totalCount } }`, `mutation { createGroup(input: {name: "anon"}) { id } }`, `mutation { logout }`} {
					if g := c.GraphQL(q, nil); g.Code() != "UNAUTHENTICATED" {
						t.Errorf("GraphQL %s anonymous: %+v", q, g)
					}
				}
			} else if g := c.GraphQL(`{ me { id } }`, nil); g.Status != http.StatusUnauthorized {
				t.Errorf("GraphQL with %s: %+v", cr.name, g)
			}
		})
	}
	// Nothing was created.
	if n := num(s.rest(t, s.admin, http.MethodGet, "/api/v1/groups", nil, http.StatusOK).Body["total"]); n != 0 {
		t.Fatalf("anonymous calls created groups: %v", n)
	}
}

// ---------------------------------------------------------------------------

// adminWrite is one admin-only operation on both surfaces.
type adminWrite struct {
	name         string
	method, path string
	body         any
	query        string
	vars         map[string]any
}

func (s *suite) adminWrites(groupID, contactID string) []adminWrite {
	contacts := "/api/v1/organizations/" + s.providerOrgID + "/contacts"
	return []adminWrite{
		{"create user", "POST", "/api/v1/users", map[string]any{"email": "sneaky@provider.test", "role": "admin"},
			`mutation { createUser(input: {email: "sneaky@provider.test", role: ADMIN}) { id } }`, nil},
		{"patch user", "PATCH", "/api/v1/users/" + s.readerID, map[string]any{"role": "admin"},
			`mutation($id: ID!) { updateUser(id: $id, input: {role: ADMIN}) { id } }`, map[string]any{"id": s.readerID}},
		{"delete user", "DELETE", "/api/v1/users/" + s.readerID, nil,
			`mutation($id: ID!) { deleteUser(id: $id) { deletedID } }`, map[string]any{"id": s.readerID}},
		{"reset password", "POST", "/api/v1/users/" + s.readerID + "/reset-password", map[string]any{},
			`mutation($id: ID!) { resetPassword(id: $id) { temporaryPassword } }`, map[string]any{"id": s.readerID}},
		{"create organization", "POST", "/api/v1/organizations", map[string]any{"name": "Rogue", "slug": "rogue"},
			`mutation { createOrganization(input: {name: "Rogue", slug: "rogue"}) { id } }`, nil},
		{"patch organization", "PATCH", "/api/v1/organizations/" + s.providerOrgID, map[string]any{"name": "Pwned"},
			`mutation($id: ID!) { updateOrganization(id: $id, input: {name: "Pwned"}) { id } }`, map[string]any{"id": s.providerOrgID}},
		{"create contact", "POST", contacts, map[string]any{"name": "Rogue"},
			`mutation($org: ID!) { createContact(organizationID: $org, input: {name: "Rogue"}) { id } }`, map[string]any{"org": s.providerOrgID}},
		{"patch contact", "PATCH", contacts + "/" + contactID, map[string]any{"name": "Rogue"},
			`mutation($org: ID!, $id: ID!) { updateContact(organizationID: $org, id: $id, input: {name: "Rogue"}) { id } }`, map[string]any{"org": s.providerOrgID, "id": contactID}},
		{"delete contact", "DELETE", contacts + "/" + contactID, nil,
			`mutation($org: ID!, $id: ID!) { deleteContact(organizationID: $org, id: $id) { deletedID } }`, map[string]any{"org": s.providerOrgID, "id": contactID}},
		{"create group", "POST", "/api/v1/groups", map[string]any{"name": "Rogue"},
			`mutation { createGroup(input: {name: "Rogue"}) { id } }`, nil},
		{"patch group", "PATCH", "/api/v1/groups/" + groupID, map[string]any{"name": "Rogue"},
			`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Rogue"}) { id } }`, map[string]any{"id": groupID}},
		{"delete group", "DELETE", "/api/v1/groups/" + groupID, nil,
			`mutation($id: ID!) { deleteGroup(id: $id) { deletedID } }`, map[string]any{"id": groupID}},
		{"replace members", "PUT", "/api/v1/groups/" + groupID + "/members", map[string]any{"user_ids": []string{s.readerID}},
			`mutation($id: ID!, $u: [ID!]!) { setGroupMembers(id: $id, userIDs: $u) { id } }`, map[string]any{"id": groupID, "u": []string{s.readerID}}},
	}
}

// adminFixture creates a group and a contact in the provider organisation
// for the role tests (removed when t ends), and returns a check that they
// and the other targets of adminWrites are unchanged.
func (s *suite) adminFixture(t *testing.T, name string) (groupID, contactID string, unchanged func(t *testing.T)) {
	t.Helper()
	g := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups", map[string]any{"name": name, "member_ids": []string{s.analystID}}, http.StatusCreated)
	c := s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations/"+s.providerOrgID+"/contacts", map[string]any{"name": name}, http.StatusCreated)
	groupID, contactID = g.String("id"), c.String("id")
	t.Cleanup(func() {
		s.rest(t, s.admin, http.MethodDelete, "/api/v1/groups/"+groupID, nil, http.StatusNoContent)
		s.rest(t, s.admin, http.MethodDelete, "/api/v1/organizations/"+s.providerOrgID+"/contacts/"+contactID, nil, http.StatusNoContent)
	})
	return groupID, contactID, func(t *testing.T) {
		t.Helper()
		got := s.rest(t, s.admin, http.MethodGet, "/api/v1/groups/"+groupID, nil, http.StatusOK)
		if got.String("name") != name || !slices.Equal(anyStrs(got.Body["members"], "id"), []string{s.analystID}) {
			t.Fatalf("group changed: %s", got.Raw)
		}
		cs := s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/"+s.providerOrgID+"/contacts", nil, http.StatusOK)
		if got := strs(cs.Items(), "name"); !slices.Equal(got, []string{name}) {
			t.Fatalf("contacts changed: %v", got)
		}
		r := s.rest(t, s.admin, http.MethodGet, "/api/v1/users/"+s.readerID, nil, http.StatusOK)
		if r.String("role") != "read_only" {
			t.Fatalf("reader changed: %s", r.Raw)
		}
		o := s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/"+s.providerOrgID, nil, http.StatusOK)
		if o.String("name") != "Default" {
			t.Fatalf("organisation changed: %s", o.Raw)
		}
		s.rest(t, s.admin, http.MethodGet, "/api/v1/organizations/by-slug/rogue", nil, http.StatusNotFound)
		login(t, s.env, readerEmail, readerPassword, http.StatusOK)
		if n := num(s.rest(t, s.admin, http.MethodGet, "/api/v1/users", nil, http.StatusOK).Body["total"]); n != 3 {
			t.Fatalf("user count changed: %v", n)
		}
	}
}

func (s *suite) testAnalystForbidden(t *testing.T) {
	groupID, contactID, unchanged := s.adminFixture(t, "Analyst Target")
	for _, w := range s.adminWrites(groupID, contactID) {
		t.Run(w.name, func(t *testing.T) {
			res := s.rest(t, s.analyst, w.method, w.path, w.body, http.StatusForbidden)
			if d := wantDetail(t, res); !strings.Contains(d, "role") {
				t.Errorf("403 detail %q does not explain the role", d)
			}
			s.gqlErr(t, s.analyst, w.query, w.vars, "FORBIDDEN")
		})
	}
	unchanged(t)
	t.Run("analyst reads and self-service", func(t *testing.T) {
		for _, p := range []string{"/api/v1/users", "/api/v1/users/" + s.adminID, "/api/v1/groups/" + groupID, "/api/v1/organizations", "/api/v1/users/quota",
			"/api/v1/organizations/" + s.providerOrgID + "/contacts"} {
			s.rest(t, s.analyst, http.MethodGet, p, nil, http.StatusOK)
		}
		s.rest(t, s.analyst, http.MethodPatch, "/api/v1/users/me", map[string]any{"name": "Ann"}, http.StatusOK)
		tok := s.rest(t, s.analyst, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "mine"}, http.StatusCreated)
		s.rest(t, s.analyst, http.MethodDelete, "/api/v1/users/me/api-tokens/"+tok.String("id"), nil, http.StatusNoContent)
	})
}

func (s *suite) testReadOnly(t *testing.T) {
	groupID, contactID, unchanged := s.adminFixture(t, "Reader Target")
	reads := []string{
		"/api/v1/users/me", "/api/v1/users", "/api/v1/users/" + s.adminID, "/api/v1/users/quota", "/api/v1/groups",
		"/api/v1/groups/" + groupID, "/api/v1/organizations", "/api/v1/organizations/" + s.providerOrgID,
		"/api/v1/organizations/by-slug/default", "/api/v1/organizations/" + s.providerOrgID + "/contacts", "/api/v1/users/me/api-tokens",
	}
	t.Run("reads", func(t *testing.T) {
		for _, p := range reads {
			s.rest(t, s.reader, http.MethodGet, p, nil, http.StatusOK)
		}
		data := s.gql(t, s.reader, `{ me { role } users { totalCount } groups { totalCount } organizations { totalCount } }`, nil)
		if digS(data, "me", "role") != "READ_ONLY" || num(dig(data, "users", "totalCount")) != 3 {
			t.Fatalf("read-only GraphQL reads: %+v", data)
		}
	})
	t.Run("no profile changes", func(t *testing.T) {
		for _, body := range []map[string]any{{"name": "Changed"}, {"timezone": "Europe/Rome"}, {"password": "reader-password-02", "current_password": readerPassword}} {
			wantDetail(t, s.rest(t, s.reader, http.MethodPatch, "/api/v1/users/me", body, http.StatusForbidden))
		}
		s.gqlErr(t, s.reader, `mutation { updateMe(input: {name: "Changed"}) { id } }`, nil, "FORBIDDEN")
		me := s.rest(t, s.reader, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		if me.String("name") != "" || me.String("timezone") != "UTC" {
			t.Fatalf("read-only profile changed: %s", me.Raw)
		}
	})
	for _, w := range s.adminWrites(groupID, contactID) {
		t.Run(w.name, func(t *testing.T) {
			wantDetail(t, s.rest(t, s.reader, w.method, w.path, w.body, http.StatusForbidden))
			s.gqlErr(t, s.reader, w.query, w.vars, "FORBIDDEN")
		})
	}
	unchanged(t)
	t.Run("API tokens", func(t *testing.T) {
		res := s.rest(t, s.reader, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "dashboard"}, http.StatusCreated)
		c := withAuth(s.env, "Token "+res.String("token"))
		for _, p := range reads {
			s.rest(t, c, http.MethodGet, p, nil, http.StatusOK)
		}
		s.rest(t, c, http.MethodPatch, "/api/v1/users/me", map[string]any{"name": "via token"}, http.StatusForbidden)
		s.rest(t, c, http.MethodPost, "/api/v1/groups", map[string]any{"name": "via token"}, http.StatusForbidden)
		data := s.gql(t, s.reader, `mutation { createAPIToken(input: {name: "gql"}) { apiToken { id } } }`, nil)
		list := s.rest(t, s.reader, http.MethodGet, "/api/v1/users/me/api-tokens", nil, http.StatusOK)
		if num(list.Body["total"]) != 2 {
			t.Fatalf("read-only tokens: %s", list.Raw)
		}
		s.rest(t, s.reader, http.MethodDelete, "/api/v1/users/me/api-tokens/"+res.String("id"), nil, http.StatusNoContent)
		s.gql(t, s.reader, `mutation($id: ID!) { revokeAPIToken(id: $id) { deletedID } }`, map[string]any{"id": digS(data, "createAPIToken", "apiToken", "id")})
		s.rest(t, c, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
	})
}

// ---------------------------------------------------------------------------

func (s *suite) testNode(t *testing.T) {
	const q = `query($id: ID!) { node(id: $id) { __typename id
		... on User { email }
		... on Organization { slug }
		... on Group { name }
		... on Contact { name }
		... on APIToken { name }
		... on Dashboard { name visibility } } }`
	g := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups", map[string]any{"name": "Node Group"}, http.StatusCreated).String("id")
	c := s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations/"+s.providerOrgID+"/contacts", map[string]any{"name": "Node Contact"}, http.StatusCreated).String("id")
	tok := s.rest(t, s.admin, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "Node Token"}, http.StatusCreated).String("id")
	acmeGroup := s.rest(t, s.acmeAdmin, http.MethodPost, "/api/v1/groups", map[string]any{"name": "Acme Node Group"}, http.StatusCreated).String("id")
	shared := s.rest(t, s.admin, http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "Node Shared", "visibility": "shared"}, http.StatusCreated).String("id")
	private := s.rest(t, s.admin, http.MethodPost, "/api/v1/dashboards", map[string]any{"name": "Node Private"}, http.StatusCreated).String("id")

	found := []struct {
		name, id, typ, key, want string
		as                       *apitest.Client
	}{
		{"user", s.adminID, "User", "email", apitest.AdminEmail, s.admin},
		{"organization", s.providerOrgID, "Organization", "slug", "default", s.admin},
		{"client organization", s.acmeID, "Organization", "slug", "acme", s.admin},
		{"group", g, "Group", "name", "Node Group", s.admin},
		{"contact", c, "Contact", "name", "Node Contact", s.admin},
		{"api token", tok, "APIToken", "name", "Node Token", s.admin},
		{"client group via X-Seliq-Org", acmeGroup, "Group", "name", "Acme Node Group", s.admin.As("acme")},
		{"shared dashboard", shared, "Dashboard", "name", "Node Shared", s.reader},
		{"own private dashboard", private, "Dashboard", "name", "Node Private", s.admin},
	}
	for _, tc := range found {
		t.Run(tc.name, func(t *testing.T) {
			n := obj(s.gql(t, tc.as, q, map[string]any{"id": tc.id})["node"])
			if n["__typename"] != tc.typ || n["id"] != tc.id || n[tc.key] != tc.want {
				t.Fatalf("node: %+v", n)
			}
		})
	}
	hidden := []struct {
		name, id string
		as       *apitest.Client
	}{
		{"another org's user", s.adminID, s.acmeAdmin},
		{"parent organization", s.providerOrgID, s.acmeAdmin},
		{"another org's group", g, s.acmeAdmin},
		{"another org's contact", c, s.acmeAdmin},
		{"another org's API token", tok, s.acmeAdmin},
		{"another user's API token", tok, s.analyst},
		{"client group without X-Seliq-Org", acmeGroup, s.admin},
		{"another user's private dashboard", private, s.analyst},
		{"another org's shared dashboard", shared, s.acmeAdmin},
		{"another org's private dashboard", private, s.acmeAdmin},
		{"the provider's dashboard acting in a client", shared, s.admin.As("acme")},
		{"unknown id", fakeID, s.admin},
	}
	for _, tc := range hidden {
		t.Run("not found: "+tc.name, func(t *testing.T) {
			res := s.gqlErr(t, tc.as, q, map[string]any{"id": tc.id}, "NOT_FOUND")
			if v, ok := res.Data["node"]; !ok || v != nil {
				t.Fatalf("node should be null: %+v", res.Data)
			}
		})
	}
	data := s.gql(t, s.admin, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{s.adminID, g, shared}})
	if got, _ := data["nodes"].([]any); len(got) != 3 {
		t.Fatalf("nodes: %+v", data)
	}
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/groups/"+g, nil, http.StatusNoContent)
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/organizations/"+s.providerOrgID+"/contacts/"+c, nil, http.StatusNoContent)
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/users/me/api-tokens/"+tok, nil, http.StatusNoContent)
	s.rest(t, s.acmeAdmin, http.MethodDelete, "/api/v1/groups/"+acmeGroup, nil, http.StatusNoContent)
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/dashboards/"+shared, nil, http.StatusNoContent)
	s.rest(t, s.admin, http.MethodDelete, "/api/v1/dashboards/"+private, nil, http.StatusNoContent)
}

// ---------------------------------------------------------------------------

// nested returns an operation whose deepest field is at depth levels. It
// walks single-object parents, so only depth, not cost, grows.
func nested(levels int) string {
	return "query($id: ID!) { organization(id: $id) { " + strings.Repeat("parent { ", levels-2) + "id" + strings.Repeat(" }", levels-1) + " }"
}

func (s *suite) testDepthLimit(t *testing.T) {
	vars := map[string]any{"id": s.acmeID}
	if g := s.admin.GraphQL(nested(12), vars); len(g.Errors) > 0 || dig(g.Data, "organization", "parent") == nil {
		t.Fatalf("depth 12 refused: %+v", g)
	}
	for _, depth := range []int{13, 40} {
		g := s.admin.GraphQL(nested(depth), vars)
		if g.Code() != "BAD_USER_INPUT" || !strings.Contains(g.Errors[0].Message, "12") || g.Data["organization"] != nil {
			t.Fatalf("depth %d accepted: %+v", depth, g)
		}
	}
	// REST clients cannot reach this: the depth is fixed by the route table.
	// Fragments do not hide depth.
	frag := `query($id: ID!) { organization(id: $id) { ...P } } fragment P on Organization { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } }`
	if g := s.admin.GraphQL(frag, vars); g.Code() != "BAD_USER_INPUT" {
		t.Fatalf("deep fragment accepted: %+v", g)
	}
	inline := `query($id: ID!) { organization(id: $id) { ... on Organization { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }`
	if g := s.admin.GraphQL(inline, vars); g.Code() != "BAD_USER_INPUT" {
		t.Fatalf("deep inline fragment accepted: %+v", g)
	}
}

// ---------------------------------------------------------------------------

func (s *suite) testOpenAPI(t *testing.T) {
	for _, path := range []string{"/api/v1/openapi.json", "/api/v1/openapi.json/"} {
		res := s.env.Anonymous().Do(http.MethodGet, path, nil)
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !json.Valid(res.Raw) {
			t.Fatalf("%s: %d %s", path, res.Status, res.Header.Get("Content-Type"))
		}
		var doc struct {
			OpenAPI string `json:"openapi"`
			Info    struct {
				Title, Version string
			} `json:"info"`
			Paths map[string]map[string]struct {
				OperationID string                      `json:"operationId"`
				Parameters  []struct{ Name, In string } `json:"parameters"`
				RequestBody map[string]any              `json:"requestBody"`
				Responses   map[string]any              `json:"responses"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(res.Raw, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.OpenAPI != "3.1.0" || doc.Info.Title == "" || doc.Info.Version == "" {
			t.Fatalf("openapi %q info %+v", doc.OpenAPI, doc.Info)
		}
		n := 0
		for _, r := range rest.Routes {
			op, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]
			if !ok {
				t.Errorf("%s %s missing from the document", r.Method, r.Path)
				continue
			}
			n++
			if op.OperationID != r.Field {
				t.Errorf("%s %s: operationId %q, want %q", r.Method, r.Path, op.OperationID, r.Field)
			}
			status := r.Status
			if status == 0 {
				status = http.StatusOK
			}
			if _, ok := op.Responses[strconv.Itoa(status)]; !ok {
				t.Errorf("%s %s: no %d response", r.Method, r.Path, status)
			}
			if _, ok := op.Responses["422"]; !ok {
				t.Errorf("%s %s: no 422 response", r.Method, r.Path)
			}
			for _, m := range paramRe.FindAllString(r.Path, -1) {
				name := strings.Trim(m, "{}")
				if !slices.ContainsFunc(op.Parameters, func(p struct{ Name, In string }) bool { return p.Name == name && p.In == "path" }) {
					t.Errorf("%s %s: path parameter %s not declared", r.Method, r.Path, name)
				}
			}
			if (r.Body != "") != (op.RequestBody != nil) {
				t.Errorf("%s %s: requestBody %v, route body %q", r.Method, r.Path, op.RequestBody != nil, r.Body)
			}
		}
		if n != len(rest.Routes) || n == 0 {
			t.Fatalf("%d of %d routes documented", n, len(rest.Routes))
		}
		ops := 0
		for _, item := range doc.Paths {
			ops += len(item)
		}
		// The route table, plus the hand-written ingest and inbound email
		// endpoints and the three file routes (report download, template
		// download and upload).
		if ops != len(rest.Routes)+5 || doc.Paths["/api/v1/alerts/ingest"]["post"].OperationID != "ingestAlerts" ||
			doc.Paths["/webhooks/email/inbound/{url_token}"]["post"].OperationID != "inboundEmail" ||
			doc.Paths["/api/v1/incidents/{incident_id}/reports/{report_id}/download"]["get"].OperationID != "downloadReport" {
			t.Errorf("document has %d operations, the route table %d (+ ingest, inbound email and 3 file routes)", ops, len(rest.Routes))
		}
	}
}

// ---------------------------------------------------------------------------

// TestLoginRateLimit: ten failed logins per minute for one email from one
// client, then 429 with Retry-After; on GraphQL, RATE_LIMITED.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{LoginLimit: 10})
		anon := env.Anonymous()
		admin := env.Admin() // one successful login for the admin's email
		victim := "victim@provider.test"
		admin.Do(http.MethodPost, "/api/v1/users", map[string]any{"email": victim, "password": "victim-password-1"})
		gqlVictim := "gql.victim@provider.test"

		t.Run("rest", func(t *testing.T) {
			awaitFreshMinute(t)
			for i := 1; i <= 10; i++ {
				res := anon.Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": victim, "password": fmt.Sprintf("guess-%d", i)})
				if res.Status != http.StatusUnauthorized {
					t.Fatalf("attempt %d: %d %s", i, res.Status, res.Raw)
				}
			}
			res := anon.Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": victim, "password": "guess-11"})
			if res.Status != http.StatusTooManyRequests {
				t.Fatalf("attempt 11: %d %s", res.Status, res.Raw)
			}
			wantDetail(t, res)
			ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 61 {
				t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
			}
			// Even the right password waits now; the email is not case-tricked.
			res = anon.Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": strings.ToUpper(victim), "password": "victim-password-1"})
			if res.Status != http.StatusTooManyRequests {
				t.Fatalf("correct password while limited: %d %s", res.Status, res.Raw)
			}
			// Other emails from the same client are not limited.
			if res := anon.Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": "other@provider.test", "password": "guess"}); res.Status != http.StatusUnauthorized {
				t.Fatalf("other email: %d %s", res.Status, res.Raw)
			}
			login(t, env, apitest.AdminEmail, apitest.AdminPassword, http.StatusOK)
			// Existing sessions keep working.
			if res := admin.Do(http.MethodGet, "/api/v1/users/me", nil); res.Status != http.StatusOK {
				t.Fatalf("session during limit: %d", res.Status)
			}
		})

		t.Run("graphql", func(t *testing.T) {
			const q = `mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { accessToken } }`
			awaitFreshMinute(t)
			for i := 1; i <= 10; i++ {
				g := anon.GraphQL(q, map[string]any{"e": gqlVictim, "p": fmt.Sprintf("guess-%d", i)})
				if g.Code() != "UNAUTHENTICATED" {
					t.Fatalf("attempt %d: %+v", i, g)
				}
			}
			g := anon.GraphQL(q, map[string]any{"e": gqlVictim, "p": "guess-11"})
			if g.Code() != "RATE_LIMITED" {
				t.Fatalf("attempt 11: %+v", g)
			}
			if ra, _ := g.Errors[0].Extensions["retryAfter"].(float64); ra < 1 || ra > 61 {
				t.Fatalf("retryAfter %v", g.Errors[0].Extensions["retryAfter"])
			}
			// REST and GraphQL share one limiter.
			if res := anon.Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": gqlVictim, "password": "x"}); res.Status != http.StatusTooManyRequests {
				t.Fatalf("REST after GraphQL limit: %d %s", res.Status, res.Raw)
			}
		})
	})
}

// awaitFreshMinute waits for the next wall-clock minute when little of the
// current one is left: the login limiter is a sliding window over minutes,
// and a burst that straddles two of them is partly forgiven.
func awaitFreshMinute(t *testing.T) {
	now := time.Now()
	next := now.Truncate(time.Minute).Add(time.Minute)
	if left := next.Sub(now); left < 20*time.Second {
		t.Logf("waiting %v for a fresh rate-limit window", left.Round(time.Second))
		time.Sleep(left + 100*time.Millisecond) // the limiter's window is the wall-clock minute
	}
}
