package provider

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestOpenAIStreamEdgeCases(t *testing.T) {
	tests := []struct {
		name      string
		sse       string
		wantErr   string
		wantCalls []ToolCall
	}{
		{
			name: "tool calls without index from a loose server",
			sse: `data: {"choices":[{"delta":{"tool_calls":[{"id":"c1","function":{"name":"a","arguments":"{\"x\":"}}]}}]}` + "\n\n" +
				`data: {"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"1}"}}]}}]}` + "\n\n" +
				`data: {"choices":[{"delta":{"tool_calls":[{"id":"c2","function":{"name":"b","arguments":""}}]}}]}` + "\n\n" +
				`data: {"choices":[{"delta":{},"finish_reason":"tool_calls"}]}` + "\n\ndata: [DONE]\n\n",
			wantCalls: []ToolCall{
				{ID: "c1", Name: "a", Arguments: json.RawMessage(`{"x":1}`)},
				{ID: "c2", Name: "b", Arguments: json.RawMessage(`{}`)},
			},
		},
		{
			name: "missing [DONE] after a finish_reason is accepted",
			sse:  `data: {"choices":[{"delta":{"content":"hi"},"finish_reason":"stop"}]}` + "\n\n",
		},
		{
			name:    "truncated stream is an error",
			sse:     `data: {"choices":[{"delta":{"content":"hi"}}]}` + "\n\n",
			wantErr: "before [DONE]",
		},
		{
			name:    "malformed chunk",
			sse:     "data: {not json\n\n",
			wantErr: "decoding stream chunk",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &oaiStreamState{}
			err := st.consume(newSSEReader(strings.NewReader(tt.sse)), (&collect{}).on)
			checkErrContains(t, err, tt.wantErr)
			if got := st.response().ToolCalls; !reflect.DeepEqual(got, tt.wantCalls) {
				t.Errorf("tool calls = %s", mustJSON(t, got))
			}
		})
	}
}

func TestAnthropicStreamEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		sse     string
		wantErr string
	}{
		{"unknown events and deltas are ignored", "event: future_event\ndata: {\"type\":\"future_event\"}\n\n" +
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n" +
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n" +
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", ""},
		{"truncated before message_stop", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":1}}}\n\n", "before message_stop"},
		{"json delta for unknown block", "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":4,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n", "unknown block 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &antStreamState{}
			err := st.consume(newSSEReader(strings.NewReader(tt.sse)), (&collect{}).on)
			checkErrContains(t, err, tt.wantErr)
		})
	}
}

func checkErrContains(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("err = %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestToolArguments(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `{}`},
		{`{"a":1}`, `{"a":1}`},
		{`{"a":1`, `"{\"a\":1"`}, // malformed stays valid JSON, as a string
	}
	for _, tt := range tests {
		if got := string(toolArguments(tt.in)); got != tt.want {
			t.Errorf("toolArguments(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestEndpointKeepsBaseQuery(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"https://api.openai.com/v1", "/chat/completions", "https://api.openai.com/v1/chat/completions"},
		{"http://localhost:11434/v1/", "/models", "http://localhost:11434/v1/models"},
		{"https://res.openai.azure.com/openai/v1?api-version=preview", "/chat/completions", "https://res.openai.azure.com/openai/v1/chat/completions?api-version=preview"},
		{"https://api.anthropic.com", "/v1/messages", "https://api.anthropic.com/v1/messages"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.base)
		if err != nil {
			t.Fatal(err)
		}
		if got := endpoint(u, tt.path); got != tt.want {
			t.Errorf("endpoint(%q, %q) = %q, want %q", tt.base, tt.path, got, tt.want)
		}
	}
}
