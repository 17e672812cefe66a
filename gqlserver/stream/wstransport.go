// Package realtime carries live events to subscribers. This file is the
// GraphQL-over-WebSocket transport, over gorilla/websocket, for both
// subprotocols: graphql-transport-ws (the graphql-ws npm package) and the
// legacy graphql-ws (Apollo's subscriptions-transport-ws).
//
// A connection costs one goroutine, which reads (the HTTP handler returns
// once the connection is upgraded), and one
// goroutine per running operation, which runs the operation's response loop
// and writes its frames; subscriptions that share their execution
// (wsshare.go) cost no goroutine of their own while idle. Keep-alives and pings come from one timer shared by
// every connection (heartbeat), the init timeout and the missing-pong
// timeout are read deadlines, and the end of the connection's context
// closes it through context.AfterFunc: nothing else is parked per
// connection.
package stream

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/realtime/live"
)

// The subprotocols.
const (
	protoTransportWS = "graphql-transport-ws"
	protoLegacyWS    = "graphql-ws"
)

// Close codes of graphql-transport-ws
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
const (
	CloseBadRequest   = 4400
	CloseUnauthorized = 4401
	CloseForbidden    = 4403
	// CloseTryAgainLater (RFC 6455's 1013) refuses a connection for a
	// passing reason, such as the database being unreachable.
	CloseTryAgainLater   = 1013
	CloseInitTimeout     = 4408
	CloseDuplicateID     = 4409
	CloseTooManyInitReqs = 4429
)

// ReadLimit bounds a client message (gqlgen's default); a larger one closes
// the connection with 1009.
const ReadLimit = 1 << 20

// Writes of operation frames time out after writeWait (a peer that has not
// read for so long is gone); heartbeats, written for every connection by
// the one heartbeat goroutine, after beatWait.
const (
	writeWait = 10 * time.Second
	beatWait  = time.Second
)

// InitFunc authenticates a connection at connection_init. The context it
// returns is the connection's: every operation runs in it. A refusal should
// be an *InitError to choose the close code; any other error closes with
// 4403.
type InitFunc func(ctx context.Context, payload transport.InitPayload) (context.Context, error)

// InitError refuses a connection_init.
type InitError struct {
	Code   int    // close code, e.g. CloseUnauthorized
	Reason string // close reason, for the client
	Err    error
}

func (e *InitError) Error() string { return e.Err.Error() }
func (e *InitError) Unwrap() error { return e.Err }

// Websocket is the gqlgen transport for WebSocket upgrades.
type Websocket struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) allowed
	// to connect besides the server's own; "*" allows any. Requests without
	// an Origin header (non-browser clients) are always allowed.
	AllowedOrigins []string
	InitFunc       InitFunc
	// InitTimeout bounds the wait for connection_init.
	InitTimeout time.Duration
	// KeepAlive is the interval of the legacy protocol's "ka" and of
	// graphql-transport-ws's pings; a client that does not answer a ping
	// with a pong within two intervals is disconnected.
	KeepAlive time.Duration
	// ShareKey, when set, lets subscriptions with the same key share one
	// execution per event (see wsshare.go); nil shares nothing.
	ShareKey ShareKeyFunc
	// Conns, when set, registers each connection whose InitFunc recorded a
	// Principal: it caps connections per user and closes them when their
	// principal changes.
	Conns *Conns

	once     sync.Once
	upgrader websocket.Upgrader
	beats    heartbeat
	shares   shares
}

var _ graphql.Transport = (*Websocket)(nil)

// Supports reports whether r asks for an upgrade.
func (t *Websocket) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// writeBufferPool lends gorilla its write buffer for the time of a write:
// most subscribers are idle most of the time.
var writeBufferPool = &sync.Pool{}

func (t *Websocket) setup() {
	t.upgrader = websocket.Upgrader{
		Subprotocols: []string{protoLegacyWS, protoTransportWS},
		CheckOrigin:  t.checkOrigin,
		// 0: read through the bufio.Reader net/http allocated for the
		// request instead of a second buffer.
		ReadBufferSize:  0,
		WriteBufferSize: 4096,
		WriteBufferPool: writeBufferPool,
		// One JSON error body, as the other transports answer.
		Error: func(w http.ResponseWriter, _ *http.Request, status int, _ error) {
			w.Header().Set("Sec-Websocket-Version", "13")
			w.Header().Set("Content-Type", "application/json")
			transport.SendErrorf(w, status, "unable to upgrade")
		},
	}
	t.beats.every = t.KeepAlive
}

func (t *Websocket) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(t.AllowedOrigins, "*") {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return slices.ContainsFunc(t.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) })
}

// Do serves one connection until it ends.
func (t *Websocket) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.once.Do(t.setup)
	ws, err := t.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(ReadLimit)
	c := &wsConn{
		t:       t,
		ws:      ws,
		legacy:  ws.Subprotocol() != protoTransportWS, // none offered: legacy, as gqlgen
		exec:    exec,
		ctx:     context.WithValue(context.WithoutCancel(r.Context()), upgradeHeaderKey{}, r.Header),
		headers: r.Header,
		ops:     map[string]*wsOp{},
	}
	if t.InitTimeout > 0 {
		_ = ws.SetReadDeadline(time.Now().Add(t.InitTimeout))
	}
	// The connection outlives this request: it is read on a goroutine of
	// its own and the handler returns, so the reader's stack, kept as long
	// as the connection, holds the read loop alone and not the router and
	// middleware frames the upgrade came through (with today's middleware
	// that is 8 KiB per idle connection instead of 16).
	go c.serveAlone()
}

// serveAlone serves the connection off the HTTP handler: a panic there
// (onOwnStack raises init's and start's again) is logged and ends this
// connection only, as net/http's recovery did before.
func (c *wsConn) serveAlone() {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("realtime: panic serving a WebSocket", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	c.serve()
}

// wsConn is one connection.
type wsConn struct {
	t       *Websocket
	ws      *websocket.Conn
	legacy  bool
	exec    graphql.GraphExecutor
	headers http.Header

	// Owned by the reading goroutine.
	ctx    context.Context
	acked  bool
	inited bool

	// wmu serialises frames: gorilla allows one writer at a time.
	wmu sync.Mutex

	mu         sync.Mutex
	ops        map[string]*wsOp
	closed     bool
	unwatch    func() bool // stops watching ctx
	unregister func()      // leaves t.Conns

	gotPong atomic.Bool

	// Guarded by t.beats.mu.
	beat *list.Element
	due  time.Time
}

// wsOp is one running operation.
type wsOp struct{ cancel context.CancelFunc }

func (c *wsConn) serve() {
	defer c.close(0, "")
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			if !c.acked && errors.As(err, &ne) && ne.Timeout() {
				c.protocolError(CloseInitTimeout, "Connection initialisation timeout")
			}
			// Otherwise the peer closed (gorilla has answered its close
			// frame), sent too much (gorilla has closed with 1009), missed
			// its pongs, or the connection broke.
			return
		}
		if !c.handle(data) {
			return
		}
	}
}

