package rest

import (
	"bytes"
	"net/http"
	"testing"
)

// DirectPages is how many pages the direct lists have written.
func DirectPages() int64 { return directPages.Load() }

// IsDirect reports whether the route writes its items itself.
func IsDirect(t testing.TB, method, path string) bool {
	return compiledRoute(t, method, path).direct != nil
}

// Operation returns the GraphQL operation and variables the route runs
// for request r.
func Operation(t testing.TB, method, path string, r *http.Request) (string, map[string]any) {
	t.Helper()
	c := compiledRoute(t, method, path)
	vars, err := (&API{schema: schema}).variables(c, r)
	if err != nil {
		t.Fatal(err)
	}
	query, err := c.queryFor(r.URL.Query())
	if err != nil {
		t.Fatal(err)
	}
	return query, vars
}

// Projected is the REST body the projection makes of the route's GraphQL
// data ({"result": …}).
func Projected(t testing.TB, method, path string, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := project(&out, data, compiledRoute(t, method, path)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
