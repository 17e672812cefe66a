// Package apitest runs a real Seliq server over httptest on a test database
// and talks to it the way clients do: REST with JSON bodies and GraphQL over
// HTTP POST.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// AdminEmail and AdminPassword are the bootstrap admin of every test server.
const (
	AdminEmail    = "admin@provider.test"
	AdminPassword = "correct-horse-battery"
)

// Env is a running server with its database.
type Env struct {
	T   testing.TB
	DB  *storage.DB
	URL string
	Srv *server.Server

	mu         sync.Mutex
	violations []violation // REST exchanges the OpenAPI document does not describe
}

// Options tweak the server configuration.
type Options struct {
	LoginLimit int
	BulkLimit  int
	// AllowedOrigins are the extra browser origins allowed to open WebSockets.
	AllowedOrigins []string
	// GraphQLTimeout, when set, replaces the default execution deadline.
	GraphQLTimeout time.Duration
	// WSMaxConnectionsPerUser caps one user's WebSockets and SSE streams
	// (0: the server's default).
	WSMaxConnectionsPerUser int
	// OutboundAllow is SELIQ_OUTBOUND_ALLOW: the ranges every organisation's
	// outbound calls may reach beyond public addresses. Empty, as in
	// production, nothing on loopback is reachable: tests talking to
	// internal/aifake set aifake.Loopback.
	OutboundAllow string
	// Configure, when set, adjusts the configuration last (timeouts,
	// trusted proxies, metrics).
	Configure func(*server.Config)
	// Log, when set, receives the server's log (text format), for tests of
	// what it writes; by default the log is discarded.
	Log io.Writer
}

// Start bootstraps the provider organisation and its admin on db and serves
// the application on a loopback httptest server.
func Start(t testing.TB, db *storage.DB, opts ...Options) *Env {
	t.Helper()
	// Server tests create users and log in all the time; full-cost hashes
	// would dominate their run time. auth's own tests keep the real cost.
	auth.UseCheapHashingInTests()
	// Tests log in often from one address: login limits are set high.
	cfg := server.Config{SessionTTL: time.Hour, LoginLimit: 1000, LoginIPLimit: 1000, BulkLimit: 1000, SecretKey: make([]byte, secrets.KeySize)}
	if _, err := rand.Read(cfg.SecretKey); err != nil {
		t.Fatal(err)
	}
	logOut := io.Discard
	for _, o := range opts {
		if o.Log != nil {
			logOut = o.Log
		}
		if o.LoginLimit > 0 {
			cfg.LoginLimit = o.LoginLimit
		}
		if o.BulkLimit > 0 {
			cfg.BulkLimit = o.BulkLimit
		}
		cfg.AllowedOrigins = o.AllowedOrigins
		cfg.GraphQLTimeout = o.GraphQLTimeout
		cfg.WSMaxConnectionsPerUser = o.WSMaxConnectionsPerUser
		allow, err := outbound.ParseRangeList(o.OutboundAllow)
		if err != nil {
			t.Fatalf("OutboundAllow: %v", err)
		}
		cfg.OutboundAllow = allow
		if o.Configure != nil {
			o.Configure(&cfg)
		}
	}
	if _, err := directory.EnsureBootstrap(context.Background(), db.Client, AdminEmail, AdminPassword); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	srv, err := server.New(cfg, db, log)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("start jobs: %v", err)
	}
	// The server's own timeouts, as cmd/seliq applies them.
	hs := httptest.NewUnstartedServer(srv.Handler)
	cfg.Timeouts.Apply(hs.Config)
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	env := &Env{T: t, DB: db, URL: hs.URL, Srv: srv}
	t.Cleanup(env.reportViolations)
	return env
}

// Client is a caller with optional credentials.
type Client struct {
	env *Env
	// Authorization is sent verbatim when set ("Bearer ...", "Token ...").
	Authorization string
	// Org is sent as X-Seliq-Org when set.
	Org string
	// APIKey is sent as X-API-Key when set (a connector).
	APIKey string
	// ForwardedFor is sent as X-Forwarded-For when set: the client address
	// the server sees if it trusts loopback as a proxy (Options.Configure).
	ForwardedFor string
}

// Connector returns a client authenticating with a connector key.
func (e *Env) Connector(key string) *Client { return &Client{env: e, APIKey: key} }

// Anonymous returns a client without credentials.
func (e *Env) Anonymous() *Client { return &Client{env: e} }

// Login logs in over REST and returns a client with the bearer token.
func (e *Env) Login(email, password string) *Client {
	e.T.Helper()
	c := e.Anonymous()
	res := c.Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": email, "password": password})
	if res.Status != http.StatusOK {
		e.T.Fatalf("login %s: status %d: %s", email, res.Status, res.Raw)
	}
	c.Authorization = "Bearer " + res.String("access_token")
	return c
}

// Admin logs in as the bootstrap admin of the provider organisation.
func (e *Env) Admin() *Client { return e.Login(AdminEmail, AdminPassword) }

// As returns a copy of c acting in organisation org (id or slug).
func (c *Client) As(org string) *Client {
	cp := *c
	cp.Org = org
	return &cp
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// String returns a top-level string field of the body.
func (r *Response) String(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// Items returns the items of a list response.
func (r *Response) Items() []map[string]any {
	raw, _ := r.Body["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Do sends a REST request; body is JSON-encoded unless it is a string or
// []byte, which are sent as they are.
func (c *Client) Do(method, path string, body any) *Response {
	c.env.T.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.env.T.Fatalf("encode body: %v", err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.env.URL+path, rd)
	if err != nil {
		c.env.T.Fatalf("request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, raw)
}

// DoRaw sends body as it is with the given Content-Type (a file upload).
func (c *Client) DoRaw(method, path, contentType string, body []byte) *Response {
	c.env.T.Helper()
	req, err := http.NewRequest(method, c.env.URL+path, bytes.NewReader(body))
	if err != nil {
		c.env.T.Fatalf("request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	return c.send(req, body)
}

// send makes the request, whose body is reqBody, and checks the exchange
// against the OpenAPI document.
func (c *Client) send(req *http.Request, reqBody []byte) *Response {
	c.env.T.Helper()
	if c.Authorization != "" {
		req.Header.Set("Authorization", c.Authorization)
	}
	if c.Org != "" {
		req.Header.Set("X-Seliq-Org", c.Org)
	}
	if c.APIKey != "" {
		req.Header.Set("X-API-Key", c.APIKey)
	}
	if c.ForwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.ForwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.env.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	c.checkContract(req, reqBody, resp, raw)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &r.Body)
	}
	return r
}

// GraphQLResult is a decoded GraphQL response.
type GraphQLResult struct {
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	}
}

// Code returns the extensions.code of the first error, or "".
func (g *GraphQLResult) Code() string {
	if len(g.Errors) == 0 {
		return ""
	}
	s, _ := g.Errors[0].Extensions["code"].(string)
	return s
}

// GraphQL posts an operation to /graphql, accepting
// application/graphql-response+json.
func (c *Client) GraphQL(query string, vars map[string]any) *GraphQLResult {
	c.env.T.Helper()
	buf, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.env.URL+"/graphql", bytes.NewReader(buf))
	req.Header.Set("Content-Type", "application/json")
	// As current GraphQL clients do: request errors are then 400.
	req.Header.Set("Accept", "application/graphql-response+json, application/json;q=0.9")
	res := c.send(req, buf)
	out := &GraphQLResult{Status: res.Status}
	if err := json.Unmarshal(res.Raw, out); err != nil {
		c.env.T.Fatalf("graphql response %d: %v: %s", res.Status, err, res.Raw)
	}
	return out
}
