package stream_test

// Revocation reaches open connections: a WebSocket or an SSE stream opened
// with a credential is closed on every replica once the credential is
// revoked or its user's standing changes, and every operation on a
// WebSocket runs as the user's current self.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/realtime/live"
	"github.com/seliq/seliq/storage"
)

// revocationBound is how long a revoked connection may stay open. The
// signal crosses replicas by NOTIFY (milliseconds) or, if one is lost, by
// the one-second poll; the figure is logged.
const revocationBound = 2 * time.Second

// replicas starts the server the changes are made on and the one the
// connections are opened on: two replicas on PostgreSQL, one on SQLite.
func replicas(t *testing.T, db *storage.DB, opts ...apitest.Options) (changes, conns *apitest.Env) {
	t.Helper()
	changes = apitest.Start(t, db, opts...)
	if db.Pool == nil {
		return changes, changes
	}
	return changes, apitest.Start(t, testenv.Replica(t, db), opts...)
}

// principal is a user with a session and an API token.
type principal struct {
	id, token, tokenID string
	session            *apitest.Client
}

func newPrincipal(t *testing.T, env *apitest.Env, admin *apitest.Client, role string) principal {
	t.Helper()
	email := fmt.Sprintf("%s-%s@provider.test", role, uuid.NewString()[:8])
	var p principal
	p.session, p.id = env.NewUser(t, admin, email, role)
	tok := p.session.Must(t, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "script"}, http.StatusCreated)
	p.token, p.tokenID = "Token "+tok.String("token"), tok.String("id")
	return p
}

// openSocket dials env with authorization in connection_init and runs one
// subscription on it, as a client watching the queue does.
func openSocket(t *testing.T, env *apitest.Env, p protocol, authorization string) *client {
	t.Helper()
	c := mustDial(t, env, p, "")
	c.mustSend("connection_init", "", map[string]any{"Authorization": authorization})
	c.expect("connection_ack", "")
	c.subscribe("queue", alertSub, nil)
	return c
}

// expectClosed waits until the server closes c with code and returns how
// long that took from since.
func (c *client) expectClosed(code int, since time.Time) time.Duration {
	c.t.Helper()
	if err := c.conn.SetReadDeadline(time.Now().Add(revocationBound)); err != nil {
		c.t.Fatal(err)
	}
	for {
		_, raw, err := c.conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			took := time.Since(since)
			if ce.Code != code {
				c.t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, code)
			}
			return took
		}
		if err != nil {
			c.t.Fatalf("waiting %v for close %d: %v", revocationBound, code, err)
		}
		var m message
		_ = json.Unmarshal(raw, &m)
		if m.Type == "ping" {
			c.mustSend("pong", "", nil)
		}
		// ka, connection_error (legacy) and results are skipped.
	}
}

// expectOpen checks c still answers a query as the user.
func (c *client) expectOpen(id string) {
	c.t.Helper()
	r := c.queryData(id, meQuery)
	if len(r.Errors) > 0 || r.Data["me"] == nil {
		c.t.Fatalf("query on a connection that should be open: %+v", r)
	}
}

// queryData runs a query and returns its result, skipping other frames
// (the completes of earlier queries).
func (c *client) queryData(id, query string) result {
	c.t.Helper()
	c.mustSend(c.proto.start, id, operation(query))
	m := c.mustRead(c.t.(*testing.T))
	for m.Type != c.proto.result || m.ID != id {
		m = c.mustRead(c.t.(*testing.T))
	}
	var r result
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		c.t.Fatalf("result %s: %v", m.Payload, err)
	}
	return r
}

