// Package provider is Seliq's client for large-language-model providers. It
// speaks two wire protocols: OpenAI-compatible chat completions (OpenAI,
// Azure OpenAI v1, vLLM, Ollama's /v1, LiteLLM) and Anthropic's Messages API.
//
// Every outbound connection goes through the outbound policy's dialer, which
// checks the IP actually being dialed, so a provider URL cannot be used to
// reach cloud metadata services (nor loopback and private networks the
// policy does not allow), even via DNS rebinding. Requests are retried with backoff on 429/5xx.
package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seliq/seliq/outbound"
)

// Provider kinds accepted in Config.Kind.
const (
	KindOpenAICompatible = "openai_compatible"
	KindAnthropic        = "anthropic"
)

// Message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Defaults applied by New.
const (
	DefaultTimeout          = 60 * time.Second
	DefaultMaxRetries       = 3
	DefaultAnthropicBaseURL = "https://api.anthropic.com"
	DefaultOpenAIBaseURL    = "https://api.openai.com/v1"
	// DefaultAnthropicMaxTokens is sent when Request.MaxTokens is zero,
	// because the Messages API requires max_tokens.
	DefaultAnthropicMaxTokens = 1024
)

// Message is one turn of a conversation.
type Message struct {
	Role    string // RoleSystem, RoleUser, RoleAssistant or RoleTool
	Content string
	// ToolCallID links a RoleTool message (the tool's result) to the call.
	ToolCallID string
	// ToolCalls are the calls an assistant turn made; send them back
	// unchanged with the conversation so the provider can match results.
	ToolCalls []ToolCall
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema of the arguments object
}

// ToolCall is a model's request to run a tool. Arguments is always valid
// JSON: "{}" when the model sent none, and a JSON string holding the raw text
// when the model produced malformed JSON, so the tool runner's decode fails
// and can be reported back to the model.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// Request is one completion request.
type Request struct {
	Model    string
	System   string
	Messages []Message
	Tools    []Tool
	// Temperature is omitted when nil so the provider default applies.
	Temperature *float64
	// MaxTokens caps the completion; zero leaves it to the provider
	// (Anthropic requires a value, so DefaultAnthropicMaxTokens is sent).
	MaxTokens int
	// JSONOutput asks for a single JSON object. OpenAI-compatible servers
	// get response_format json_object (OpenAI requires the word "JSON" to
	// appear in the messages); Anthropic gets a system instruction and the
	// object is cut out of the reply, so Response.Content holds just the
	// object when one is found.
	JSONOutput bool
}

// Usage is the token count of one call.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Response is a completed model turn.
type Response struct {
	Content   string
	ToolCalls []ToolCall
	Usage     Usage
	Model     string
	// StopReason is the provider's own value: OpenAI finish_reason
	// ("stop", "length", "tool_calls") or Anthropic stop_reason
	// ("end_turn", "max_tokens", "tool_use").
	StopReason string
}

// Client talks to one configured provider. It is safe for concurrent use.
type Client interface {
	Complete(ctx context.Context, r Request) (*Response, error)
	// Stream calls onDelta with each text fragment in order and returns the
	// full response, including usage and tool calls. An error from onDelta
	// aborts the stream and is returned.
	Stream(ctx context.Context, r Request, onDelta func(text string) error) (*Response, error)
	// Models lists the model identifiers the provider offers.
	Models(ctx context.Context) ([]string, error)
}

// Config selects and configures a provider.
type Config struct {
	Kind    string // KindOpenAICompatible or KindAnthropic
	BaseURL string // empty: the vendor's public endpoint
	APIKey  string // empty: no credential header is sent
	// Timeout bounds each attempt of a request (for streams: the wait for
	// headers and any silence between events). Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt. Zero
	// means DefaultMaxRetries; a negative value disables retries.
	MaxRetries int
	// Policy decides which destinations may be dialed: nil allows public
	// addresses only. Link-local and metadata addresses are always
	// refused; loopback and private ranges when the policy allows them.
	Policy *outbound.Policy
	// HTTPClient replaces the guarded client built by New. Only tests
	// should set it: a client without the guarded dialer bypasses the
	// address checks on resolved IPs.
	HTTPClient *http.Client
}

// New validates cfg and returns a client for its provider kind.
func New(cfg Config) (Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL(cfg.Kind)
	}
	u, err := cfg.Policy.CheckURL(base)
	if err != nil {
		return nil, err
	}
	t := newTransport(cfg)
	switch cfg.Kind {
	case KindOpenAICompatible:
		return &openAIClient{t: t, base: u, key: cfg.APIKey}, nil
	case KindAnthropic:
		return &anthropicClient{t: t, base: u, key: cfg.APIKey}, nil
	default:
		return nil, fmt.Errorf("provider: unknown kind %q", cfg.Kind)
	}
}

// DefaultBaseURL is the vendor's endpoint a kind uses when BaseURL is
// empty.
func DefaultBaseURL(kind string) string {
	if kind == KindAnthropic {
		return DefaultAnthropicBaseURL
	}
	return DefaultOpenAIBaseURL
}

// endpoint appends path to the base URL's path, keeping its query (Azure
// deployments carry api-version there).
func endpoint(base *url.URL, path string) string {
	u := *base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	return u.String()
}
