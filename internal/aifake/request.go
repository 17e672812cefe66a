package aifake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Request is a recorded completion request, normalised across protocols.
type Request struct {
	Protocol Protocol
	Header   http.Header
	Body     []byte
	// Invalid is why the request was refused (nil for valid requests).
	Invalid error

	Model        string
	System       string // OpenAI: system messages joined; Anthropic: system
	MaxTokens    int    // 0 when not sent
	Temperature  *float64
	Stream       bool
	IncludeUsage bool // OpenAI stream_options.include_usage
	JSONObject   bool // OpenAI response_format json_object
	Tools        []string
	// Messages are the conversation turns after the system prompt.
	Messages []Message
}

// Message is one normalised turn. OpenAI tool results are messages of role
// "tool" with ToolCallID; Anthropic's are ToolResults in a user turn.
type Message struct {
	Role        string
	Text        string
	ToolCalls   []ToolCall
	ToolCallID  string
	ToolResults []ToolResult
}

// ToolResult is an Anthropic tool_result block.
type ToolResult struct {
	ToolUseID string
	Content   string
	IsError   bool
}

// Text is everything the request shows the model: the system prompt, every
// message's text, tool arguments and tool results, one per line. Tests use
// it to assert what reached (or never reached) the provider.
func (r Request) Text() string {
	var b strings.Builder
	b.WriteString(r.System)
	for _, m := range r.Messages {
		b.WriteString("\n")
		b.WriteString(m.Text)
		for _, tc := range m.ToolCalls {
			b.WriteString("\n" + tc.Name + " " + tc.Arguments)
		}
		for _, tr := range m.ToolResults {
			b.WriteString("\n" + tr.Content)
		}
	}
	return b.String()
}

// LastUser is the text of the last user message (tool results excluded).
func (r Request) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if m := r.Messages[i]; m.Role == "user" && m.Text != "" {
			return m.Text
		}
	}
	return ""
}

// ToolResultsText returns the content of every tool result, in order.
func (r Request) ToolResultsText() []string {
	var out []string
	for _, m := range r.Messages {
		if m.Role == "tool" {
			out = append(out, m.Text)
		}
		for _, tr := range m.ToolResults {
			out = append(out, tr.Content)
		}
	}
	return out
}

// decodeStrict decodes one JSON value, rejecting unknown fields and
// trailing data, as both APIs do.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	if dec.More() {
		return errors.New("request body: trailing data")
	}
	return nil
}

func checkJSONContentType(h http.Header) error {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return fmt.Errorf("content-type %q, want application/json", h.Get("Content-Type"))
	}
	return nil
}

func isJSONObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}

// ---- OpenAI chat completions ----

