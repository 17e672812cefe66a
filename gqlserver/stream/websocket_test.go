package stream_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// These tests speak both GraphQL-over-WebSocket subprotocols gqlgen supports
// to a real server (internal/apitest), through our gorilla adapter. There are
// no subscription fields yet, but both protocols carry queries too.

const meQuery = `{ me { email } }`

// readLimit is gqlgen's default Websocket.PayloadReadLimit (1 MiB), which
// gqlserver.NewServer keeps; the adapter enforces it through gorilla's SetReadLimit.
const readLimit = 1 << 20

// protocol names the message types of one subprotocol.
type protocol struct {
	name      string // Sec-WebSocket-Protocol
	start     string // client → server: run an operation
	result    string // server → client: one execution result
	keepAlive string // server → client keep-alive to skip, if any
}

var protocols = []protocol{
	// https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
	{name: "graphql-transport-ws", start: "subscribe", result: "next"},
	// Apollo's legacy subscriptions-transport-ws.
	{name: "graphql-ws", start: "start", result: "data", keepAlive: "ka"},
}

type message struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// result is an execution result of queries selecting `email` on the user.
type result struct {
	Data   map[string]*struct{ Email string } `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// client is a minimal GraphQL WebSocket client over gorilla/websocket.
type client struct {
	t     testing.TB
	proto protocol
	conn  *websocket.Conn
	wmu   sync.Mutex // gorilla allows one concurrent writer
}

func wsURL(env *apitest.Env) string {
	return "ws" + strings.TrimPrefix(env.URL, "http") + "/graphql"
}

// dial opens a connection offering proto; header carries Authorization,
// Origin and the like. On a refused handshake the HTTP response is returned.
func dial(t testing.TB, env *apitest.Env, proto protocol, header http.Header) (*client, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto.name}, HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.Dial(wsURL(env), header)
	if resp != nil && resp.Body != nil {
		// The body of a refused handshake is read by the caller if needed;
		// gorilla leaves it open.
		t.Cleanup(func() { resp.Body.Close() })
	}
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.Close() })
	if got := conn.Subprotocol(); got != proto.name {
		t.Fatalf("negotiated subprotocol %q, want %q", got, proto.name)
	}
	return &client{t: t, proto: proto, conn: conn}, resp, nil
}

func mustDial(t testing.TB, env *apitest.Env, proto protocol, authorization string) *client {
	t.Helper()
	h := http.Header{}
	if authorization != "" {
		h.Set("Authorization", authorization)
	}
	c, resp, err := dial(t, env, proto, h)
	if err != nil {
		t.Fatalf("dial %s: %v (%s)", proto.name, err, status(resp))
	}
	return c
}

func status(resp *http.Response) string {
	if resp == nil {
		return "no response"
	}
	return resp.Status
}

func (c *client) send(typ, id string, payload any) error {
	m := message{Type: typ, ID: id}
	if payload != nil {
		raw, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		m.Payload = raw
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteJSON(m)
}

func (c *client) mustSend(typ, id string, payload any) {
	c.t.Helper()
	if err := c.send(typ, id, payload); err != nil {
		c.t.Fatalf("send %s %s: %v", typ, id, err)
	}
}

// read returns the next message, skipping keep-alives and answering the
// server's graphql-transport-ws pings.
func (c *client) read() (message, error) {
	for {
		if err := c.conn.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
			return message{}, err
		}
		_, raw, err := c.conn.ReadMessage()
		if err != nil {
			return message{}, err
		}
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			return message{}, fmt.Errorf("undecodable frame %q: %w", raw, err)
		}
		switch {
		case c.proto.keepAlive != "" && m.Type == c.proto.keepAlive:
			continue
		case c.proto.name == "graphql-transport-ws" && m.Type == "ping":
			if err := c.send("pong", "", nil); err != nil {
				return message{}, err
			}
			continue
		}
		return m, nil
	}
}

// expect reads the next message and fails unless it has type typ and id.
func (c *client) expect(typ, id string) message {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("waiting for %s %q: %v", typ, id, err)
	}
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("got %s %q %s, want %s %q", m.Type, m.ID, m.Payload, typ, id)
	}
	return m
}

// expectSkipping is expect, skipping one message of type skipType and id skipID
// if it comes first.
func (c *client) expectSkipping(typ, id, skipType, skipID string) message {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("waiting for %s %q: %v", typ, id, err)
	}
	if m.Type == skipType && m.ID == skipID {
		return c.expect(typ, id)
	}
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("got %s %q %s, want %s %q", m.Type, m.ID, m.Payload, typ, id)
	}
	return m
}

// init sends connection_init and waits for connection_ack.
func (c *client) init() {
	c.t.Helper()
	c.mustSend("connection_init", "", map[string]any{})
	c.expect("connection_ack", "")
}

// expectRefusal reads until the server closes the connection and fails
// unless the close code is one of codes (the legacy protocol sends a
// connection_error first). No operation may start on a refused connection.
func (c *client) expectRefusal(codes ...int) {
	c.t.Helper()
	for {
		m, err := c.read()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			for _, code := range codes {
				if ce.Code == code {
					return
				}
			}
			c.t.Fatalf("closed with %d %q, want one of %v", ce.Code, ce.Text, codes)
		}
		if err != nil {
			c.t.Fatalf("waiting for the close: %v", err)
		}
		if m.Type != "connection_error" {
			c.t.Fatalf("got %s %s before the close, want a refusal", m.Type, m.Payload)
		}
	}
}

func operation(query string) map[string]any { return map[string]any{"query": query} }

// query runs one operation and returns its single result, checking that
// complete follows it.
func (c *client) query(id, query string) result {
	c.t.Helper()
	c.mustSend(c.proto.start, id, operation(query))
	m := c.expect(c.proto.result, id)
	var r result
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		c.t.Fatalf("result %s: %v", m.Payload, err)
	}
	c.expect("complete", id)
	return r
}

func mustBeAdmin(t testing.TB, r result, field string) {
	t.Helper()
	if len(r.Errors) > 0 || r.Data[field] == nil || r.Data[field].Email != apitest.AdminEmail {
		t.Fatalf("%s: got %+v, want email %s", field, r, apitest.AdminEmail)
	}
}

func TestWebsocketProtocols(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		token := env.Admin().Authorization
		for _, p := range protocols {
			t.Run(p.name, func(t *testing.T) {
				t.Run("authenticated", func(t *testing.T) {
					c := mustDial(t, env, p, token)
					c.init()
					mustBeAdmin(t, c.query("1", meQuery), "me")
					// The connection stays usable for further operations.
					mustBeAdmin(t, c.query("2", `query Again { me { email } }`), "me")
				})
				t.Run("anonymous is refused at connection_init", func(t *testing.T) {
					c := mustDial(t, env, p, "")
					c.mustSend("connection_init", "", map[string]any{})
					c.expectRefusal(4401)
				})
				t.Run("token in connection_init's payload", func(t *testing.T) {
					c := mustDial(t, env, p, "")
					c.mustSend("connection_init", "", map[string]any{"Authorization": token})
					c.expect("connection_ack", "")
					mustBeAdmin(t, c.query("1", meQuery), "me")
				})
				t.Run("bad token in the payload", func(t *testing.T) {
					c := mustDial(t, env, p, "")
					c.mustSend("connection_init", "", map[string]any{"Authorization": "Bearer not-a-token"})
					c.expectRefusal(4401)
				})
				t.Run("organisation out of reach", func(t *testing.T) {
					c := mustDial(t, env, p, "")
					c.mustSend("connection_init", "", map[string]any{"Authorization": token, "X-Seliq-Org": "no-such-org"})
					c.expectRefusal(4403)
				})
				t.Run("bad token refused at upgrade", func(t *testing.T) {
					_, resp, err := dial(t, env, p, http.Header{"Authorization": {"Bearer not-a-token"}})
					if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
						t.Fatalf("dial with a bad token: %v (%s), want 401", err, status(resp))
					}
				})
				t.Run("invalid query", func(t *testing.T) {
					c := mustDial(t, env, p, token)
					c.init()
					// Operations that fail validation get an error message, not a
					// result.
					c.mustSend(p.start, "1", operation(`{ me { nope } }`))
					m := c.expect("error", "1")
					var errs []struct{ Extensions map[string]any }
					if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 || errs[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
						t.Fatalf("error payload %s, want GRAPHQL_VALIDATION_FAILED", m.Payload)
					}
					// gqlgen follows the error with complete, although in
					// graphql-transport-ws an error already ends the operation;
					// tolerate it. Either way the connection stays usable.
					c.mustSend(p.start, "2", operation(meQuery))
					m = c.expectSkipping(p.result, "2", "complete", "1")
					var r result
					if err := json.Unmarshal(m.Payload, &r); err != nil {
						t.Fatal(err)
					}
					mustBeAdmin(t, r, "me")
					c.expect("complete", "2")
				})
			})
		}
	})
}

// TestWebsocketPing: graphql-transport-ws clients may ping; the server
// answers with pong carrying the same payload.
func TestWebsocketPing(t *testing.T) {
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite))
	c := mustDial(t, env, protocols[0], env.Admin().Authorization)
	c.init()
	c.mustSend("ping", "", map[string]any{"n": 1})
	if m := c.expect("pong", ""); string(m.Payload) != `{"n":1}` {
		t.Fatalf("pong payload %s", m.Payload)
	}
	mustBeAdmin(t, c.query("1", meQuery), "me")
}

func TestWebsocketOrigin(t *testing.T) {
	db := testenv.Open(t, testenv.SQLite)
	plain := apitest.Start(t, db)
	listed := apitest.Start(t, db, apitest.Options{AllowedOrigins: []string{"https://soc.example.test", "http://localhost:3000"}})
	wildcard := apitest.Start(t, db, apitest.Options{AllowedOrigins: []string{"*"}})
	token := plain.Admin().Authorization

	for _, tc := range []struct {
		name   string
		env    *apitest.Env
		origin string // "" sends no Origin header; SELF is the server's host:port, PORT its port
		ok     bool
	}{
		{"no origin header (non-browser client)", plain, "", true},
		{"same host", plain, "http://SELF", true},
		{"same host, https scheme", plain, "https://SELF", true},
		{"other host", plain, "https://evil.example.test", false},
		{"same hostname, other port", plain, "http://127.0.0.1:1", false},
		{"other name for the same server", plain, "http://localhost:PORT", false},
		{"opaque origin", plain, "null", false},
		{"unparsable origin", plain, "http://[::1", false},
		{"listed origin", listed, "https://soc.example.test", true},
		{"listed origin, other case", listed, "HTTPS://SOC.EXAMPLE.TEST", true},
		{"listed origin with port", listed, "http://localhost:3000", true},
		{"unlisted origin", listed, "https://soc.example.test:8443", false},
		{"same host with a list", listed, "http://SELF", true},
		{"wildcard", wildcard, "https://anywhere.example.test", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			self := strings.TrimPrefix(tc.env.URL, "http://")
			origin := strings.NewReplacer("SELF", self, "PORT", self[strings.LastIndexByte(self, ':')+1:]).Replace(tc.origin)
			h := http.Header{"Authorization": {token}}
			if origin != "" {
				h.Set("Origin", origin)
			}
			c, resp, err := dial(t, tc.env, protocols[0], h)
			if !tc.ok {
				if err == nil {
					t.Fatalf("Origin %q was accepted", origin)
				}
				if resp == nil || resp.StatusCode != http.StatusForbidden {
					t.Fatalf("Origin %q: %v (%s), want 403", origin, err, status(resp))
				}
				// One JSON error body (gqlgen's), not gorilla's text followed by it.
				body, _ := io.ReadAll(resp.Body)
				var e struct{ Errors []struct{ Message string } }
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" || json.Unmarshal(body, &e) != nil || len(e.Errors) != 1 {
					t.Errorf("403 body %q (%s), want a JSON error", body, ct)
				}
				return
			}
			if err != nil {
				t.Fatalf("Origin %q refused: %v (%s)", origin, err, status(resp))
			}
			c.init()
			mustBeAdmin(t, c.query("1", meQuery), "me")
		})
	}
}

// message of exactly size bytes running meQuery (padded with blanks).
func paddedMessage(t testing.TB, typ string, size int) []byte {
	t.Helper()
	build := func(pad int) []byte {
		raw, err := json.Marshal(message{Type: typ, ID: "big", Payload: mustJSON(operation(meQuery + strings.Repeat(" ", pad)))})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	raw := build(size - len(build(0)))
	if len(raw) != size {
		t.Fatalf("built %d bytes, want %d", len(raw), size)
	}
	return raw
}

func mustJSON(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}

func TestWebsocketReadLimit(t *testing.T) {
	db := testenv.Open(t, testenv.SQLite)
	token := apitest.Start(t, db).Admin().Authorization
	for _, p := range protocols {
		for _, tc := range []struct {
			name      string
			size      int
			wantClose bool
		}{
			{"at the limit", readLimit, false},
			{"one byte over", readLimit + 1, true},
			{"far over", 4 * readLimit, true},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				env := apitest.Start(t, db) // own metrics
				c := mustDial(t, env, p, token)
				c.init()
				// Written concurrently: the server stops reading once the limit
				// is exceeded, so a large write may block or fail.
				msg := paddedMessage(t, p.start, tc.size)
				wrote := make(chan error, 1)
				go func() {
					c.wmu.Lock()
					defer c.wmu.Unlock()
					wrote <- c.conn.WriteMessage(websocket.TextMessage, msg)
				}()
				if !tc.wantClose {
					if err := <-wrote; err != nil {
						t.Fatalf("write: %v", err)
					}
					m := c.expect(p.result, "big")
					var r result
					if err := json.Unmarshal(m.Payload, &r); err != nil {
						t.Fatal(err)
					}
					mustBeAdmin(t, r, "me")
					c.expect("complete", "big")
					return
				}
				m, err := c.read()
				if err == nil {
					t.Fatalf("got %s %s, want the connection closed", m.Type, m.Payload)
				}
				if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
					t.Fatalf("read: %v, want close 1009 (message too big)", err)
				}
				select {
				case <-wrote: // done or failed: the server hung up
				case <-time.After(10 * time.Second):
					t.Fatal("the write is still blocked after the close")
				}
				waitHandlersReturned(t, env, 1)
			})
		}
	}
}

func TestWebsocketConcurrentOperations(t *testing.T) {
	const n = 20
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite))
	token := env.Admin().Authorization
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := mustDial(t, env, p, token)
			c.init()

			// All operations are sent at once from n goroutines; every one has a
			// distinct alias so a result delivered under the wrong id, or two
			// interleaved frames, cannot pass.
			var wg sync.WaitGroup
			sendErrs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					id := strconv.Itoa(i)
					sendErrs <- c.send(p.start, id, operation(fmt.Sprintf(`query Op%d { op%d: me { email } }`, i, i)))
				})
			}
			wg.Wait()
			close(sendErrs)
			for err := range sendErrs {
				if err != nil {
					t.Fatalf("send: %v", err)
				}
			}

			results := map[string][]result{}
			completed := map[string]bool{}
			for len(completed) < n {
				m, err := c.read()
				if err != nil {
					t.Fatalf("after %d complete: %v", len(completed), err)
				}
				i, err := strconv.Atoi(m.ID)
				if err != nil || i < 0 || i >= n {
					t.Fatalf("message for unknown id: %s %q %s", m.Type, m.ID, m.Payload)
				}
				switch m.Type {
				case p.result:
					if completed[m.ID] {
						t.Fatalf("result for %s after its complete", m.ID)
					}
					var r result
					if err := json.Unmarshal(m.Payload, &r); err != nil {
						t.Fatalf("result %s: %v", m.Payload, err)
					}
					results[m.ID] = append(results[m.ID], r)
				case "complete":
					if completed[m.ID] {
						t.Fatalf("second complete for %s", m.ID)
					}
					completed[m.ID] = true
				default:
					t.Fatalf("unexpected %s %q %s", m.Type, m.ID, m.Payload)
				}
			}
			for i := range n {
				id := strconv.Itoa(i)
				rs := results[id]
				if len(rs) != 1 {
					t.Fatalf("operation %s: %d results, want 1", id, len(rs))
				}
				field := "op" + id
				if len(rs[0].Data) != 1 {
					t.Fatalf("operation %s: data %+v, want only %s", id, rs[0].Data, field)
				}
				mustBeAdmin(t, rs[0], field)
			}
			// Still in sync afterwards.
			mustBeAdmin(t, c.query("after", meQuery), "me")
		})
	}
}

// graphqlHandlerReturns counts the finished GET /graphql requests (WebSocket
// connections whose handler returned) in the server's metrics.
func graphqlHandlerReturns(t testing.TB, env *apitest.Env) int {
	t.Helper()
	res := env.Anonymous().Do(http.MethodGet, "/metrics", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("metrics: %d", res.Status)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(res.Raw)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "seliq_http_requests_total{") ||
			!strings.Contains(line, `method="GET"`) || !strings.Contains(line, `route="/graphql"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		n += int(v)
	}
	return n
}

