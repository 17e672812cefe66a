package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

var relatedAlertsTool = Tool{
	Name:        "lookup_related_alerts",
	Description: "Alerts sharing a fingerprint",
	Parameters:  json.RawMessage(`{"type":"object","properties":{"fingerprint":{"type":"string"}},"required":["fingerprint"]}`),
}

var entityHistoryTool = Tool{
	Name:        "entity_history",
	Description: "Past alerts for an entity",
	Parameters:  json.RawMessage(`{"type":"object","properties":{"entity":{"type":"string"}}}`),
}

// toolHistory is a conversation in which the assistant called a tool and
// got its result, as the chat loop will resend it.
var toolHistory = []Message{
	{Role: RoleUser, Content: "Is alert 7 related to anything?"},
	{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "call_1", Name: "lookup_related_alerts", Arguments: json.RawMessage(`{"fingerprint":"fp-9"}`)}}},
	{Role: RoleTool, ToolCallID: "call_1", Content: `[{"id":3,"title":"Brute force"}]`},
}

func TestOpenAIComplete(t *testing.T) {
	tests := []struct {
		name  string
		req   Request
		check func(t *testing.T, w *oaiWire)
		reply map[string]any
		want  Response
	}{
		{
			name: "text with system prompt",
			req: Request{Model: "gpt-4o", System: "You are a SOC analyst.", Temperature: ptr(0.2), MaxTokens: 300,
				Messages: []Message{{Role: RoleUser, Content: "Summarise alert 7"}}},
			check: func(t *testing.T, w *oaiWire) {
				if len(w.Messages) != 2 || w.Messages[0].Role != "system" || *w.Messages[0].Content != "You are a SOC analyst." || w.Messages[1].Role != "user" {
					t.Errorf("messages = %+v", w.Messages)
				}
				if w.Temperature == nil || *w.Temperature != 0.2 || w.MaxTokens == nil || *w.MaxTokens != 300 {
					t.Errorf("temperature/max_tokens = %v/%v", w.Temperature, w.MaxTokens)
				}
				if w.Stream || w.StreamOptions != nil || w.ResponseFormat != nil || w.Tools != nil {
					t.Errorf("unexpected fields: %+v", w)
				}
			},
			reply: oaiCompletion("Brute force from one IP.", nil, "stop"),
			want:  Response{Content: "Brute force from one IP.", Usage: Usage{42, 7}, Model: "gpt-4o-2024-08-06", StopReason: "stop"},
		},
		{
			name: "json mode and provider defaults",
			req:  Request{Model: "llama3.1:8b", JSONOutput: true, Messages: []Message{{Role: RoleUser, Content: "Answer in JSON."}}},
			check: func(t *testing.T, w *oaiWire) {
				if w.ResponseFormat == nil || w.ResponseFormat.Type != "json_object" {
					t.Errorf("response_format = %+v", w.ResponseFormat)
				}
				if w.Temperature != nil || w.MaxTokens != nil {
					t.Errorf("defaults should be omitted: %v %v", w.Temperature, w.MaxTokens)
				}
			},
			reply: oaiCompletion(`{"verdict":"suspicious"}`, nil, "stop"),
			want:  Response{Content: `{"verdict":"suspicious"}`, Usage: Usage{42, 7}, Model: "gpt-4o-2024-08-06", StopReason: "stop"},
		},
		{
			name: "parallel tool calls and tool history",
			req:  Request{Model: "gpt-4o", Tools: []Tool{relatedAlertsTool, entityHistoryTool}, Messages: toolHistory},
			check: func(t *testing.T, w *oaiWire) {
				if len(w.Tools) != 2 || w.Tools[0].Function.Name != "lookup_related_alerts" {
					t.Errorf("tools = %+v", w.Tools)
				}
				jsonEqual(t, w.Tools[0].Function.Parameters, string(relatedAlertsTool.Parameters))
				asst, tool := w.Messages[1], w.Messages[2]
				if asst.Content != nil || len(asst.ToolCalls) != 1 || asst.ToolCalls[0].Function.Arguments != `{"fingerprint":"fp-9"}` {
					t.Errorf("assistant = %+v", asst)
				}
				if tool.Role != "tool" || tool.ToolCallID != "call_1" || *tool.Content != `[{"id":3,"title":"Brute force"}]` {
					t.Errorf("tool = %+v", tool)
				}
			},
			reply: oaiCompletion(nil, []map[string]any{
				oaiToolCallJSON("call_a", "lookup_related_alerts", `{"fingerprint":"fp-1"}`),
				oaiToolCallJSON("call_b", "entity_history", `{"entity":"10.0.0.5"}`),
			}, "tool_calls"),
			want: Response{Usage: Usage{42, 7}, Model: "gpt-4o-2024-08-06", StopReason: "tool_calls", ToolCalls: []ToolCall{
				{ID: "call_a", Name: "lookup_related_alerts", Arguments: json.RawMessage(`{"fingerprint":"fp-1"}`)},
				{ID: "call_b", Name: "entity_history", Arguments: json.RawMessage(`{"entity":"10.0.0.5"}`)},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openAIServer(t, func(w http.ResponseWriter, req *oaiWire) {
				tt.check(t, req)
				writeJSON(t, w, http.StatusOK, tt.reply)
			})
			c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
			got, err := c.Complete(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("response = %+v\nwant       %+v", *got, tt.want)
			}
		})
	}
}

func TestOpenAIStreamText(t *testing.T) {
	srv := openAIServer(t, func(w http.ResponseWriter, req *oaiWire) {
		if !req.Stream || req.StreamOptions == nil || !req.StreamOptions.IncludeUsage {
			t.Errorf("stream fields = %v %+v", req.Stream, req.StreamOptions)
		}
		startSSE(w)
		writeSSE(t, w, "", oaiChunkJSON(map[string]any{"role": "assistant", "content": ""}, nil))
		for _, part := range []string{"Suspicious", " login", " from TOR."} {
			writeSSE(t, w, "", oaiChunkJSON(map[string]any{"content": part}, nil))
		}
		writeSSE(t, w, "", oaiChunkJSON(map[string]any{}, "stop"))
		writeSSE(t, w, "", oaiUsageChunk(50, 3))
		writeSSE(t, w, "", "[DONE]")
	})
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
	var got collect
	resp, err := c.Stream(context.Background(), Request{Model: "gpt-4o", Messages: []Message{{Role: RoleUser, Content: "hi"}}}, got.on)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if want := []string{"Suspicious", " login", " from TOR."}; !reflect.DeepEqual(got.deltas, want) {
		t.Errorf("deltas = %q, want %q", got.deltas, want)
	}
	want := Response{Content: "Suspicious login from TOR.", Usage: Usage{50, 3}, Model: "gpt-4o-2024-08-06", StopReason: "stop"}
	if !reflect.DeepEqual(*resp, want) {
		t.Errorf("response = %+v, want %+v", *resp, want)
	}
}

func TestOpenAIStreamToolCalls(t *testing.T) {
	call := func(index int, id, name, args string) map[string]any {
		fn := map[string]any{"arguments": args}
		tc := map[string]any{"index": index, "function": fn}
		if id != "" {
			tc["id"], tc["type"], fn["name"] = id, "function", name
		}
		return map[string]any{"tool_calls": []any{tc}}
	}
	srv := openAIServer(t, func(w http.ResponseWriter, req *oaiWire) {
		startSSE(w)
		writeSSE(t, w, "", oaiChunkJSON(map[string]any{"role": "assistant", "content": nil}, nil))
		writeSSE(t, w, "", oaiChunkJSON(call(0, "call_a", "lookup_related_alerts", ""), nil))
		writeSSE(t, w, "", oaiChunkJSON(call(0, "", "", `{"finger`), nil))
		writeSSE(t, w, "", oaiChunkJSON(call(1, "call_b", "entity_history", ""), nil))
		writeSSE(t, w, "", oaiChunkJSON(call(0, "", "", `print":"fp-1"}`), nil))
		writeSSE(t, w, "", oaiChunkJSON(call(1, "", "", `{"entity":`), nil))
		writeSSE(t, w, "", oaiChunkJSON(call(1, "", "", `"10.0.0.5"}`), nil))
		writeSSE(t, w, "", oaiChunkJSON(map[string]any{}, "tool_calls"))
		writeSSE(t, w, "", oaiUsageChunk(80, 30))
		writeSSE(t, w, "", "[DONE]")
	})
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
	var got collect
	resp, err := c.Stream(context.Background(), Request{Model: "gpt-4o", Tools: []Tool{relatedAlertsTool, entityHistoryTool}, Messages: toolHistory}, got.on)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if len(got.deltas) != 0 {
		t.Errorf("unexpected text deltas %q", got.deltas)
	}
	want := []ToolCall{
		{ID: "call_a", Name: "lookup_related_alerts", Arguments: json.RawMessage(`{"fingerprint":"fp-1"}`)},
		{ID: "call_b", Name: "entity_history", Arguments: json.RawMessage(`{"entity":"10.0.0.5"}`)},
	}
	if !reflect.DeepEqual(resp.ToolCalls, want) {
		t.Errorf("tool calls = %s", mustJSON(t, resp.ToolCalls))
	}
	if resp.StopReason != "tool_calls" || resp.Usage != (Usage{80, 30}) {
		t.Errorf("stop/usage = %q %+v", resp.StopReason, resp.Usage)
	}
}

func TestOpenAIModels(t *testing.T) {
	srv := openAIServer(t, nil)
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1/")
	got, err := c.Models(context.Background())
	if err != nil {
		t.Fatalf("Models: %v", err)
	}
	if want := []string{"gpt-4o", "llama3.1:8b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("models = %q, want %q", got, want)
	}
}

func TestOpenAINoKeyOmitsAuthorization(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Header["Authorization"]; ok {
			t.Errorf("Authorization sent without a key")
		}
		writeJSON(t, w, http.StatusOK, oaiCompletion("ok", nil, "stop"))
	})
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1", func(c *Config) { c.APIKey = "" })
	if _, err := c.Complete(context.Background(), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

func TestOpenAIErrors(t *testing.T) {
	userMsg := Request{Model: "gpt-4o", Messages: []Message{{Role: RoleUser, Content: "hi"}}}
	tests := []struct {
		name     string
		replies  []func(t *testing.T, w http.ResponseWriter)
		stream   bool
		wantErr  APIError
		wantHits int
	}{
		{
			name: "error body is an APIError and is not retried",
			replies: []func(*testing.T, http.ResponseWriter){func(t *testing.T, w http.ResponseWriter) {
				writeJSON(t, w, http.StatusBadRequest, oaiErr("invalid_request_error", "model not found"))
			}},
			wantErr:  APIError{Status: 400, Type: "invalid_request_error", Message: "model not found"},
			wantHits: 1,
		},
		{
			name: "plain string error from Ollama",
			replies: []func(*testing.T, http.ResponseWriter){func(t *testing.T, w http.ResponseWriter) {
				writeJSON(t, w, http.StatusNotFound, map[string]any{"error": `model "llama9" not found, try pulling it first`})
			}},
			wantErr:  APIError{Status: 404, Message: `model "llama9" not found, try pulling it first`},
			wantHits: 1,
		},
		{
			name: "500 on every attempt gives up after MaxRetries",
			replies: []func(*testing.T, http.ResponseWriter){func(t *testing.T, w http.ResponseWriter) {
				writeJSON(t, w, http.StatusInternalServerError, oaiErr("server_error", "boom"))
			}},
			wantErr:  APIError{Status: 500, Type: "server_error", Message: "boom"},
			wantHits: 3,
		},
		{
			name: "stream 503 before any byte is retried too",
			replies: []func(*testing.T, http.ResponseWriter){func(t *testing.T, w http.ResponseWriter) {
				writeJSON(t, w, http.StatusServiceUnavailable, oaiErr("server_error", "busy"))
			}},
			stream:   true,
			wantErr:  APIError{Status: 503, Type: "server_error", Message: "busy"},
			wantHits: 3,
		},
		{
			name: "error chunk inside a stream",
			replies: []func(*testing.T, http.ResponseWriter){func(t *testing.T, w http.ResponseWriter) {
				startSSE(w)
				writeSSE(t, w, "", oaiChunkJSON(map[string]any{"content": "Hel"}, nil))
				writeSSE(t, w, "", map[string]any{"error": map[string]any{"message": "context length exceeded", "type": "invalid_request_error"}})
			}},
			stream:   true,
			wantErr:  APIError{Type: "invalid_request_error", Message: "context length exceeded"},
			wantHits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openAIServer(t, func(w http.ResponseWriter, _ *oaiWire) { tt.replies[0](t, w) })
			c, log := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
			var err error
			if tt.stream {
				_, err = c.Stream(context.Background(), userMsg, (&collect{}).on)
			} else {
				_, err = c.Complete(context.Background(), userMsg)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want APIError", err)
			}
			if *apiErr != tt.wantErr {
				t.Errorf("APIError = %+v, want %+v", *apiErr, tt.wantErr)
			}
			if got := int(srv.hits.Load()); got != tt.wantHits {
				t.Errorf("hits = %d, want %d", got, tt.wantHits)
			}
			waits := log.get()
			if len(waits) != tt.wantHits-1 {
				t.Fatalf("waits = %v, want %d", waits, tt.wantHits-1)
			}
			for i, d := range waits {
				if lo, hi := backoffBounds(i); d < lo || d > hi {
					t.Errorf("wait %d = %v, want within [%v, %v]", i, d, lo, hi)
				}
			}
		})
	}
}