// handle acts on one client message; false ends the connection.
func (c *wsConn) handle(data []byte) bool {
	start := graphql.Now()
	m, err := decodeMessage(data)
	if err != nil {
		c.protocolError(CloseBadRequest, "Invalid message received")
		return false
	}
	switch {
	case m.Type == "connection_init":
		if c.inited {
			c.protocolError(CloseTooManyInitReqs, "Too many initialisation requests")
			return false
		}
		c.inited = true
		return onOwnStack(func() bool { return c.init(m.Payload) })
	case m.Type == "subscribe" && !c.legacy, m.Type == "start" && c.legacy:
		if !c.acked {
			if c.legacy {
				c.protocolError(0, "unexpected message "+m.Type)
			} else {
				c.close(CloseUnauthorized, "Unauthorized")
			}
			return false
		}
		if m.ID == "" {
			c.protocolError(CloseBadRequest, "Invalid message received")
			return false
		}
		return onOwnStack(func() bool { return c.start(start, m) })
	case m.Type == "complete" && !c.legacy, m.Type == "stop" && c.legacy:
		c.mu.Lock()
		op := c.ops[m.ID]
		delete(c.ops, m.ID) // stopped by the client: no complete follows
		c.mu.Unlock()
		if op != nil {
			op.cancel()
		}
	case m.Type == "ping" && !c.legacy:
		payload := []byte(m.Payload)
		c.write(m.ID, "pong", payload, writeWait)
	case m.Type == "pong" && !c.legacy:
		c.gotPong.Store(true)
		_ = c.ws.SetReadDeadline(time.Time{})
	case m.Type == "connection_terminate" && c.legacy:
		c.close(websocket.CloseNormalClosure, "terminated")
		return false
	default:
		c.protocolError(CloseBadRequest, fmt.Sprintf("Invalid message type %q", m.Type))
		return false
	}
	return true
}

// onOwnStack runs fn on a short-lived goroutine and waits for it. The
// reader's stack lives as long as the connection, and the runtime shrinks
// a stack only when most of it is unused: authenticating (the SQL driver)
// and preparing an operation (the GraphQL parser and validator) need a
// deep one, which every idle connection would otherwise keep. A panic in
// fn is raised again on the reader, where net/http recovers it.
func onOwnStack(fn func() bool) bool {
	var (
		ok    bool
		fault any
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		defer func() { fault = recover() }()
		ok = fn()
	}()
	<-done
	if fault != nil {
		panic(fault)
	}
	return ok
}

// protocolError ends the connection for a client's mistake: with code on
// graphql-transport-ws; on the legacy protocol, which has no codes, with a
// connection_error then 1002, as gqlgen does.
func (c *wsConn) protocolError(code int, reason string) {
	if c.legacy {
		c.connectionError(reason)
		c.close(websocket.CloseProtocolError, reason)
		return
	}
	c.close(code, reason)
}

func (c *wsConn) connectionError(msg string) {
	raw, _ := json.Marshal(&gqlerror.Error{Message: msg})
	c.write("", "connection_error", raw, writeWait)
}

// init runs the InitFunc, then acknowledges and starts the heartbeat.
func (c *wsConn) init(raw json.RawMessage) bool {
	var payload transport.InitPayload
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &payload); err != nil {
			c.protocolError(CloseBadRequest, "Invalid connection_init payload")
			return false
		}
	}
	if c.t.InitFunc != nil {
		ctx, err := c.t.InitFunc(c.ctx, payload)
		if err != nil {
			ie := &InitError{Code: CloseForbidden, Reason: "Forbidden", Err: err}
			errors.As(err, &ie)
			if c.legacy {
				c.connectionError(err.Error())
			}
			c.close(ie.Code, ie.Reason)
			return false
		}
		c.ctx = ctx
	}
	if !c.register() {
		return false
	}
	c.acked = true
	if c.legacy {
		c.write("", "connection_ack", nil, writeWait)
		c.write("", "ka", nil, writeWait)
		_ = c.ws.SetReadDeadline(time.Time{})
	} else {
		c.write("", "connection_ack", nil, writeWait)
		// Until the first pong, as gqlgen: the client has two intervals.
		_ = c.ws.SetReadDeadline(c.pongDeadline())
	}
	c.mu.Lock()
	c.unwatch = context.AfterFunc(c.ctx, func() { c.close(websocket.CloseNormalClosure, "terminated") })
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return false
	}
	if c.t.KeepAlive > 0 {
		c.t.beats.add(c)
	}
	return true
}

