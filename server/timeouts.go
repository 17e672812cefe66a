package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Timeouts bound how long a client may hold a connection without making
// progress, so slow senders and readers cannot pin connections and
// goroutines.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a request's body, from when its handler starts.
	Read time.Duration
	// Write bounds a request from the end of its headers to the end of its
	// response; WebSocket and server-sent event streams are exempt (they
	// have keep-alives and drop slow subscribers).
	Write time.Duration
	// Idle bounds a keep-alive connection between requests.
	Idle time.Duration
	// Download replaces Write for report downloads, which may be large.
	Download time.Duration
}

// DefaultTimeouts are the timeouts unless configured.
var DefaultTimeouts = Timeouts{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      60 * time.Second,
	Idle:       120 * time.Second,
	Download:   10 * time.Minute,
}

// withDefaults fills zero fields from DefaultTimeouts.
func (t Timeouts) withDefaults() Timeouts {
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	d := DefaultTimeouts
	return Timeouts{
		ReadHeader: pick(t.ReadHeader, d.ReadHeader), Read: pick(t.Read, d.Read),
		Write: pick(t.Write, d.Write), Idle: pick(t.Idle, d.Idle), Download: pick(t.Download, d.Download),
	}
}

// Apply sets the server-wide timeouts on hs. http.Server's ReadTimeout is
// left off on purpose: it would also expire the connection's background
// read that watches for the client going away, cancelling every request
// (and every stream) still running when it fires; bodyDeadline bounds the
// body instead and lifts the deadline once the body is read.
func (t Timeouts) Apply(hs *http.Server) {
	t = t.withDefaults()
	hs.ReadHeaderTimeout = t.ReadHeader
	hs.WriteTimeout = t.Write
	hs.IdleTimeout = t.Idle
}

// bodyDeadline gives a request's body d to arrive: a client that trickles
// its body is cut off instead of holding the connection. Requests without
// a body are left alone.
func bodyDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			rc := http.NewResponseController(w)
			if err := rc.SetReadDeadline(time.Now().Add(d)); err == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// deadlineBody lifts the read deadline once the body is read, so the
// deadline does not go on to cancel a long-running handler or stream.
type deadlineBody struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}

// writeDeadline replaces the server's write deadline for the requests
// selected by when: d from now, or none when d is 0.
func writeDeadline(d time.Duration, when func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if when(r) {
				var at time.Time
				if d > 0 {
					at = time.Now().Add(d)
				}
				_ = http.NewResponseController(w).SetWriteDeadline(at)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isStream reports a GraphQL request that opens a long-lived stream: a
// WebSocket upgrade, or server-sent events.
func isStream(r *http.Request) bool {
	return websocket.IsWebSocketUpgrade(r) || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func always(*http.Request) bool { return true }
