package realtime_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// shareSubscriptionsByQuery shares every subscription with the same
// document, whoever runs it: the stub's results depend on nothing else.
func shareSubscriptionsByQuery(_ context.Context, rc *graphql.OperationContext) (string, bool) {
	return rc.RawQuery, rc.Operation.Operation == ast.Subscription
}

func TestSharedSubscriptionLifecycle(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			es, url := stubServerSharing(t, time.Minute, shareSubscriptionsByQuery)
			a, b := dialStub(t, url, p), dialStub(t, url, p)
			a.init()
			b.init()
			a.start("a", "subscription { ticks }")
			b.start("b", "subscription { ticks }")
			waitRunning(t, es, 1) // one operation for both
			es.ticks <- 1
			for _, c := range []struct {
				conn *stubConn
				id   string
			}{{a, "a"}, {b, "b"}} {
				if m := c.conn.expect(p.result, c.id); string(m.Payload) != `{"data":{"ticks":1}}` {
					t.Fatalf("%s got %s", c.id, m.Payload)
				}
			}
			// A subscriber that stops leaves the others running ...
			a.stop("a")
			time.Sleep(50 * time.Millisecond)
			es.ticks <- 2
			b.expect(p.result, "b")
			// ... its connection can subscribe again, and joins the group
			// (the connection's limit is one subscription: the slot is back).
			a.start("a2", "subscription { ticks }")
			time.Sleep(50 * time.Millisecond)
			es.ticks <- 3
			a.expect(p.result, "a2")
			b.expect(p.result, "b")
			// The last subscriber to leave ends the operation.
			a.stop("a2")
			b.conn.Close()
			waitRunning(t, es, 0)
			waitNoGoroutineIn(t, "realtime.(*Websocket).runGroup", "realtime.(*sharedSub)")
		})
	}
}

// TestSharedSlowConsumerIsDropped: a subscriber that does not read falls
// behind by the backlog and is dropped, its stream completing after what
// was queued; the one that reads gets every result and keeps running.
func TestSharedSlowConsumerIsDropped(t *testing.T) {
	const results = 200 // of 256 KiB: far past the socket buffers and the backlog
	es, url := stubServerSharing(t, time.Minute, shareSubscriptionsByQuery)
	p := protocols[0]
	reader, stuck := dialStub(t, url, p), dialStub(t, url, p)
	reader.init()
	stuck.init()
	const sub = `subscription Blobs { ticks }`
	reader.start("r", sub)
	stuck.start("s", sub)
	waitRunning(t, es, 1)
	got := make(chan int, 1)
	go func() {
		n := 0
		for n < results {
			if _, err := reader.next(); err != nil {
				break
			}
			n++
		}
		got <- n
	}()
	es.blob = strings.Repeat("x", 256<<10)
	for i := range results {
		es.ticks <- i
	}
	if n := <-got; n != results {
		t.Fatalf("the reading subscriber got %d results, want %d", n, results)
	}
	seen := 0
	for {
		m := stuck.expectAny()
		if m.Type == "complete" && m.ID == "s" {
			break
		}
		if m.Type != p.result || m.ID != "s" {
			t.Fatalf("stuck subscriber got %s %q", m.Type, m.ID)
		}
		seen++
	}
	if seen >= results {
		t.Fatalf("the stuck subscriber got all %d results, want it dropped", seen)
	}
	t.Logf("the stuck subscriber got %d of %d results before its complete", seen, results)
	es.blob = ""
	es.ticks <- -1
	if m := reader.expect(p.result, "r"); !strings.Contains(string(m.Payload), "-1") {
		t.Fatalf("reader got %s after the drop", m.Payload)
	}
}

// expectAny reads the next message that is not a keep-alive.
func (c *stubConn) expectAny() message {
	c.t.Helper()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, raw, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("frame %.100q: %v", raw, err)
		}
		if m.Type != "ka" && m.Type != "ping" {
			return m
		}
	}
}

func waitRunning(t *testing.T, es *stubSchema, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for es.running.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions run, want %d", es.running.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
