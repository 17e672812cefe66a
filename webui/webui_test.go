package webui

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
	b := startBrowser(t)

	b.navigate(srv.URL + "/playground/?query=" + url.QueryEscape("{ hello }"))
	b.waitFor("GraphiQL rendered", `!!document.querySelector('.graphiql-container .graphiql-execute-button')`)
	// GraphiQL fetches the schema on load.
	waitUntil(t, "introspection POST", func() bool { _, n := gql.last("__schema"); return n == 1 })
	// The schema from the fake introspection result is usable.
	b.eval(`document.querySelector('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click()`)
	b.waitFor("schema in the doc explorer", `document.querySelector('.graphiql-doc-explorer').textContent.includes('query: Query')`)
	b.waitFor("?query= in the query editor", `document.querySelector('.graphiql-query-editor').textContent.includes('hello')`)

	// The headers editor starts with the Authorization hint; replace it with a
	// token as a user would (via CodeMirror's API) and run the query.
	b.eval(`document.querySelector('.graphiql-editor-tools [data-name="headers"]').click()`)
	const headersEditor = `document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror`
	if v := string(b.eval(headersEditor + `.getValue()`)); !strings.Contains(v, headersHint) {
		t.Errorf("headers editor = %s, want the hint %q", v, headersHint)
	}
	b.eval(headersEditor + `.setValue('{"Authorization": "Bearer test-token"}')`)
	b.eval(`document.querySelector('.graphiql-execute-button').click()`)
	b.waitFor("result shown", `document.querySelector('.graphiql-response').textContent.includes('"world"')`)
	if r, n := gql.last("hello"); n != 1 || r.Auth != "Bearer test-token" {
		t.Errorf("query requests: %d, last %+v; want 1 with Authorization \"Bearer test-token\"", n, r)
	}

	// shouldPersistHeaders: after a reload the token is still in the editor
	// and is sent with the schema introspection too. GraphiQL stores editor
	// content debounced, so wait for it first.
	b.waitFor("headers stored", `(localStorage.getItem('graphiql:headers') || '').includes('test-token')`)
	b.navigate(srv.URL + "/playground/")
	waitUntil(t, "second introspection POST", func() bool { _, n := gql.last("__schema"); return n == 2 })
	if r, _ := gql.last("__schema"); r.Auth != "Bearer test-token" {
		t.Errorf("introspection after reload: Authorization %q, want the persisted token", r.Auth)
	}
	b.waitFor("headers persisted", headersEditor+`.getValue().includes('test-token')`)

	b.checkClean(srv.URL)
}

func TestBrowserAPIDocs(t *testing.T) {
	srv, _ := newTestServer(t)
	b := startBrowser(t)

	b.navigate(srv.URL + "/docs/")
	b.waitFor("operation rendered", `!!document.querySelector('.opblock-summary-path')
		&& document.querySelector('.opblock-summary-path').textContent.includes('/api/v1/widgets')
		&& document.body.textContent.includes('List widgets')`)
	// Expanding the operation renders its responses (more UI under the CSP).
	b.eval(`document.querySelector('.opblock-summary-control').click()`)
	b.waitFor("operation expanded", `document.querySelector('.opblock-body').textContent.includes('The widgets')`)
	b.checkClean(srv.URL)
}

// ---- Minimal DevTools-protocol client --------------------------------------
//
// Chromium's --remote-debugging-pipe speaks CDP as NUL-terminated JSON over
// file descriptors 3 (in) and 4 (out), which needs no WebSocket client and so
// only the standard library. Unlike --dump-dom it lets the test click, wait
// for conditions and observe every network request and console error.

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId,omitempty"`
}

