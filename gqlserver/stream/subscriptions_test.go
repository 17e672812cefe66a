package stream_test

// End-to-end subscriptions: a real server (internal/apitest), a WebSocket
// client per subprotocol, writes through the REST API.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/realtime/live"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

// event is one subscription result.
type event struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// subscribe starts an operation and returns a function reading its next
// result, which fails the test after timeout.
func (c *client) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	op := operation(query)
	if vars != nil {
		op["variables"] = vars
	}
	c.mustSend(c.proto.start, id, op)
}

func (c *client) next(id string, timeout time.Duration) event {
	c.t.Helper()
	if err := c.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		c.t.Fatal(err)
	}
	for {
		_, raw, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("waiting %v for an event on %s: %v", timeout, id, err)
		}
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("frame %q: %v", raw, err)
		}
		switch {
		case c.proto.keepAlive != "" && m.Type == c.proto.keepAlive:
			continue
		case m.Type == "ping":
			c.mustSend("pong", "", nil)
			continue
		}
		if m.Type != c.proto.result || m.ID != id {
			c.t.Fatalf("got %s %q %s, want %s %q", m.Type, m.ID, m.Payload, c.proto.result, id)
		}
		var e event
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			c.t.Fatal(err)
		}
		if len(e.Errors) > 0 {
			c.t.Fatalf("subscription error: %+v", e.Errors)
		}
		return e
	}
}

const alertSub = `subscription { alertEvents { kind cursor alert { id title } } }`

// alertSubAfter is alertSub resuming after a cursor (see resumeVars).
const alertSubAfter = `subscription($after: String) { alertEvents(after: $after) { kind cursor alert { id title } } }`

// resumeVars returns the variables of a subscription that receives every
// event written after this call (apitest.Env.EventCursor).
func resumeVars(t testing.TB, env *apitest.Env) map[string]any {
	t.Helper()
	return map[string]any{"after": env.EventCursor(t)}
}

type alertEvent struct {
	Kind   string
	Cursor string
	Alert  struct{ ID, Title string }
}

func decodeAlert(t *testing.T, e event) alertEvent {
	t.Helper()
	var a alertEvent
	if err := json.Unmarshal(e.Data["alertEvents"], &a); err != nil {
		t.Fatalf("alertEvents %s: %v", e.Data["alertEvents"], err)
	}
	return a
}

// latency is how long a subscriber may wait for an event (the target is
// 100 ms; the assertion leaves room for a loaded CI machine and
// the measured figure is logged).
const latency = 2 * time.Second

func TestAlertEventsSubscription(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		key := admin.ConnectorKey(t, "EDR")
		for _, p := range protocols {
			t.Run(p.name, func(t *testing.T) {
				c := mustDial(t, env, p, "")
				c.mustSend("connection_init", "", map[string]any{"Authorization": admin.Authorization})
				c.expect("connection_ack", "")
				c.subscribe("s1", alertSubAfter, resumeVars(t, env))
				start := time.Now()
				id := env.Ingest(t, key, "Beacon to 203.0.113.9 via "+p.name)
				e := decodeAlert(t, c.next("s1", latency))
				t.Logf("%s: alert event delivered %v after the ingest request started", p.name, time.Since(start))
				if e.Kind != "CREATED" || e.Alert.ID != id || e.Alert.Title != "Beacon to 203.0.113.9 via "+p.name || e.Cursor == "" {
					t.Fatalf("event %+v, want CREATED of %s", e, id)
				}
				env.Ingest(t, key, "Beacon to 203.0.113.9 via "+p.name) // a repeat merges
				if m := decodeAlert(t, c.next("s1", latency)); m.Kind != "MERGED" || m.Alert.ID != id {
					t.Fatalf("repeat: %+v, want MERGED of %s", m, id)
				}
				res := admin.Do(http.MethodPatch, "/api/v1/alerts/"+id, map[string]any{"status": "acknowledged"})
				if res.Status != http.StatusOK {
					t.Fatalf("patch: %d %s", res.Status, res.Raw)
				}
				if u := decodeAlert(t, c.next("s1", latency)); u.Kind != "UPDATED" {
					t.Fatalf("patch: %+v, want UPDATED", u)
				}
			})
		}
		t.Run("filter", func(t *testing.T) {
			c := mustDial(t, env, protocols[0], admin.Authorization)
			c.init()
			c.subscribe("f", `subscription($after: String) { alertEvents(filter: {severity: [CRITICAL]}, after: $after) { kind alert { title severity } } }`, resumeVars(t, env))
			env.Ingest(t, key, "only high, filtered out")
			res := env.Connector(key).Do(http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": "critical one", "severity": "critical"})
			if res.Status != http.StatusAccepted {
				t.Fatal(res.Status)
			}
			if e := decodeAlert(t, c.next("f", latency)); e.Alert.Title != "critical one" {
				t.Fatalf("filtered subscription got %+v", e)
			}
		})
		t.Run("query filter", func(t *testing.T) {
			// The same text as the queue's ?query= and a saved query, evaluated
			// in memory on each event.
			c := mustDial(t, env, protocols[0], admin.Authorization)
			c.init()
			q := `severity >= "high" && entities.ip.exists(i, i.startsWith("203.0.113.")) && attributes.rule == "C2 beacon"`
			c.subscribe("q", `subscription($after: String, $q: String) { alertEvents(filter: {query: $q}, after: $after) { kind alert { title } } }`,
				map[string]any{"after": env.EventCursor(t), "q": q})
			for _, a := range []map[string]any{
				{"title": "wrong rule", "severity": "critical", "attributes": map[string]any{"rule": "Port scan", "src_ip": "203.0.113.5"}},
				{"title": "too low", "severity": "medium", "attributes": map[string]any{"rule": "C2 beacon", "src_ip": "203.0.113.5"}},
				{"title": "other network", "severity": "high", "attributes": map[string]any{"rule": "C2 beacon", "src_ip": "198.51.100.5"}},
				{"title": "match", "severity": "high", "attributes": map[string]any{"rule": "C2 beacon", "src_ip": "203.0.113.77"}},
			} {
				env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", a, http.StatusAccepted)
			}
			if e := decodeAlert(t, c.next("q", latency)); e.Alert.Title != "match" {
				t.Fatalf("query-filtered subscription got %+v", e)
			}
			// A query that does not compile is refused at subscription.
			c.subscribe("bad", `subscription { alertEvents(filter: {query: "severity >"}) { kind } }`, nil)
			m := c.mustRead(t)
			if !strings.Contains(string(m.Payload), "BAD_USER_INPUT") {
				t.Fatalf("bad query: %s %s", m.Type, m.Payload)
			}
		})
	})
}