// register enters the connection in t.Conns under its principal; one past
// the user's cap is refused with CloseTooManyConnections.
func (c *wsConn) register() bool {
	p, ok := PrincipalFrom(c.ctx)
	if c.t.Conns == nil || !ok {
		return true
	}
	remove, err := c.t.Conns.Add(p, c.close)
	if err != nil {
		msg := err.Error()
		if e, ok := apperr.As(err); ok {
			msg = e.Message
		}
		if c.legacy {
			c.connectionError(msg)
		}
		c.close(CloseTooManyConnections, msg)
		return false
	}
	c.mu.Lock()
	closed := c.closed
	if !closed {
		c.unregister = remove
	}
	c.mu.Unlock()
	if closed {
		remove()
	}
	return !closed
}

type upgradeHeaderKey struct{}

// UpgradeHeader returns the headers of a WebSocket's upgrade request, for
// an InitFunc to fall back on when connection_init carries no credentials.
func UpgradeHeader(ctx context.Context) http.Header {
	h, _ := ctx.Value(upgradeHeaderKey{}).(http.Header)
	return h
}

func (c *wsConn) pongDeadline() time.Time {
	if c.t.KeepAlive <= 0 {
		return time.Time{}
	}
	return time.Now().Add(2 * c.t.KeepAlive)
}

// heartbeat runs on the heartbeat goroutine. A connection busy writing is
// skipped: its frames show it alive, and waiting would hold up the others.
func (c *wsConn) heartbeat() {
	if !c.wmu.TryLock() {
		return
	}
	typ := "ping"
	if c.legacy {
		typ = "ka"
	}
	err := c.writeLocked(appendFrame(nil, "", typ, nil), beatWait)
	c.wmu.Unlock()
	if err != nil {
		c.close(0, "")
		return
	}
	if !c.legacy && c.gotPong.Swap(false) {
		_ = c.ws.SetReadDeadline(c.pongDeadline())
	}
}

// start begins an operation, as gqlgen's transport does, so that every
// extension, complexity limit and error presenter applies.
func (c *wsConn) start(start time.Time, m wireMessage) bool {
	c.mu.Lock()
	_, dup := c.ops[m.ID]
	c.mu.Unlock()
	if dup {
		if c.legacy {
			c.sendErrors(m.ID, &gqlerror.Error{Message: fmt.Sprintf("operation %s is already running", m.ID)})
			return true
		}
		c.close(CloseDuplicateID, truncateReason("Subscriber for "+m.ID+" already exists"))
		return false
	}

	ctx := graphql.StartOperationTrace(c.ctx)
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		// The client's mistake, coded as the HTTP transports code it.
		c.sendErrors(m.ID, &gqlerror.Error{
			Message:    `the operation payload is not a JSON object such as {"query": "..."}`,
			Extensions: map[string]any{"code": string(apperr.BadRequest)},
		})
		c.complete(m.ID)
		return true
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	params.Headers = c.headers

	rc, err := c.exec.CreateOperationContext(ctx, params)
	if err != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), err)
		if errcode.GetErrorKind(err) == errcode.KindProtocol {
			c.sendErrors(m.ID, resp.Errors...)
		} else {
			c.sendResponse(m.ID, &graphql.Response{Errors: err})
		}
		c.complete(m.ID)
		return true
	}

	if c.t.ShareKey != nil {
		if key, ok := c.t.ShareKey(c.ctx, rc); ok {
			// A connection out of slots runs the operation on its own, so
			// that the resolver refuses it as usual.
			if release, err := live.AcquireSubscription(c.ctx); err == nil {
				return c.join(ctx, key, rc, m.ID, release)
			}
		}
	}

	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	op := &wsOp{cancel: cancel}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cancel()
		return false
	}
	c.ops[m.ID] = op
	c.mu.Unlock()
	go c.run(ctx, op, m.ID, rc)
	return true
}

