package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// oaiWire mirrors the chat-completions request body a real server accepts;
// decodeStrict rejects anything else.
type oaiWire struct {
	Model         string        `json:"model"`
	Messages      []oaiWireMsg  `json:"messages"`
	Tools         []oaiWireTool `json:"tools"`
	Temperature   *float64      `json:"temperature"`
	MaxTokens     *int          `json:"max_tokens"`
	Stream        bool          `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

type oaiWireMsg struct {
	Role       string            `json:"role"`
	Content    *string           `json:"content"`
	ToolCalls  []oaiWireToolCall `json:"tool_calls"`
	ToolCallID string            `json:"tool_call_id"`
}

type oaiWireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaiWireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// openAIServer validates each request the way the real API does and lets
// reply answer the valid ones. Invalid requests fail the test and get a 400
// in OpenAI's error format.
func openAIServer(t *testing.T, reply func(w http.ResponseWriter, req *oaiWire)) *fakeServer {
	t.Helper()
	return newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("Authorization = %q", got)
			writeJSON(t, w, http.StatusUnauthorized, oaiErr("invalid_api_key", "bad key"))
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
			writeJSON(t, w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{
				{"id": "gpt-4o", "object": "model", "owned_by": "openai"},
				{"id": "llama3.1:8b", "object": "model", "owned_by": "library"},
			}})
		case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
			var req oaiWire
			err := decodeStrict(r, &req)
			if err == nil {
				err = validateOAIRequest(r, &req)
			}
			if err != nil {
				t.Errorf("invalid chat request: %v", err)
				writeJSON(t, w, http.StatusBadRequest, oaiErr("invalid_request_error", err.Error()))
				return
			}
			reply(w, &req)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			writeJSON(t, w, http.StatusNotFound, oaiErr("invalid_request_error", "unknown url"))
		}
	})
}

func oaiErr(typ, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}}
}

func validateOAIRequest(r *http.Request, req *oaiWire) error {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("content-type %q", ct)
	}
	if req.Model == "" {
		return errors.New("model missing")
	}
	if len(req.Messages) == 0 {
		return errors.New("messages empty")
	}
	if req.StreamOptions != nil && !req.Stream {
		return errors.New("stream_options requires stream")
	}
	if req.Stream && r.Header.Get("Accept") != "text/event-stream" {
		return fmt.Errorf("stream with Accept %q", r.Header.Get("Accept"))
	}
	if req.ResponseFormat != nil && req.ResponseFormat.Type != "json_object" {
		return fmt.Errorf("response_format %q", req.ResponseFormat.Type)
	}
	for i, tool := range req.Tools {
		if tool.Type != "function" || tool.Function.Name == "" || !isJSONObject(string(tool.Function.Parameters)) {
			return fmt.Errorf("tools[%d] malformed", i)
		}
	}
	return validateOAIMessages(req.Messages)
}

// validateOAIMessages enforces the API's conversation rules: known roles,
// null content only beside tool_calls, and every tool message answering a
// call of the preceding assistant turn.
func validateOAIMessages(msgs []oaiWireMsg) error {
	pending := map[string]bool{}
	for i, m := range msgs {
		switch m.Role {
		case "system", "user":
			if m.Content == nil {
				return fmt.Errorf("messages[%d]: content missing", i)
			}
		case "assistant":
			if m.Content == nil && len(m.ToolCalls) == 0 {
				return fmt.Errorf("messages[%d]: no content and no tool_calls", i)
			}
			pending = map[string]bool{}
			for _, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || !json.Valid([]byte(tc.Function.Arguments)) {
					return fmt.Errorf("messages[%d]: malformed tool call %+v", i, tc)
				}
				pending[tc.ID] = true
			}
		case "tool":
			if !pending[m.ToolCallID] {
				return fmt.Errorf("messages[%d]: tool message for unknown call %q", i, m.ToolCallID)
			}
			delete(pending, m.ToolCallID)
		default:
			return fmt.Errorf("messages[%d]: role %q", i, m.Role)
		}
		if m.Role != "tool" && m.Role != "assistant" && len(pending) > 0 {
			return fmt.Errorf("messages[%d]: tool calls %v unanswered", i, pending)
		}
	}
	return nil
}

// oaiCompletion is a non-streaming chat.completion body.
func oaiCompletion(content any, toolCalls []map[string]any, finish string) map[string]any {
	msg := map[string]any{"role": "assistant", "content": content}
	if toolCalls != nil {
		msg["tool_calls"] = toolCalls
	}
	return map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-2024-08-06",
		"choices": []map[string]any{{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
	}
}

func oaiToolCallJSON(id, name, args string) map[string]any {
	return map[string]any{"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": args}}
}

// oaiChunkJSON is one chat.completion.chunk with the given choice delta.
func oaiChunkJSON(delta map[string]any, finish any) map[string]any {
	return map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-2024-08-06",
		"choices": []map[string]any{{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		"usage":   nil,
	}
}

// oaiUsageChunk is the last chunk of include_usage streams: no choices.
func oaiUsageChunk(prompt, completion int) map[string]any {
	return map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-2024-08-06",
		"choices": []any{},
		"usage":   map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
	}
}
