package chat

import (
	"context"
	"strings"

	"github.com/seliq/seliq/ai/provider"
)

// roundSeparator goes between the texts of successive rounds, in the
// stream and in the stored answer alike.
const roundSeparator = "\n\n"

// lastRoundNote asks for the answer once the tool rounds are spent. The
// tools stay declared (Anthropic refuses tool results without them).
const lastRoundNote = "You have used all your tool calls for this question. Answer now from the data you have, without calling tools."

// unfinishedNote ends an answer when the model still called tools after
// lastRoundNote.
const unfinishedNote = "(The model kept calling tools and gave no final answer; ask a narrower question.)"

// providerAnswer runs the conversation through the provider: the model may
// call tools for maxToolRounds rounds, after which it is asked to answer.
// Every call's usage is recorded.
func (t *Turn) providerAnswer(ctx context.Context, onDelta func(string) error) (answer, error) {
	system, msgs, err := t.conversation(ctx)
	if err != nil {
		return answer{}, err
	}
	var ans answer
	var text strings.Builder
	for round := 0; ; round++ {
		req := provider.Request{Model: t.p.Settings.Model, System: system, Messages: msgs, Tools: tools,
			Temperature: t.p.Temperature(), MaxTokens: maxAnswerTokens}
		started := false
		emit := func(s string) error {
			if !started && text.Len() > 0 {
				if err := onDelta(roundSeparator); err != nil {
					return err
				}
			}
			started = true
			return onDelta(s)
		}
		var resp *provider.Response
		if onDelta != nil {
			resp, err = t.p.Client.Stream(ctx, req, emit)
		} else {
			resp, err = t.p.Client.Complete(ctx, req)
		}
		if resp != nil {
			if rerr := t.p.Record(ctx, resp.Model, resp.Usage); rerr != nil {
				t.svc.log.Error("record chat usage", "err", rerr)
			}
			ans.usage.PromptTokens += resp.Usage.PromptTokens
			ans.usage.CompletionTokens += resp.Usage.CompletionTokens
		}
		if err != nil {
			return answer{}, providerError(ctx, t.svc.log, err)
		}
		if c := resp.Content; c != "" {
			if text.Len() > 0 {
				text.WriteString(roundSeparator)
			}
			text.WriteString(c)
		}
		if len(resp.ToolCalls) == 0 {
			ans.content = text.String()
			return ans, nil
		}
		if round == maxToolRounds {
			if text.Len() > 0 {
				text.WriteString(roundSeparator)
			}
			text.WriteString(unfinishedNote)
			if onDelta != nil {
				if err := onDelta(roundSeparator + unfinishedNote); err != nil {
					return answer{}, err
				}
			}
			ans.content = text.String()
			return ans, nil
		}
		msgs = append(msgs, provider.Message{Role: provider.RoleAssistant, Content: resp.Content, ToolCalls: resp.ToolCalls})
		for _, call := range resp.ToolCalls {
			out, err := t.runTool(ctx, call)
			if err != nil {
				return answer{}, err
			}
			msgs = append(msgs, provider.Message{Role: provider.RoleTool, ToolCallID: call.ID, Content: out})
		}
		if round == maxToolRounds-1 {
			msgs = append(msgs, provider.Message{Role: provider.RoleUser, Content: lastRoundNote})
		}
	}
}
