package stream_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
)

// BenchmarkWebsocketFanout subscribes n WebSocket clients to alertEvents
// on one server (SQLite), then ingests one alert per iteration and times
// its delivery to every client: p50 and p99 over all deliveries, and the
// time to the last one, and the process's CPU time per delivery. It also
// reports the heap, goroutine stacks and goroutines held per idle
// subscribed connection. Client and server share the process, so the
// figures count both ends of each connection (the clients run no goroutine
// while idle) and are upper bounds for the server.
func BenchmarkWebsocketFanout(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			db := testenv.Open(b, testenv.SQLite)
			env := apitest.Start(b, db, apitest.Options{WSMaxConnectionsPerUser: n})
			token := env.Admin().Authorization
			key := env.Admin().ConnectorKey(b, "EDR")

			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			goroutines := runtime.NumGoroutine()
			conns := make([]*websocket.Conn, n)
			for i := range conns {
				conns[i] = subscribedConn(b, env, token)
			}
			// Every connection has joined the shared subscription; once it
			// delivers, each receives the warm-up alert (after awaitSharedLive's).
			awaitSharedLive(b, env, key, token, "")
			warm := env.Ingest(b, key, "warm-up")
			for _, c := range conns {
				if err := awaitAlert(c, warm); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			perConn := func(after, before uint64) float64 { return (float64(after) - float64(before)) / float64(n) }
			heap := perConn(after.HeapInuse, before.HeapInuse) / 1024
			stacks := perConn(after.StackInuse, before.StackInuse) / 1024
			perConnGoroutines := float64(runtime.NumGoroutine()-goroutines) / float64(n)

			cpuBefore := processCPU(b)

			var all []time.Duration
			var last []time.Duration
			for i := 0; b.Loop(); i++ {
				var mu sync.Mutex
				var wg sync.WaitGroup
				start := time.Now()
				lat := make([]time.Duration, 0, n)
				for _, c := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := awaitNext(c); err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						lat = append(lat, time.Since(start))
						mu.Unlock()
					}()
				}
				env.Ingest(b, key, fmt.Sprint("fan-out ", i))
				wg.Wait()
				slices.Sort(lat)
				all = append(all, lat...)
				last = append(last, lat[len(lat)-1])
			}
			cpu := processCPU(b) - cpuBefore
			slices.Sort(all)
			slices.Sort(last)
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(last[len(last)/2].Microseconds())/1000, "last-p50-ms")
			// Reported after the loop: b.Loop discards metrics reported before it.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(len(all)), "cpu-ns/delivery")
			b.ReportMetric(heap, "heap-KiB/conn")
			b.ReportMetric(stacks, "stack-KiB/conn")
			b.ReportMetric(perConnGoroutines, "goroutines/conn")
			for _, c := range conns {
				c.Close()
			}
		})
	}
}

func subscribedConn(b *testing.B, env *apitest.Env, token string) *websocket.Conn {
	b.Helper()
	// Small client buffers, shared for writing, so that the per-connection
	// figure is mostly the server's.
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second,
		ReadBufferSize: 256, WriteBufferSize: 256, WriteBufferPool: clientWriteBuffers}
	conn, _, err := d.Dial(wsURL(env), nil)
	if err != nil {
		b.Fatal(err)
	}
	send := func(v any) {
		if err := conn.WriteJSON(v); err != nil {
			b.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
	var ack message
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		b.Fatalf("ack: %v %v", ack, err)
	}
	send(map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": alertSub}})
	// The server joins the subscription to its group before reading the
	// ping: the pong means it has joined.
	send(map[string]any{"type": "ping"})
	for {
		var m message
		if err := conn.ReadJSON(&m); err != nil {
			b.Fatal(err)
		}
		if m.Type == "pong" {
			return conn
		}
	}
}

var clientWriteBuffers = &sync.Pool{}

// awaitAlert reads the subscription's results until one about alert id.
func awaitAlert(c *websocket.Conn, id string) error {
	for {
		var m message
		if err := c.ReadJSON(&m); err != nil {
			return err
		}
		if m.Type == "next" && strings.Contains(string(m.Payload), id) {
			return nil
		}
	}
}

// awaitNext reads until the subscription's next message, answering pings.
func awaitNext(c *websocket.Conn) error {
	for {
		var m message
		if err := c.ReadJSON(&m); err != nil {
			return err
		}
		switch m.Type {
		case "ping":
			if err := c.WriteJSON(map[string]any{"type": "pong"}); err != nil {
				return err
			}
		case "next":
			var e event
			if err := json.Unmarshal(m.Payload, &e); err != nil || len(e.Errors) > 0 {
				return fmt.Errorf("next: %s", m.Payload)
			}
			return nil
		}
	}
}

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
