package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"
)

// alertSubscription is what each subscriber listens to.
const alertSubscription = `subscription { alertEvents { kind cursor alert { id title } } }`

// Fan-out measurement: rounds of one ingested alert each, and how long a
// round may take before the missing deliveries count as a failure.
const (
	fanoutRounds  = 5
	deliveryLimit = 30 * time.Second
	dialers       = 16 // connections opened at once
)

// subscriber is one WebSocket connection with one alertEvents subscription.
type subscriber struct {
	conn *websocket.Conn
}

// wsMessage is a graphql-transport-ws frame.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// clientWriteBuffers is shared by every subscriber: they write only during
// the handshake, and the server's memory per connection is what counts.
var clientWriteBuffers = &sync.Pool{}

func subscribe(ctx context.Context, wsURL, token string) (*subscriber, error) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 30 * time.Second,
		ReadBufferSize: 512, WriteBufferSize: 256, WriteBufferPool: clientWriteBuffers}
	conn, _, err := d.DialContext(ctx, wsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", wsURL, err)
	}
	s := &subscriber{conn: conn}
	if err := s.handshake(token); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (s *subscriber) handshake(token string) error {
	init := map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}
	if err := s.conn.WriteJSON(init); err != nil {
		return err
	}
	if err := s.conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	var ack wsMessage
	if err := s.conn.ReadJSON(&ack); err != nil {
		return fmt.Errorf("connection_ack: %w", err)
	}
	if ack.Type != "connection_ack" {
		return fmt.Errorf("got %q, want connection_ack: %s", ack.Type, ack.Payload)
	}
	if err := s.conn.SetReadDeadline(time.Time{}); err != nil {
		return err
	}
	return s.conn.WriteJSON(map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": alertSubscription}})
}

// listen reads frames until the connection closes, answering pings and
// sending the arrival time of each result to arrivals.
func (s *subscriber) listen(arrivals chan<- time.Time, errs chan<- error) {
	for {
		_, raw, err := s.conn.ReadMessage()
		if err != nil {
			errs <- err
			return
		}
		at := time.Now()
		var m wsMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			errs <- fmt.Errorf("frame %.200s: %w", raw, err)
			return
		}
		switch m.Type {
		case "ping":
			if err := s.conn.WriteJSON(map[string]any{"type": "pong"}); err != nil {
				errs <- err
				return
			}
		case "next":
			if strings.Contains(string(m.Payload), `"errors"`) {
				errs <- fmt.Errorf("subscription error: %.300s", m.Payload)
				return
			}
			arrivals <- at
		case "error", "complete":
			errs <- fmt.Errorf("subscription ended: %s %.300s", m.Type, m.Payload)
			return
		}
	}
}

// measureFanout opens n subscribers, measures the server's RSS per idle
// subscriber, then ingests one alert per round and times its delivery to
// every subscriber.
// hooks.idle runs while the subscribers are idle (after the memory
// reading) and hooks.rounds around the delivery rounds; the profiler uses
// them.
func measureFanout(ctx context.Context, srv *serverProc, a *api, key string, n int, f figures, hooks fanoutHooks) error {
	before, err := settledRSS(ctx, srv)
	if err != nil {
		return err
	}
	g0, st0, err := srv.runtimeGauges(ctx)
	if err != nil {
		return err
	}
	subs, err := openSubscribers(ctx, "ws"+strings.TrimPrefix(srv.base, "http")+"/graphql", a.token, n)
	defer func() {
		for _, s := range subs {
			s.conn.Close()
		}
	}()
	if err != nil {
		return err
	}
	after, err := settledRSS(ctx, srv)
	if err != nil {
		return err
	}
	f["ws_conn_kib"] = (after - before) / float64(n)
	g1, st1, err := srv.runtimeGauges(ctx)
	if err != nil {
		return err
	}
	f["ws_conn_goroutines"] = (g1 - g0) / float64(n)
	f["ws_conn_stack_kib"] = (st1 - st0) / 1024 / float64(n)
	hooks.idle()

	arrivals := make(chan time.Time, n)
	errs := make(chan error, n)
	for _, s := range subs {
		go s.listen(arrivals, errs)
	}
	var all []time.Duration
	var lasts []time.Duration
	err = hooks.rounds(func() error {
		for round := range fanoutRounds {
			lat, err := fanoutRound(ctx, a, key, round, n, arrivals, errs)
			if err != nil {
				return err
			}
			all = append(all, lat...)
			lasts = append(lasts, slices.Max(lat))
		}
		return nil
	})
	if err != nil {
		return err
	}
	f["ws_fanout_p50_ms"], f["ws_fanout_p99_ms"] = percentile(all, 0.5), percentile(all, 0.99)
	f["ws_fanout_last_ms"] = percentile(lasts, 0.5)
	return nil
}

// RSS settling: readings rssInterval apart, settled once rssSteady of them
// in a row stay within rssTolerance KiB of each other, or after rssLimit.
const (
	rssInterval  = 250 * time.Millisecond
	rssSteady    = 4
	rssTolerance = 512
	rssLimit     = 15 * time.Second
)

// settledRSS waits until the server's resident set stops moving (start-up
// garbage being returned to the OS, subscriptions still registering) and
// returns it: a single reading can be off by tens of MiB either way.
func settledRSS(ctx context.Context, srv *serverProc) (float64, error) {
	var recent []float64
	deadline := time.Now().Add(rssLimit)
	for {
		v, err := srv.rssKiB()
		if err != nil {
			return 0, err
		}
		recent = append(recent, v)
		if len(recent) > rssSteady {
			recent = recent[1:]
		}
		if len(recent) == rssSteady && slices.Max(recent)-slices.Min(recent) <= rssTolerance || time.Now().After(deadline) {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(rssInterval):
		}
	}
}

// openSubscribers opens n subscribed connections, dialers at a time. The
// connections opened so far are returned with an error.
func openSubscribers(ctx context.Context, wsURL, token string, n int) ([]*subscriber, error) {
	subs := make([]*subscriber, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dialers)
	for i := range subs {
		g.Go(func() error {
			s, err := subscribe(gctx, wsURL, token)
			subs[i] = s
			return err
		})
	}
	err := g.Wait()
	return slices.DeleteFunc(subs, func(s *subscriber) bool { return s == nil }), err
}

// fanoutRound ingests one alert and waits for n deliveries.
func fanoutRound(ctx context.Context, a *api, key string, round, n int, arrivals <-chan time.Time, errs <-chan error) ([]time.Duration, error) {
	body := map[string]any{"title": fmt.Sprintf("Fan-out probe %d", round), "severity": "high", "source": "bench-fanout"}
	start := time.Now()
	if _, err := a.ingest(ctx, key, body); err != nil {
		return nil, fmt.Errorf("fan-out: %w", err)
	}
	lat := make([]time.Duration, 0, n)
	timeout := time.After(deliveryLimit)
	for len(lat) < n {
		select {
		case at := <-arrivals:
			lat = append(lat, at.Sub(start))
		case err := <-errs:
			return nil, fmt.Errorf("subscriber: %w", err)
		case <-timeout:
			return nil, fmt.Errorf("fan-out: %d of %d subscribers received the event within %v", len(lat), n, deliveryLimit)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return lat, nil
}

// fanoutHooks let the caller act at two moments of measureFanout.
type fanoutHooks struct {
	idle   func()
	rounds func(run func() error) error
}

// errNoSubscribers guards the per-connection division.
var errNoSubscribers = errors.New("-subscribers must be at least 1")
