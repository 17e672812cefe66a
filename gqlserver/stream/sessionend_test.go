package stream_test

// A long-lived connection ends when its session does: at the instant the
// credential ends unless used again (the idle timeout, the maximum age,
// the expiry), a timer checks it again and closes it with 4401, or waits
// for the new instant if the session was used meanwhile. No polling: one
// timer per connection with such an instant.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/realtime/live"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

var errIdle = apperr.New(apperr.Unauthenticated, "the session was idle longer than the organisation allows; log in again")

// endingServer serves the stub schema with a connection registry; each
// connection's principal is made by principals[payload "case"].
func endingServer(t *testing.T, principals map[string]func() stream.Principal) string {
	t.Helper()
	srv := handler.New(newStubSchema())
	srv.AddTransport(&stream.Websocket{
		Conns:       stream.NewConns(0, nil),
		InitTimeout: 5 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, error) {
			name, _ := p["case"].(string)
			return stream.WithPrincipal(live.WithSubscriptionLimit(ctx, 1), principals[name]()), nil
		},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func TestConnectionClosesWhenItsSessionEnds(t *testing.T) {
	var usedChecks, idleChecks atomic.Int32
	principals := map[string]func() stream.Principal{
		// Idle from the start: closed at its end.
		"idle": func() stream.Principal {
			return stream.Principal{UserID: uuid.New(), Ends: time.Now().Add(150 * time.Millisecond),
				Check: func(context.Context) (time.Time, error) { idleChecks.Add(1); return time.Time{}, errIdle }}
		},
		// Used once meanwhile (the first check finds a later end), then
		// idle: closed at the second end, after two checks.
		"used": func() stream.Principal {
			return stream.Principal{UserID: uuid.New(), Ends: time.Now().Add(100 * time.Millisecond),
				Check: func(context.Context) (time.Time, error) {
					if usedChecks.Add(1) == 1 {
						return time.Now().Add(100 * time.Millisecond), nil
					}
					return time.Time{}, errIdle
				}}
		},
	}
	url := endingServer(t, principals)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			usedChecks.Store(0)
			idleChecks.Store(0)
			for _, tc := range []struct {
				name   string
				checks *atomic.Int32
				want   int32
				least  time.Duration
			}{
				{"idle", &idleChecks, 1, 150 * time.Millisecond},
				{"used", &usedChecks, 2, 200 * time.Millisecond},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c := dialStub(t, url, p)
					start := time.Now()
					c.raw(`{"type":"connection_init","payload":{"case":"` + tc.name + `"}}`)
					c.expect("connection_ack", "")
					c.expectClose(stream.CloseUnauthorized)
					if took := time.Since(start); took < tc.least {
						t.Fatalf("closed after %v, before the session's end (%v)", took, tc.least)
					}
					if n := tc.checks.Load(); n != tc.want {
						t.Fatalf("%d checks, want %d", n, tc.want)
					}
				})
			}
		})
	}
}

// A connection that went away stops its timer: its credential is never
// checked at the end it no longer has.
func TestConnectionGoneStopsItsTimer(t *testing.T) {
	cs := stream.NewConns(0, nil)
	var goneChecks atomic.Int32
	gone, err := cs.Add(stream.Principal{UserID: uuid.New(), Ends: time.Now().Add(20 * time.Millisecond),
		Check: func(context.Context) (time.Time, error) { goneChecks.Add(1); return time.Time{}, errIdle }},
		func(int, string) { t.Error("a removed connection was closed") })
	if err != nil {
		t.Fatal(err)
	}
	gone()
	// A later end of another connection: timers fire in order, so when it
	// has closed, the removed one's would have fired first.
	closed := make(chan int, 1)
	_, err = cs.Add(stream.Principal{UserID: uuid.New(), Ends: time.Now().Add(100 * time.Millisecond),
		Check: func(context.Context) (time.Time, error) { return time.Time{}, errIdle }},
		func(code int, _ string) { closed <- code })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-closed:
		if code != stream.CloseUnauthorized {
			t.Fatalf("closed with %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the remaining connection was not closed at its end")
	}
	if n := goneChecks.Load(); n != 0 {
		t.Fatalf("the removed connection was checked %d times", n)
	}
}

// Through the real server: a socket opened with a session closes with 4401
// when the session ends, without any operation on it; one opened with an
// API token (no end) stays open. The session's end here is its expiry
// (SELIQ_SESSION_TTL of a few seconds), the same instant as the idle
// deadline's path (auth's tests check that the viewer carries the idle
// deadline and that a re-check is no use of the session).
func TestSessionEndClosesSockets(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		const ttl = 4 * time.Second
		env := apitest.Start(t, db, apitest.Options{Configure: func(c *server.Config) { c.SessionTTL = ttl }})
		p := newPrincipal(t, env, env.Admin(), "analyst")
		email := emailOf(t, p) // before p's own session ends
		for _, proto := range protocols {
			t.Run(proto.name, func(t *testing.T) {
				session := env.Login(email, apitest.UserPassword)
				opened := time.Now()
				sock := openSocket(t, env, proto, session.Authorization)
				token := openSocket(t, env, proto, p.token)
				sock.expectClosedWithin(stream.CloseUnauthorized, ttl+revocationBound)
				if took := time.Since(opened); took < ttl-time.Second {
					t.Fatalf("closed after %v, before the session ended", took)
				}
				token.expectOpen("token")
				if r := session.Do(http.MethodGet, "/api/v1/users/me", nil); r.Status != http.StatusUnauthorized {
					t.Fatalf("the ended session still authenticates: %d", r.Status)
				}
			})
		}
	})
}

// expectClosedWithin waits up to bound for the server to close c with code,
// answering pings meanwhile.
func (c *client) expectClosedWithin(code int, bound time.Duration) {
	c.t.Helper()
	if err := c.conn.SetReadDeadline(time.Now().Add(bound)); err != nil {
		c.t.Fatal(err)
	}
	for {
		_, raw, err := c.conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != code {
				c.t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, code)
			}
			return
		}
		if err != nil {
			c.t.Fatalf("waiting %v for close %d: %v", bound, code, err)
		}
		var m message
		_ = json.Unmarshal(raw, &m)
		if m.Type == "ping" {
			c.mustSend("pong", "", nil)
		}
	}
}
