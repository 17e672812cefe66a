// Package aifake is a scriptable, local stand-in for a model provider, for
// tests. One Server speaks one wire protocol: OpenAI-compatible chat
// completions (POST /v1/chat/completions, GET /v1/models) or Anthropic's
// Messages API (POST /v1/messages, GET /v1/models).
//
// It checks every request the way the real API does (credentials, required
// fields, unknown fields, conversation ordering, tool results matching the
// tool calls of the previous assistant turn, max_tokens for Anthropic) and
// answers valid ones from a queue of scripted Turns: text, tool calls,
// usage, HTTP errors, or server-sent event streams in the protocol's own
// event format. Every request is recorded so tests can assert on what the
// model was shown. An invalid request or an empty queue fails the test.
//
// The package speaks only the wire protocols; it does not import Seliq's
// provider client, so that client's own tests can use it too.
package aifake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seliq/seliq/outbound"
)

// Loopback is the range fake servers listen on; clients reach them only
// under a policy allowing it (Policy, or SELIQ_OUTBOUND_ALLOW in a server).
const Loopback = "127.0.0.0/8"

// Policy is the outbound policy that lets a client reach fake servers.
func Policy() *outbound.Policy { return outbound.NewPolicy(netip.MustParsePrefix(Loopback)) }

// Protocol is the wire protocol a Server speaks.
type Protocol string

// The protocols. The values equal Seliq's provider kinds.
const (
	OpenAI    Protocol = "openai_compatible"
	Anthropic Protocol = "anthropic"
)

// DefaultKey is the API key a Server accepts unless Options.Key is set.
const DefaultKey = "sk-aifake-test"

// AnthropicVersion is the anthropic-version header value required.
const AnthropicVersion = "2023-06-01"

// ToolCall is a scripted (or recorded) call of a tool. Arguments is the raw
// argument text. OpenAI passes the model's text through unchanged, so it
// may deliberately be malformed JSON there; Anthropic's tool_use input is
// always an object, so a non-object Arguments can only be scripted for
// streamed Anthropic replies (it goes out in partial_json deltas) and fails
// the test in a non-streaming one.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Usage is the token count a turn reports.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Turn is one scripted answer.
type Turn struct {
	// Text is the assistant's text. Empty with ToolCalls: a pure tool turn.
	Text string
	// ToolCalls are tool requests; IDs default to call_N / toolu_N.
	ToolCalls []ToolCall
	// Usage reported; zero means PromptTokens = request bytes / 4 and
	// CompletionTokens = number of text chunks + tool calls (at least 1).
	Usage Usage
	// Chunks split Text for streaming; nil splits after each space.
	Chunks []string
	// ChunkDelay is slept before each streamed chunk.
	ChunkDelay time.Duration
	// Status, when non-zero, answers with this HTTP status and an error
	// body in the protocol's format (e.g. 429, 500, 529 for Anthropic).
	Status int
	// ErrorMessage is the error's message (default: http.StatusText).
	ErrorMessage string
	// RetryAfter is sent as the Retry-After header with an error.
	RetryAfter string
	// FailAfterChunks > 0 breaks a stream after that many text chunks
	// with an in-stream error event (Anthropic) or error chunk (OpenAI).
	FailAfterChunks int
	// Stop overrides the finish/stop reason.
	Stop string
}

// Options configure a Server.
type Options struct {
	// Key is the API key required; empty means DefaultKey.
	Key string
	// Models lists the ids /v1/models returns; nil gives a default set.
	Models []string
}

// Server is a fake provider. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	Protocol Protocol
	Key      string

	t      testing.TB
	models []string

	mu       sync.Mutex
	queue    []Turn
	requests []Request
	calls    int
}