// OpenAIBody is a chat-completions request body as the API accepts it;
// the types below are its parts.
type OpenAIBody struct {
	Model         string          `json:"model"`
	Messages      []OpenAIMessage `json:"messages"`
	Tools         []OpenAITool    `json:"tools"`
	ToolChoice    any             `json:"tool_choice"`
	Temperature   *float64        `json:"temperature"`
	MaxTokens     *int            `json:"max_tokens"`
	MaxCompletion *int            `json:"max_completion_tokens"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

// OpenAIMessage is one entry of messages.
type OpenAIMessage struct {
	Role       string           `json:"role"`
	Content    *string          `json:"content"`
	Name       string           `json:"name"`
	ToolCalls  []OpenAIToolCall `json:"tool_calls"`
	ToolCallID string           `json:"tool_call_id"`
}

// OpenAIToolCall is one tool call of an assistant message.
type OpenAIToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// OpenAITool is one entry of tools.
type OpenAITool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      *bool           `json:"strict"`
	} `json:"function"`
}

// ParseOpenAI validates a chat-completions request as the API does and
// returns it normalised. The Request is filled as far as parsing got, even
// when an error is returned.
func ParseOpenAI(h http.Header, body []byte) (Request, error) {
	var req Request
	if err := checkJSONContentType(h); err != nil {
		return req, err
	}
	var b OpenAIBody
	if err := decodeStrict(body, &b); err != nil {
		return req, err
	}
	req.Model, req.Temperature, req.Stream = b.Model, b.Temperature, b.Stream
	if b.MaxTokens != nil {
		req.MaxTokens = *b.MaxTokens
	}
	req.IncludeUsage = b.StreamOptions != nil && b.StreamOptions.IncludeUsage
	req.JSONObject = b.ResponseFormat != nil && b.ResponseFormat.Type == "json_object"
	switch {
	case b.Model == "":
		return req, errors.New("you must provide a model parameter")
	case len(b.Messages) == 0:
		return req, errors.New("messages: array too short, expected at least 1")
	case b.StreamOptions != nil && !b.Stream:
		return req, errors.New("stream_options: only allowed when stream is true")
	case b.Temperature != nil && (*b.Temperature < 0 || *b.Temperature > 2):
		return req, fmt.Errorf("temperature %v: must be within [0, 2]", *b.Temperature)
	case b.MaxTokens != nil && *b.MaxTokens < 1:
		return req, errors.New("max_tokens: must be at least 1")
	case b.ResponseFormat != nil && b.ResponseFormat.Type != "json_object" && b.ResponseFormat.Type != "text" && b.ResponseFormat.Type != "json_schema":
		return req, fmt.Errorf("response_format.type %q", b.ResponseFormat.Type)
	}
	names := map[string]bool{}
	for i, tool := range b.Tools {
		if tool.Type != "function" || tool.Function.Name == "" {
			return req, fmt.Errorf("tools[%d]: type must be function with a name", i)
		}
		if len(tool.Function.Parameters) > 0 && !isJSONObject(tool.Function.Parameters) {
			return req, fmt.Errorf("tools[%d].function.parameters: must be an object", i)
		}
		if names[tool.Function.Name] {
			return req, fmt.Errorf("tools: duplicate function name %q", tool.Function.Name)
		}
		names[tool.Function.Name] = true
		req.Tools = append(req.Tools, tool.Function.Name)
	}
	if req.JSONObject && !mentionsJSON(b.Messages) {
		return req, errors.New("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'")
	}
	var system []string
	for _, m := range b.Messages {
		nm := Message{Role: m.Role, ToolCallID: m.ToolCallID}
		if m.Content != nil {
			nm.Text = *m.Content
		}
		for _, tc := range m.ToolCalls {
			nm.ToolCalls = append(nm.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		if m.Role == "system" || m.Role == "developer" {
			system = append(system, nm.Text)
			continue
		}
		req.Messages = append(req.Messages, nm)
	}
	req.System = strings.Join(system, "\n\n")
	return req, validateOAIMessages(b.Messages, names)
}

func mentionsJSON(msgs []OpenAIMessage) bool {
	for _, m := range msgs {
		if m.Content != nil && strings.Contains(strings.ToLower(*m.Content), "json") {
			return true
		}
	}
	return false
}

// validateOAIMessages enforces the conversation rules: known roles, content
// present except beside tool_calls, every tool message answering a call of
// the assistant turn before it, and no other message before all of that
// turn's calls are answered.
func validateOAIMessages(msgs []OpenAIMessage, tools map[string]bool) error {
	pending := map[string]bool{}
	for i, m := range msgs {
		switch m.Role {
		case "system", "developer", "user":
			if m.Content == nil {
				return fmt.Errorf("messages[%d].content: required for role %s", i, m.Role)
			}
			if len(m.ToolCalls) > 0 || m.ToolCallID != "" {
				return fmt.Errorf("messages[%d]: tool fields on a %s message", i, m.Role)
			}
		case "assistant":
			if m.Content == nil && len(m.ToolCalls) == 0 {
				return fmt.Errorf("messages[%d]: assistant message needs content or tool_calls", i)
			}
			if len(pending) > 0 {
				return fmt.Errorf("messages[%d]: tool calls of the previous assistant turn unanswered: %s", i, keys(pending))
			}
			for _, tc := range m.ToolCalls {
				switch {
				case tc.ID == "" || tc.Type != "function" || tc.Function.Name == "":
					return fmt.Errorf("messages[%d].tool_calls: id, type function and name required", i)
				case len(tools) > 0 && !tools[tc.Function.Name]:
					return fmt.Errorf("messages[%d].tool_calls: unknown function %q", i, tc.Function.Name)
				case pending[tc.ID]:
					return fmt.Errorf("messages[%d].tool_calls: duplicate id %q", i, tc.ID)
				}
				pending[tc.ID] = true
			}
		case "tool":
			if m.Content == nil {
				return fmt.Errorf("messages[%d].content: required for role tool", i)
			}
			if !pending[m.ToolCallID] {
				return fmt.Errorf("messages[%d]: messages with role 'tool' must be a response to a preceding message with 'tool_calls' (tool_call_id %q)", i, m.ToolCallID)
			}
			delete(pending, m.ToolCallID)
		default:
			return fmt.Errorf("messages[%d].role: invalid value %q", i, m.Role)
		}
		if m.Role != "tool" && m.Role != "assistant" && len(pending) > 0 {
			return fmt.Errorf("messages[%d]: an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id' (missing %s)", i, keys(pending))
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("messages: tool_call_ids without a tool message: %s", keys(pending))
	}
	return nil
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}

// ---- Anthropic Messages ----

// AnthropicBody is a Messages API request body as the API accepts it;
// the types below are its parts.
type AnthropicBody struct {
	Model         string             `json:"model"`
	System        json.RawMessage    `json:"system"`
	MaxTokens     *int               `json:"max_tokens"`
	Messages      []AnthropicMessage `json:"messages"`
	Tools         []AnthropicTool    `json:"tools"`
	ToolChoice    json.RawMessage    `json:"tool_choice"`
	Temperature   *float64           `json:"temperature"`
	TopP          *float64           `json:"top_p"`
	TopK          *int               `json:"top_k"`
	StopSequences []string           `json:"stop_sequences"`
	Stream        bool               `json:"stream"`
	Metadata      json.RawMessage    `json:"metadata"`
}

// AnthropicMessage is one entry of messages; Content is a string or blocks.
type AnthropicMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// AnthropicBlock is a content block (text, tool_use or tool_result).
type AnthropicBlock struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"`
	Content      json.RawMessage `json:"content"`
	IsError      *bool           `json:"is_error"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// AnthropicTool is one entry of tools.
type AnthropicTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// ParseAnthropic validates a Messages API request as the API does and
// returns it normalised (filled as far as parsing got on error).
func ParseAnthropic(h http.Header, body []byte) (Request, error) {
	var req Request
	if err := checkJSONContentType(h); err != nil {
		return req, err
	}
	var b AnthropicBody
	if err := decodeStrict(body, &b); err != nil {
		return req, err
	}
	req.Model, req.Temperature, req.Stream = b.Model, b.Temperature, b.Stream
	if b.MaxTokens != nil {
		req.MaxTokens = *b.MaxTokens
	}
	switch {
	case b.Model == "":
		return req, errors.New("model: Field required")
	case b.MaxTokens == nil:
		return req, errors.New("max_tokens: Field required")
	case *b.MaxTokens < 1:
		return req, errors.New("max_tokens: Input should be greater than or equal to 1")
	case b.Temperature != nil && (*b.Temperature < 0 || *b.Temperature > 1):
		return req, fmt.Errorf("temperature: %v must be within [0, 1]", *b.Temperature)
	case len(b.Messages) == 0:
		return req, errors.New("messages: at least one message is required")
	}
	system, err := antSystem(b.System)
	if err != nil {
		return req, err
	}
	req.System = system
	names := map[string]bool{}
	for i, tool := range b.Tools {
		if tool.Name == "" || !isJSONObject(tool.InputSchema) {
			return req, fmt.Errorf("tools.%d: name and input_schema object required", i)
		}
		if names[tool.Name] {
			return req, fmt.Errorf("tools: tool names must be unique (%q)", tool.Name)
		}
		names[tool.Name] = true
		req.Tools = append(req.Tools, tool.Name)
	}
	var pending map[string]bool
	for i, m := range b.Messages {
		blocks, err := antBlocks(m.Content)
		if err != nil {
			return req, fmt.Errorf("messages.%d.%w", i, err)
		}
		if m.Role != "user" && m.Role != "assistant" {
			return req, fmt.Errorf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if i == 0 && m.Role != "user" {
			return req, errors.New("messages: first message must use the \"user\" role")
		}
		if i > 0 && m.Role == b.Messages[i-1].Role {
			return req, fmt.Errorf("messages.%d: roles must alternate between \"user\" and \"assistant\"", i)
		}
		nm := Message{Role: m.Role}
		next := map[string]bool{}
		var texts []string
		for j, bl := range blocks {
			if err := checkAntBlock(m.Role, bl, pending, next, names); err != nil {
				return req, fmt.Errorf("messages.%d.content.%d: %w", i, j, err)
			}
			switch bl.Type {
			case "text":
				texts = append(texts, bl.Text)
			case "tool_use":
				nm.ToolCalls = append(nm.ToolCalls, ToolCall{ID: bl.ID, Name: bl.Name, Arguments: string(bl.Input)})
			case "tool_result":
				nm.ToolResults = append(nm.ToolResults, ToolResult{ToolUseID: bl.ToolUseID, Content: resultText(bl.Content), IsError: bl.IsError != nil && *bl.IsError})
			}
		}
		if m.Role == "user" && len(pending) > 0 {
			return req, fmt.Errorf("messages.%d: tool_use ids were found without tool_result blocks immediately after: %s", i, keys(pending))
		}
		pending = next
		nm.Text = strings.Join(texts, "\n")
		req.Messages = append(req.Messages, nm)
	}
	if len(pending) > 0 {
		return req, fmt.Errorf("messages: the final assistant turn has unanswered tool_use ids %s", keys(pending))
	}
	if len(names) == 0 {
		for _, m := range req.Messages {
			if len(m.ToolCalls) > 0 || len(m.ToolResults) > 0 {
				return req, errors.New("requests which include tool_use or tool_result blocks must define tools")
			}
		}
	}
	return req, nil
}

func antSystem(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var blocks []AnthropicBlock
	if err := decodeStrict(raw, &blocks); err != nil {
		return "", fmt.Errorf("system: %w", err)
	}
	var texts []string
	for i, b := range blocks {
		if b.Type != "text" || b.Text == "" {
			return "", fmt.Errorf("system.%d: only non-empty text blocks", i)
		}
		texts = append(texts, b.Text)
	}
	return strings.Join(texts, "\n"), nil
}

// antBlocks accepts content as a non-empty string or a non-empty array of
// strictly decoded blocks.
func antBlocks(raw json.RawMessage) ([]AnthropicBlock, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, errors.New("content: text content blocks must be non-empty")
		}
		return []AnthropicBlock{{Type: "text", Text: s}}, nil
	}
	var blocks []AnthropicBlock
	if err := decodeStrict(raw, &blocks); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	if len(blocks) == 0 {
		return nil, errors.New("content: at least one content block is required")
	}
	return blocks, nil
}

func checkAntBlock(role string, b AnthropicBlock, pending, next, tools map[string]bool) error {
	switch {
	case b.Type == "text":
		if strings.TrimSpace(b.Text) == "" {
			return errors.New("text content blocks must contain non-whitespace text")
		}
	case b.Type == "tool_use" && role == "assistant":
		if b.ID == "" || b.Name == "" || !isJSONObject(b.Input) {
			return errors.New("tool_use needs id, name and an input object")
		}
		if len(tools) > 0 && !tools[b.Name] {
			return fmt.Errorf("tool_use of undeclared tool %q", b.Name)
		}
		next[b.ID] = true
	case b.Type == "tool_result" && role == "user":
		if !pending[b.ToolUseID] {
			return fmt.Errorf("unexpected tool_use_id found in tool_result blocks: %s. Each tool_result block must have a corresponding tool_use block in the previous message", b.ToolUseID)
		}
		delete(pending, b.ToolUseID)
		if len(b.Content) > 0 {
			var s string
			var blocks []AnthropicBlock
			if json.Unmarshal(b.Content, &s) != nil && decodeStrict(b.Content, &blocks) != nil {
				return errors.New("tool_result content must be a string or blocks")
			}
		}
	default:
		return fmt.Errorf("invalid %q block in a %s message", b.Type, role)
	}
	if b.Type != "tool_result" && role == "user" && len(pending) > 0 {
		return errors.New("tool_result blocks must come first in the user message after tool_use")
	}
	return nil
}

func resultText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []AnthropicBlock
	_ = json.Unmarshal(raw, &blocks)
	var texts []string
	for _, b := range blocks {
		texts = append(texts, b.Text)
	}
	return strings.Join(texts, "\n")
}