// TestRevocationClosesConnections: every way a credential ends or a user's
// standing changes closes the user's open WebSockets on the other replica
// within a second or so — 4401 when the credential is gone, 4403 when it
// still authenticates but grants less — and leaves the connections it
// should alone.
func TestRevocationClosesConnections(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a, b := replicas(t, db)
		admin := a.Admin()
		cases := []struct {
			name string
			role string
			// change is made on replica a; it returns what the change was
			// made with, for keep checks.
			change func(t *testing.T, p principal)
			// closed and kept: which of the principal's sockets
			// ("session", "token") close with which code, and which stay.
			closed map[string]int
			kept   []string
		}{
			{
				name: "logout", role: "admin",
				change: func(t *testing.T, p principal) {
					p.session.Must(t, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusNoContent)
				},
				closed: map[string]int{"session": stream.CloseUnauthorized}, kept: []string{"token"},
			},
			{
				name: "API token revoked", role: "analyst",
				change: func(t *testing.T, p principal) {
					p.session.Must(t, http.MethodDelete, "/api/v1/users/me/api-tokens/"+p.tokenID, nil, http.StatusNoContent)
				},
				closed: map[string]int{"token": stream.CloseUnauthorized}, kept: []string{"session"},
			},
			{
				name: "deactivated", role: "admin",
				change: func(t *testing.T, p principal) {
					admin.Must(t, http.MethodPatch, "/api/v1/users/"+p.id, map[string]any{"active": false}, http.StatusOK)
				},
				closed: map[string]int{"session": stream.CloseUnauthorized, "token": stream.CloseUnauthorized},
			},
			{
				name: "deleted", role: "analyst",
				change: func(t *testing.T, p principal) {
					admin.Must(t, http.MethodDelete, "/api/v1/users/"+p.id, nil, http.StatusNoContent)
				},
				closed: map[string]int{"session": stream.CloseUnauthorized, "token": stream.CloseUnauthorized},
			},
			{
				name: "admin reset password", role: "analyst",
				change: func(t *testing.T, p principal) {
					admin.Must(t, http.MethodPost, "/api/v1/users/"+p.id+"/reset-password", map[string]any{"password": "another-long-password"}, http.StatusOK)
				},
				closed: map[string]int{"session": stream.CloseUnauthorized, "token": stream.CloseUnauthorized},
			},
			{
				name: "demoted", role: "admin",
				change: func(t *testing.T, p principal) {
					admin.Must(t, http.MethodPatch, "/api/v1/users/"+p.id, map[string]any{"role": "read_only"}, http.StatusOK)
				},
				closed: map[string]int{"session": stream.CloseForbidden, "token": stream.CloseForbidden},
			},
			{
				name: "own password change", role: "analyst",
				change: func(t *testing.T, p principal) {
					// Made with a second session: the one the sockets use
					// is another one, and ends.
					other := a.Login(emailOf(t, p), apitest.UserPassword)
					other.Must(t, http.MethodPatch, "/api/v1/users/me", map[string]any{
						"password": "a-new-long-password", "current_password": apitest.UserPassword}, http.StatusOK)
					if r := other.Do(http.MethodGet, "/api/v1/users/me", nil); r.Status != http.StatusOK {
						t.Errorf("the session that changed the password: %d %s", r.Status, r.Raw)
					}
				},
				closed: map[string]int{"session": stream.CloseUnauthorized, "token": stream.CloseUnauthorized},
			},
		}
		for _, tc := range cases {
			for _, proto := range protocols {
				t.Run(tc.name+"/"+proto.name, func(t *testing.T) {
					p := newPrincipal(t, a, admin, tc.role)
					socks := map[string]*client{
						"session": openSocket(t, b, proto, p.session.Authorization),
						"token":   openSocket(t, b, proto, p.token),
					}
					tc.change(t, p)
					done := time.Now() // committed: the signal is on its way
					for which, code := range tc.closed {
						took := socks[which].expectClosed(code, done)
						t.Logf("%s socket closed with %d %v after the change answered", which, code, took.Round(time.Millisecond))
					}
					for _, which := range tc.kept {
						socks[which].expectOpen("still")
					}
				})
			}
		}
	})
}

func emailOf(t *testing.T, p principal) string {
	t.Helper()
	res := p.session.Do(http.MethodGet, "/api/v1/users/me", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("me: %d %s", res.Status, res.Raw)
	}
	return res.String("email")
}

