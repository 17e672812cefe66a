package builtin

import (
	"fmt"
	"strings"
)

// maxFormattedReasons bounds the reasons listed by FormatText.
const maxFormattedReasons = 6

// FormatText renders an analysis as plain text for chat answers without a
// provider, notifications and logs.
func FormatText(an Analysis) string {
	var b strings.Builder
	fmt.Fprintf(&b, "What happened: %s\n", an.Summary.WhatHappened)
	fmt.Fprintf(&b, "Impact: %s\n", an.Summary.Impact)
	fmt.Fprintf(&b, "Recommendation: %s\n", an.Summary.Recommendation)
	fmt.Fprintf(&b, "Verdict: %s (confidence %.2f, score %+.2f)\n", an.Verdict, an.Confidence, an.Score)
	sev := an.Severity
	if an.SeverityReason != "" {
		sev += " (" + an.SeverityReason + ")"
	}
	fmt.Fprintf(&b, "Severity: %s\n", sev)
	if len(an.Reasons) > 0 {
		b.WriteString("Reasons:\n")
		for _, r := range an.Reasons[:min(len(an.Reasons), maxFormattedReasons)] {
			fmt.Fprintf(&b, "  %+.2f %s: %s\n", r.Weight, r.Signal, r.Detail)
		}
	}
	if len(an.Techniques) > 0 {
		b.WriteString("Techniques:\n")
		for _, t := range an.Techniques {
			fmt.Fprintf(&b, "  %s %s [%s] matched %q\n", t.ID, t.Name, t.Tactic, t.Matched)
		}
	}
	if len(an.IOCs) > 0 {
		b.WriteString("IOCs: " + entityList(an.IOCs) + "\n")
	}
	if len(an.Assets) > 0 {
		b.WriteString("Assets: " + entityList(an.Assets) + "\n")
	}
	if len(an.NextSteps) > 0 {
		b.WriteString("Next steps:\n")
		for _, s := range an.NextSteps {
			fmt.Fprintf(&b, "  [%s] %s\n", s.Category, s.Text)
		}
	}
	return b.String()
}

// FormatIncidentText renders an incident analysis as plain text.
func FormatIncidentText(ia IncidentAnalysis) string {
	var b strings.Builder
	b.WriteString(FormatText(ia.Analysis))
	if len(ia.Alerts) > 0 {
		b.WriteString("Alerts:\n")
		for _, a := range ia.Alerts {
			fmt.Fprintf(&b, "  %s %q: %s (%.2f), %s\n", a.ID, a.Title, a.Verdict, a.Confidence, a.Severity)
		}
	}
	fmt.Fprintf(&b, "Narrative: %s\n", ia.Narrative)
	return b.String()
}

func entityList(es []Entity) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Type + " " + e.Value
	}
	return strings.Join(parts, ", ")
}
