package builtin

import (
	"fmt"
	"strings"
	"time"

	"github.com/seliq/seliq/ingest/entities"
)

const (
	maxSummaryTechniques = 4
	maxSummarySteps      = 3
	maxQuotedTitle       = 160
)

// summarize writes the three plain-text paragraphs of an alert analysis.
func summarize(ev evidence, an Analysis) Summary {
	return Summary{
		WhatHappened:   whatHappened(ev),
		Impact:         impact(ev, an),
		Recommendation: recommendation(an.NextSteps),
	}
}

func whatHappened(ev evidence) string {
	a := ev.alert
	var b strings.Builder
	fmt.Fprintf(&b, "%s reported %q", orDefault(strings.TrimSpace(a.Source), "An unnamed source"), clip(strings.TrimSpace(a.Title), maxQuotedTitle))
	if sev := strings.ToLower(a.Severity); severityIndex(sev) >= 0 {
		fmt.Fprintf(&b, " at %s severity", sev)
	}
	if hosts := valuesOf(ev.assets, entities.Hostname); len(hosts) > 0 {
		b.WriteString(" on " + listValues(hosts))
	}
	if users := valuesOf(ev.assets, entities.User); len(users) > 0 {
		b.WriteString(" for user " + listValues(users))
	}
	if ext := valuesOf(ev.iocs, entities.IPv4, entities.IPv6, entities.Domain, entities.URL, entities.Email); len(ext) > 0 {
		b.WriteString(" involving " + listValues(ext))
	} else if ips := valuesOf(ev.assets, entities.IPv4, entities.IPv6); len(ips) > 0 {
		b.WriteString(" involving internal address " + listValues(ips))
	}
	b.WriteString(".")
	if s := occurrenceSentence(a); s != "" {
		b.WriteString(" " + s)
	}
	if len(ev.techniques) > 0 {
		b.WriteString(" The activity matches " + techniqueList(ev.techniques) + ".")
	}
	if ev.facts.decoded != "" {
		fmt.Fprintf(&b, " The encoded PowerShell decodes to %q.", ev.facts.decoded)
	}
	return b.String()
}

func occurrenceSentence(a Alert) string {
	switch {
	case a.Occurrences > 1 && !a.FirstSeenAt.IsZero() && a.LastSeenAt.After(a.FirstSeenAt):
		return fmt.Sprintf("It was seen %d times between %s and %s.", a.Occurrences, stamp(a.FirstSeenAt), stamp(a.LastSeenAt))
	case a.Occurrences > 1:
		return fmt.Sprintf("It was seen %d times.", a.Occurrences)
	case !a.FirstSeenAt.IsZero():
		return fmt.Sprintf("It was seen once, at %s.", stamp(a.FirstSeenAt))
	}
	return ""
}

func techniqueList(ts []Technique) string {
	var names []string
	for _, t := range ts[:min(len(ts), maxSummaryTechniques)] {
		names = append(names, fmt.Sprintf("%s (%s)", t.Name, t.ID))
	}
	s := "ATT&CK " + joinAnd(names)
	if n := len(ts) - maxSummaryTechniques; n > 0 {
		s += fmt.Sprintf(" and %d more techniques", n)
	}
	return s
}

func impact(ev evidence, an Analysis) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Assessed as %s with %d%% confidence. %s.", verdictWords(an.Verdict), int(an.Confidence*100+0.5), impactSentence(ev, an.Verdict))
	if an.SeverityReason != "" {
		fmt.Fprintf(&b, " Severity %s (%s).", an.Severity, an.SeverityReason)
	}
	if s := relatedSentence(an.Related); s != "" {
		b.WriteString(" " + s)
	}
	if top := topDetails(an.Reasons, 2); top != "" {
		b.WriteString(" Main reasons: " + top + ".")
	}
	return b.String()
}

func verdictWords(v string) string {
	switch v {
	case VerdictLikelyMalicious:
		return "likely malicious"
	case VerdictSuspicious:
		return "suspicious"
	case VerdictLikelyBenign:
		return "likely benign"
	}
	return "needing human review"
}

