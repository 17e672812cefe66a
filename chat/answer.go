package chat

import (
	"context"
	"strings"

	"github.com/seliq/seliq/ai/provider"
)

// roundSeparator goes between the texts of successive rounds, in the
// stream and in the stored answer alike.
const roundSeparator = "\n\n"

// providerAnswer runs the conversation through the provider: up to
// maxToolRounds rounds in which the model may call tools, then one without
// tools. Every call's usage is recorded, the failed ones' too when the
// provider reported any.
func (t *Turn) providerAnswer(ctx context.Context, onDelta func(string) error) (answer, error) {
	system, msgs, err := t.conversation(ctx)
	if err != nil {
		return answer{}, err
	}
	var ans answer
	var text strings.Builder
	for round := 0; ; round++ {
		req := provider.Request{Model: t.p.Settings.Model, System: system, Messages: msgs,
			Temperature: t.p.Temperature(), MaxTokens: maxAnswerTokens}
		if round < maxToolRounds {
			req.Tools = tools
		}
		started := false
		emit := func(s string) error {
			if onDelta == nil {
				return nil
			}
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
			return answer{}, providerError(err)
		}
		if c := resp.Content; c != "" {
			if text.Len() > 0 {
				text.WriteString(roundSeparator)
			}
			text.WriteString(c)
		}
		if len(resp.ToolCalls) == 0 || round >= maxToolRounds {
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
	}
}
