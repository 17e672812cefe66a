package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/browser"
	"github.com/seliq/seliq/internal/testenv"
)

// The webui package tests its pages against fakes; these run the pages of the
// real server in headless Chromium against the real GraphQL endpoint and
// OpenAPI document.

// TestBrowserPlayground logs in over REST, pastes the token into GraphiQL's
// headers editor as a user would, and runs a query that needs it.
func TestBrowserPlayground(t *testing.T) {
	t.Parallel()          // independent: its own servers and databases
	b := browser.Start(t) // first: skips without chromium
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite))
	token := env.Admin().Authorization // POST /api/v1/auth/login
	const query = `{ me { email } }`

	b.Navigate(env.URL + "/playground/?query=" + url.QueryEscape(query))
	b.WaitFor("GraphiQL rendered", `!!document.querySelector('.graphiql-container .graphiql-execute-button')`)
	b.WaitFor("?query= in the query editor", `document.querySelector('.graphiql-query-editor').textContent.includes('email')`)
	// The real schema's introspection (anonymous, before any token) loads
	// into the documentation explorer.
	b.Eval(`document.querySelector('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click()`)
	b.WaitFor("the schema in the doc explorer", `document.querySelector('.graphiql-doc-explorer').textContent.includes('query: Query')`)

	b.Eval(`document.querySelector('.graphiql-editor-tools [data-name="headers"]').click()`)
	const headersEditor = `document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror`
	b.WaitFor("headers editor", headersEditor+`.getValue() !== undefined`)
	headers, _ := json.Marshal(map[string]string{"Authorization": token})
	b.Eval(headersEditor + `.setValue(` + string(mustJSON(t, string(headers))) + `)`)
	b.Eval(`document.querySelector('.graphiql-execute-button').click()`)
	b.WaitFor("the admin's email in the result pane",
		`document.querySelector('.graphiql-response').textContent.includes(`+string(mustJSON(t, `"email": "`+apitest.AdminEmail+`"`))+`)`)
	if resp := string(b.Eval(`document.querySelector('.graphiql-response').textContent`)); strings.Contains(resp, `"errors"`) {
		t.Errorf("result pane shows errors: %s", resp)
	}

	// The query went to the real endpoint, as a POST, with the token.
	var sent []browser.Request
	for _, r := range b.Requests() {
		if r.URL == env.URL+"/graphql" && strings.Contains(r.PostData, "me") && !strings.Contains(r.PostData, "__schema") {
			sent = append(sent, r)
		}
	}
	if len(sent) != 1 {
		t.Fatalf("%d query requests to /graphql, want 1: %+v", len(sent), sent)
	}
	if r := sent[0]; r.Method != http.MethodPost || header(r, "Authorization") != token {
		t.Errorf("query sent as %s with Authorization %q, want POST with the token", r.Method, header(r, "Authorization"))
	}
	b.CheckClean(env.URL)
}

// TestBrowserDocs renders the server's own OpenAPI document in Swagger UI.
func TestBrowserDocs(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	b := browser.Start(t)
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite))

	res := env.Anonymous().Do(http.MethodGet, "/api/v1/openapi.json", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("openapi.json: %d", res.Status)
	}
	var spec struct {
		Info  struct{ Title string }
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(res.Raw, &spec); err != nil {
		t.Fatal(err)
	}
	const login = "/api/v1/auth/login"
	if spec.Paths[login] == nil {
		t.Fatalf("the spec has no %s", login)
	}
	operations := 0
	for _, item := range spec.Paths {
		for method := range item {
			if slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, method) {
				operations++
			}
		}
	}

	b.Navigate(env.URL + "/docs/")
	// Swagger UI renders long lists virtually (what is near the viewport):
	// scroll down on each poll until the login operation is rendered.
	b.WaitFor("the login operation rendered", `(window.scrollBy(0, 1500), [...document.querySelectorAll('.opblock-summary-path')]
		.some(e => e.textContent.trim() === `+string(mustJSON(t, login))+`))`)
	b.WaitFor("the spec's title rendered", `document.querySelector('.info .title').textContent.includes(`+string(mustJSON(t, spec.Info.Title))+`)`)
	// Every operation of the document is listed under its tag (the page
	// renders the ones near the viewport, so count what it lists).
	if n := string(b.Eval(`window.ui.specSelectors.taggedOperations().reduce((n, t) => n + t.get('operations').size, 0)`)); n != string(mustJSON(t, operations)) {
		t.Errorf("%s operations listed, the spec has %d", n, operations)
	}
	if !slices.ContainsFunc(b.Requests(), func(r browser.Request) bool { return r.URL == env.URL+"/api/v1/openapi.json" }) {
		t.Error("the page did not fetch /api/v1/openapi.json")
	}
	b.CheckClean(env.URL)
}

func header(r browser.Request, name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
