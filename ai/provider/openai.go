package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
)

// openAIClient speaks the OpenAI chat-completions protocol.
type openAIClient struct {
	t    *transport
	base *url.URL
	key  string
}

type oaiRequest struct {
	Model          string         `json:"model"`
	Messages       []oaiMessage   `json:"messages"`
	Tools          []oaiTool      `json:"tools,omitempty"`
	Temperature    *float64       `json:"temperature,omitempty"`
	MaxTokens      int            `json:"max_tokens,omitempty"`
	Stream         bool           `json:"stream,omitempty"`
	StreamOptions  *oaiStreamOpts `json:"stream_options,omitempty"`
	ResponseFormat *oaiRespFormat `json:"response_format,omitempty"`
}

type oaiStreamOpts struct {
	IncludeUsage bool `json:"include_usage"`
}

type oaiRespFormat struct {
	Type string `json:"type"`
}

type oaiMessage struct {
	Role string `json:"role"`
	// Content is null only for an assistant turn that just calls tools.
	Content    *string       `json:"content"`
	ToolCalls  []oaiToolCall `json:"tool_calls,omitempty"`
	ToolCallID string        `json:"tool_call_id,omitempty"`
}

type oaiTool struct {
	Type     string      `json:"type"`
	Function oaiFunction `json:"function"`
}

type oaiFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type oaiToolCall struct {
	Index    *int   `json:"index,omitempty"` // streaming only
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaiUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

type oaiResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content   *string       `json:"content"`
			ToolCalls []oaiToolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaiUsage `json:"usage"`
}

type oaiChunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content   *string       `json:"content"`
			ToolCalls []oaiToolCall `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaiUsage `json:"usage"`
	// Error appears when a server fails after the stream started.
	Error json.RawMessage `json:"error"`
}

func (c *openAIClient) Complete(ctx context.Context, r Request) (*Response, error) {
	body, err := c.buildRequest(r, false)
	if err != nil {
		return nil, err
	}
	var out oaiResponse
	if err := c.t.doJSON(ctx, c.call(http.MethodPost, "/chat/completions", body, false), &out); err != nil {
		return nil, err
	}
	if len(out.Choices) == 0 {
		return nil, errors.New("provider: response has no choices")
	}
	ch := out.Choices[0]
	resp := &Response{Model: out.Model, StopReason: ch.FinishReason}
	if ch.Message.Content != nil {
		resp.Content = *ch.Message.Content
	}
	for _, tc := range ch.Message.ToolCalls {
		resp.ToolCalls = append(resp.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: toolArguments(tc.Function.Arguments)})
	}
	if out.Usage != nil {
		resp.Usage = Usage{PromptTokens: out.Usage.PromptTokens, CompletionTokens: out.Usage.CompletionTokens}
	}
	return resp, nil
}

func (c *openAIClient) Stream(ctx context.Context, r Request, onDelta func(string) error) (*Response, error) {
	body, err := c.buildRequest(r, true)
	if err != nil {
		return nil, err
	}
	var resp *Response
	err = c.t.doStream(ctx, c.call(http.MethodPost, "/chat/completions", body, true), func(rd io.Reader) (bool, error) {
		acc := &oaiStreamState{}
		err := acc.consume(newSSEReader(rd), onDelta)
		resp = acc.response()
		return acc.delivered, err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (c *openAIClient) Models(ctx context.Context) ([]string, error) {
	var out struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := c.t.doJSON(ctx, c.call(http.MethodGet, "/models", nil, false), &out); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out.Data))
	for _, m := range out.Data {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

func (c *openAIClient) call(method, path string, body []byte, stream bool) call {
	h := jsonHeader(stream)
	if c.key != "" {
		h.Set("Authorization", "Bearer "+c.key)
	}
	return call{method: method, url: endpoint(c.base, path), header: h, body: body}
}

func (c *openAIClient) buildRequest(r Request, stream bool) ([]byte, error) {
	msgs, err := oaiMessages(r)
	if err != nil {
		return nil, err
	}
	req := oaiRequest{
		Model:       r.Model,
		Messages:    msgs,
		Temperature: r.Temperature,
		MaxTokens:   r.MaxTokens,
		Stream:      stream,
	}
	for _, t := range r.Tools {
		req.Tools = append(req.Tools, oaiTool{Type: "function", Function: oaiFunction(t)})
	}
	if stream {
		req.StreamOptions = &oaiStreamOpts{IncludeUsage: true}
	}
	if r.JSONOutput {
		req.ResponseFormat = &oaiRespFormat{Type: "json_object"}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("provider: encoding request: %w", err)
	}
	return body, nil
}

func oaiMessages(r Request) ([]oaiMessage, error) {
	var out []oaiMessage
	if r.System != "" {
		out = append(out, oaiMessage{Role: RoleSystem, Content: &r.System})
	}
	for i, m := range r.Messages {
		om := oaiMessage{Role: m.Role, Content: &m.Content}
		switch m.Role {
		case RoleSystem, RoleUser:
		case RoleAssistant:
			for _, tc := range m.ToolCalls {
				om.ToolCalls = append(om.ToolCalls, encodeOAIToolCall(tc))
			}
			if m.Content == "" && len(m.ToolCalls) > 0 {
				om.Content = nil
			}
		case RoleTool:
			if m.ToolCallID == "" {
				return nil, fmt.Errorf("provider: message %d: tool message without ToolCallID", i)
			}
			om.ToolCallID = m.ToolCallID
		default:
			return nil, fmt.Errorf("provider: message %d: unknown role %q", i, m.Role)
		}
		out = append(out, om)
	}
	return out, nil
}

func encodeOAIToolCall(tc ToolCall) oaiToolCall {
	out := oaiToolCall{ID: tc.ID, Type: "function"}
	out.Function.Name = tc.Name
	out.Function.Arguments = string(tc.Arguments)
	if len(tc.Arguments) == 0 {
		out.Function.Arguments = "{}"
	}
	return out
}

// oaiStreamState assembles a streamed completion.
type oaiStreamState struct {
	content   []byte
	calls     map[int]*oaiPartialCall
	lastIndex int
	model     string
	finish    string
	usage     Usage
	delivered bool
}

type oaiPartialCall struct {
	id, name string
	args     []byte
}

func (s *oaiStreamState) consume(sse *sseReader, onDelta func(string) error) error {
	for {
		ev, err := sse.Next()
		if errors.Is(err, io.EOF) {
			if s.finish == "" {
				return errors.New("provider: stream ended before [DONE]")
			}
			// Some compatible servers omit [DONE]; a finish_reason
			// already proved the answer complete.
			return nil
		}
		if err != nil {
			return fmt.Errorf("provider: reading stream: %w", err)
		}
		if ev.Data == "[DONE]" {
			return nil
		}
		var chunk oaiChunk
		if err := json.Unmarshal([]byte(ev.Data), &chunk); err != nil {
			return fmt.Errorf("provider: decoding stream chunk: %w", err)
		}
		if err := s.apply(chunk, onDelta); err != nil {
			return err
		}
	}
}

func (s *oaiStreamState) apply(chunk oaiChunk, onDelta func(string) error) error {
	if len(chunk.Error) > 0 && string(chunk.Error) != "null" {
		typ, msg := parseErrorBody([]byte(`{"error":` + string(chunk.Error) + `}`))
		return &APIError{Type: typ, Message: msg}
	}
	if chunk.Model != "" {
		s.model = chunk.Model
	}
	if chunk.Usage != nil {
		s.usage = Usage{PromptTokens: chunk.Usage.PromptTokens, CompletionTokens: chunk.Usage.CompletionTokens}
	}
	if len(chunk.Choices) == 0 {
		return nil
	}
	ch := chunk.Choices[0]
	if ch.FinishReason != nil && *ch.FinishReason != "" {
		s.finish = *ch.FinishReason
	}
	for _, tc := range ch.Delta.ToolCalls {
		s.addToolDelta(tc)
	}
	if ch.Delta.Content == nil || *ch.Delta.Content == "" {
		return nil
	}
	s.content = append(s.content, *ch.Delta.Content...)
	s.delivered = true
	return onDelta(*ch.Delta.Content)
}

// addToolDelta merges a tool-call fragment by its index. A server that omits
// the index is assumed to send calls one after another, a new id starting
// the next one.
func (s *oaiStreamState) addToolDelta(tc oaiToolCall) {
	if s.calls == nil {
		s.calls = map[int]*oaiPartialCall{}
	}
	idx := s.lastIndex
	switch {
	case tc.Index != nil:
		idx = *tc.Index
	case tc.ID != "" && s.calls[idx] != nil && s.calls[idx].id != tc.ID:
		idx = len(s.calls)
	}
	s.lastIndex = idx
	pc := s.calls[idx]
	if pc == nil {
		pc = &oaiPartialCall{}
		s.calls[idx] = pc
	}
	if tc.ID != "" {
		pc.id = tc.ID
	}
	if tc.Function.Name != "" {
		pc.name = tc.Function.Name
	}
	pc.args = append(pc.args, tc.Function.Arguments...)
}

func (s *oaiStreamState) response() *Response {
	r := &Response{Content: string(s.content), Model: s.model, StopReason: s.finish, Usage: s.usage}
	idxs := make([]int, 0, len(s.calls))
	for i := range s.calls {
		idxs = append(idxs, i)
	}
	sort.Ints(idxs)
	for _, i := range idxs {
		pc := s.calls[i]
		r.ToolCalls = append(r.ToolCalls, ToolCall{ID: pc.id, Name: pc.name, Arguments: toolArguments(string(pc.args))})
	}
	return r
}

// toolArguments normalises model-produced arguments to valid JSON (see
// ToolCall).
func toolArguments(raw string) json.RawMessage {
	switch {
	case raw == "":
		return json.RawMessage("{}")
	case json.Valid([]byte(raw)):
		return json.RawMessage(raw)
	}
	quoted, _ := json.Marshal(raw)
	return quoted
}