// TestPasswordChangeKeepsTokensOnRequest: keep_api_tokens keeps the API
// token's socket open across the user's own password change; the session
// the change is made with stays, its socket too.
func TestPasswordChangeKeepsTokensOnRequest(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a, b := replicas(t, db)
		p := newPrincipal(t, a, a.Admin(), "analyst")
		proto := protocols[0]
		mine := openSocket(t, b, proto, p.session.Authorization)
		token := openSocket(t, b, proto, p.token)
		other := a.Login(emailOf(t, p), apitest.UserPassword)
		otherSock := openSocket(t, b, proto, other.Authorization)
		start := time.Now()
		p.session.Must(t, http.MethodPatch, "/api/v1/users/me", map[string]any{
			"password": "a-new-long-password", "current_password": apitest.UserPassword, "keep_api_tokens": true}, http.StatusOK)
		otherSock.expectClosed(stream.CloseUnauthorized, start)
		mine.expectOpen("mine")
		token.expectOpen("token")
		other.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusUnauthorized)
		p.session.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		byToken := a.Anonymous()
		byToken.Authorization = p.token
		byToken.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
	})
}

// TestOperationsRunAsCurrentUser: the reported attack — a socket opened by
// an admin who is then demoted, deactivated or logged out — fails at
// execution even before the signal closes it: here the database is changed
// behind the application's back, so no signal is sent at all.
func TestOperationsRunAsCurrentUser(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		createUser := `mutation { createUser(input: {email: "%s@provider.test", password: "a-long-password-1", role: ADMIN}) { email } }`
		for _, proto := range protocols {
			t.Run(proto.name, func(t *testing.T) {
				p := newPrincipal(t, env, admin, "admin")
				c := openSocket(t, env, proto, p.session.Authorization)
				if r := c.queryData("before", fmt.Sprintf(createUser, "before-"+proto.name)); len(r.Errors) > 0 {
					t.Fatalf("createUser as admin: %+v", r.Errors)
				}
				sys := context.Background()
				if _, err := db.SQL.ExecContext(sys, `UPDATE users SET role = 'read_only' WHERE id = `+placeholder(db), p.id); err != nil {
					t.Fatal(err)
				}
				r := c.queryData("demoted", fmt.Sprintf(createUser, "demoted-"+proto.name))
				if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
					t.Fatalf("createUser by a demoted admin over an open socket: %+v", r)
				}
				if _, err := db.SQL.ExecContext(sys, `UPDATE users SET role = 'admin', active = false WHERE id = `+placeholder(db), p.id); err != nil {
					t.Fatal(err)
				}
				r = c.queryData("deactivated", fmt.Sprintf(createUser, "deactivated-"+proto.name))
				if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
					t.Fatalf("createUser by a deactivated admin over an open socket: %+v", r)
				}
			})
		}
	})
}

func placeholder(db *storage.DB) string {
	if db.Pool != nil {
		return "$1"
	}
	return "?"
}

// TestRevocationEndsServerSentEvents: an SSE stream ends when its
// session does, on the other replica.
func TestRevocationEndsServerSentEvents(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a, b := replicas(t, db)
		p := newPrincipal(t, a, a.Admin(), "analyst")
		lines, cancel := openStream(t, b, p.session.Authorization)
		defer cancel()
		start := time.Now()
		p.session.Must(t, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusNoContent)
		deadline := time.After(revocationBound)
		for {
			select {
			case _, ok := <-lines:
				if !ok {
					t.Logf("stream ended %v after the logout", time.Since(start).Round(time.Millisecond))
					return
				}
			case <-deadline:
				t.Fatalf("the stream is still open %v after the logout", revocationBound)
			}
		}
	})
}

// openStream subscribes over server-sent events and returns its lines.
func openStream(t *testing.T, env *apitest.Env, authorization string) (<-chan string, context.CancelFunc) {
	t.Helper()
	resp, cancel := postStream(t, env, authorization)
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("SSE: %d", resp.StatusCode)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// The stream is registered before the first line (":") is written.
	<-lines
	return lines, cancel
}

func postStream(t *testing.T, env *apitest.Env, authorization string) (*http.Response, context.CancelFunc) {
	t.Helper()
	body, _ := json.Marshal(operation(alertSub))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return resp, cancel
}

