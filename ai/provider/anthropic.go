package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

const (
	anthropicVersion = "2023-06-01"
	// anthropicModelPages bounds pagination of the models list so a server
	// that always claims has_more cannot loop forever.
	anthropicModelPages = 20
	// jsonInstruction replaces OpenAI's response_format, which the Messages
	// API lacks. No assistant prefill: newer models reject it.
	jsonInstruction = "Respond with a single JSON object and nothing else: no prose before or after it and no code fences."
)

// anthropicClient speaks Anthropic's Messages API.
type anthropicClient struct {
	t    *transport
	base *url.URL
	key  string
}

type antRequest struct {
	Model       string       `json:"model"`
	System      string       `json:"system,omitempty"`
	MaxTokens   int          `json:"max_tokens"`
	Messages    []antMessage `json:"messages"`
	Tools       []antTool    `json:"tools,omitempty"`
	Temperature *float64     `json:"temperature,omitempty"`
	Stream      bool         `json:"stream,omitempty"`
}

type antTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type antMessage struct {
	Role    string
	Content []antBlock
}

// MarshalJSON sends a lone text block as a plain string, the common form.
func (m antMessage) MarshalJSON() ([]byte, error) {
	var content any = m.Content
	if len(m.Content) == 1 && m.Content[0].Type == "text" {
		content = m.Content[0].Text
	}
	return json.Marshal(struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	}{m.Role, content})
}

// antBlock is a content block in either direction.
type antBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   string          `json:"content,omitempty"`
}

type antUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// promptTokens counts cached input too: input_tokens excludes it, and the
// quota should see everything the model read.
func (u antUsage) promptTokens() int {
	return u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
}

type antResponse struct {
	Model      string     `json:"model"`
	StopReason string     `json:"stop_reason"`
	Content    []antBlock `json:"content"`
	Usage      antUsage   `json:"usage"`
}

type antErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type antEvent struct {
	Type         string       `json:"type"`
	Message      *antResponse `json:"message"`
	Index        int          `json:"index"`
	ContentBlock *antBlock    `json:"content_block"`
	Delta        struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *antUsage     `json:"usage"`
	Error *antErrorBody `json:"error"`
}

func (c *anthropicClient) Complete(ctx context.Context, r Request) (*Response, error) {
	body, err := c.buildRequest(r, false)
	if err != nil {
		return nil, err
	}
	var out antResponse
	if err := c.t.doJSON(ctx, c.call(http.MethodPost, "/v1/messages", body, false), &out); err != nil {
		return nil, err
	}
	resp := &Response{
		Model:      out.Model,
		StopReason: out.StopReason,
		Usage:      Usage{PromptTokens: out.Usage.promptTokens(), CompletionTokens: out.Usage.OutputTokens},
	}
	var text strings.Builder
	for _, b := range out.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			resp.ToolCalls = append(resp.ToolCalls, ToolCall{ID: b.ID, Name: b.Name, Arguments: toolArguments(string(b.Input))})
		}
	}
	resp.Content = finishContent(text.String(), r.JSONOutput)
	return resp, nil
}

