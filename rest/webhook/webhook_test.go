package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/rest/webhook"
	"github.com/seliq/seliq/storage"
)

// env is one organisation on a fresh database with the ingest service.
type env struct {
	db    *storage.DB
	svc   *ingest.Service
	authn *auth.Service
	org   *ent.Organization
}

func newEnv(t *testing.T, db *storage.DB, opts ingest.Options) *env {
	t.Helper()
	return &env{db: db, svc: ingest.New(db, opts), authn: auth.New(db.Client, auth.Config{}), org: testenv.Org(t, db)}
}

// newConnector creates a connector of typ in the organisation and returns
// it with its key.
func (e *env) newConnector(t *testing.T, typ string, set ...func(*ent.ConnectorCreate)) (*ent.Connector, string) {
	t.Helper()
	return testenv.Connector(t, e.db, e.org, typ, set...)
}

// alerts lists the organisation's alerts, oldest first.
func (e *env) alerts(t *testing.T) []*ent.Alert {
	t.Helper()
	all, err := e.db.Client.Alert.Query().Where(alert.OrganizationID(e.org.ID)).
		Order(ent.Asc(alert.FieldCreatedAt), ent.Asc(alert.FieldID)).All(auth.System(context.Background()))
	if err != nil {
		t.Fatalf("list alerts: %v", err)
	}
	return all
}

// actions counts the organisation's alert activity entries by action.
func (e *env) actions(t *testing.T) map[string]int {
	t.Helper()
	all, err := e.db.Client.Activity.Query().Where(activity.OrganizationID(e.org.ID), activity.EntityType("alert")).
		All(auth.System(context.Background()))
	if err != nil {
		t.Fatalf("list activity: %v", err)
	}
	out := map[string]int{}
	for _, a := range all {
		out[a.Action]++
	}
	return out
}

// server is the handler behind a real HTTP server.
func (e *env) server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(webhook.Handler(e.svc, e.authn))
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func post(t *testing.T, url, key string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (r response) result(t *testing.T) ingest.Result {
	t.Helper()
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var res ingest.Result
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return res
}

// 50 concurrent posts of one alert end as one alert seen 50 times.
func TestHandlerConcurrentRepeats(t *testing.T) {
	const posts = 50
	body := testenv.GenericAlert("Beacon to known C2", "ws-17")
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, ingest.Options{})
		c, key := e.newConnector(t, "generic")
		srv := e.server(t)
		results := make([]ingest.ItemResult, posts)
		var wg sync.WaitGroup
		for i := range posts {
			wg.Go(func() {
				res := post(t, srv.URL, key, bytes.NewReader(body)).result(t)
				results[i] = res.Results[0]
			})
		}
		wg.Wait()
		created, occurrences := 0, make([]int, 0, posts)
		for _, r := range results {
			if r.Status == ingest.StatusCreated {
				created++
			}
			occurrences = append(occurrences, r.Occurrences)
		}
		slices.Sort(occurrences)
		if created != 1 || occurrences[0] != 1 || occurrences[posts-1] != posts || len(slices.Compact(occurrences)) != posts {
			t.Errorf("%d created; occurrences %v", created, occurrences)
		}
		all := e.alerts(t)
		if len(all) != 1 || all[0].Occurrences != posts || *all[0].ConnectorID != c.ID {
			t.Fatalf("%d alerts, want one with %d occurrences", len(all), posts)
		}
		if got := e.actions(t); got["create"] != 1 || got["merge"] != posts-1 {
			t.Errorf("activity %v", got)
		}
	})
}

// A 202 carries the Result; an unmappable payload answers 202 too, with
// the dead letter's id.
func TestHandlerAccepted(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, ingest.Options{})
		_, key := e.newConnector(t, "generic")
		_, suricataKey := e.newConnector(t, "suricata")
		srv := e.server(t)

		r := post(t, srv.URL, key, strings.NewReader(`[`+string(testenv.GenericAlert("a", "h1"))+`,`+string(testenv.GenericAlert("b", "h2"))+`]`))
		var raw map[string]any
		if err := json.Unmarshal(r.body, &raw); err != nil || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("body %s: %v", r.body, err)
		}
		if _, has := raw["dead_letter_id"]; has || raw["accepted"] != 2.0 || raw["created"] != 2.0 || raw["merged"] != 0.0 || raw["dead_lettered"] != 0.0 {
			t.Errorf("body %s", r.body)
		}
		if res := r.result(t); len(res.Results) != 2 || len(res.Results[0].Fingerprint) != 16 || res.Results[0].Status != ingest.StatusCreated {
			t.Errorf("results %+v", res.Results)
		}

		empty := post(t, srv.URL, key, strings.NewReader(`[]`))
		if res := empty.result(t); res.Accepted != 0 || !strings.Contains(string(empty.body), `"results":[]`) {
			t.Errorf("empty batch answered %s", empty.body)
		}

		dl := post(t, srv.URL, suricataKey, strings.NewReader(`{"event_type":"stats"}`)).result(t)
		if dl.DeadLettered != 1 || dl.DeadLetterID == nil || dl.Results == nil {
			t.Errorf("dead letter answer %+v", dl)
		}
	})
}

