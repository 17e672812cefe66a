package aifake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/internal/aifake"
)

var protocols = []aifake.Protocol{aifake.OpenAI, aifake.Anthropic}

func client(t *testing.T, s *aifake.Server) provider.Client {
	t.Helper()
	c, err := provider.New(provider.Config{Kind: string(s.Protocol), BaseURL: s.BaseURL(), APIKey: s.Key,
		Policy: aifake.Policy(), Timeout: 5 * time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompleteAndRecord(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			s := aifake.New(t, p)
			s.Enqueue(aifake.Turn{Text: "hello there", Usage: aifake.Usage{PromptTokens: 11, CompletionTokens: 2}})
			resp, err := client(t, s).Complete(context.Background(), provider.Request{Model: "m1", System: "be brief",
				Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Content != "hello there" || resp.Usage != (provider.Usage{PromptTokens: 11, CompletionTokens: 2}) {
				t.Errorf("resp = %+v", resp)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].System != "be brief" || reqs[0].LastUser() != "hi" || reqs[0].Model != "m1" {
				t.Fatalf("recorded %+v", reqs)
			}
			if p == aifake.Anthropic && reqs[0].MaxTokens != provider.DefaultAnthropicMaxTokens {
				t.Errorf("max_tokens = %d", reqs[0].MaxTokens)
			}
			if s.Pending() != 0 {
				t.Errorf("pending = %d", s.Pending())
			}
		})
	}
}

func TestStreamDeltasAndUsage(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			s := aifake.New(t, p)
			s.Enqueue(aifake.Turn{Chunks: []string{"one ", "two ", "three"}, Text: "one two three", Usage: aifake.Usage{PromptTokens: 30, CompletionTokens: 3}})
			var deltas []string
			resp, err := client(t, s).Stream(context.Background(), provider.Request{Model: "m",
				Messages: []provider.Message{{Role: provider.RoleUser, Content: "count"}}},
				func(d string) error { deltas = append(deltas, d); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(deltas, "|") != "one |two |three" || resp.Content != "one two three" {
				t.Errorf("deltas %q content %q", deltas, resp.Content)
			}
			if resp.Usage != (provider.Usage{PromptTokens: 30, CompletionTokens: 3}) {
				t.Errorf("usage = %+v", resp.Usage)
			}
			if r := s.Requests()[0]; !r.Stream || (p == aifake.OpenAI && !r.IncludeUsage) {
				t.Errorf("stream flags %+v", r)
			}
		})
	}
}

func TestToolRoundTrip(t *testing.T) {
	tools := []provider.Tool{{Name: "related_alerts", Description: "d", Parameters: json.RawMessage(`{"type":"object","properties":{"limit":{"type":"integer"}}}`)}}
	for _, p := range protocols {
		for _, stream := range []bool{false, true} {
			t.Run(string(p)+map[bool]string{false: "/complete", true: "/stream"}[stream], func(t *testing.T) {
				s := aifake.New(t, p)
				s.Enqueue(aifake.Turn{ToolCalls: []aifake.ToolCall{{Name: "related_alerts", Arguments: `{"limit":3}`}}},
					aifake.Turn{Text: "two related alerts"})
				c := client(t, s)
				msgs := []provider.Message{{Role: provider.RoleUser, Content: "related?"}}
				call := func() *provider.Response {
					req := provider.Request{Model: "m", Messages: msgs, Tools: tools}
					var resp *provider.Response
					var err error
					if stream {
						resp, err = c.Stream(context.Background(), req, func(string) error { return nil })
					} else {
						resp, err = c.Complete(context.Background(), req)
					}
					if err != nil {
						t.Fatal(err)
					}
					return resp
				}
				first := call()
				if len(first.ToolCalls) != 1 || first.ToolCalls[0].Name != "related_alerts" || string(first.ToolCalls[0].Arguments) != `{"limit":3}` {
					t.Fatalf("tool calls = %+v", first.ToolCalls)
				}
				msgs = append(msgs, provider.Message{Role: provider.RoleAssistant, ToolCalls: first.ToolCalls},
					provider.Message{Role: provider.RoleTool, ToolCallID: first.ToolCalls[0].ID, Content: `{"alerts":[]}`})
				if second := call(); second.Content != "two related alerts" {
					t.Errorf("second = %+v", second)
				}
				reqs := s.Requests()
				if got := reqs[1].ToolResultsText(); len(got) != 1 || got[0] != `{"alerts":[]}` {
					t.Errorf("tool results = %q", got)
				}
				if len(reqs[0].Tools) != 1 || reqs[0].Tools[0] != "related_alerts" {
					t.Errorf("tools = %v", reqs[0].Tools)
				}
			})
		}
	}
}

func TestMalformedToolArgumentsOpenAI(t *testing.T) {
	s := aifake.New(t, aifake.OpenAI)
	s.Enqueue(aifake.Turn{ToolCalls: []aifake.ToolCall{{Name: "x", Arguments: `{"broken`}}})
	resp, err := client(t, s).Complete(context.Background(), provider.Request{Model: "m",
		Messages: []provider.Message{{Role: provider.RoleUser, Content: "go"}},
		Tools:    []provider.Tool{{Name: "x", Parameters: json.RawMessage(`{"type":"object"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	var raw string
	if json.Unmarshal(resp.ToolCalls[0].Arguments, &raw) != nil || raw != `{"broken` {
		t.Errorf("arguments = %s", resp.ToolCalls[0].Arguments)
	}
}

func TestErrors(t *testing.T) {
	for _, p := range protocols {
		for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError} {
			t.Run(string(p)+"/"+http.StatusText(status), func(t *testing.T) {
				s := aifake.New(t, p)
				s.Enqueue(aifake.Turn{Status: status, ErrorMessage: "slow down", RetryAfter: "7"})
				_, err := client(t, s).Complete(context.Background(), provider.Request{Model: "m",
					Messages: []provider.Message{{Role: provider.RoleUser, Content: "x"}}})
				var apiErr *provider.APIError
				if !errors.As(err, &apiErr) || apiErr.Status != status || !strings.Contains(apiErr.Message, "slow down") {
					t.Fatalf("err = %#v", err)
				}
				if status == http.StatusTooManyRequests && apiErr.RetryAfter != 7*time.Second {
					t.Errorf("retry after = %v", apiErr.RetryAfter)
				}
			})
		}
		t.Run(string(p)+"/midstream", func(t *testing.T) {
			s := aifake.New(t, p)
			s.Enqueue(aifake.Turn{Chunks: []string{"a", "b", "c"}, FailAfterChunks: 2})
			var got []string
			_, err := client(t, s).Stream(context.Background(), provider.Request{Model: "m",
				Messages: []provider.Message{{Role: provider.RoleUser, Content: "x"}}},
				func(d string) error { got = append(got, d); return nil })
			if err == nil || strings.Join(got, "") != "ab" {
				t.Errorf("err %v deltas %q", err, got)
			}
		})
	}
}

func TestModels(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			s := aifake.New(t, p, aifake.Options{Models: []string{"a", "b", "c"}})
			ids, err := client(t, s).Models(context.Background())
			if err != nil || strings.Join(ids, ",") != "a,b,c" {
				t.Errorf("models %v %v", ids, err)
			}
		})
	}
}

func jsonHeader() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name  string
		proto aifake.Protocol
		body  string
		want  string
	}{
		{"oai no model", aifake.OpenAI, `{"messages":[{"role":"user","content":"x"}]}`, "model"},
		{"oai unknown field", aifake.OpenAI, `{"model":"m","messages":[{"role":"user","content":"x"}],"foo":1}`, "unknown field"},
		{"oai no messages", aifake.OpenAI, `{"model":"m","messages":[]}`, "messages"},
		{"oai tool without call", aifake.OpenAI, `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c1","content":"r"}]}`, "tool_calls"},
		{"oai unanswered call", aifake.OpenAI, `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"y"}]}`, "c1"},
		{"oai stream_options without stream", aifake.OpenAI, `{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}`, "stream_options"},
		{"oai json without the word", aifake.OpenAI, `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`, "json"},
		{"oai temperature", aifake.OpenAI, `{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3}`, "temperature"},
		{"ant no max_tokens", aifake.Anthropic, `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "max_tokens"},
		{"ant assistant first", aifake.Anthropic, `{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":"x"}]}`, "first message"},
		{"ant no alternation", aifake.Anthropic, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"user","content":"y"}]}`, "alternate"},
		{"ant system role", aifake.Anthropic, `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`, "role"},
		{"ant empty text", aifake.Anthropic, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":""}]}`, "non-empty"},
		{"ant unknown tool_result", aifake.Anthropic, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r"}]}]}`, "t1"},
		{"ant missing tool_result", aifake.Anthropic, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":"y"}]}`, "tool_result"},
		{"ant tool blocks without tools", aifake.Anthropic, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r"}]}]}`, "must define tools"},
		{"ant temperature", aifake.Anthropic, `{"model":"m","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"x"}]}`, "temperature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parse := aifake.ParseOpenAI
			if c.proto == aifake.Anthropic {
				parse = aifake.ParseAnthropic
			}
			_, err := parse(jsonHeader(), []byte(c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want mention of %q", err, c.want)
			}
		})
	}
	if _, err := aifake.ParseOpenAI(http.Header{}, []byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`)); err == nil {
		t.Error("missing content-type accepted")
	}
}

// FuzzParse checks both protocol parsers never panic, and that a request
// they accept has what every valid request has.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		`{"model":"m","max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r"}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := aifake.ParseOpenAI(jsonHeader(), body); err == nil && (r.Model == "" || len(r.Messages)+len(r.System) == 0) {
			t.Fatalf("OpenAI request accepted without model or messages: %s", body)
		}
		if r, err := aifake.ParseAnthropic(jsonHeader(), body); err == nil && (r.Model == "" || r.MaxTokens < 1 || len(r.Messages) == 0 || r.Messages[0].Role != "user") {
			t.Fatalf("Anthropic request accepted without model, max_tokens or a first user turn: %s", body)
		}
	})
}
