package stream_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/internal/testenv"
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
			joined(a, b)
			if n := es.running.Load(); n != 1 {
				t.Fatalf("%d operations for two subscribers of one group", n)
			}
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
			joined(a)
			es.ticks <- 2
			b.expect(p.result, "b")
			// ... its connection can subscribe again, and joins the group
			// (the connection's limit is one subscription: the slot is back).
			a.start("a2", "subscription { ticks }")
			joined(a)
			es.ticks <- 3
			a.expect(p.result, "a2")
			b.expect(p.result, "b")
			// The last subscriber to leave ends the operation.
			a.stop("a2")
			b.conn.Close()
			waitRunning(t, es, 0)
			waitNoGoroutineIn(t, "stream.(*Websocket).runGroup", "stream.(*sharedSub)")
		})
	}
}

// joined returns once each connection has handled the messages sent before:
// a connection handles its messages in order, so a query's result comes
// after its earlier subscribe has joined its group, or its stop has left.
func joined(conns ...*stubConn) {
	for _, c := range conns {
		c.start("sync", "{ hello }")
		c.expect(c.proto.result, "sync")
		c.expect("complete", "sync")
	}
}

// TestSharedSlowConsumerIsDropped: a subscriber that does not read falls
// behind by the backlog and is dropped, its stream completing after what
// was queued; the one that reads gets every result and keeps running.
func TestSharedSlowConsumerIsDropped(t *testing.T) {
	// Of 256 KiB each: past the socket buffers and the backlog, and sent
	// well within the write timeout, which would close the stuck connection
	// instead.
	const results = 120
	es, url := stubServerSharing(t, time.Minute, shareSubscriptionsByQuery)
	p := protocols[0]
	reader, stuck := dialStub(t, url, p), dialStub(t, url, p)
	reader.init()
	stuck.init()
	const sub = `subscription Blobs { ticks }`
	reader.start("r", sub)
	stuck.start("s", sub)
	joined(reader, stuck)
	// The reader reports each result, and the ticks wait for it to be at
	// most lag behind, so that only the stuck subscriber overflows however
	// slow the machine.
	const lag = 8
	read := make(chan struct{}, results)
	got := make(chan int, 1)
	_ = reader.conn.SetReadDeadline(time.Now().Add(time.Minute))
	go func() {
		n := 0
		for n < results {
			if _, _, err := reader.conn.ReadMessage(); err != nil { // no keep-alives in a minute
				break
			}
			n++
			read <- struct{}{}
		}
		got <- n
	}()
	es.blob = strings.Repeat("x", 256<<10)
	for i := range results {
		if i >= lag {
			select {
			case <-read:
			case <-time.After(10 * time.Second):
				t.Fatalf("the reader stalled after %d results", i-lag)
			}
		}
		select {
		case es.ticks <- i:
		case <-time.After(10 * time.Second):
			t.Fatalf("the operation stopped taking ticks at %d", i)
		}
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
	if !testenv.Poll(5*time.Second, func() bool { return es.running.Load() == n }) {
		t.Fatalf("%d subscriptions run, want %d", es.running.Load(), n)
	}
}