type browser struct {
	t       *testing.T
	w       io.Writer
	session string

	mu       sync.Mutex
	nextID   int
	pending  map[int]chan cdpMsg
	requests []string // every URL the page requested
	problems []string // console errors, exceptions, CSP violations
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not on PATH; install Debian package 'chromium' to run the browser tests")
	}
	toChrome, ourEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromChrome, chromeEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, chromeEnd} // fds 3 and 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	chromeEnd.Close()

	b := &browser{t: t, w: ourEnd, pending: make(map[int]chan cdpMsg)}
	go b.readLoop(fromChrome)
	t.Cleanup(func() {
		// Browser.close lets chromium shut its child processes down; kill
		// only if it does not exit in time.
		b.send("", "Browser.close", nil)
		ourEnd.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("chromium stderr (tail):\n%s", tail(stderr.String(), 3000))
		}
	})

	var target struct{ TargetID string }
	b.decode(b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var attach struct{ SessionID string }
	b.decode(b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &attach)
	b.session = attach.SessionID
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		b.call(b.session, domain+".enable", nil)
	}
	return b
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (b *browser) readLoop(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending { // unblock callers: chromium is gone
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMsg
		if json.Unmarshal(line[:len(line)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch := b.pending[m.ID]; m.ID != 0 && ch != nil {
			delete(b.pending, m.ID)
			ch <- m
		} else {
			b.event(m)
		}
		b.mu.Unlock()
	}
}

// event records what the page did; called with b.mu held.
func (b *browser) event(m cdpMsg) {
	switch m.Method {
	case "Network.requestWillBeSent":
		var p struct{ Request struct{ URL string } }
		json.Unmarshal(m.Params, &p)
		b.requests = append(b.requests, p.Request.URL)
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Source, Text, URL string }
		}
		json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" || strings.Contains(p.Entry.Text, "Content Security Policy") {
			b.problems = append(b.problems, fmt.Sprintf("log %s/%s: %s %s", p.Entry.Source, p.Entry.Level, p.Entry.Text, p.Entry.URL))
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string
			Args []struct {
				Value       any
				Description string
			}
		}
		json.Unmarshal(m.Params, &p)
		if p.Type == "error" {
			b.problems = append(b.problems, fmt.Sprintf("console.error: %v", p.Args))
		}
	case "Runtime.exceptionThrown":
		b.problems = append(b.problems, "exception: "+string(m.Params))
	}
}

func (b *browser) send(session, method string, params any) chan cdpMsg {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMsg, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		close(ch)
	}
	return ch
}

func (b *browser) call(session, method string, params any) json.RawMessage {
	b.t.Helper()
	select {
	case m, ok := <-b.send(session, method, params):
		if !ok {
			b.t.Fatalf("%s: chromium connection closed", method)
		}
		if m.Error != nil {
			b.t.Fatalf("%s: %s", method, m.Error.Message)
		}
		return m.Result
	case <-time.After(30 * time.Second):
		b.t.Fatalf("%s: no answer from chromium", method)
		return nil
	}
}

func (b *browser) decode(raw json.RawMessage, v any) {
	b.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("decoding %s: %v", raw, err)
	}
}

func (b *browser) navigate(u string) {
	b.t.Helper()
	b.call(b.session, "Page.navigate", map[string]any{"url": u})
}

// eval runs a JS expression in the page and returns its JSON value.
func (b *browser) eval(expr string) json.RawMessage {
	b.t.Helper()
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	b.decode(b.call(b.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true}), &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("eval %s: %s %s", expr, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	return res.Result.Value
}

// waitFor polls a JS boolean expression; exceptions count as false since
// the page may still be loading.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	waitUntil(b.t, what, func() bool {
		v := b.eval(`(() => { try { return !!(` + expr + `) } catch (e) { return false } })()`)
		return string(v) == "true"
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkClean asserts that the page only talked to the test server and
// logged no errors (which includes CSP violations).
func (b *browser) checkClean(origin string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		b.t.Error("no network requests recorded")
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") {
			b.t.Errorf("request left the test server: %s", u)
		}
	}
	for _, p := range b.problems {
		b.t.Errorf("browser reported: %s", p)
	}
	b.t.Logf("%d requests, all to the test server", len(b.requests))
}
