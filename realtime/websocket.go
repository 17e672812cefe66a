// Package realtime carries live events to subscribers. This file plugs
// gorilla/websocket into gqlgen's WebSocket transport, which defaults to
// coder/websocket.
package realtime

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// GorillaWebsocket accepts GraphQL WebSocket connections with gorilla.
type GorillaWebsocket struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) allowed
	// to connect besides the server's own; "*" allows any. Requests without
	// an Origin header (non-browser clients) are always allowed.
	AllowedOrigins []string
}

var _ transport.WebsocketImplementation = GorillaWebsocket{}

// Accept upgrades the request, negotiating one of gqlgen's subprotocols.
func (g GorillaWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	up := websocket.Upgrader{
		Subprotocols:    opts.Subprotocols,
		CheckOrigin:     g.checkOrigin,
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
		// Reuse write buffers across idle connections: most subscribers are
		// idle most of the time, and this keeps per-connection memory small.
		WriteBufferPool: writeBufferPool,
		// Status only: when Accept fails, gqlgen's transport writes its own
		// JSON error body, which would otherwise follow gorilla's text one.
		Error: func(w http.ResponseWriter, _ *http.Request, status int, _ error) {
			w.Header().Set("Sec-Websocket-Version", "13")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
		},
	}
	conn, err := up.Upgrade(w, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	return &gorillaConn{conn: conn}, nil
}

var writeBufferPool = &sync.Pool{}

func (g GorillaWebsocket) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(g.AllowedOrigins, "*") {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return slices.ContainsFunc(g.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) })
}

type gorillaConn struct {
	conn *websocket.Conn
	// gorilla allows one concurrent writer; gqlgen writes from several
	// goroutines (responses, keep-alives, close).
	writeMu sync.Mutex
}

var (
	_ transport.WebsocketConn          = (*gorillaConn)(nil)
	_ transport.WebsocketReadLimiter   = (*gorillaConn)(nil)
	_ transport.WebsocketReadDeadliner = (*gorillaConn)(nil)
)

func (c *gorillaConn) Close() error { return c.conn.Close() }

func (c *gorillaConn) NextReader() (int, io.Reader, error) {
	mt, r, err := c.conn.NextReader()
	// Any close frame from the peer ends the connection cleanly; gqlgen
	// treats other errors as failures and logs them.
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return mt, nil, transport.ErrWebsocketClosed
	}
	return mt, r, err
}

func (c *gorillaConn) WriteJSON(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.conn.WriteJSON(v)
}

func (c *gorillaConn) WriteClose(code int, message string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	msg := websocket.FormatCloseMessage(code, message)
	return c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

func (c *gorillaConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *gorillaConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

func (c *gorillaConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }
