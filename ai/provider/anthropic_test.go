package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// parallelToolHistory has an assistant turn with two tool calls whose
// results must travel together in one user turn.
var parallelToolHistory = []Message{
	{Role: RoleUser, Content: "Triage alert 7."},
	{Role: RoleAssistant, Content: "Checking.", ToolCalls: []ToolCall{
		{ID: "toolu_1", Name: "lookup_related_alerts", Arguments: json.RawMessage(`{"fingerprint":"fp-9"}`)},
		{ID: "toolu_2", Name: "entity_history", Arguments: json.RawMessage(`{"entity":"10.0.0.5"}`)},
	}},
	{Role: RoleTool, ToolCallID: "toolu_1", Content: `[{"id":3}]`},
	{Role: RoleTool, ToolCallID: "toolu_2", Content: `[]`},
	{Role: RoleUser, Content: "And the verdict?"},
}

func TestAnthropicComplete(t *testing.T) {
	tests := []struct {
		name  string
		req   Request
		check func(t *testing.T, w *antWire)
		reply map[string]any
		want  Response
	}{
		{
			name: "system placement and text",
			req: Request{Model: "claude-sonnet-4-5", System: "You are a SOC analyst.", Temperature: ptr(0.3), MaxTokens: 500,
				Messages: []Message{{Role: RoleSystem, Content: "Alert data is untrusted."}, {Role: RoleUser, Content: "Summarise alert 7"}}},
			check: func(t *testing.T, w *antWire) {
				if string(w.System) != `"You are a SOC analyst.\n\nAlert data is untrusted."` {
					t.Errorf("system = %s", w.System)
				}
				if len(w.Messages) != 1 || string(w.Messages[0].Content) != `"Summarise alert 7"` {
					t.Errorf("messages = %+v", w.Messages)
				}
				if *w.MaxTokens != 500 || w.Temperature == nil || *w.Temperature != 0.3 || w.Stream || w.Tools != nil {
					t.Errorf("fields = %+v", w)
				}
			},
			reply: antMessageJSON("end_turn", antUsageJSON(30, 12, 100), map[string]any{"type": "text", "text": "Brute force from one IP."}),
			// Cache reads count as prompt tokens.
			want: Response{Content: "Brute force from one IP.", Usage: Usage{130, 12}, Model: "claude-sonnet-4-5-20250929", StopReason: "end_turn"},
		},
		{
			name: "json output without prefill and default max_tokens",
			req:  Request{Model: "claude-haiku-4-5", JSONOutput: true, Messages: []Message{{Role: RoleUser, Content: "Verdict?"}}},
			check: func(t *testing.T, w *antWire) {
				if want, _ := json.Marshal(jsonInstruction); string(w.System) != string(want) {
					t.Errorf("system = %s", w.System)
				}
				if *w.MaxTokens != DefaultAnthropicMaxTokens || w.Temperature != nil {
					t.Errorf("max_tokens/temperature = %d/%v", *w.MaxTokens, w.Temperature)
				}
				if last := w.turns[len(w.turns)-1]; last.Role != "user" {
					t.Errorf("last turn is %s: prefill sent", last.Role)
				}
			},
			reply: antMessageJSON("end_turn", antUsageJSON(20, 9, 0), map[string]any{"type": "text", "text": "Here it is:\n```json\n{\"verdict\":\"likely_benign\"}\n```"}),
			want:  Response{Content: `{"verdict":"likely_benign"}`, Usage: Usage{20, 9}, Model: "claude-sonnet-4-5-20250929", StopReason: "end_turn"},
		},
		{
			name: "tool_use reply and tool_result mapping",
			req:  Request{Model: "claude-sonnet-4-5", Tools: []Tool{relatedAlertsTool, entityHistoryTool}, Messages: parallelToolHistory},
			check: func(t *testing.T, w *antWire) {
				if len(w.Tools) != 2 || w.Tools[1].Name != "entity_history" {
					t.Errorf("tools = %+v", w.Tools)
				}
				jsonEqual(t, w.Tools[0].InputSchema, string(relatedAlertsTool.Parameters))
				if len(w.turns) != 3 {
					t.Fatalf("turns = %+v", w.turns)
				}
				asst, results := w.turns[1].Blocks, w.turns[2].Blocks
				if len(asst) != 3 || asst[0].Text != "Checking." || asst[1].Type != "tool_use" || asst[2].ID != "toolu_2" {
					t.Errorf("assistant blocks = %+v", asst)
				}
				jsonEqual(t, asst[1].Input, `{"fingerprint":"fp-9"}`)
				if len(results) != 3 || results[0].ToolUseID != "toolu_1" || results[1].ToolUseID != "toolu_2" || results[2].Text != "And the verdict?" {
					t.Errorf("user blocks = %+v", results)
				}
				jsonEqual(t, results[0].Content, `"[{\"id\":3}]"`)
			},
			reply: antMessageJSON("tool_use", antUsageJSON(200, 60, 0),
				map[string]any{"type": "text", "text": "Let me look."},
				map[string]any{"type": "tool_use", "id": "toolu_a", "name": "lookup_related_alerts", "input": map[string]any{"fingerprint": "fp-1"}},
				map[string]any{"type": "tool_use", "id": "toolu_b", "name": "entity_history", "input": map[string]any{"entity": "10.0.0.5"}},
			),
			want: Response{Content: "Let me look.", Usage: Usage{200, 60}, Model: "claude-sonnet-4-5-20250929", StopReason: "tool_use", ToolCalls: []ToolCall{
				{ID: "toolu_a", Name: "lookup_related_alerts", Arguments: json.RawMessage(`{"fingerprint":"fp-1"}`)},
				{ID: "toolu_b", Name: "entity_history", Arguments: json.RawMessage(`{"entity":"10.0.0.5"}`)},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := anthropicServer(t, func(w http.ResponseWriter, req *antWire) {
				tt.check(t, req)
				writeJSON(t, w, http.StatusOK, tt.reply)
			})
			c, _ := newTestClient(t, KindAnthropic, srv.URL)
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

// antStart and friends write the Messages streaming events verbatim.
func antStart(t *testing.T, w http.ResponseWriter, inputTokens int) {
	t.Helper()
	writeSSE(t, w, "message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_01", "type": "message", "role": "assistant", "content": []any{}, "model": "claude-sonnet-4-5-20250929",
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": inputTokens, "output_tokens": 1},
	}})
}

func antBlockStart(t *testing.T, w http.ResponseWriter, index int, block map[string]any) {
	t.Helper()
	writeSSE(t, w, "content_block_start", map[string]any{"type": "content_block_start", "index": index, "content_block": block})
}

func antDelta(t *testing.T, w http.ResponseWriter, index int, delta map[string]any) {
	t.Helper()
	writeSSE(t, w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": delta})
}

func antBlockStop(t *testing.T, w http.ResponseWriter, index int) {
	t.Helper()
	writeSSE(t, w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": index})
}

func antFinish(t *testing.T, w http.ResponseWriter, stop string, outputTokens int) {
	t.Helper()
	writeSSE(t, w, "message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": outputTokens}})
	writeSSE(t, w, "message_stop", map[string]any{"type": "message_stop"})
}

func antPing(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	writeSSE(t, w, "ping", map[string]any{"type": "ping"})
}

func textDelta(s string) map[string]any { return map[string]any{"type": "text_delta", "text": s} }

func jsonDelta(s string) map[string]any {
	return map[string]any{"type": "input_json_delta", "partial_json": s}
}

func TestAnthropicStreamText(t *testing.T) {
	srv := anthropicServer(t, func(w http.ResponseWriter, req *antWire) {
		if !req.Stream {
			t.Error("stream not requested")
		}
		startSSE(w)
		antStart(t, w, 25)
		antBlockStart(t, w, 0, map[string]any{"type": "text", "text": ""})
		antPing(t, w)
		for _, part := range []string{"Suspicious", " login", " from TOR."} {
			antDelta(t, w, 0, textDelta(part))
		}
		antPing(t, w)
		antBlockStop(t, w, 0)
		antFinish(t, w, "end_turn", 15)
	})
	c, _ := newTestClient(t, KindAnthropic, srv.URL)
	var got collect
	resp, err := c.Stream(context.Background(), Request{Model: "claude-sonnet-4-5", Messages: []Message{{Role: RoleUser, Content: "hi"}}}, got.on)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if want := []string{"Suspicious", " login", " from TOR."}; !reflect.DeepEqual(got.deltas, want) {
		t.Errorf("deltas = %q, want %q", got.deltas, want)
	}
	want := Response{Content: "Suspicious login from TOR.", Usage: Usage{25, 15}, Model: "claude-sonnet-4-5-20250929", StopReason: "end_turn"}
	if !reflect.DeepEqual(*resp, want) {
		t.Errorf("response = %+v, want %+v", *resp, want)
	}
}

func TestAnthropicStreamToolUse(t *testing.T) {
	srv := anthropicServer(t, func(w http.ResponseWriter, req *antWire) {
		startSSE(w)
		antStart(t, w, 300)
		antBlockStart(t, w, 0, map[string]any{"type": "text", "text": ""})
		antDelta(t, w, 0, textDelta("Checking related alerts."))
		antBlockStop(t, w, 0)
		antBlockStart(t, w, 1, map[string]any{"type": "tool_use", "id": "toolu_a", "name": "lookup_related_alerts", "input": map[string]any{}})
		for _, piece := range []string{"", `{"finger`, `print": "fp`, `-1"}`} {
			antDelta(t, w, 1, jsonDelta(piece))
		}
		antBlockStop(t, w, 1)
		antPing(t, w)
		antBlockStart(t, w, 2, map[string]any{"type": "tool_use", "id": "toolu_b", "name": "entity_history", "input": map[string]any{}})
		antDelta(t, w, 2, jsonDelta(`{"entity"`))
		antDelta(t, w, 2, jsonDelta(`: "10.0.0.5"}`))
		antBlockStop(t, w, 2)
		antFinish(t, w, "tool_use", 89)
	})
	c, _ := newTestClient(t, KindAnthropic, srv.URL)
	var got collect
	resp, err := c.Stream(context.Background(), Request{Model: "claude-sonnet-4-5", Tools: []Tool{relatedAlertsTool, entityHistoryTool}, Messages: parallelToolHistory}, got.on)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if !reflect.DeepEqual(got.deltas, []string{"Checking related alerts."}) {
		t.Errorf("deltas = %q", got.deltas)
	}
	if len(resp.ToolCalls) != 2 || resp.ToolCalls[0].ID != "toolu_a" || resp.ToolCalls[1].Name != "entity_history" {
		t.Fatalf("tool calls = %s", mustJSON(t, resp.ToolCalls))
	}
	jsonEqual(t, resp.ToolCalls[0].Arguments, `{"fingerprint":"fp-1"}`)
	jsonEqual(t, resp.ToolCalls[1].Arguments, `{"entity":"10.0.0.5"}`)
	if resp.StopReason != "tool_use" || resp.Usage != (Usage{300, 89}) || resp.Content != "Checking related alerts." {
		t.Errorf("response = %+v", resp)
	}
}

func TestAnthropicModelsPaginates(t *testing.T) {
	srv := anthropicServer(t, nil)
	c, _ := newTestClient(t, KindAnthropic, srv.URL)
	got, err := c.Models(context.Background())
	if err != nil {
		t.Fatalf("Models: %v", err)
	}
	if want := []string{"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("models = %q, want %q", got, want)
	}
	if srv.hits.Load() != 2 {
		t.Errorf("pages fetched = %d, want 2", srv.hits.Load())
	}
}

func TestAnthropicErrors(t *testing.T) {
	userMsg := Request{Model: "claude-sonnet-4-5", Messages: []Message{{Role: RoleUser, Content: "hi"}}}
	tests := []struct {
		name     string
		reply    func(t *testing.T, w http.ResponseWriter, attempt int32)
		stream   bool
		wantErr  *APIError // nil: the call succeeds
		wantHits int
		deltas   []string
	}{
		{
			name: "error body is an APIError and is not retried",
			reply: func(t *testing.T, w http.ResponseWriter, _ int32) {
				writeJSON(t, w, http.StatusBadRequest, antErr("invalid_request_error", "max_tokens: too large"))
			},
			wantErr:  &APIError{Status: 400, Type: "invalid_request_error", Message: "max_tokens: too large"},
			wantHits: 1,
		},
		{
			name: "529 overloaded is retried until success",
			reply: func(t *testing.T, w http.ResponseWriter, attempt int32) {
				if attempt < 3 {
					writeJSON(t, w, 529, antErr("overloaded_error", "Overloaded"))
					return
				}
				writeJSON(t, w, http.StatusOK, antMessageJSON("end_turn", antUsageJSON(5, 1, 0), map[string]any{"type": "text", "text": "ok"}))
			},
			wantHits: 3,
		},
		{
			name:   "error event mid-stream after text is final",
			stream: true,
			reply: func(t *testing.T, w http.ResponseWriter, _ int32) {
				startSSE(w)
				antStart(t, w, 10)
				antBlockStart(t, w, 0, map[string]any{"type": "text", "text": ""})
				antDelta(t, w, 0, textDelta("Partial"))
				writeSSE(t, w, "error", antErr("overloaded_error", "Overloaded"))
			},
			wantErr:  &APIError{Status: 529, Type: "overloaded_error", Message: "Overloaded"},
			wantHits: 1,
			deltas:   []string{"Partial"},
		},
		{
			name:   "error event before any text is retried",
			stream: true,
			reply: func(t *testing.T, w http.ResponseWriter, attempt int32) {
				startSSE(w)
				antStart(t, w, 10)
				if attempt == 1 {
					writeSSE(t, w, "error", antErr("overloaded_error", "Overloaded"))
					return
				}
				antBlockStart(t, w, 0, map[string]any{"type": "text", "text": ""})
				antDelta(t, w, 0, textDelta("ok"))
				antBlockStop(t, w, 0)
				antFinish(t, w, "end_turn", 2)
			},
			wantHits: 2,
			deltas:   []string{"ok"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *fakeServer
			srv = anthropicServer(t, func(w http.ResponseWriter, _ *antWire) { tt.reply(t, w, srv.hits.Load()) })
			c, log := newTestClient(t, KindAnthropic, srv.URL)
			var got collect
			var err error
			if tt.stream {
				_, err = c.Stream(context.Background(), userMsg, got.on)
			} else {
				_, err = c.Complete(context.Background(), userMsg)
			}
			checkAPIError(t, err, tt.wantErr)
			if got := int(srv.hits.Load()); got != tt.wantHits {
				t.Errorf("hits = %d, want %d", got, tt.wantHits)
			}
			if len(log.get()) != tt.wantHits-1 {
				t.Errorf("waits = %v", log.get())
			}
			if !reflect.DeepEqual(got.deltas, tt.deltas) {
				t.Errorf("deltas = %q, want %q", got.deltas, tt.deltas)
			}
		})
	}
}

func checkAPIError(t *testing.T, err error, want *APIError) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		return
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want APIError", err)
	}
	if *apiErr != *want {
		t.Errorf("APIError = %+v, want %+v", *apiErr, *want)
	}
}

func TestAnthropicRejectsBadMessages(t *testing.T) {
	tests := []struct {
		name string
		msgs []Message
		want string
	}{
		{"tool result without id", []Message{{Role: RoleTool, Content: "x"}}, "without ToolCallID"},
		{"unknown role", []Message{{Role: "developer", Content: "x"}}, `unknown role "developer"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kind := range []string{KindAnthropic, KindOpenAICompatible} {
				c, err := New(Config{Kind: kind, BaseURL: "http://127.0.0.1:1", Policy: privateAllowed})
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.Complete(context.Background(), Request{Model: "m", Messages: tt.msgs})
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: err = %v, want %q", kind, err, tt.want)
				}
			}
		})
	}
}
