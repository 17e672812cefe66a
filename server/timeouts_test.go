package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// TestSlowBodyCutOff reproduces the slow-body attack over a real TCP
// connection: the client sends its headers and one byte of a 1000-byte
// body, then nothing. The server must give up on the body after the read
// timeout and close the connection rather than wait for as long as bytes
// trickle in, answering a client error (REST) and never a 5xx. (GraphQL's
// transport reports an unreadable body as a GraphQL error with status 200.)
func TestSlowBodyCutOff(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{Configure: func(c *server.Config) { c.Timeouts.Read = readTimeout }})
		key := env.Admin().ConnectorKey(t, "slow")
		u, err := url.Parse(env.URL)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			path, header string
			want         string // status line prefix
		}{
			{"/api/v1/auth/login", "", "HTTP/1.1 4"},
			{"/graphql", "", "HTTP/1.1 "},
			{"/api/v1/alerts/ingest", "X-API-Key: " + key + "\r\n", "HTTP/1.1 4"},
		} {
			t.Run(c.path, func(t *testing.T) {
				conn, err := net.Dial("tcp", u.Host)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				start := time.Now()
				fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n%s\r\n{", c.path, u.Host, c.header)
				// A safety net only: the test waits for the server to close.
				_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
				resp, err := io.ReadAll(conn)
				if err != nil {
					t.Fatalf("the server kept the connection open: %v (after %v)", err, time.Since(start))
				}
				if took := time.Since(start); took < readTimeout {
					t.Errorf("closed after %v, before the read timeout", took)
				}
				status, _, _ := strings.Cut(string(resp), "\r\n")
				if !strings.HasPrefix(status, c.want) || strings.HasPrefix(status, "HTTP/1.1 5") {
					t.Errorf("answered %q, want %s..., never 5xx: %s", status, c.want, resp)
				}
			})
		}
	})
}

// TestStreamsExemptFromWriteTimeout: with a write timeout so short that
// every ordinary response misses it, a server-sent events subscription still
// streams, because streams drop the server's write deadline (they have
// their own keep-alives).
func TestStreamsExemptFromWriteTimeout(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{Configure: func(c *server.Config) { c.Timeouts.Write = time.Nanosecond }})
		// The control: an ordinary request cannot be answered in time.
		if resp, err := http.Get(env.URL + "/healthz"); err == nil {
			resp.Body.Close()
			t.Fatalf("/healthz answered %d despite the write timeout", resp.StatusCode)
		}
		// Logging in over HTTP would miss the deadline too.
		sess, err := env.Srv.Auth.Login(context.Background(), apitest.AdminEmail, apitest.AdminPassword, "127.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"query": "subscription { metricsTick { unassignedAlerts } }"})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+sess.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("SSE: %v", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("SSE: %d", resp.StatusCode)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "unassignedAlerts") {
				return
			}
		}
		t.Fatalf("the stream ended without an event: %v", errors.Join(sc.Err(), ctx.Err()))
	})
}