// backoffBounds is the equal-jitter window of retry i.
func backoffBounds(i int) (time.Duration, time.Duration) {
	step := min(backoffCap, backoffBase<<i)
	return step / 2, step
}

func TestOpenAIRetryAfterThenSuccess(t *testing.T) {
	var srv *fakeServer
	srv = openAIServer(t, func(w http.ResponseWriter, _ *oaiWire) {
		if srv.hits.Load() == 1 {
			w.Header().Set("Retry-After", "2")
			writeJSON(t, w, http.StatusTooManyRequests, oaiErr("rate_limit_exceeded", "slow down"))
			return
		}
		writeJSON(t, w, http.StatusOK, oaiCompletion("done", nil, "stop"))
	})
	c, log := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
	resp, err := c.Complete(context.Background(), Request{Model: "gpt-4o", Messages: []Message{{Role: RoleUser, Content: "hi"}}})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if resp.Content != "done" || srv.hits.Load() != 2 {
		t.Errorf("content %q after %d hits", resp.Content, srv.hits.Load())
	}
	if waits := log.get(); !reflect.DeepEqual(waits, []time.Duration{2 * time.Second}) {
		t.Errorf("waits = %v, want [2s] from Retry-After", waits)
	}
}

func TestOpenAINoRetryAfterPartialStream(t *testing.T) {
	srv := openAIServer(t, func(w http.ResponseWriter, _ *oaiWire) {
		startSSE(w)
		writeSSE(t, w, "", oaiChunkJSON(map[string]any{"content": "Hel"}, nil))
		panic(http.ErrAbortHandler) // drop the connection mid-stream
	})
	c, log := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
	var got collect
	_, err := c.Stream(context.Background(), Request{Model: "gpt-4o", Messages: []Message{{Role: RoleUser, Content: "hi"}}}, got.on)
	if err == nil {
		t.Fatal("want an error for a truncated stream")
	}
	if srv.hits.Load() != 1 || len(log.get()) != 0 {
		t.Errorf("retried after deltas: hits %d, waits %v", srv.hits.Load(), log.get())
	}
	if !reflect.DeepEqual(got.deltas, []string{"Hel"}) {
		t.Errorf("deltas = %q", got.deltas)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
