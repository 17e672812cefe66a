package stream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/realtime/live"
)

// stubSchema is an executable schema without a database: queries and
// mutations answer at once, a subscription sends what ticks carries and
// holds one of the connection's subscription slots while it runs.
type stubSchema struct {
	schema  *ast.Schema
	ticks   chan int
	running atomic.Int32
	// blob, when set, pads each tick's result (set it between ticks).
	blob string
}

func newStubSchema() *stubSchema {
	return &stubSchema{ticks: make(chan int), schema: gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { hello: String }
		type Mutation { bump: Int }
		type Subscription { ticks: Int }`})}
}

func (s *stubSchema) Schema() *ast.Schema { return s.schema }

func (s *stubSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 0, false
}

func (s *stubSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	switch graphql.GetOperationContext(ctx).Operation.Operation {
	case ast.Mutation:
		return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{"bump":1}`)})
	case ast.Subscription:
		release, err := live.AcquireSubscription(ctx)
		if err != nil {
			return graphql.OneShot(graphql.ErrorResponse(ctx, "%s", err.Error()))
		}
		// Counted until the operation's context ends, however it ends.
		s.running.Add(1)
		context.AfterFunc(ctx, func() {
			release()
			s.running.Add(-1)
		})
		return func(ctx context.Context) *graphql.Response {
			select {
			case n := <-s.ticks:
				if s.blob != "" {
					return &graphql.Response{Data: json.RawMessage(fmt.Sprintf(`{"ticks":%d,"blob":%q}`, n, s.blob))}
				}
				return &graphql.Response{Data: json.RawMessage(fmt.Sprintf(`{"ticks":%d}`, n))}
			case <-ctx.Done():
				return nil
			}
		}
	}
	return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{"hello":"world"}`)})
}

// stubServer serves the stub schema over stream.Websocket with short
// timeouts; a connection_init whose payload has "refuse" is refused with
// that close code.
func stubServer(t testing.TB, keepAlive time.Duration) (*stubSchema, string) {
	t.Helper()
	return stubServerSharing(t, keepAlive, nil)
}

// stubServerSharing is stubServer whose transport shares subscriptions by
// shareKey.
func stubServerSharing(t testing.TB, keepAlive time.Duration, shareKey stream.ShareKeyFunc) (*stubSchema, string) {
	t.Helper()
	es := newStubSchema()
	srv := handler.New(es)
	srv.AddTransport(&stream.Websocket{
		ShareKey:    shareKey,
		InitTimeout: 300 * time.Millisecond,
		KeepAlive:   keepAlive,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, error) {
			if code, ok := p["refuse"].(float64); ok {
				return nil, &stream.InitError{Code: int(code), Reason: "refused", Err: errors.New("refused")}
			}
			return live.WithSubscriptionLimit(ctx, 1), nil
		},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return es, "ws" + strings.TrimPrefix(hs.URL, "http")
}

// stubConn is a raw client of one subprotocol.
type stubConn struct {
	t     testing.TB
	proto protocol
	conn  *websocket.Conn
}

func dialStub(t testing.TB, url string, p protocol) *stubConn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{p.name}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &stubConn{t: t, proto: p, conn: conn}
}

func (c *stubConn) raw(frame string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatalf("write %s: %v", frame, err)
	}
}

// next reads one message, keep-alives and pings included.
func (c *stubConn) next() (message, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, raw, err := c.conn.ReadMessage()
	if err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		c.t.Fatalf("frame %q: %v", raw, err)
	}
	return m, nil
}

// expect reads messages, skipping keep-alives, until one of type typ.
func (c *stubConn) expect(typ, id string) message {
	c.t.Helper()
	for {
		m, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s %q: %v", typ, id, err)
		}
		if m.Type == "ka" || m.Type == "ping" {
			continue
		}
		if m.Type != typ || m.ID != id {
			c.t.Fatalf("got %s %q %s, want %s %q", m.Type, m.ID, m.Payload, typ, id)
		}
		return m
	}
}

func (c *stubConn) init() {
	c.t.Helper()
	c.raw(`{"type":"connection_init","payload":{}}`)
	c.expect("connection_ack", "")
}

// expectClose reads until the close and checks its code; messages before
// it may only be connection_error (legacy) or keep-alives.
func (c *stubConn) expectClose(code int) {
	c.t.Helper()
	for {
		m, err := c.next()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != code {
				c.t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, code)
			}
			return
		}
		if err != nil {
			c.t.Fatalf("waiting for close %d: %v", code, err)
		}
		switch m.Type {
		case "connection_error", "ka", "ping":
		default:
			c.t.Fatalf("got %s %q %s before close %d", m.Type, m.ID, m.Payload, code)
		}
	}
}

func (c *stubConn) start(id, query string) {
	c.t.Helper()
	raw, _ := json.Marshal(message{Type: c.proto.start, ID: id, Payload: mustJSON(operation(query))})
	c.raw(string(raw))
}

func (c *stubConn) stop(id string) {
	c.t.Helper()
	typ := "complete"
	if c.proto.name == "graphql-ws" {
		typ = "stop"
	}
	c.raw(fmt.Sprintf(`{"type":%q,"id":%q}`, typ, id))
}

const legacyProtocolError = websocket.CloseProtocolError // the legacy protocol has no codes

func TestWebsocketTransportEdgeCases(t *testing.T) {
	_, url := stubServer(t, time.Minute)
	for _, tc := range []struct {
		name string
		// run drives the connection; it returns the close code expected per
		// protocol, or 0 when the connection must stay usable.
		run                   func(c *stubConn)
		transportWS, legacyWS int
	}{
		{"malformed JSON", func(c *stubConn) { c.init(); c.raw(`{"type":`) }, stream.CloseBadRequest, legacyProtocolError},
		{"not an object", func(c *stubConn) { c.init(); c.raw(`[1,2]`) }, stream.CloseBadRequest, legacyProtocolError},
		{"no type", func(c *stubConn) { c.init(); c.raw(`{"id":"1"}`) }, stream.CloseBadRequest, legacyProtocolError},
		{"unknown message type", func(c *stubConn) { c.init(); c.raw(`{"type":"bogus"}`) }, stream.CloseBadRequest, legacyProtocolError},
		{"server message from the client", func(c *stubConn) { c.init(); c.raw(`{"type":"connection_ack"}`) }, stream.CloseBadRequest, legacyProtocolError},
		{"subscribe without id", func(c *stubConn) { c.init(); c.start("", "{ hello }") }, stream.CloseBadRequest, legacyProtocolError},
		{"subscribe before ack", func(c *stubConn) { c.start("1", "{ hello }") }, stream.CloseUnauthorized, legacyProtocolError},
		{"too many inits", func(c *stubConn) { c.init(); c.raw(`{"type":"connection_init"}`) }, stream.CloseTooManyInitReqs, legacyProtocolError},
		{"bad init payload", func(c *stubConn) { c.raw(`{"type":"connection_init","payload":[1]}`) }, stream.CloseBadRequest, legacyProtocolError},
		{"init refused", func(c *stubConn) { c.raw(`{"type":"connection_init","payload":{"refuse":4403}}`) }, stream.CloseForbidden, stream.CloseForbidden},
		{"init timeout", func(*stubConn) {}, stream.CloseInitTimeout, legacyProtocolError},
		{"duplicate subscriber id", func(c *stubConn) {
			c.init()
			c.start("s", "subscription { ticks }")
			c.start("s", "subscription { ticks }")
			if c.proto.name == "graphql-ws" {
				// The legacy protocol has no code for it: the second start is
				// refused, the first keeps running.
				c.expect("error", "s")
				c.start("q", "{ hello }")
				c.expect("data", "q")
				c.expect("complete", "q")
			}
		}, stream.CloseDuplicateID, 0},
		{"query and mutation", func(c *stubConn) {
			c.init()
			c.start("q", "{ hello }")
			if m := c.expect(c.proto.result, "q"); string(m.Payload) != `{"data":{"hello":"world"}}` {
				c.t.Fatalf("query result %s", m.Payload)
			}
			c.expect("complete", "q")
			c.start("m", "mutation { bump }")
			if m := c.expect(c.proto.result, "m"); string(m.Payload) != `{"data":{"bump":1}}` {
				c.t.Fatalf("mutation result %s", m.Payload)
			}
			c.expect("complete", "m")
		}, 0, 0},
		{"invalid operation payload", func(c *stubConn) {
			c.init()
			c.raw(fmt.Sprintf(`{"type":%q,"id":"x","payload":"not params"}`, c.proto.start))
			// The client's mistake, coded as over HTTP (not INTERNAL).
			m := c.expect("error", "x")
			var errs []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			}
			if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) != 1 ||
				errs[0].Extensions["code"] != "BAD_REQUEST" || !strings.Contains(errs[0].Message, "not a JSON object") {
				c.t.Fatalf("error payload %s", m.Payload)
			}
			c.expect("complete", "x")
		}, 0, 0},
	} {
		for _, p := range protocols {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				c := dialStub(t, url, p)
				tc.run(c)
				want := tc.transportWS
				if p.name == "graphql-ws" {
					want = tc.legacyWS
				}
				if want != 0 {
					c.expectClose(want)
					return
				}
				// Still usable.
				c.start("after", "{ hello }")
				c.expect(p.result, "after")
				c.expect("complete", "after")
			})
		}
	}
}

func TestWebsocketTransportHeartbeat(t *testing.T) {
	const every = 100 * time.Millisecond
	_, url := stubServer(t, every)
	t.Run("client ping gets pong", func(t *testing.T) {
		c := dialStub(t, url, protocols[0])
		c.init()
		c.raw(`{"type":"ping","payload":{"n":1}}`)
		if m := c.expect("pong", ""); string(m.Payload) != `{"n":1}` {
			t.Fatalf("pong payload %s", m.Payload)
		}
	})
	t.Run("server pings, client answers", func(t *testing.T) {
		c := dialStub(t, url, protocols[0])
		c.init()
		deadline := time.Now().Add(6 * every) // past the two intervals a missing pong gets
		pings := 0
		for time.Now().Before(deadline) {
			m, err := c.next()
			if err != nil {
				t.Fatalf("after %d pings: %v", pings, err)
			}
			if m.Type == "ping" {
				pings++
				c.raw(`{"type":"pong"}`)
			}
		}
		if pings < 3 {
			t.Fatalf("%d pings in %v, want one every %v", pings, 6*every, every)
		}
	})
	t.Run("a missing pong ends the connection", func(t *testing.T) {
		c := dialStub(t, url, protocols[0])
		c.init()
		start := time.Now()
		for {
			if _, err := c.next(); err != nil {
				if time.Since(start) > 5*time.Second {
					t.Fatalf("closed after %v", time.Since(start))
				}
				return
			}
		}
	})
	t.Run("legacy keep-alives", func(t *testing.T) {
		c := dialStub(t, url, protocols[1])
		c.raw(`{"type":"connection_init"}`)
		c.expect("connection_ack", "")
		for range 3 { // the one after the ack, then the timer's
			if m, err := c.next(); err != nil || m.Type != "ka" {
				t.Fatalf("got %+v %v, want ka", m, err)
			}
		}
	})
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t testing.TB, n int) {
	t.Helper()
	if !testenv.Poll(10*time.Second, func() bool { return runtime.NumGoroutine() <= n }) {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
	}
}

// waitNoGoroutineIn waits until no goroutine's stack mentions any of funcs.
func waitNoGoroutineIn(t testing.TB, funcs ...string) {
	t.Helper()
	buf := make([]byte, 4<<20)
	var stacks string
	if !testenv.Poll(10*time.Second, func() bool {
		stacks = string(buf[:runtime.Stack(buf, true)])
		return !slices.ContainsFunc(funcs, func(f string) bool { return strings.Contains(stacks, f) })
	}) {
		t.Fatalf("goroutines left in %v:\n%s", funcs, stacks)
	}
}

func TestWebsocketTransportOperationLifecycle(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			es, url := stubServer(t, 50*time.Millisecond)
			t.Run("complete stops the operation and frees its slot", func(t *testing.T) {
				c := dialStub(t, url, p)
				c.init()
				c.start("a", "subscription { ticks }")
				es.ticks <- 1
				c.expect(p.result, "a")
				c.stop("a")
				waitRunning(t, es, 0)
				// The limit is 1: the slot is free again.
				c.start("b", "subscription { ticks }")
				es.ticks <- 2
				if m := c.expect(p.result, "b"); !strings.Contains(string(m.Payload), `"ticks":2`) {
					t.Fatalf("b got %s", m.Payload)
				}
			})
			t.Run("connection close cancels operations, nothing left behind", func(t *testing.T) {
				// The previous connection's operation may still be ending;
				// it would take the tick.
				waitRunning(t, es, 0)
				base := runtime.NumGoroutine()
				c := dialStub(t, url, p)
				c.init()
				c.start("a", "subscription { ticks }")
				es.ticks <- 1
				c.expect(p.result, "a")
				c.conn.Close()
				if !testenv.Poll(5*time.Second, func() bool { return es.running.Load() == 0 }) {
					buf := make([]byte, 1<<20)
					t.Fatalf("the subscription outlived its connection:\n%s", buf[:runtime.Stack(buf, true)])
				}
				waitGoroutines(t, base)
			})
		})
	}
}

// TestWebsocketGoroutinesPerSubscriber: an idle connection with one
// alertEvents subscription costs the server one goroutine, its reader,
// besides what all connections share: the subscriptions have the same
// document and viewer, so one operation goroutine serves them all.
func TestWebsocketGoroutinesPerSubscriber(t *testing.T) {
	const n = 40
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite), apitest.Options{WSMaxConnectionsPerUser: 2 * n}) // one user, both protocols
	token := env.Admin().Authorization
	key := env.Admin().ConnectorKey(t, "EDR")
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			// The server's background jobs start goroutines of their own
			// now and then; sampling for a while and taking the baseline's
			// highest and the loaded count's lowest keeps one of those out
			// of the figure, while a goroutine per subscriber (n of them)
			// still shows.
			settle := func(pick func(int, int) int) int {
				got := -1
				for range 6 {
					time.Sleep(100 * time.Millisecond) // samples the count over time: background jobs come and go
					if g := runtime.NumGoroutine(); got < 0 {
						got = g
					} else {
						got = pick(got, g)
					}
				}
				return got
			}
			before := settle(func(a, b int) int { return max(a, b) })
			clients := make([]*client, n)
			for i := range clients {
				c := mustDial(t, env, p, token)
				c.init()
				c.subscribe("s", alertSub, nil)
				// The server joins a subscription to its group before reading
				// the next message: the query's answer means "s" has joined.
				mustBeAdmin(t, c.query("sync", meQuery), "me")
				clients[i] = c
			}
			awaitSharedLive(t, env, key, token, "")
			// Every subscription is live once it has had an event (after
			// those of awaitSharedLive).
			id := env.Ingest(t, key, "goroutines "+p.name)
			for _, c := range clients {
				for e := c.next("s", latency); !strings.Contains(string(e.Data["alertEvents"]), id); e = c.next("s", latency) {
					if !strings.Contains(string(e.Data["alertEvents"]), "probe") {
						t.Fatalf("event %s", e.Data["alertEvents"])
					}
				}
			}
			// The clients' own reads are done: gorilla runs no goroutine.
			// shared: the group's operation, the REST client's keep-alive
			// connection to ingest, on both ends, and the like; not per
			// subscriber.
			const shared = 8
			delta := settle(func(a, b int) int { return min(a, b) }) - before
			t.Logf("%s: %d more goroutines for %d idle subscribed connections", p.name, delta, n)
			if delta > n+shared {
				t.Fatalf("%d more goroutines for %d idle subscribed connections, want at most 1 each (+%d shared)", delta, n, shared)
			}
			for _, c := range clients {
				c.conn.Close()
			}
			// The server's background jobs come and go; none of the
			// connections' goroutines may stay, nor the group's.
			waitNoGoroutineIn(t, "stream.(*wsConn)", "live.(*pump", "stream.(*Websocket).runGroup", "stream.(*sharedSub)")
		})
	}
}

// awaitSharedLive returns once the shared alertSub operation of the viewer
// (authorization acting in org, "" for home) delivers events, which it
// starts doing after its own goroutine has subscribed to the hub: a probe
// joins the group and alerts titled "probe …" are ingested through key
// until it receives one. Members that joined before receive every later
// event.
func awaitSharedLive(t testing.TB, env *apitest.Env, key, authorization, org string) {
	t.Helper()
	probe := mustDial(t, env, protocols[0], "")
	payload := map[string]any{"Authorization": authorization}
	if org != "" {
		payload["X-Seliq-Org"] = org
	}
	probe.mustSend("connection_init", "", payload)
	probe.expect("connection_ack", "")
	probe.subscribe("probe", alertSub, nil)
	got := make(chan error, 1)
	go func() {
		for {
			m, err := probe.read()
			if err != nil || m.ID == "probe" {
				got <- err
				return
			}
		}
	}()
	n := 0
	testenv.Eventually(t, latency, "the shared subscription delivers", func() bool {
		n++
		env.Ingest(t, key, fmt.Sprint("probe ", n))
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	})
	probe.conn.Close()
}
