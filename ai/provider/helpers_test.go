package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/aifake"
	"github.com/seliq/seliq/outbound"
)

const testKey = "sk-test-123"

// fakeServer is an httptest server that counts requests and hands each to
// the current test's handler.
type fakeServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newFakeServer(t *testing.T, h http.HandlerFunc) *fakeServer {
	t.Helper()
	fs := &fakeServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(fs.Close)
	return fs
}

// sleepLog records the waits the client asked for instead of sleeping.
type sleepLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleepLog) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// newTestClient builds a client through New (with the production guarded
// transport; the fake servers listen on loopback, hence privateAllowed) and
// swaps its sleep for a recorder.
func newTestClient(t *testing.T, kind, baseURL string, mods ...func(*Config)) (Client, *sleepLog) {
	t.Helper()
	cfg := Config{Kind: kind, BaseURL: baseURL, APIKey: testKey, Policy: privateAllowed, Timeout: 5 * time.Second, MaxRetries: 2}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	log := &sleepLog{}
	transportOf(t, c).sleep = log.sleep
	return c, log
}

func transportOf(t *testing.T, c Client) *transport {
	t.Helper()
	switch c := c.(type) {
	case *openAIClient:
		return c.t
	case *anthropicClient:
		return c.t
	}
	t.Fatalf("unexpected client type %T", c)
	return nil
}

// decodeValidated reads a request body, has parse (aifake's check of the
// protocol) validate it as a strict server would, then decodes it into v
// for the test's assertions.
func decodeValidated(r *http.Request, parse func(http.Header, []byte) (aifake.Request, error), v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	if _, err := parse(r.Header, body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// writeSSE writes one event in exact text/event-stream framing and flushes
// so the client sees it as it would from a real server.
func writeSSE(t *testing.T, w http.ResponseWriter, event string, data any) {
	t.Helper()
	var buf bytes.Buffer
	if event != "" {
		fmt.Fprintf(&buf, "event: %s\n", event)
	}
	switch d := data.(type) {
	case string:
		fmt.Fprintf(&buf, "data: %s\n\n", d)
	default:
		b, err := json.Marshal(d)
		if err != nil {
			t.Errorf("marshal SSE data: %v", err)
			return
		}
		fmt.Fprintf(&buf, "data: %s\n\n", b)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return
	}
	w.(http.Flusher).Flush()
}

func startSSE(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
}

func writeJSON(t *testing.T, w http.ResponseWriter, status int, v any) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Errorf("encode response: %v", err)
	}
}

// collect gathers stream deltas in order.
type collect struct{ deltas []string }

func (c *collect) on(s string) error {
	c.deltas = append(c.deltas, s)
	return nil
}

func ptr[T any](v T) *T { return &v }

func jsonEqual(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("JSON = %s, want %s", gb, wb)
	}
}

// privateAllowed is a policy allowing every range an allowlist can name:
// what it refuses is refused always.
var privateAllowed = outbound.NewPolicy(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))

// policy is privateAllowed when allow is set, else the default policy.
func policy(allow bool) *outbound.Policy {
	if allow {
		return privateAllowed
	}
	return nil
}