// TestSubscriptionsStayInTheirOrganisation: a subscriber acting in one
// organisation never receives another's events.
func TestSubscriptionsStayInTheirOrganisation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		if res := admin.Do(http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}); res.Status != http.StatusCreated {
			t.Fatalf("create org: %d %s", res.Status, res.Raw)
		}
		homeKey := admin.ConnectorKey(t, "home EDR")
		acmeKey := admin.As("acme").ConnectorKey(t, "acme EDR")
		for _, p := range protocols {
			t.Run(p.name, func(t *testing.T) {
				inAcme := mustDial(t, env, p, "")
				inAcme.mustSend("connection_init", "", map[string]any{"Authorization": admin.Authorization, "X-Seliq-Org": "acme"})
				inAcme.expect("connection_ack", "")
				inAcme.subscribe("a", alertSubAfter, resumeVars(t, env))
				inAcme.subscribe("n", `subscription { incidentEvents { kind incident { title } } }`, nil)
				env.Ingest(t, homeKey, "home only")
				if res := admin.Do(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "home incident"}); res.Status != http.StatusCreated {
					t.Fatal(res.Status)
				}
				// Events arrive in order, so had the home organisation's
				// leaked, they would come before acme's own.
				title := "acme's own via " + p.name
				env.Ingest(t, acmeKey, title)
				if e := decodeAlert(t, inAcme.next("a", latency)); e.Alert.Title != title {
					t.Fatalf("acme subscriber got %+v, want only %q", e, title)
				}
			})
		}
	})
}

// TestFanOutAcrossReplicas: two servers on one PostgreSQL database; a
// subscriber on A receives what is written through B.
func TestFanOutAcrossReplicas(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	a := apitest.Start(t, db)
	b := apitest.Start(t, testenv.Replica(t, db))
	adminB := b.Admin()
	key := adminB.ConnectorKey(t, "EDR via B")
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := mustDial(t, a, p, a.Admin().Authorization)
			c.init()
			c.subscribe("x", alertSubAfter, resumeVars(t, a))
			start := time.Now()
			id := b.Ingest(t, key, "written on B, "+p.name)
			e := decodeAlert(t, c.next("x", latency))
			t.Logf("%s: delivered on A %v after the ingest on B started", p.name, time.Since(start))
			if e.Kind != "CREATED" || e.Alert.ID != id {
				t.Fatalf("event %+v, want CREATED of %s", e, id)
			}
		})
	}
}

type notificationEvent struct {
	Cursor       string
	Notification struct{ ID, Body string }
}