// waitHandlersReturned waits until n WebSocket handlers have returned.
func waitHandlersReturned(t testing.TB, env *apitest.Env, n int) {
	t.Helper()
	var got int
	if !testenv.Poll(10*time.Second, func() bool {
		got = graphqlHandlerReturns(t, env)
		if got > n {
			t.Fatalf("%d /graphql WebSocket handlers returned, want %d", got, n)
		}
		return got == n
	}) {
		t.Fatalf("%d /graphql WebSocket handlers returned, want %d", got, n)
	}
}

func TestWebsocketClientClose(t *testing.T) {
	env := apitest.Start(t, testenv.Open(t, testenv.SQLite))
	token := env.Admin().Authorization
	type closer struct {
		name  string
		close func(c *client) error
		// The server starts the close handshake: gqlgen closes the TCP
		// connection right after its close frame without waiting for the
		// client's answer, so that answer (sent by gorilla when it reads the
		// close frame) may draw a reset instead of EOF.
		serverInitiated bool
	}
	closeFrame := closer{"close frame", func(c *client) error {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(5*time.Second))
	}, false}
	terminate := closer{"connection_terminate", func(c *client) error {
		return c.send("connection_terminate", "", nil)
	}, true}
	for _, tc := range []struct {
		proto protocol
		closer
	}{
		{protocols[0], closeFrame},
		{protocols[1], closeFrame},
		{protocols[1], terminate}, // graphql-ws's own way to hang up
	} {
		t.Run(tc.proto.name+"/"+tc.name, func(t *testing.T) {
			before := graphqlHandlerReturns(t, env)
			c := mustDial(t, env, tc.proto, token)
			c.init()
			mustBeAdmin(t, c.query("1", meQuery), "me")
			if err := tc.close(c); err != nil {
				t.Fatalf("close: %v", err)
			}
			// The server answers with a normal closure ...
			_, err := c.read()
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("read after close: %v, want close 1000", err)
			}
			// ... then closes the TCP connection (EOF, not a hang) ...
			nc := c.conn.NetConn()
			_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, nc); err != nil && !(tc.serverInitiated && errors.Is(err, syscall.ECONNRESET)) {
				t.Fatalf("after the close handshake: %v, want EOF", err)
			}
			// ... and its handler returns.
			waitHandlersReturned(t, env, before+1)
		})
	}
}