// recoveredError is the GraphQL error for a panic r in an operation, as
// the operation's recover function makes it.
func recoveredError(ctx context.Context, rc *graphql.OperationContext, r any) *gqlerror.Error {
	err := rc.Recover(ctx, r)
	var gqlerr *gqlerror.Error
	if !errors.As(err, &gqlerr) {
		gqlerr = &gqlerror.Error{}
		if err != nil {
			gqlerr.Message = err.Error()
		}
	}
	return gqlerr
}

// run is an operation's goroutine: it runs the response loop and writes.
func (c *wsConn) run(ctx context.Context, op *wsOp, id string, rc *graphql.OperationContext) {
	defer func() {
		if r := recover(); r != nil {
			c.sendErrors(id, recoveredError(ctx, rc, r))
		}
		c.mu.Lock()
		mine := c.ops[id] == op // not stopped by the client, nor closed
		if mine {
			delete(c.ops, id)
		}
		c.mu.Unlock()
		if mine {
			c.complete(id)
		}
		op.cancel()
	}()
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	for {
		r := responses(ctx)
		if r == nil {
			return
		}
		c.sendResponse(id, r)
	}
}

func (c *wsConn) sendResponse(id string, r *graphql.Response) {
	buf := getFrame()
	defer putFrame(buf)
	b, err := appendResponse(c.appendResultHead(*buf, id), r)
	if err != nil {
		panic(fmt.Errorf("unable to marshal %s: %w", r.Data, err)) // as gqlgen; recovered by run
	}
	*buf = append(b, '}')
	c.send(*buf, writeWait)
}

// sendPayload sends a result frame around an encoded response: a group's,
// which every subscriber's frame shares.
func (c *wsConn) sendPayload(id string, payload []byte) {
	buf := getFrame()
	defer putFrame(buf)
	b := append(c.appendResultHead(*buf, id), payload...)
	*buf = append(b, '}')
	c.send(*buf, writeWait)
}

// appendResultHead appends a result frame up to its payload.
func (c *wsConn) appendResultHead(b []byte, id string) []byte {
	typ := "next"
	if c.legacy {
		typ = "data"
	}
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	return append(b, `","payload":`...)
}

func (c *wsConn) sendErrors(id string, errs ...*gqlerror.Error) {
	raw, err := json.Marshal(errs)
	if err != nil {
		panic(err)
	}
	c.write(id, "error", raw, writeWait)
}

func (c *wsConn) complete(id string) { c.write(id, "complete", nil, writeWait) }

// write sends one frame.
func (c *wsConn) write(id, typ string, payload []byte, wait time.Duration) {
	buf := getFrame()
	defer putFrame(buf)
	*buf = appendFrame(*buf, id, typ, payload)
	c.send(*buf, wait)
}

// send writes frame; a failed write (a peer that has not read for wait, or
// gone) ends the connection, as gorilla cannot write on it any more.
func (c *wsConn) send(frame []byte, wait time.Duration) {
	c.wmu.Lock()
	err := c.writeLocked(frame, wait)
	c.wmu.Unlock()
	if err != nil {
		c.close(0, "")
	}
}

func (c *wsConn) writeLocked(frame []byte, wait time.Duration) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(wait))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

// close ends the connection once: it stops the operations, sends a close
// frame with code (0: none) and closes the socket, which ends the read loop.
func (c *wsConn) close(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	ops := c.ops
	c.ops = nil
	unwatch, unregister := c.unwatch, c.unregister
	c.mu.Unlock()
	for _, op := range ops {
		op.cancel()
	}
	if unwatch != nil {
		unwatch()
	}
	if unregister != nil {
		unregister()
	}
	c.t.beats.remove(c)
	if code != 0 {
		msg := websocket.FormatCloseMessage(code, truncateReason(reason))
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	_ = c.ws.Close()
}

// truncateReason fits a close reason in a control frame (123 bytes).
func truncateReason(s string) string {
	const maxReason = 123
	if len(s) <= maxReason {
		return s
	}
	s = s[:maxReason]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