// TestNotificationsResumeFromCursor: a client that disconnects and comes
// back with its last cursor gets what it missed, in order, then goes live.
func TestNotificationsResumeFromCursor(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		ana, _ := env.NewUser(t, admin, "ana@seliq.test", "analyst")
		handle := admin.Do(http.MethodGet, "/api/v1/users/me", nil).String("handle")
		inc := ana.Do(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing"}).String("id")
		mention := func(text string) {
			t.Helper()
			if res := ana.Do(http.MethodPost, "/api/v1/incidents/"+inc+"/notes", map[string]any{"body": "@" + handle + " " + text}); res.Status != http.StatusCreated {
				t.Fatalf("note: %d %s", res.Status, res.Raw)
			}
		}
		const sub = `subscription($after: String) { notificationAdded(after: $after) { cursor notification { id body } } }`
		decode := func(e event) notificationEvent {
			var n notificationEvent
			if err := json.Unmarshal(e.Data["notificationAdded"], &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		p := protocols[0]
		c := mustDial(t, env, p, admin.Authorization)
		c.init()
		c.subscribe("n", sub, resumeVars(t, env))
		mention("first")
		first := decode(c.next("n", latency))
		if first.Notification.Body != "@"+handle+" first" || first.Cursor == "" {
			t.Fatalf("first: %+v", first)
		}
		c.conn.Close() // the client goes away

		mention("second")
		mention("third")
		back := mustDial(t, env, p, admin.Authorization)
		back.init()
		back.subscribe("n", sub, map[string]any{"after": first.Cursor})
		for _, want := range []string{"second", "third"} {
			if got := decode(back.next("n", latency)); got.Notification.Body != "@"+handle+" "+want {
				t.Fatalf("replay: %+v, want %s", got, want)
			}
		}
		mention("fourth")
		if got := decode(back.next("n", latency)); got.Notification.Body != "@"+handle+" fourth" {
			t.Fatalf("live after replay: %+v", got)
		}
		// Ana replays from the start of the outbox and receives none of the
		// admin's four notifications: her first event is her own.
		other := mustDial(t, env, p, ana.Authorization)
		other.init()
		other.subscribe("n", sub, map[string]any{"after": "1"}) // replays: no wait for it to register
		anaHandle := ana.Do(http.MethodGet, "/api/v1/users/me", nil).String("handle")
		if res := admin.Do(http.MethodPost, "/api/v1/incidents/"+inc+"/notes", map[string]any{"body": "@" + anaHandle + " yours"}); res.Status != http.StatusCreated {
			t.Fatalf("note: %d %s", res.Status, res.Raw)
		}
		if got := decode(other.next("n", latency)); got.Notification.Body != "@"+anaHandle+" yours" {
			t.Fatalf("ana received %+v", got)
		}
	})
}

func TestMetricsTick(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		key := admin.ConnectorKey(t, "EDR")
		c := mustDial(t, env, protocols[1], admin.Authorization)
		c.init()
		c.subscribe("m", `subscription { metricsTick { at unassignedAlerts openIncidents openAlertsBySeverity { value count } slaAtRiskIncidents slaBreachedIncidents } }`, nil)
		var tick struct {
			UnassignedAlerts, OpenIncidents, SLAAtRiskIncidents, SLABreachedIncidents int
		}
		if err := json.Unmarshal(c.next("m", latency).Data["metricsTick"], &tick); err != nil || tick.UnassignedAlerts != 0 {
			t.Fatalf("first tick %+v %v", tick, err)
		}
		env.Ingest(t, key, "one")
		env.Ingest(t, key, "two")
		start := time.Now()
		if err := json.Unmarshal(c.next("m", latency).Data["metricsTick"], &tick); err != nil || tick.UnassignedAlerts != 2 {
			t.Fatalf("tick after two alerts %+v %v", tick, err)
		}
		t.Logf("tick after %v (at most one a second)", time.Since(start))

		// A breached SLA timer counts as soon as its job fires.
		res := admin.Do(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Ransomware", "severity": "critical"})
		org := admin.Do(http.MethodGet, "/api/v1/users/me", nil).String("organization_id")
		orgID, incID := uuid.MustParse(org), uuid.MustParse(res.String("id"))
		inc, err := db.Client.Incident.Get(viewer.ForJob(context.Background(), orgID), incID)
		if err != nil {
			t.Fatal(err)
		}
		if fired, err := sla.New(db.Client, nil, nil).Fire(viewer.ForJob(context.Background(), orgID), sla.FireArgs{OrganizationID: orgID,
			IncidentID: incID, Timer: enum.SLATimerAcknowledge, Event: "breach", Due: *inc.SLAAckDueAt, At: *inc.SLAAckDueAt}); err != nil || !fired {
			t.Fatalf("fire: %v %v", fired, err)
		}
		for i := 0; tick.SLABreachedIncidents == 0; i++ {
			if err := json.Unmarshal(c.next("m", latency).Data["metricsTick"], &tick); err != nil || i > 3 {
				t.Fatalf("no tick counting the breach: %+v %v", tick, err)
			}
		}
		if tick.SLABreachedIncidents != 1 || tick.SLAAtRiskIncidents != 0 || tick.OpenIncidents != 1 {
			t.Fatalf("tick after the breach %+v", tick)
		}
	})
}

