package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/aifake"
)

// antWire is the Messages API request body as the API accepts it, plus
// turns: Messages with content normalised to blocks.
type antWire struct {
	aifake.AnthropicBody
	turns []antWireTurn
}

type antWireTurn struct {
	Role   string
	Blocks []aifake.AnthropicBlock
}

// anthropicServer validates requests as the Messages API does and lets
// reply answer valid chat requests; GET /v1/models pages through models.
func anthropicServer(t *testing.T, reply func(w http.ResponseWriter, req *antWire)) *fakeServer {
	t.Helper()
	return newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if err := validateAnthropicHeaders(r); err != nil {
			t.Errorf("headers: %v", err)
			writeJSON(t, w, http.StatusUnauthorized, antErr("authentication_error", err.Error()))
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
			anthropicModelsPage(t, w, r)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/messages":
			var req antWire
			err := decodeValidated(r, aifake.ParseAnthropic, &req)
			if err == nil {
				err = decodeTurns(r, &req)
			}
			if err != nil {
				t.Errorf("invalid messages request: %v", err)
				writeJSON(t, w, http.StatusBadRequest, antErr("invalid_request_error", err.Error()))
				return
			}
			reply(w, &req)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			writeJSON(t, w, http.StatusNotFound, antErr("not_found_error", "unknown url"))
		}
	})
}

func anthropicModelsPage(t *testing.T, w http.ResponseWriter, r *http.Request) {
	t.Helper()
	if r.URL.Query().Get("limit") != "1000" {
		t.Errorf("models limit = %q", r.URL.Query().Get("limit"))
	}
	page := map[string]any{"data": []map[string]any{
		{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
		{"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "created_at": "2025-10-01T00:00:00Z"},
	}, "has_more": true, "first_id": "claude-sonnet-4-5", "last_id": "claude-haiku-4-5"}
	if r.URL.Query().Get("after_id") == "claude-haiku-4-5" {
		page = map[string]any{"data": []map[string]any{
			{"type": "model", "id": "claude-opus-4-1", "display_name": "Claude Opus 4.1", "created_at": "2025-08-05T00:00:00Z"},
		}, "has_more": false, "first_id": "claude-opus-4-1", "last_id": "claude-opus-4-1"}
	}
	writeJSON(t, w, http.StatusOK, page)
}

func antErr(typ, msg string) map[string]any {
	return map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}}
}

func validateAnthropicHeaders(r *http.Request) error {
	switch {
	case r.Header.Get("x-api-key") != testKey:
		return fmt.Errorf("x-api-key = %q", r.Header.Get("x-api-key"))
	case r.Header.Get("anthropic-version") != "2023-06-01":
		return fmt.Errorf("anthropic-version = %q", r.Header.Get("anthropic-version"))
	case r.Header.Get("Authorization") != "":
		return errors.New("Authorization header must not be sent")
	case r.Method == http.MethodPost && r.Header.Get("content-type") != "application/json":
		return fmt.Errorf("content-type = %q", r.Header.Get("content-type"))
	}
	return nil
}

// decodeTurns fills req.turns with each message's content as blocks, for
// assertions; aifake has validated the conversation.
func decodeTurns(r *http.Request, req *antWire) error {
	if req.Stream && r.Header.Get("Accept") != "text/event-stream" {
		return fmt.Errorf("stream with Accept %q", r.Header.Get("Accept"))
	}
	for i, m := range req.Messages {
		blocks, err := antWireBlocks(m.Content)
		if err != nil {
			return fmt.Errorf("messages.%d: %w", i, err)
		}
		req.turns = append(req.turns, antWireTurn{Role: m.Role, Blocks: blocks})
	}
	return nil
}

// antWireBlocks accepts content as a string or strictly decoded blocks.
func antWireBlocks(raw json.RawMessage) ([]aifake.AnthropicBlock, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, errors.New("content: empty string")
		}
		return []aifake.AnthropicBlock{{Type: "text", Text: s}}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var blocks []aifake.AnthropicBlock
	if err := dec.Decode(&blocks); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	if len(blocks) == 0 {
		return nil, errors.New("content: empty")
	}
	return blocks, nil
}

// antMessageJSON is a non-streaming Messages API response.
func antMessageJSON(stop string, usage map[string]any, content ...map[string]any) map[string]any {
	return map[string]any{
		"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
		"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": usage,
	}
}

func antUsageJSON(in, out, cacheRead int) map[string]any {
	return map[string]any{"input_tokens": in, "output_tokens": out, "cache_creation_input_tokens": 0, "cache_read_input_tokens": cacheRead}
}