func (c *anthropicClient) Stream(ctx context.Context, r Request, onDelta func(string) error) (*Response, error) {
	body, err := c.buildRequest(r, true)
	if err != nil {
		return nil, err
	}
	var resp *Response
	err = c.t.doStream(ctx, c.call(http.MethodPost, "/v1/messages", body, true), func(rd io.Reader) (bool, error) {
		st := &antStreamState{}
		err := st.consume(newSSEReader(rd), onDelta)
		resp = st.response(r.JSONOutput)
		return st.delivered, err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (c *anthropicClient) Models(ctx context.Context) ([]string, error) {
	var ids []string
	after := ""
	for range anthropicModelPages {
		q := url.Values{"limit": {"1000"}}
		if after != "" {
			q.Set("after_id", after)
		}
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			HasMore bool   `json:"has_more"`
			LastID  string `json:"last_id"`
		}
		if err := c.t.doJSON(ctx, c.call(http.MethodGet, "/v1/models?"+q.Encode(), nil, false), &page); err != nil {
			return nil, err
		}
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if !page.HasMore || page.LastID == "" || page.LastID == after {
			break
		}
		after = page.LastID
	}
	return ids, nil
}

func (c *anthropicClient) call(method, pathAndQuery string, body []byte, stream bool) call {
	h := jsonHeader(stream)
	h.Set("anthropic-version", anthropicVersion)
	if c.key != "" {
		h.Set("x-api-key", c.key)
	}
	path, query, _ := strings.Cut(pathAndQuery, "?")
	u := endpoint(c.base, path)
	if query != "" {
		u = appendQuery(u, query)
	}
	return call{method: method, url: u, header: h, body: body}
}

// appendQuery adds query to a URL that may already carry one.
func appendQuery(u, query string) string {
	if strings.Contains(u, "?") {
		return u + "&" + query
	}
	return u + "?" + query
}

func (c *anthropicClient) buildRequest(r Request, stream bool) ([]byte, error) {
	system, msgs, err := antMessages(r.Messages)
	if err != nil {
		return nil, err
	}
	if r.System != "" {
		system = append([]string{r.System}, system...)
	}
	if r.JSONOutput {
		system = append(system, jsonInstruction)
	}
	req := antRequest{
		Model:       r.Model,
		System:      strings.Join(system, "\n\n"),
		MaxTokens:   r.MaxTokens,
		Messages:    msgs,
		Temperature: r.Temperature,
		Stream:      stream,
	}
	if req.MaxTokens <= 0 {
		req.MaxTokens = DefaultAnthropicMaxTokens
	}
	for _, t := range r.Tools {
		schema := t.Parameters
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		req.Tools = append(req.Tools, antTool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("provider: encoding request: %w", err)
	}
	return body, nil
}

// antMessages maps our roles onto the Messages API, which knows only user
// and assistant: system text moves to the top-level system prompt, tool
// results become tool_result blocks in a user turn, and consecutive turns of
// one role merge (all results of one assistant turn must arrive together).
func antMessages(msgs []Message) (system []string, out []antMessage, err error) {
	for i, m := range msgs {
		switch m.Role {
		case RoleSystem:
			system = append(system, m.Content)
		case RoleUser:
			out = appendTurn(out, RoleUser, textBlocks(m.Content))
		case RoleAssistant:
			blocks := textBlocks(m.Content)
			for _, tc := range m.ToolCalls {
				input := tc.Arguments
				if len(input) == 0 {
					input = json.RawMessage("{}")
				}
				blocks = append(blocks, antBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: input})
			}
			out = appendTurn(out, RoleAssistant, blocks)
		case RoleTool:
			if m.ToolCallID == "" {
				return nil, nil, fmt.Errorf("provider: message %d: tool message without ToolCallID", i)
			}
			out = appendTurn(out, RoleUser, []antBlock{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: m.Content}})
		default:
			return nil, nil, fmt.Errorf("provider: message %d: unknown role %q", i, m.Role)
		}
	}
	return system, out, nil
}

// textBlocks drops empty text, which the API rejects.
func textBlocks(s string) []antBlock {
	if s == "" {
		return nil
	}
	return []antBlock{{Type: "text", Text: s}}
}

func appendTurn(out []antMessage, role string, blocks []antBlock) []antMessage {
	if len(blocks) == 0 {
		return out
	}
	if n := len(out); n > 0 && out[n-1].Role == role {
		out[n-1].Content = append(out[n-1].Content, blocks...)
		return out
	}
	return append(out, antMessage{Role: role, Content: blocks})
}

// antStreamState assembles a streamed message.
type antStreamState struct {
	text      strings.Builder
	blocks    map[int]*antPartialBlock
	order     []int
	model     string
	stop      string
	usage     Usage
	done      bool
	delivered bool
}

type antPartialBlock struct {
	typ, id, name string
	json          strings.Builder
}

func (s *antStreamState) consume(sse *sseReader, onDelta func(string) error) error {
	for {
		ev, err := sse.Next()
		if errors.Is(err, io.EOF) {
			if !s.done && s.stop == "" {
				return errors.New("provider: stream ended before message_stop")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("provider: reading stream: %w", err)
		}
		var e antEvent
		if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
			return fmt.Errorf("provider: decoding %s event: %w", ev.Event, err)
		}
		if e.Type == "" {
			e.Type = ev.Event
		}
		if err := s.apply(e, onDelta); err != nil {
			return err
		}
		if s.done {
			return nil
		}
	}
}

// apply folds one event in. Unknown event and delta types are ignored, as
// Anthropic's versioning policy asks of clients.
func (s *antStreamState) apply(e antEvent, onDelta func(string) error) error {
	switch e.Type {
	case "message_start":
		if e.Message != nil {
			s.model = e.Message.Model
			s.usage = Usage{PromptTokens: e.Message.Usage.promptTokens(), CompletionTokens: e.Message.Usage.OutputTokens}
		}
	case "content_block_start":
		if e.ContentBlock != nil {
			s.startBlock(e.Index, *e.ContentBlock)
		}
	case "content_block_delta":
		return s.applyDelta(e, onDelta)
	case "message_delta":
		if e.Delta.StopReason != "" {
			s.stop = e.Delta.StopReason
		}
		s.mergeUsage(e.Usage)
	case "message_stop":
		s.done = true
	case "error":
		return antStreamError(e.Error)
	}
	return nil
}

func (s *antStreamState) startBlock(index int, b antBlock) {
	if s.blocks == nil {
		s.blocks = map[int]*antPartialBlock{}
	}
	if _, seen := s.blocks[index]; !seen {
		s.order = append(s.order, index)
	}
	s.blocks[index] = &antPartialBlock{typ: b.Type, id: b.ID, name: b.Name}
}

func (s *antStreamState) applyDelta(e antEvent, onDelta func(string) error) error {
	switch e.Delta.Type {
	case "text_delta":
		if e.Delta.Text == "" {
			return nil
		}
		s.text.WriteString(e.Delta.Text)
		s.delivered = true
		return onDelta(e.Delta.Text)
	case "input_json_delta":
		b := s.blocks[e.Index]
		if b == nil {
			return fmt.Errorf("provider: input_json_delta for unknown block %d", e.Index)
		}
		b.json.WriteString(e.Delta.PartialJSON)
	}
	return nil
}

// mergeUsage applies message_delta usage, whose counts are cumulative.
func (s *antStreamState) mergeUsage(u *antUsage) {
	if u == nil {
		return
	}
	if u.OutputTokens > 0 {
		s.usage.CompletionTokens = u.OutputTokens
	}
	if p := u.promptTokens(); p > 0 {
		s.usage.PromptTokens = p
	}
}

func (s *antStreamState) response(jsonOutput bool) *Response {
	r := &Response{Content: finishContent(s.text.String(), jsonOutput), Model: s.model, StopReason: s.stop, Usage: s.usage}
	for _, i := range s.order {
		b := s.blocks[i]
		if b.typ == "tool_use" {
			r.ToolCalls = append(r.ToolCalls, ToolCall{ID: b.id, Name: b.name, Arguments: toolArguments(b.json.String())})
		}
	}
	return r
}

// antStreamError maps an in-stream error event onto the HTTP status the same
// error would have had before the stream began, so retry rules agree.
func antStreamError(e *antErrorBody) error {
	if e == nil {
		return &APIError{Message: "error event without details"}
	}
	return &APIError{Status: antErrorStatus(e.Type), Type: e.Type, Message: e.Message}
}

func antErrorStatus(typ string) int {
	switch typ {
	case "invalid_request_error":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "permission_error":
		return http.StatusForbidden
	case "not_found_error":
		return http.StatusNotFound
	case "request_too_large":
		return http.StatusRequestEntityTooLarge
	case "rate_limit_error":
		return http.StatusTooManyRequests
	case "api_error":
		return http.StatusInternalServerError
	case "timeout_error":
		return http.StatusGatewayTimeout
	case "overloaded_error":
		return 529
	}
	return 0
}

func finishContent(text string, jsonOutput bool) string {
	if !jsonOutput {
		return text
	}
	return extractJSONObject(text)
}

// extractJSONObject cuts the JSON object out of a reply that may wrap it in
// prose or code fences; the text is returned unchanged when no valid object
// is found, leaving validation to the caller.
func extractJSONObject(text string) string {
	t := strings.TrimSpace(text)
	if isJSONObject(t) {
		return t
	}
	start, end := strings.IndexByte(t, '{'), strings.LastIndexByte(t, '}')
	if start >= 0 && end > start && isJSONObject(t[start:end+1]) {
		return t[start : end+1]
	}
	return text
}

func isJSONObject(s string) bool {
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}
