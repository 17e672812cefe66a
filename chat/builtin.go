package chat

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/seliq/seliq/ai/builtin"
)

// Disclosure opens every answer of the built-in analyst.
const Disclosure = "No AI provider is configured for this organisation, so this answer comes from Seliq's built-in analyst " +
	"(deterministic rules over the alert's fields and history), not from a language model. " +
	"An administrator can configure a provider in the AI settings."

// builtinChunk is the size streamed answers are cut into, in bytes.
const builtinChunk = 48

// topic is a part of the built-in analysis a question can ask about.
type topic int

const (
	topicSummary topic = iota
	topicVerdict
	topicTechniques
	topicIndicators
	topicRelated
	topicNextSteps
	topicTimeline
)

// topicWords pick the topics a question asks about; a question matching
// none gets the summary and the verdict. Words match at the start of a word
// ("malicious" matches "maliciousness").
var topicWords = []struct {
	topic topic
	words []string
}{
	{topicVerdict, []string{"malicious", "benign", "verdict", "false positive", "true positive", "real", "legit", "dangerous", "safe", "threat", "bad", "serious", "severity", "confiden", "why"}},
	{topicTechniques, []string{"technique", "mitre", "att&ck", "attack", "tactic", "ttp"}},
	{topicIndicators, []string{"ioc", "indicator", "ip", "domain", "hash", "entit", "asset", "host", "user", "url"}},
	{topicRelated, []string{"related", "similar", "other alert", "seen before", "before", "history", "correlat", "previous", "same", "duplicate", "linked"}},
	{topicNextSteps, []string{"next", "should", "recommend", "step", "do now", "remediat", "contain", "respond", "response", "action", "fix", "mitigat", "playbook", "what do", "how do"}},
	{topicTimeline, []string{"timeline", "sequence", "when", "order of events", "narrative", "story"}},
	{topicSummary, []string{"what is", "what's", "what happened", "summar", "explain", "overview", "describe", "tell me", "about"}},
}

// topics returns the topics question asks about, in answer order.
func topics(question string) []topic {
	q := " " + strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '&' || r == '\'' {
			return unicode.ToLower(r)
		}
		return ' '
	}, question) + " "
	found := map[topic]bool{}
	for _, tw := range topicWords {
		for _, w := range tw.words {
			if strings.Contains(q, " "+w) {
				found[tw.topic] = true
				break
			}
		}
	}
	if len(found) == 0 {
		found[topicSummary], found[topicVerdict] = true, true
	}
	var out []topic
	for t := topicSummary; t <= topicTimeline; t++ {
		if found[t] {
			out = append(out, t)
		}
	}
	return out
}

// builtinAnswer runs the built-in analyst on the target and answers from
// the parts of its result the question asks about.
func (t *Turn) builtinAnswer(ctx context.Context, onDelta func(string) error) (answer, error) {
	var text string
	if t.target.Kind == KindIncident {
		ia, err := t.svc.analyst.BuiltinIncident(ctx, t.target.ID)
		if err != nil {
			return answer{}, err
		}
		text = composeBuiltin(t.question, ia.Analysis, ia.Narrative, ia.Alerts)
	} else {
		an, err := t.svc.analyst.BuiltinAlert(ctx, t.target.ID)
		if err != nil {
			return answer{}, err
		}
		text = composeBuiltin(t.question, an, "", nil)
	}
	if onDelta != nil {
		for _, c := range chunks(text, builtinChunk) {
			if err := onDelta(c); err != nil {
				return answer{}, err
			}
		}
	}
	return answer{content: text}, nil
}

