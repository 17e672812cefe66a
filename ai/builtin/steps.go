package builtin

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/seliq/seliq/ingest/entities"
)

// maxSteps bounds the recommended steps per analysis.
const maxSteps = 8

var stepOrder = []string{StepContain, StepInvestigate, StepEradicate, StepRecover, StepTune}

// isolatingTechniques already get an isolation step from stepRules.
var isolatingTechniques = []string{"T1486", "T1490", "T1485"}

// nextSteps recommends steps from the techniques, the verdict and the
// entities; likely-benign alerts only get tuning advice.
func nextSteps(ev evidence, verdict string, h DispositionHistory) []Step {
	var steps []Step
	add := func(cat, text string) {
		s := Step{Category: cat, Text: fill(text, ev)}
		if !slices.Contains(steps, s) {
			steps = append(steps, s)
		}
	}
	if verdict != VerdictLikelyBenign {
		for _, r := range stepRules {
			if matchesAny(ev.techniques, r.Techniques) {
				add(r.Category, r.Text)
			}
		}
	}
	for _, s := range genericSteps(ev, verdict, h) {
		add(s.Category, s.Text)
	}
	if len(steps) == 0 {
		add(StepInvestigate, "Review the raw event and the recent activity of the involved entities to confirm or rule out an attack.")
	}
	sortSteps(steps)
	return steps[:min(len(steps), maxSteps)]
}

func genericSteps(ev evidence, verdict string, h DispositionHistory) []Step {
	var out []Step
	hosts := valuesOf(ev.assets, entities.Hostname)
	hashes := valuesOf(ev.iocs, entities.MD5, entities.SHA1, entities.SHA256)
	switch verdict {
	case VerdictLikelyMalicious:
		if len(hosts) > 0 && !matchesAny(ev.techniques, isolatingTechniques) {
			out = append(out, Step{StepContain, "Isolate {hosts} pending investigation if it is not already contained."})
		}
		if len(ev.techniques) == 0 {
			out = append(out, Step{StepInvestigate, "Collect a triage package (processes, network connections, recent logons) from the affected systems."})
		}
	case VerdictNeedsReview:
		out = append(out, Step{StepInvestigate, "Review the raw event and the history of the involved entities; the automatic signals are weak or conflicting."})
	case VerdictLikelyBenign:
		out = append(out, benignSteps(ev, h)...)
	}
	if len(hashes) > 0 && verdict != VerdictLikelyBenign {
		out = append(out, Step{StepInvestigate, "Search all endpoints for {hashes} and check them against threat intelligence."})
	}
	if ev.noise != "" && verdict != VerdictLikelyMalicious {
		out = append(out, Step{StepTune, fmt.Sprintf("Consider lowering the severity of this %q signature or excluding authorised scanners.", ev.noise)})
	}
	return out
}

func benignSteps(ev evidence, h DispositionHistory) []Step {
	h = nonNegative(h)
	if decided := h.TruePositive + h.FalsePositive + h.Benign; decided >= minHistory && h.FalsePositive+h.Benign > h.TruePositive {
		fp := "this rule"
		if ev.alert.Fingerprint != "" {
			fp = "fingerprint " + clip(ev.alert.Fingerprint, 40)
		}
		return []Step{{StepTune, fmt.Sprintf("Tune or suppress %s: it was closed %s.", fp, historyPhrase(h))}}
	}
	if ev.infra {
		src := orDefault(ev.alert.Source, "monitoring")
		return []Step{{StepTune, fmt.Sprintf("Route %s availability alerts to the infrastructure on-call instead of the security queue.", src)}}
	}
	return []Step{{StepTune, "Close as benign if a quick review agrees, and consider an exception for this pattern."}}
}

// matchesAny reports whether a technique's ID equals or extends a prefix.
func matchesAny(ts []Technique, prefixes []string) bool {
	for _, t := range ts {
		for _, p := range prefixes {
			if t.ID == p || strings.HasPrefix(t.ID, p+".") {
				return true
			}
		}
	}
	return false
}

func sortSteps(steps []Step) {
	slices.SortStableFunc(steps, func(a, b Step) int {
		return cmp.Compare(slices.Index(stepOrder, a.Category), slices.Index(stepOrder, b.Category))
	})
}

// placeholders maps each placeholder to the entities it lists and the
// phrase used when the alert has none.
var placeholders = []struct {
	name   string
	values func(ev evidence) []string
	none   string
}{
	{"{hosts}", func(ev evidence) []string { return hostsOf(ev.assets) }, "the affected host"},
	{"{users}", func(ev evidence) []string { return valuesOf(ev.assets, entities.User) }, "the affected accounts"},
	{"{net}", func(ev evidence) []string {
		return valuesOf(ev.iocs, entities.IPv4, entities.IPv6, entities.Domain, entities.URL)
	}, "the remote addresses"},
	{"{ips}", func(ev evidence) []string { return valuesOf(ev.iocs, entities.IPv4, entities.IPv6) }, "the source addresses"},
	{"{senders}", func(ev evidence) []string { return valuesOf(ev.iocs, entities.Email) }, "address"},
	{"{hashes}", func(ev evidence) []string {
		return valuesOf(ev.iocs, entities.MD5, entities.SHA1, entities.SHA256)
	}, "the file hashes"},
}

// fill replaces the placeholders with the alert's values, or with a
// generic phrase when it has none.
func fill(text string, ev evidence) string {
	for _, p := range placeholders {
		if strings.Contains(text, p.name) {
			text = strings.ReplaceAll(text, p.name, listOr(p.values(ev), p.none))
		}
	}
	return text
}

func listOr(vs []string, def string) string {
	if len(vs) == 0 {
		return def
	}
	return listValues(vs)
}

// hostsOf names the organisation's machines involved: hostnames, or the
// internal addresses when the source gave no hostname.
func hostsOf(assets []Entity) []string {
	if hosts := valuesOf(assets, entities.Hostname); len(hosts) > 0 {
		return hosts
	}
	return valuesOf(assets, entities.IPv4, entities.IPv6)
}