// Refusals carry the status, the code and, for 422, the field's location.
func TestHandlerErrors(t *testing.T) {
	type detail struct {
		Loc []string `json:"loc"`
		Msg string   `json:"msg"`
	}
	const title = `{"title":"x"}`
	tests := []struct {
		name     string
		key      func(good, disabled string) string
		body     string
		streamed bool // no Content-Length: the limit must hold while reading
		method   string
		status   int
		code     string
		loc      []string
		maxBytes int64
	}{
		{name: "missing key", key: func(string, string) string { return "" }, body: title, status: http.StatusUnauthorized, code: "UNAUTHENTICATED"},
		{name: "wrong key", key: func(string, string) string { return "sqk_not-a-key" }, body: title, status: http.StatusUnauthorized, code: "UNAUTHENTICATED"},
		{name: "disabled connector", key: func(_, d string) string { return d }, body: title, status: http.StatusForbidden, code: "FORBIDDEN"},
		{name: "oversize with length", body: `{"title":"` + strings.Repeat("x", 2048) + `"}`, maxBytes: 1024,
			status: http.StatusRequestEntityTooLarge, code: "PAYLOAD_TOO_LARGE"},
		{name: "oversize streamed", body: `{"title":"` + strings.Repeat("x", 2048) + `"}`, streamed: true, maxBytes: 1024,
			status: http.StatusRequestEntityTooLarge, code: "PAYLOAD_TOO_LARGE"},
		{name: "unknown severity", body: `{"title":"x","severity":"apocalyptic"}`,
			status: http.StatusUnprocessableEntity, code: "BAD_USER_INPUT", loc: []string{"body", "severity"}},
		{name: "unknown attribute in a batch", body: `[{"title":"x"},{"title":"y","attributes":{"colour":"red"}}]`,
			status: http.StatusUnprocessableEntity, code: "BAD_USER_INPUT", loc: []string{"body", "1", "attributes", "colour"}},
		{name: "malformed JSON", body: `{"title":`, status: http.StatusUnprocessableEntity, code: "BAD_USER_INPUT", loc: []string{"body"}},
		{name: "empty body", body: "", status: http.StatusUnprocessableEntity, code: "BAD_USER_INPUT", loc: []string{"body"}},
		{name: "GET", method: http.MethodGet, status: http.StatusMethodNotAllowed},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, db, ingest.Options{MaxBodyBytes: tt.maxBytes})
				_, good := e.newConnector(t, "generic")
				_, disabled := e.newConnector(t, "generic", func(c *ent.ConnectorCreate) { c.SetEnabled(false) })
				key := good
				if tt.key != nil {
					key = tt.key(good, disabled)
				}
				method := tt.method
				if method == "" {
					method = http.MethodPost
				}
				var body io.Reader = strings.NewReader(tt.body)
				if tt.streamed {
					body = io.MultiReader(body)
				}
				req, err := http.NewRequest(method, e.server(t).URL, body)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-API-Key", key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var answer struct {
					Detail json.RawMessage `json:"detail"`
					Code   string          `json:"code"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
					t.Fatalf("status %d, undecodable body: %v", resp.StatusCode, err)
				}
				if resp.StatusCode != tt.status || answer.Code != tt.code {
					t.Fatalf("status %d code %q (%s), want %d %q", resp.StatusCode, answer.Code, answer.Detail, tt.status, tt.code)
				}
				if tt.loc != nil {
					var details []detail
					if err := json.Unmarshal(answer.Detail, &details); err != nil || len(details) != 1 ||
						!slices.Equal(details[0].Loc, tt.loc) || details[0].Msg == "" {
						t.Errorf("detail %s, want loc %v", answer.Detail, tt.loc)
					}
				}
				if len(e.alerts(t)) != 0 {
					t.Errorf("a refused post stored alerts")
				}
			})
		}
	})
}

// A connector limited to 3 posts a minute gets 429 with Retry-After on the
// fourth; another connector is not affected.
func TestHandlerRateLimit(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, ingest.Options{})
		_, slow := e.newConnector(t, "generic", func(c *ent.ConnectorCreate) { c.SetRateLimitPerMinute(3) })
		_, other := e.newConnector(t, "generic", func(c *ent.ConnectorCreate) { c.SetRateLimitPerMinute(3) })
		srv := e.server(t)
		body := testenv.GenericAlert("Limited", "h")
		for i := range 3 {
			if r := post(t, srv.URL, slow, bytes.NewReader(body)); r.status != http.StatusAccepted {
				t.Fatalf("post %d: status %d %s", i+1, r.status, r.body)
			}
		}
		r := post(t, srv.URL, slow, bytes.NewReader(body))
		retry, err := strconv.Atoi(r.header.Get("Retry-After"))
		if r.status != http.StatusTooManyRequests || err != nil || retry < 1 || retry > 61 || !strings.Contains(string(r.body), "RATE_LIMITED") {
			t.Errorf("fourth post: status %d Retry-After %q body %s", r.status, r.header.Get("Retry-After"), r.body)
		}
		if r := post(t, srv.URL, other, bytes.NewReader(body)); r.status != http.StatusAccepted {
			t.Errorf("other connector: status %d", r.status)
		}
		if all := e.alerts(t); len(all) != 2 || all[0].Occurrences+all[1].Occurrences != 4 {
			t.Errorf("limited post was stored: %d alerts", len(all))
		}
	})
}
