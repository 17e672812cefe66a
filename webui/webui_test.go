package webui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/seliq/seliq/internal/browser"
)

// newMux mounts the pages the two supported ways: playground without
// stripping the prefix, docs with http.StripPrefix.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/playground/", Playground("/graphql"))
	mux.Handle("/docs/", http.StripPrefix("/docs", APIDocs("/api/v1/openapi.json")))
	return mux
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

var srcHref = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

func TestPages(t *testing.T) {
	mux := newMux()
	for _, tc := range []struct{ page, mustContain string }{
		{"/playground/", `data-endpoint="/graphql"`},
		{"/docs/", `data-spec-url="/api/v1/openapi.json"`},
	} {
		t.Run(tc.page, func(t *testing.T) {
			rec := get(t, mux, tc.page)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self';"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q allows unsafe-*", csp)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tc.mustContain) {
				t.Errorf("page lacks %s", tc.mustContain)
			}
			// Every referenced URL must be relative and served by the handler:
			// nothing may come from a CDN.
			refs := srcHref.FindAllStringSubmatch(body, -1)
			if len(refs) < 3 {
				t.Fatalf("expected asset references, got %q", refs)
			}
			for _, m := range refs {
				ref := m[1]
				if ref == "data:," { // empty favicon, avoids a /favicon.ico request
					continue
				}
				if !strings.HasPrefix(ref, "assets/") {
					t.Errorf("non-relative or external asset URL %q", ref)
					continue
				}
				arec := get(t, mux, tc.page+ref)
				if arec.Code != http.StatusOK || arec.Body.Len() == 0 {
					t.Errorf("%s: status %d, %d bytes", ref, arec.Code, arec.Body.Len())
				}
				if cc := arec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
					t.Errorf("%s: Cache-Control %q for versioned URL", ref, cc)
				}
			}
		})
	}
}

func TestAssets(t *testing.T) {
	mux := newMux()
	for _, tc := range []struct {
		target, ctype, cache string
		code                 int
	}{
		{"/playground/assets/graphiql.min.js", "text/javascript; charset=utf-8", "no-cache", 200},
		{"/playground/assets/graphiql.min.css", "text/css; charset=utf-8", "no-cache", 200},
		{"/playground/assets/playground.js", "text/javascript; charset=utf-8", "no-cache", 200},
		{"/docs/assets/swagger-ui-bundle.js", "text/javascript; charset=utf-8", "no-cache", 200},
		{"/docs/assets/swagger-ui.css?v=" + allAssets["swagger-ui.css"].version, "text/css; charset=utf-8", "public, max-age=31536000, immutable", 200},
		{"/playground/assets/nope.js", "", "", 404},
		{"/playground/assets/", "", "", 404},             // no directory listing
		{"/playground/assets/VERSIONS.txt", "", "", 404}, // only JS/CSS are embedded
		{"/docs/assets/graphiql.min.js", "", "", 404},    // each page serves only its own assets
		{"/playground/graphiql.min.js", "", "", 404},     // assets live under assets/
	} {
		rec := get(t, mux, tc.target)
		if rec.Code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.target, rec.Code, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		if ct := rec.Header().Get("Content-Type"); ct != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.target, ct, tc.ctype)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != tc.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.target, cc, tc.cache)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: missing nosniff", tc.target)
		}
	}
}

func TestConditionalAndMethods(t *testing.T) {
	h := Playground("/graphql")
	first := get(t, h, "/assets/react.production.min.js")
	req := httptest.NewRequest(http.MethodGet, "/assets/react.production.min.js", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", rec.Code)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestCSPAbsoluteEndpoint(t *testing.T) {
	rec := get(t, Playground("https://api.example.test:8443/graphql"), "/")
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example.test:8443;") {
		t.Errorf("CSP %q does not allow the endpoint's origin", csp)
	}
}

// ---- Browser tests -------------------------------------------------------

const headersHint = "Bearer <token from POST /api/v1/auth/login>"

// gqlRecorder is a fake GraphQL endpoint that records what reached it.
type gqlRecorder struct {
	mu   sync.Mutex
	reqs []gqlReq
}

type gqlReq struct{ Auth, Query string }

func (g *gqlRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct{ Query string }
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.reqs = append(g.reqs, gqlReq{r.Header.Get("Authorization"), body.Query})
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(body.Query, "__schema") {
		io.WriteString(w, introspectionResult)
		return
	}
	io.WriteString(w, `{"data":{"__typename":"Query","hello":"world"}}`)
}

// last returns the last recorded request whose query contains substr, and
// how many such requests there were.
func (g *gqlRecorder) last(substr string) (last gqlReq, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.reqs {
		if strings.Contains(r.Query, substr) {
			last, n = r, n+1
		}
	}
	return last, n
}