// TestConnectionCapPerUser: one user holds at most the configured number
// of WebSockets and SSE streams on a replica; the next is refused with
// 4429 (SSE: 429) and a reason naming the limit, and closing one frees a
// place.
func TestConnectionCapPerUser(t *testing.T) {
	const max = 3
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{WSMaxConnectionsPerUser: max})
		p := newPrincipal(t, env, env.Admin(), "read_only")
		uid := uuid.MustParse(p.id)
		for _, proto := range protocols {
			t.Run(proto.name, func(t *testing.T) {
				// The previous protocol's sockets close with its subtest; the
				// server counts them until it reads the close.
				testenv.Eventually(t, 5*time.Second, "the previous sockets are no longer counted",
					func() bool { return env.Srv.Connections.Count(uid) == 0 })
				var open []*client
				for range max {
					open = append(open, openSocket(t, env, proto, p.token))
				}
				extra := mustDial(t, env, proto, "")
				extra.mustSend("connection_init", "", map[string]any{"Authorization": p.session.Authorization})
				reason := extra.refusalReason(stream.CloseTooManyConnections)
				if !strings.Contains(reason, fmt.Sprintf("at most %d", max)) {
					t.Errorf("close reason %q does not name the limit", reason)
				}
				resp, cancel := postStream(t, env, p.token)
				cancel()
				if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
					t.Errorf("SSE past the cap: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
				}
				resp.Body.Close()
				// Another user is not affected.
				openSocket(t, env, proto, env.Admin().Authorization).expectOpen("other user")
				open[0].conn.Close()
				// The server notices a client's close by reading: poll its count.
				testenv.Eventually(t, 5*time.Second, "closing a connection frees its place",
					func() bool { return env.Srv.Connections.Count(uid) < max })
				freed := openSocket(t, env, proto, p.token)
				freed.expectOpen("freed")
				for _, c := range append(open[1:], freed) {
					c.conn.Close()
				}
				testenv.Eventually(t, 5*time.Second, "closed connections are no longer counted",
					func() bool { return env.Srv.Connections.Count(uid) == 0 })
			})
		}
	})
}

// refusalReason reads until the server closes with code and returns the
// reason (the legacy protocol sends it in a connection_error first).
func (c *client) refusalReason(code int) string {
	c.t.Helper()
	for {
		_, _, err := c.conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != code {
				c.t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, code)
			}
			return ce.Text
		}
		if err != nil {
			c.t.Fatalf("waiting for close %d: %v", code, err)
		}
	}
}

// TestSubscriptionPastTheLimitIsAnError: on both protocols, whichever
// subscription field it is, the subscription past the per-connection limit
// gets an error naming the limit, never a bare complete.
func TestSubscriptionPastTheLimitIsAnError(t *testing.T) {
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite))
	token := env.Admin().Authorization
	fields := map[string]string{
		"alertEvents":       alertSub,
		"incidentEvents":    `subscription { incidentEvents { kind cursor } }`,
		"notificationAdded": `subscription { notificationAdded { cursor } }`,
		"metricsTick":       `subscription { metricsTick { unassignedAlerts } }`,
	}
	want := fmt.Sprintf("at most %d", live.MaxSubscriptionsPerConnection)
	for _, proto := range protocols {
		for name, query := range fields {
			t.Run(proto.name+"/"+name, func(t *testing.T) {
				c := mustDial(t, env, proto, token)
				c.init()
				for i := range live.MaxSubscriptionsPerConnection {
					c.subscribe(fmt.Sprint("s", i), query, nil)
				}
				c.subscribe("extra", query, nil)
				// metricsTick answers at once: skip those results.
				for {
					m := c.mustRead(t)
					if m.Type == "complete" {
						t.Fatalf("%s completed without an error", m.ID)
					}
					if m.Type == "error" || strings.Contains(string(m.Payload), `"errors"`) {
						if !strings.Contains(string(m.Payload), want) || !strings.Contains(string(m.Payload), "RATE_LIMITED") {
							t.Fatalf("refusal %s %s does not name the limit", m.Type, m.Payload)
						}
						return
					}
				}
			})
		}
	}
}
