package server_test

// Error locations name what the client sent, for every route of the table:
// a path parameter is ["path", name], a query parameter ["query", name],
// never the GraphQL argument it fills. And 405 answers carry Allow.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/resolvers"
	"github.com/seliq/seliq/rest"
	"github.com/seliq/seliq/storage"
)

// requiredParams are valid values of the query parameters a route cannot
// go without, so that the parameter under test is the one refused.
var requiredParams = map[string]string{
	"/api/v1/queries/lookups": "source=alerts&field=source&",
}

func TestRESTErrorLocations(t *testing.T) {
	t.Parallel()
	schema := gqlserver.NewSchema(&resolvers.Resolver{}).Schema()
	argType := func(r rest.Route, arg string) string {
		def := schema.Query.Fields.ForName(r.Field)
		if def == nil {
			def = schema.Mutation.Fields.ForName(r.Field)
		}
		return def.Arguments.ForName(arg).Type.Name()
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		for _, r := range rest.Routes {
			params := paramRe.FindAllString(r.Path, -1)
			var idParams []string
			for _, p := range params {
				if name := strings.Trim(p, "{}"); argType(r, r.PathArgs[name]) == "ID" {
					idParams = append(idParams, name)
				}
			}
			var body any
			if r.Body != "" {
				body = map[string]any{}
			}
			if len(idParams) > 0 {
				t.Run(r.Method+" "+r.Path+" bad id", func(t *testing.T) {
					// Every id parameter is malformed: the first is named.
					path := paramRe.ReplaceAllString(r.Path, "not-a-uuid")
					res := admin.Do(r.Method, path, body)
					loc := detailLoc(t, res)
					if res.Status != http.StatusUnprocessableEntity || loc[0] != "path" || !slices.Contains(idParams, loc[1]) {
						t.Fatalf("status %d loc %v, want 422 [path %v]: %s", res.Status, loc, idParams, res.Raw)
					}
				})
			}
			if len(params) > 0 || r.Method != http.MethodGet {
				continue
			}
			for _, q := range []struct{ query, param string }{
				{"sort=no_such_field", "sort"}, {"limit=many", "limit"}, {"limit=100000", "limit"}, {"cursor=!!", "cursor"},
			} {
				t.Run(r.Method+" "+r.Path+"?"+q.query, func(t *testing.T) {
					res := admin.Do(r.Method, r.Path+"?"+requiredParams[r.Path]+q.query, nil)
					if res.Status == http.StatusOK {
						return // the route is no list, or ignores the parameter
					}
					if loc := detailLoc(t, res); res.Status != http.StatusUnprocessableEntity || !slices.Equal(loc, []string{"query", q.param}) {
						t.Fatalf("status %d loc %v, want 422 [query %s]: %s", res.Status, loc, q.param, res.Raw)
					}
				})
			}
		}
	})
}

func TestMethodNotAllowedListsAllow(t *testing.T) {
	t.Parallel()
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		for _, tc := range []struct{ method, path, allow string }{
			{http.MethodPut, "/api/v1/alerts", "GET"},
			{http.MethodPut, "/api/v1/connectors/" + fakeID, "GET, PATCH, DELETE"},
			{http.MethodPost, "/api/v1/connectors/" + fakeID + "/", "GET, PATCH, DELETE"},
			{http.MethodGet, "/api/v1/auth/login", "POST"},
		} {
			res := admin.Do(tc.method, tc.path, nil)
			if res.Status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: status %d, Allow %q, want 405 and %q", tc.method, tc.path, res.Status, res.Header.Get("Allow"), tc.allow)
			}
		}
	})
}
