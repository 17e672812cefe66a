package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBackoffStaysInJitterWindow(t *testing.T) {
	for attempt := range 10 {
		lo, hi := backoffBounds(attempt)
		for range 200 {
			if d := backoff(attempt); d < lo || d > hi || d > backoffCap {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, lo, hi)
			}
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		min    time.Duration
		max    time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second, 3 * time.Second},
		{"milliseconds win", http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"3"}}, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"http date", http.Header{"Retry-After": {time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)}}, 8 * time.Second, 10 * time.Second},
		{"date in the past", http.Header{"Retry-After": {"Mon, 02 Jan 2006 15:04:05 GMT"}}, 0, 0},
		{"negative", http.Header{"Retry-After": {"-5"}}, 0, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0, 0},
		{"absent", http.Header{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.header); got < tt.min || got > tt.max {
				t.Errorf("retryAfter = %v, want within [%v, %v]", got, tt.min, tt.max)
			}
		})
	}
}

// rateLimited answers every request with 429 and the given Retry-After.
func rateLimited(t *testing.T, retryAfter string) *fakeServer {
	t.Helper()
	return newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", retryAfter)
		writeJSON(t, w, http.StatusTooManyRequests, oaiErr("rate_limit_exceeded", "slow down"))
	})
}

func TestLongRetryAfterIsLeftToCaller(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		deadline   time.Duration
	}{
		{"beyond the in-call limit", "120", time.Minute},
		{"beyond the caller's deadline", "5", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := rateLimited(t, tt.retryAfter)
			c, log := newTestClient(t, KindOpenAICompatible, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			_, err := c.Models(ctx)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || apiErr.RetryAfter == 0 {
				t.Fatalf("err = %v, want 429 with RetryAfter", err)
			}
			if srv.hits.Load() != 1 || len(log.get()) != 0 {
				t.Errorf("hits %d waits %v, want no retry", srv.hits.Load(), log.get())
			}
		})
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	srv := rateLimited(t, "10")
	c, err := New(Config{Kind: KindOpenAICompatible, BaseURL: srv.URL, Policy: privateAllowed})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Models(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("cancellation took %v", elapsed)
	}
	if srv.hits.Load() != 1 {
		t.Errorf("hits = %d", srv.hits.Load())
	}
}

// hangFirst stalls the first request until the client gives up on it.
func hangFirst(t *testing.T, then http.HandlerFunc) *fakeServer {
	t.Helper()
	var srv *fakeServer
	srv = newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if srv.hits.Load() == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		then(w, r)
	})
	return srv
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	srv := hangFirst(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusOK, map[string]any{"data": []map[string]any{{"id": "m1"}}})
	})
	c, log := newTestClient(t, KindOpenAICompatible, srv.URL, func(c *Config) { c.Timeout = 150 * time.Millisecond })
	models, err := c.Models(context.Background())
	if err != nil {
		t.Fatalf("Models: %v", err)
	}
	if len(models) != 1 || srv.hits.Load() != 2 || len(log.get()) != 1 {
		t.Errorf("models %v, hits %d, waits %v", models, srv.hits.Load(), log.get())
	}
}

func TestTimeoutWithoutRetries(t *testing.T) {
	srv := hangFirst(t, func(w http.ResponseWriter, r *http.Request) { t.Error("retried with MaxRetries < 0") })
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL, func(c *Config) {
		c.Timeout = 100 * time.Millisecond
		c.MaxRetries = -1
	})
	_, err := c.Models(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out after 100ms") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	srv := anthropicServer(t, func(w http.ResponseWriter, r *antWire) {
		startSSE(w)
		antStart(t, w, 10)
		antBlockStart(t, w, 0, map[string]any{"type": "text", "text": ""})
		antDelta(t, w, 0, textDelta("Hel"))
		time.Sleep(time.Second) // longer than the idle timeout, with nothing sent
	})
	c, log := newTestClient(t, KindAnthropic, srv.URL, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	var got collect
	start := time.Now()
	_, err := c.Stream(context.Background(), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "hi"}}}, got.on)
	if err == nil || !strings.Contains(err.Error(), "no data for 200ms") {
		t.Fatalf("err = %v, want idle timeout", err)
	}
	if time.Since(start) > 900*time.Millisecond || srv.hits.Load() != 1 || len(log.get()) != 0 {
		t.Errorf("took %v, hits %d, waits %v", time.Since(start), srv.hits.Load(), log.get())
	}
}

func TestStreamRequiresEventStream(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusOK, oaiCompletion("not streamed", nil, "stop"))
	})
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL)
	_, err := c.Stream(context.Background(), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "hi"}}}, (&collect{}).on)
	if err == nil || !strings.Contains(err.Error(), "text/event-stream") {
		t.Fatalf("err = %v", err)
	}
}

func TestOnDeltaErrorAbortsStream(t *testing.T) {
	srv := openAIServer(t, func(w http.ResponseWriter, _ *oaiWire) {
		startSSE(w)
		writeSSE(t, w, "", oaiChunkJSON(map[string]any{"content": "a"}, nil))
		writeSSE(t, w, "", oaiChunkJSON(map[string]any{"content": "b"}, nil))
		writeSSE(t, w, "", "[DONE]")
	})
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
	stop := errors.New("client went away")
	calls := 0
	_, err := c.Stream(context.Background(), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "hi"}}}, func(string) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 || srv.hits.Load() != 1 {
		t.Errorf("err %v after %d deltas and %d hits", err, calls, srv.hits.Load())
	}
}