// introspectionResult describes `type Query { hello: String }`: the minimum
// graphql-js's buildClientSchema accepts.
const introspectionResult = `{"data":{"__schema":{
 "description":null,"queryType":{"name":"Query"},"mutationType":null,"subscriptionType":null,"directives":[],
 "types":[
  {"kind":"OBJECT","name":"Query","description":null,"specifiedByURL":null,"isOneOf":false,
   "fields":[{"name":"hello","description":"Greets.","args":[],"type":{"kind":"SCALAR","name":"String","ofType":null},"isDeprecated":false,"deprecationReason":null}],
   "inputFields":null,"interfaces":[],"enumValues":null,"possibleTypes":null},
  {"kind":"SCALAR","name":"String","description":null,"specifiedByURL":null,"isOneOf":null,"fields":null,"inputFields":null,"interfaces":null,"enumValues":null,"possibleTypes":null},
  {"kind":"SCALAR","name":"Boolean","description":null,"specifiedByURL":null,"isOneOf":null,"fields":null,"inputFields":null,"interfaces":null,"enumValues":null,"possibleTypes":null}
 ]}}}`

const openAPISpec = `{
 "openapi": "3.1.0",
 "info": {"title": "Test API", "version": "1.0.0"},
 "paths": {"/api/v1/widgets": {"get": {"summary": "List widgets", "operationId": "listWidgets",
   "responses": {"200": {"description": "The widgets"}}}}}
}`

func newTestServer(t *testing.T) (*httptest.Server, *gqlRecorder) {
	gql := &gqlRecorder{}
	mux := newMux()
	mux.Handle("/graphql", gql)
	mux.HandleFunc("/api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, openAPISpec)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, gql
}

func TestBrowserPlayground(t *testing.T) {
	srv, gql := newTestServer(t)
	b := browser.Start(t)

	b.Navigate(srv.URL + "/playground/?query=" + url.QueryEscape("{ hello }"))
	b.WaitFor("GraphiQL rendered", `!!document.querySelector('.graphiql-container .graphiql-execute-button')`)
	// GraphiQL fetches the schema on load.
	browser.WaitUntil(t, "introspection POST", func() bool { _, n := gql.last("__schema"); return n == 1 })
	// The schema from the fake introspection result is usable.
	b.Eval(`document.querySelector('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click()`)
	b.WaitFor("schema in the doc explorer", `document.querySelector('.graphiql-doc-explorer').textContent.includes('query: Query')`)
	b.WaitFor("?query= in the query editor", `document.querySelector('.graphiql-query-editor').textContent.includes('hello')`)

	// The headers editor starts with the Authorization hint; replace it with a
	// token as a user would (via CodeMirror's API) and run the query.
	b.Eval(`document.querySelector('.graphiql-editor-tools [data-name="headers"]').click()`)
	const headersEditor = `document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror`
	if v := string(b.Eval(headersEditor + `.getValue()`)); !strings.Contains(v, headersHint) {
		t.Errorf("headers editor = %s, want the hint %q", v, headersHint)
	}
	b.Eval(headersEditor + `.setValue('{"Authorization": "Bearer test-token"}')`)
	b.Eval(`document.querySelector('.graphiql-execute-button').click()`)
	b.WaitFor("result shown", `document.querySelector('.graphiql-response').textContent.includes('"world"')`)
	if r, n := gql.last("hello"); n != 1 || r.Auth != "Bearer test-token" {
		t.Errorf("query requests: %d, last %+v; want 1 with Authorization \"Bearer test-token\"", n, r)
	}

	// shouldPersistHeaders: after a reload the token is still in the editor
	// and is sent with the schema introspection too. GraphiQL stores editor
	// content debounced, so wait for it first.
	b.WaitFor("headers stored", `(localStorage.getItem('graphiql:headers') || '').includes('test-token')`)
	b.Navigate(srv.URL + "/playground/")
	browser.WaitUntil(t, "second introspection POST", func() bool { _, n := gql.last("__schema"); return n == 2 })
	if r, _ := gql.last("__schema"); r.Auth != "Bearer test-token" {
		t.Errorf("introspection after reload: Authorization %q, want the persisted token", r.Auth)
	}
	b.WaitFor("headers persisted", headersEditor+`.getValue().includes('test-token')`)

	b.CheckClean(srv.URL)
}

func TestBrowserAPIDocs(t *testing.T) {
	srv, _ := newTestServer(t)
	b := browser.Start(t)

	b.Navigate(srv.URL + "/docs/")
	b.WaitFor("operation rendered", `!!document.querySelector('.opblock-summary-path')
		&& document.querySelector('.opblock-summary-path').textContent.includes('/api/v1/widgets')
		&& document.body.textContent.includes('List widgets')`)
	// Expanding the operation renders its responses (more UI under the CSP).
	b.Eval(`document.querySelector('.opblock-summary-control').click()`)
	b.WaitFor("operation expanded", `document.querySelector('.opblock-body').textContent.includes('The widgets')`)
	b.CheckClean(srv.URL)
}
