package builtin

import (
	"fmt"
	"strings"

	"github.com/seliq/seliq/enum"
)

// severities from least to most severe.
var severities = []string{"info", "low", "medium", "high", "critical"}

func severityIndex(s string) int {
	if r := enum.Severity(strings.ToLower(s)).Rank(); r > 0 {
		return r - 1
	}
	return -1
}

// adjustSeverity gives the analyst's severity: the source's, raised when
// the evidence shows more damage than the source rated, lowered when the
// activity is likely benign. The reason is empty when nothing changed.
func adjustSeverity(source, verdict string, ts []Technique) (string, string) {
	src := severityIndex(source)
	base := src
	if base < 0 {
		base = severityIndex("medium")
	}
	target, why := base, ""
	switch verdict {
	case VerdictLikelyMalicious:
		target, why = max(base, severityIndex("high")), "likely malicious"
		if t, ok := firstOfTactic(ts, "impact"); ok {
			target, why = severityIndex("critical"), "likely malicious with "+t.Name
		}
	case VerdictSuspicious:
		if t, ok := firstWeighing(ts, 0.3); ok && base < severityIndex("medium") {
			target, why = severityIndex("medium"), "suspicious "+t.Name
		}
	case VerdictLikelyBenign:
		target, why = min(base, severityIndex("low")), "likely benign"
	}
	sev := severities[target]
	switch {
	case src < 0:
		return sev, fmt.Sprintf("the source gave no usable severity (%q); %s", source, orDefault(why, "assumed medium"))
	case target > src:
		return sev, fmt.Sprintf("raised from %s: %s", severities[src], why)
	case target < src:
		return sev, fmt.Sprintf("lowered from %s: %s", severities[src], why)
	}
	return sev, ""
}

func firstOfTactic(ts []Technique, tactic string) (Technique, bool) {
	for _, t := range ts {
		if t.Tactic == tactic {
			return t, true
		}
	}
	return Technique{}, false
}

func firstWeighing(ts []Technique, w float64) (Technique, bool) {
	for _, t := range ts {
		if tacticWeights[t.Tactic] >= w {
			return t, true
		}
	}
	return Technique{}, false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
