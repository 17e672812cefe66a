package provider

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/aifake"
)

// oaiWire is the chat-completions request body as a real server accepts it.
type oaiWire = aifake.OpenAIBody

// openAIServer validates each request the way the real API does (through
// aifake, the fake the rest of Seliq tests with) and lets reply answer the
// valid ones. Invalid requests fail the test and get a 400
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
			err := decodeValidated(r, aifake.ParseOpenAI, &req)
			if err == nil && req.Stream && r.Header.Get("Accept") != "text/event-stream" {
				err = fmt.Errorf("stream with Accept %q", r.Header.Get("Accept"))
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