// New starts a fake of protocol p, closed when the test ends.
func New(t testing.TB, p Protocol, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s := &Server{Protocol: p, Key: o.Key, t: t, models: o.Models}
	if s.Key == "" {
		s.Key = DefaultKey
	}
	if s.models == nil {
		if p == Anthropic {
			s.models = []string{"claude-sonnet-4-5", "claude-haiku-4-5"}
		} else {
			s.models = []string{"gpt-4o", "gpt-4o-mini"}
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the base URL to configure a client with: the server root for
// Anthropic, root + "/v1" for OpenAI-compatible clients.
func (s *Server) BaseURL() string {
	if s.Protocol == Anthropic {
		return s.URL
	}
	return s.URL + "/v1"
}

// Enqueue appends scripted turns; each completion request takes the next.
func (s *Server) Enqueue(turns ...Turn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, turns...)
}

// Pending is the number of scripted turns not yet used.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Requests returns the completion requests received so far (valid or not;
// see Request.Invalid), oldest first. Models requests are not included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reset drops recorded requests and queued turns.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue, s.requests = nil, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := s.checkAuth(r); err != nil {
		s.t.Errorf("aifake: %s %s: %v", r.Method, r.URL.Path, err)
		s.writeError(w, http.StatusUnauthorized, "authentication_error", err.Error(), "")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		s.serveModels(w, r)
	case r.Method == http.MethodPost && s.Protocol == OpenAI && r.URL.Path == "/v1/chat/completions",
		r.Method == http.MethodPost && s.Protocol == Anthropic && r.URL.Path == "/v1/messages":
		s.serveCompletion(w, r)
	default:
		s.t.Errorf("aifake: unexpected %s %s", r.Method, r.URL.Path)
		s.writeError(w, http.StatusNotFound, "not_found_error", "unknown url "+r.URL.Path, "")
	}
}

func (s *Server) checkAuth(r *http.Request) error {
	if s.Protocol == OpenAI {
		if got := r.Header.Get("Authorization"); got != "Bearer "+s.Key {
			return fmt.Errorf("the Authorization header is %q, want a Bearer token with the key", got)
		}
		return nil
	}
	switch {
	case r.Header.Get("x-api-key") != s.Key:
		return fmt.Errorf("x-api-key = %q", r.Header.Get("x-api-key"))
	case r.Header.Get("anthropic-version") != AnthropicVersion:
		return fmt.Errorf("anthropic-version = %q, want %s", r.Header.Get("anthropic-version"), AnthropicVersion)
	case r.Header.Get("Authorization") != "":
		return errors.New("an Authorization header was sent to Anthropic")
	}
	return nil
}