// TestSubscriptionLimitPerConnection: a connection runs at most
// live.MaxSubscriptionsPerConnection subscriptions at once; closing one
// frees its slot.
func TestSubscriptionLimitPerConnection(t *testing.T) {
	db := testenv.Open(t, testenv.SQLite)
	env := apitest.Start(t, db)
	p := protocols[0]
	c := mustDial(t, env, p, env.Admin().Authorization)
	c.init()
	// Operations start concurrently, so which one is refused is not fixed:
	// exactly one of limit+1 is.
	for i := range live.MaxSubscriptionsPerConnection + 1 {
		c.subscribe(fmt.Sprint("s", i), alertSub, nil)
	}
	m := c.mustRead(t)
	if m.Type != "next" || !strings.Contains(string(m.Payload), "too many subscriptions") || !strings.Contains(string(m.Payload), "RATE_LIMITED") {
		t.Fatalf("the subscription over the limit got %s %s", m.Type, m.Payload)
	}
	refused := m.ID
	c.expect("complete", refused)
	open := "s0"
	if refused == open {
		open = "s1"
	}
	c.mustSend("complete", open, nil)
	vars := resumeVars(t, env)
	key := env.Admin().ConnectorKey(t, "EDR")
	id := env.Ingest(t, key, "after the limit")
	// The server frees the slot once the operation has ended, which the
	// client is not told: subscribe again until it is taken. Every open
	// subscription receives the alert, replayed from vars' cursor.
	deadline := time.Now().Add(latency)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		again := fmt.Sprint("again", attempt)
		c.subscribe(again, alertSubAfter, vars)
		for {
			m := c.mustRead(t)
			if m.ID != again {
				continue
			}
			if strings.Contains(string(m.Payload), "too many subscriptions") {
				c.expect("complete", again)
				break
			}
			if !strings.Contains(string(m.Payload), id) {
				t.Fatalf("%s got %s", again, m.Payload)
			}
			t.Logf("the slot was taken on attempt %d", attempt+1)
			return
		}
	}
	t.Fatal("the freed slot did not take a new subscription")
}

func (c *client) mustRead(t *testing.T) message {
	t.Helper()
	m, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestServerSentEvents: clients that cannot open a WebSocket subscribe
// with a POST accepting text/event-stream, or with a GET carrying the
// operation in its query string (what EventSource sends).
func TestServerSentEvents(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		key := admin.ConnectorKey(t, "EDR")
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(method, func(t *testing.T) {
				op := operation(alertSubAfter)
				op["variables"] = resumeVars(t, env)
				body, _ := json.Marshal(op)
				var req *http.Request
				var err error
				if method == http.MethodPost {
					req, err = http.NewRequest(http.MethodPost, env.URL+"/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
				} else {
					vars, _ := json.Marshal(op["variables"])
					q := url.Values{"query": {alertSubAfter}, "variables": {string(vars)}}
					req, err = http.NewRequest(http.MethodGet, env.URL+"/graphql?"+q.Encode(), nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Accept", "text/event-stream")
				req.Header.Set("Authorization", admin.Authorization)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				resp, err := http.DefaultClient.Do(req.WithContext(ctx))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
					raw, _ := io.ReadAll(resp.Body)
					t.Fatalf("SSE: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
				}
				lines := make(chan string)
				go func() {
					defer close(lines)
					sc := bufio.NewScanner(resp.Body)
					for sc.Scan() {
						lines <- sc.Text()
					}
				}()
				id := env.Ingest(t, key, "over server-sent events "+method)
				for {
					select {
					case l, ok := <-lines:
						if !ok {
							t.Fatal("the stream ended before the event")
						}
						if strings.HasPrefix(l, "data:") && strings.Contains(l, id) {
							if !strings.Contains(l, `"kind":"CREATED"`) {
								t.Fatalf("event %s", l)
							}
							return
						}
					case <-ctx.Done():
						t.Fatal("no event over SSE")
					}
				}
			})
		}
	})
}