// composeBuiltin writes the answer: the disclosure, then one section per
// topic. narrative and alerts are set for incidents.
func composeBuiltin(question string, an builtin.Analysis, narrative string, alerts []builtin.AlertVerdict) string {
	var b strings.Builder
	b.WriteString(Disclosure)
	for _, tp := range topics(question) {
		b.WriteString("\n\n")
		switch tp {
		case topicSummary:
			fmt.Fprintf(&b, "What happened: %s\nImpact: %s", an.Summary.WhatHappened, an.Summary.Impact)
			if narrative != "" {
				fmt.Fprintf(&b, "\nStory so far: %s", narrative)
			}
		case topicVerdict:
			writeVerdict(&b, an, alerts)
		case topicTechniques:
			if len(an.Techniques) == 0 {
				b.WriteString("MITRE ATT&CK: no technique matched the alert's text or vendor tags.")
				break
			}
			b.WriteString("MITRE ATT&CK techniques matched:")
			for _, tc := range an.Techniques {
				fmt.Fprintf(&b, "\n- %s %s (%s), matched on %q", tc.ID, tc.Name, tc.Tactic, tc.Matched)
			}
		case topicIndicators:
			writeEntities(&b, "Indicators of compromise", an.IOCs)
			b.WriteString("\n")
			writeEntities(&b, "Affected assets", an.Assets)
		case topicRelated:
			if len(an.Related) == 0 {
				b.WriteString("Related: no other alert shares this fingerprint or its entities.")
				break
			}
			b.WriteString("Related:")
			for _, r := range an.Related {
				title := ""
				if r.Title != "" {
					title = fmt.Sprintf(" %q", r.Title)
				}
				fmt.Fprintf(&b, "\n- %s %s%s: %s", r.Kind, r.ID, title, r.Reason)
			}
		case topicNextSteps:
			fmt.Fprintf(&b, "Recommendation: %s", an.Summary.Recommendation)
			for _, s := range an.NextSteps {
				fmt.Fprintf(&b, "\n- [%s] %s", s.Category, s.Text)
			}
		case topicTimeline:
			if narrative == "" {
				b.WriteString("Timeline: alerts have no timeline; ask in the incident holding this alert.")
			} else {
				fmt.Fprintf(&b, "Timeline: %s", narrative)
			}
		}
	}
	return b.String()
}

// maxVerdictReasons bounds the reasons a verdict section lists.
const maxVerdictReasons = 4

func writeVerdict(b *strings.Builder, an builtin.Analysis, alerts []builtin.AlertVerdict) {
	fmt.Fprintf(b, "Verdict: %s, confidence %.0f%%; the analyst rates it %s severity", strings.ReplaceAll(an.Verdict, "_", " "), an.Confidence*100, an.Severity)
	if an.SeverityReason != "" {
		fmt.Fprintf(b, " (%s)", an.SeverityReason)
	}
	b.WriteString(".")
	if len(an.Reasons) > 0 {
		b.WriteString("\nStrongest signals:")
		for _, r := range an.Reasons[:min(len(an.Reasons), maxVerdictReasons)] {
			fmt.Fprintf(b, "\n- %s (%+.2f): %s", r.Signal, r.Weight, r.Detail)
		}
	}
	if len(alerts) > 0 {
		b.WriteString("\nAlerts in the incident:")
		for _, a := range alerts {
			fmt.Fprintf(b, "\n- %s %q: %s", a.ID, a.Title, strings.ReplaceAll(a.Verdict, "_", " "))
		}
	}
}

func writeEntities(b *strings.Builder, label string, es []builtin.Entity) {
	if len(es) == 0 {
		fmt.Fprintf(b, "%s: none found.", label)
		return
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Type + " " + e.Value
	}
	fmt.Fprintf(b, "%s: %s.", label, strings.Join(parts, ", "))
}

// chunks cuts s into pieces of about n bytes, after a space where one is
// near, never inside a UTF-8 sequence. Joined, they give s back.
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		cut := n
		if i := strings.LastIndexByte(s[:n], ' '); i > n/2 {
			cut = i + 1
		}
		for cut < len(s) && !utf8RuneStart(s[cut]) {
			cut++
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