func (s *Server) serveModels(w http.ResponseWriter, r *http.Request) {
	if s.Protocol == OpenAI {
		data := make([]map[string]any, 0, len(s.models))
		for _, id := range s.models {
			data = append(data, map[string]any{"id": id, "object": "model", "created": 1700000000, "owned_by": "aifake"})
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
		return
	}
	// Anthropic pages with limit and after_id.
	ids := s.models
	if after := r.URL.Query().Get("after_id"); after != "" {
		for i, id := range ids {
			if id == after {
				ids = ids[i+1:]
				break
			}
		}
	}
	limit := 20
	if l := r.URL.Query().Get("limit"); l != "" {
		if _, err := fmt.Sscanf(l, "%d", &limit); err != nil || limit < 1 || limit > 1000 {
			s.writeError(w, http.StatusBadRequest, "invalid_request_error", "limit: must be 1..1000", "")
			return
		}
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	data := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		data = append(data, map[string]any{"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"})
	}
	page := map[string]any{"data": data, "has_more": more, "first_id": nil, "last_id": nil}
	if len(ids) > 0 {
		page["first_id"], page["last_id"] = ids[0], ids[len(ids)-1]
	}
	s.writeJSON(w, http.StatusOK, page)
}

func (s *Server) serveCompletion(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "reading body: "+err.Error(), "")
		return
	}
	var req Request
	var err error
	if s.Protocol == OpenAI {
		req, err = ParseOpenAI(r.Header, body.Bytes())
	} else {
		req, err = ParseAnthropic(r.Header, body.Bytes())
	}
	req.Protocol, req.Header, req.Body = s.Protocol, r.Header.Clone(), body.Bytes()
	req.Invalid = err
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var turn Turn
	ok := len(s.queue) > 0
	if err == nil && ok {
		turn, s.queue = s.queue[0], s.queue[1:]
	}
	s.calls++
	n := s.calls
	s.mu.Unlock()
	switch {
	case err != nil:
		s.t.Errorf("aifake: invalid %s request: %v", s.Protocol, err)
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error(), "")
		return
	case !ok:
		s.t.Errorf("aifake: no scripted turn left for request %d", n)
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "aifake: no scripted turn", "")
		return
	case turn.Status != 0:
		msg := turn.ErrorMessage
		if msg == "" {
			msg = http.StatusText(turn.Status)
		}
		s.writeError(w, turn.Status, errorType(s.Protocol, turn.Status), msg, turn.RetryAfter)
		return
	}
	for i := range turn.ToolCalls {
		if turn.ToolCalls[i].ID == "" {
			prefix := "call_"
			if s.Protocol == Anthropic {
				prefix = "toolu_"
			}
			turn.ToolCalls[i].ID = fmt.Sprintf("%s%d_%d", prefix, n, i)
		}
	}
	if turn.Chunks == nil && turn.Text != "" {
		turn.Chunks = splitWords(turn.Text)
	}
	if turn.Usage == (Usage{}) {
		turn.Usage = Usage{PromptTokens: body.Len()/4 + 1, CompletionTokens: max(1, len(turn.Chunks)+len(turn.ToolCalls))}
	}
	switch {
	case s.Protocol == OpenAI && req.Stream:
		s.streamOpenAI(w, r, req, turn)
	case s.Protocol == OpenAI:
		s.writeJSON(w, http.StatusOK, openAICompletion(req, turn))
	case req.Stream:
		s.streamAnthropic(w, r, req, turn)
	default:
		s.writeJSON(w, http.StatusOK, s.anthropicMessage(req, turn))
	}
}

// splitWords cuts s after each space, so joining the parts gives s back.
func splitWords(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func errorType(p Protocol, status int) string {
	if p == OpenAI {
		switch status {
		case http.StatusTooManyRequests:
			return "rate_limit_exceeded"
		case http.StatusUnauthorized:
			return "invalid_api_key"
		case http.StatusBadRequest:
			return "invalid_request_error"
		}
		return "server_error"
	}
	switch status {
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusBadRequest:
		return "invalid_request_error"
	case 529:
		return "overloaded_error"
	}
	return "api_error"
}

func (s *Server) writeError(w http.ResponseWriter, status int, typ, msg, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	if s.Protocol == OpenAI {
		s.writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
		return
	}
	w.Header().Set("request-id", "req_aifake")
	s.writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.t.Logf("aifake: writing response: %v", err)
	}
}

// sse writes events in exact text/event-stream framing, flushing each.
type sse struct {
	w http.ResponseWriter
	r *http.Request
}

func startSSE(w http.ResponseWriter, r *http.Request) *sse {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	return &sse{w: w, r: r}
}

// send writes one event; false when the client has gone.
func (e *sse) send(event string, data any) bool {
	if e.r.Context().Err() != nil {
		return false
	}
	var buf bytes.Buffer
	if event != "" {
		fmt.Fprintf(&buf, "event: %s\n", event)
	}
	if s, ok := data.(string); ok {
		fmt.Fprintf(&buf, "data: %s\n\n", s)
	} else {
		b, err := json.Marshal(data)
		if err != nil {
			return false
		}
		fmt.Fprintf(&buf, "data: %s\n\n", b)
	}
	if _, err := e.w.Write(buf.Bytes()); err != nil {
		return false
	}
	e.w.(http.Flusher).Flush()
	return true
}

func (e *sse) sleep(d time.Duration) bool {
	if d <= 0 {
		return e.r.Context().Err() == nil
	}
	select {
	case <-time.After(d):
		return true
	case <-e.r.Context().Done():
		return false
	}
}
