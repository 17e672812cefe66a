package aifake

import (
	"encoding/json"
	"net/http"
)

const (
	openAIModelSuffix    = "-2024-08-06"
	anthropicModelSuffix = "-20250929"
)

func openAIFinish(t Turn) string {
	switch {
	case t.Stop != "":
		return t.Stop
	case len(t.ToolCalls) > 0:
		return "tool_calls"
	}
	return "stop"
}

func anthropicStop(t Turn) string {
	switch {
	case t.Stop != "":
		return t.Stop
	case len(t.ToolCalls) > 0:
		return "tool_use"
	}
	return "end_turn"
}

func openAIUsage(u Usage) map[string]any {
	return map[string]any{"prompt_tokens": u.PromptTokens, "completion_tokens": u.CompletionTokens, "total_tokens": u.PromptTokens + u.CompletionTokens}
}

// openAICompletion is a chat.completion object.
func openAICompletion(req Request, t Turn) map[string]any {
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
	if t.Text != "" || len(t.ToolCalls) == 0 {
		msg["content"] = t.Text
	}
	if len(t.ToolCalls) > 0 {
		calls := make([]map[string]any, 0, len(t.ToolCalls))
		for _, tc := range t.ToolCalls {
			calls = append(calls, map[string]any{"id": tc.ID, "type": "function",
				"function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}})
		}
		msg["tool_calls"] = calls
	}
	return map[string]any{
		"id": "chatcmpl-aifake", "object": "chat.completion", "created": 1700000000, "model": req.Model + openAIModelSuffix,
		"choices": []map[string]any{{"index": 0, "message": msg, "logprobs": nil, "finish_reason": openAIFinish(t)}},
		"usage":   openAIUsage(t.Usage),
	}
}

// streamOpenAI writes chat.completion.chunk events: a role chunk, content
// fragments, tool-call fragments (id and name first, arguments split in
// two), a finish chunk, the usage chunk (no choices) when include_usage was
// asked for, then [DONE].
func (s *Server) streamOpenAI(w http.ResponseWriter, r *http.Request, req Request, t Turn) {
	e := startSSE(w, r)
	model := req.Model + openAIModelSuffix
	chunk := func(delta map[string]any, finish any) map[string]any {
		c := map[string]any{
			"id": "chatcmpl-aifake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"system_fingerprint": "fp_aifake",
			"choices":            []map[string]any{{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		}
		if req.IncludeUsage {
			c["usage"] = nil
		}
		return c
	}
	if !e.send("", chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)) {
		return
	}
	for i, part := range t.Chunks {
		if t.FailAfterChunks > 0 && i == t.FailAfterChunks {
			e.send("", map[string]any{"error": map[string]any{"message": "The server had an error while processing your request.", "type": "server_error", "param": nil, "code": nil}})
			return
		}
		if !e.sleep(t.ChunkDelay) || !e.send("", chunk(map[string]any{"content": part}, nil)) {
			return
		}
	}
	for i, tc := range t.ToolCalls {
		head := map[string]any{"index": i, "id": tc.ID, "type": "function", "function": map[string]any{"name": tc.Name, "arguments": ""}}
		if !e.send("", chunk(map[string]any{"tool_calls": []any{head}}, nil)) {
			return
		}
		half := len(tc.Arguments) / 2
		for _, part := range []string{tc.Arguments[:half], tc.Arguments[half:]} {
			frag := map[string]any{"index": i, "function": map[string]any{"arguments": part}}
			if !e.send("", chunk(map[string]any{"tool_calls": []any{frag}}, nil)) {
				return
			}
		}
	}
	if !e.send("", chunk(map[string]any{}, openAIFinish(t))) {
		return
	}
	if req.IncludeUsage {
		e.send("", map[string]any{
			"id": "chatcmpl-aifake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"system_fingerprint": "fp_aifake", "choices": []any{}, "usage": openAIUsage(t.Usage),
		})
	}
	e.send("", "[DONE]")
}

func anthropicUsage(in, out int) map[string]any {
	return map[string]any{"input_tokens": in, "output_tokens": out, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
}

// anthropicMessage is a non-streaming Messages API response.
func (s *Server) anthropicMessage(req Request, t Turn) map[string]any {
	content := []map[string]any{}
	if t.Text != "" {
		content = append(content, map[string]any{"type": "text", "text": t.Text})
	}
	for _, tc := range t.ToolCalls {
		input := json.RawMessage(tc.Arguments)
		if !isJSONObject(input) {
			s.t.Errorf("aifake: Anthropic tool_use input must be an object, scripted %q", tc.Arguments)
			input = json.RawMessage("{}")
		}
		content = append(content, map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": input})
	}
	return map[string]any{
		"id": "msg_aifake", "type": "message", "role": "assistant", "model": req.Model + anthropicModelSuffix,
		"content": content, "stop_reason": anthropicStop(t), "stop_sequence": nil,
		"usage": anthropicUsage(t.Usage.PromptTokens, t.Usage.CompletionTokens),
	}
}

// streamAnthropic writes the Messages streaming events: message_start
// (input tokens), a text block with ping and text_delta events, tool_use
// blocks with input_json_delta fragments, message_delta with the stop
// reason and cumulative output tokens, and message_stop.
func (s *Server) streamAnthropic(w http.ResponseWriter, r *http.Request, req Request, t Turn) {
	e := startSSE(w, r)
	ok := e.send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_aifake", "type": "message", "role": "assistant", "content": []any{}, "model": req.Model + anthropicModelSuffix,
		"stop_reason": nil, "stop_sequence": nil, "usage": anthropicUsage(t.Usage.PromptTokens, 1),
	}})
	if !ok {
		return
	}
	index := 0
	if len(t.Chunks) > 0 {
		e.send("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
		e.send("ping", map[string]any{"type": "ping"})
		for i, part := range t.Chunks {
			if t.FailAfterChunks > 0 && i == t.FailAfterChunks {
				e.send("error", map[string]any{"type": "error", "error": map[string]any{"type": "overloaded_error", "message": "Overloaded"}})
				return
			}
			if !e.sleep(t.ChunkDelay) || !e.send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": part}}) {
				return
			}
		}
		e.send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
		index++
	}
	for _, tc := range t.ToolCalls {
		e.send("content_block_start", map[string]any{"type": "content_block_start", "index": index,
			"content_block": map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": map[string]any{}}})
		half := len(tc.Arguments) / 2
		for _, part := range []string{tc.Arguments[:half], tc.Arguments[half:]} {
			if !e.send("content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "input_json_delta", "partial_json": part}}) {
				return
			}
		}
		e.send("content_block_stop", map[string]any{"type": "content_block_stop", "index": index})
		index++
	}
	e.send("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": anthropicStop(t), "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": t.Usage.CompletionTokens}})
	e.send("message_stop", map[string]any{"type": "message_stop"})
}