// impactSentence describes what the most damaging matched tactic means
// for this alert's hosts, users and remote addresses.
func impactSentence(ev evidence, verdict string) string {
	if len(ev.techniques) == 0 {
		switch {
		case ev.infra:
			return fill("This is an availability problem on {hosts}, not a security event", ev)
		case verdict == VerdictLikelyBenign:
			return "No security impact is evident"
		}
		return "No attack technique was recognised, so the impact is unclear"
	}
	s := tacticImpact(ev.techniques)
	if verdict == VerdictLikelyBenign {
		s = "The evidence points to benign activity; were it genuine: " + strings.ToLower(s[:1]) + s[1:]
	}
	return fill(s, ev)
}

// techniqueImpacts are impact sentences more precise than their tactic's.
var techniqueImpacts = []struct{ prefix, text string }{
	{"T1110", "Someone is trying to guess passwords on {hosts}; the risk is a successful login as {users}"},
	{"T1621", "The password of {users} is probably known to an attacker who is trying to get past MFA"},
	{"T1566", "Malicious content reached {users}; anyone who opened it may have compromised their host"},
}

// tacticImpact describes what the most damaging matched technique means.
func tacticImpact(ts []Technique) string {
	for _, ti := range techniqueImpacts {
		if matchesAny(ts[:1], []string{ti.prefix}) {
			return ti.text
		}
	}
	switch ts[0].Tactic {
	case "impact":
		return "Data on {hosts} may be encrypted or destroyed and its recovery options removed"
	case "credential-access":
		return "Credentials of {users} may be in an attacker's hands"
	case "exfiltration":
		return "Data may have left the network towards {net}"
	case "command-and-control":
		return "{hosts} may be under remote control through {net}"
	case "lateral-movement":
		return "An attacker may be moving between hosts through {hosts}"
	case "privilege-escalation":
		return "An attacker may have gained elevated rights on {hosts}"
	case "initial-access":
		return "This may be an attacker's first foothold, through {users}"
	case "discovery", "reconnaissance":
		return "Someone is mapping the network from {hosts}; that alone does no damage but often comes before an attack"
	case "collection":
		return "Data on {hosts} is being gathered, often a step before exfiltration"
	}
	return "Code ran on {hosts} that could give an attacker a lasting foothold"
}

func relatedSentence(rs []Related) string {
	var fp, shared int
	var incidents []string
	for _, r := range rs {
		switch {
		case r.Kind == "incident":
			incidents = append(incidents, fmt.Sprintf("%q", clip(r.Title, maxQuotedTitle)))
		case strings.HasPrefix(r.Reason, "same fingerprint"):
			fp++
		default:
			shared++
		}
	}
	var parts []string
	if fp > 0 {
		parts = append(parts, fmt.Sprintf("shares its fingerprint with %d other alert%s", fp, plural(fp)))
	}
	if shared > 0 {
		parts = append(parts, fmt.Sprintf("shares entities with %d other alert%s", shared, plural(shared)))
	}
	if len(incidents) > 0 {
		parts = append(parts, "is related to incident "+listValues(incidents))
	}
	if len(parts) == 0 {
		return ""
	}
	return "It " + joinAnd(parts) + "."
}

func topDetails(rs []Reason, n int) string {
	var ds []string
	for _, r := range rs {
		if r.Weight != 0 && len(ds) < n {
			ds = append(ds, r.Detail)
		}
	}
	return strings.Join(ds, "; ")
}

func recommendation(steps []Step) string {
	if len(steps) == 0 {
		return "No action is recommended."
	}
	var parts []string
	for _, s := range steps[:min(len(steps), maxSummarySteps)] {
		parts = append(parts, strings.ToUpper(s.Category[:1])+s.Category[1:]+": "+s.Text)
	}
	if n := len(steps) - maxSummarySteps; n > 0 {
		parts = append(parts, fmt.Sprintf("%d further step%s listed.", n, plural(n)))
	}
	return strings.Join(parts, " ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// stamp formats a time in UTC to the minute.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
