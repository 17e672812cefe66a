package stream_test

// Streamed chat answers over a real WebSocket: the subscription sends the
// question and streams the answer from the provider (internal/aifake) or
// the built-in analyst, ending with the stored message.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/chat"
	"github.com/seliq/seliq/internal/aifake"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

const alertChatSub = `subscription($id: ID!, $m: String!) {
  alertChat(alertID: $id, message: $m) { delta done message { id role content createdAt } userMessage { id content } } }`

const incidentChatSub = `subscription($id: ID!, $m: String!) {
  incidentChat(incidentID: $id, message: $m) { delta done message { id role content } } }`

type chatEvent struct {
	Delta   string
	Done    bool
	Message *struct {
		ID, Role, Content string
	}
	UserMessage *struct{ ID, Content string }
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// chatStream is what one chat subscription delivered.
type chatStream struct {
	deltas     []string
	last       chatEvent
	errors     []gqlError
	firstDelta time.Duration
	completed  bool
}

// runChat subscribes to query as c and reads until the operation
// completes (or errs at start).
func runChat(t *testing.T, c *client, id, query, field string, vars map[string]any) chatStream {
	t.Helper()
	var out chatStream
	start := time.Now()
	c.subscribe(id, query, vars)
	for {
		m, err := c.read()
		if err != nil {
			t.Fatalf("reading %s: %v (so far %+v)", id, err, out)
		}
		if m.ID != id {
			t.Fatalf("message for %q: %s %s", m.ID, m.Type, m.Payload)
		}
		switch m.Type {
		case "complete":
			out.completed = true
			return out
		case "error": // graphql-transport-ws refusal at start: an array of errors
			if err := json.Unmarshal(m.Payload, &out.errors); err != nil {
				var one gqlError
				_ = json.Unmarshal(m.Payload, &one)
				out.errors = []gqlError{one}
			}
			if c.proto.name == "graphql-transport-ws" {
				return out
			}
			continue
		case c.proto.result:
		default:
			t.Fatalf("unexpected %s %s", m.Type, m.Payload)
		}
		var payload struct {
			Data   map[string]*chatEvent `json:"data"`
			Errors []gqlError            `json:"errors"`
		}
		if err := json.Unmarshal(m.Payload, &payload); err != nil {
			t.Fatal(err)
		}
		out.errors = append(out.errors, payload.Errors...)
		ev := payload.Data[field]
		if ev == nil {
			continue
		}
		if ev.Delta != "" {
			if len(out.deltas) == 0 {
				out.firstDelta = time.Since(start)
			}
			out.deltas = append(out.deltas, ev.Delta)
		}
		if ev.Done {
			out.last = *ev
		}
	}
}

func (s chatStream) code() string {
	if len(s.errors) == 0 {
		return ""
	}
	c, _ := s.errors[0].Extensions["code"].(string)
	return c
}

func initAs(t *testing.T, env *apitest.Env, p protocol, c *apitest.Client) *client {
	t.Helper()
	ws := mustDial(t, env, p, "")
	payload := map[string]any{"Authorization": c.Authorization}
	if c.Org != "" {
		payload["X-Seliq-Org"] = c.Org
	}
	ws.mustSend("connection_init", "", payload)
	ws.expect("connection_ack", "")
	return ws
}

func TestChatSubscription(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db, apitest.Options{OutboundAllow: aifake.Loopback})
		admin := env.Admin()
		admin.Must(t, http.MethodPost, "/api/v1/users", map[string]any{"email": "reader@chat.test", "role": "read_only", "password": "reader-password-01"}, http.StatusCreated)
		reader := env.Login("reader@chat.test", "reader-password-01")
		alertID := env.Ingest(t, admin.ConnectorKey(t, "EDR"), "Execution via PowerShell with encoded command")
		incidentID := admin.Must(t, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Intrusion", "alert_ids": []string{alertID}}, http.StatusCreated).String("id")
		admin.Must(t, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
		acmeAlert := env.Ingest(t, admin.As("acme").ConnectorKey(t, "acme EDR"), "acme's alert")
		vars := map[string]any{"id": alertID, "m": "Is it malicious?"}
		historyLen := func() int {
			return len(admin.Must(t, http.MethodGet, "/api/v1/alerts/"+alertID+"/chat", nil, http.StatusOK).Items())
		}

		for _, fp := range []aifake.Protocol{aifake.OpenAI, aifake.Anthropic} {
			t.Run(string(fp), func(t *testing.T) {
				fake := aifake.New(t, fp)
				admin.Must(t, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"provider": string(fp), "base_url": fake.BaseURL(),
					"api_key": fake.Key, "model": "m", "features": map[string]any{"chat": true}}, http.StatusOK)
				parts := []string{"The ", "alert ", "looks ", "malicious: ", "encoded ", "PowerShell."}
				fake.Enqueue(aifake.Turn{Text: strings.Join(parts, ""), Chunks: parts, ChunkDelay: 10 * time.Millisecond})
				before := historyLen()
				ws := initAs(t, env, protocols[0], admin)
				got := runChat(t, ws, "c1", alertChatSub, "alertChat", vars)
				if got.code() != "" || !got.completed {
					t.Fatalf("stream: %+v", got)
				}
				if strings.Join(got.deltas, "") != strings.Join(parts, "") || len(got.deltas) != len(parts) {
					t.Fatalf("deltas %q", got.deltas)
				}
				if m := got.last.Message; m == nil || m.Role != "ASSISTANT" || m.Content != strings.Join(parts, "") || got.last.UserMessage.Content != "Is it malicious?" {
					t.Fatalf("last event %+v", got.last)
				}
				if r := fake.Requests()[0]; !r.Stream || (fp == aifake.OpenAI && !r.IncludeUsage) {
					t.Fatalf("not a streaming request: %+v", r)
				}
				if n := historyLen(); n != before+2 {
					t.Fatalf("history %d → %d", before, n)
				}
				t.Logf("%s: first delta after %v over WebSocket (%d deltas)", fp, got.firstDelta, len(got.deltas))

				// A tool round, then the answer, streamed.
				fake.Enqueue(aifake.Turn{ToolCalls: []aifake.ToolCall{{Name: "alert_details", Arguments: `{"alert_id":"` + acmeAlert + `"}`}}},
					aifake.Turn{Text: "Nothing more found."})
				got = runChat(t, ws, "c2", alertChatSub, "alertChat", vars)
				if got.last.Message == nil || got.last.Message.Content != "Nothing more found." {
					t.Fatalf("tool stream: %+v", got)
				}
				reqs := fake.Requests()
				if res := reqs[len(reqs)-1].ToolResultsText(); len(res) != 1 || !strings.Contains(res[0], "not found") || strings.Contains(res[0], "acme's alert") {
					t.Fatalf("another organisation's alert reached the provider: %q", res)
				}

				// The provider fails mid-stream: the stream ends with the
				// error, and nothing is stored.
				before = historyLen()
				fake.Enqueue(aifake.Turn{Chunks: []string{"a ", "b ", "c"}, Text: "a b c", FailAfterChunks: 2})
				got = runChat(t, ws, "c3", alertChatSub, "alertChat", vars)
				if strings.Join(got.deltas, "") != "a b " || !got.last.Done || got.last.Message != nil || got.code() != "INTERNAL" ||
					!strings.Contains(got.errors[0].Message, "nothing was stored") {
					t.Fatalf("failed stream: %+v", got)
				}
				if n := historyLen(); n != before {
					t.Fatalf("a failed stream stored messages: %d → %d", before, n)
				}
			})
		}

		admin.Must(t, http.MethodPatch, "/api/v1/settings/ai", map[string]any{"provider": "builtin"}, http.StatusOK)
		for _, p := range protocols {
			t.Run("builtin "+p.name, func(t *testing.T) {
				ws := initAs(t, env, p, admin)
				got := runChat(t, ws, "b1", incidentChatSub, "incidentChat", map[string]any{"id": incidentID, "m": "what should I do next?"})
				if got.code() != "" || len(got.deltas) < 3 || !strings.HasPrefix(strings.Join(got.deltas, ""), chat.Disclosure) ||
					got.last.Message == nil || got.last.Message.Content != strings.Join(got.deltas, "") {
					t.Fatalf("built-in stream: %d deltas, %+v", len(got.deltas), got)
				}
			})
		}

		t.Run("refusals", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				as    *apitest.Client
				query string
				field string
				vars  map[string]any
				code  string
			}{
				{"read_only cannot send", reader, alertChatSub, "alertChat", vars, "FORBIDDEN"},
				{"another organisation's alert", admin, alertChatSub, "alertChat", map[string]any{"id": acmeAlert, "m": "hi"}, "NOT_FOUND"},
				{"the home incident from inside acme", admin.As("acme"), incidentChatSub, "incidentChat", map[string]any{"id": incidentID, "m": "hi"}, "NOT_FOUND"},
				{"empty question", admin, alertChatSub, "alertChat", map[string]any{"id": alertID, "m": "  "}, "BAD_USER_INPUT"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := historyLen()
					ws := initAs(t, env, protocols[0], tc.as)
					got := runChat(t, ws, "r", tc.query, tc.field, tc.vars)
					if got.code() != tc.code || len(got.deltas) != 0 {
						t.Fatalf("got %+v, want %s", got, tc.code)
					}
					if n := historyLen(); n != before {
						t.Fatalf("a refused question was stored")
					}
				})
			}
		})
	})
}
