package builtin

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seliq/seliq/ingest/entities"
)

const (
	// credibleConfidence is the confidence an alert's verdict needs to
	// decide the incident's.
	credibleConfidence = 0.5
	// killChainTactics distinct tactics across an incident's alerts make a
	// suspicious incident likely malicious: a multi-stage intrusion.
	killChainTactics    = 3
	maxStepsPerCategory = 4
	maxNarrativeItems   = 12
	maxNarrative        = 2000
)

// verdictRank orders verdicts, worst first.
var verdictRank = []string{VerdictLikelyMalicious, VerdictSuspicious, VerdictNeedsReview, VerdictLikelyBenign}

// AnalyzeIncident triages an incident over its alerts: each alert is
// analysed with its fingerprint's history, the worst credible verdict wins,
// techniques, IOCs and steps are merged and the timeline is narrated.
func AnalyzeIncident(in Incident, c IncidentContext) IncidentAnalysis {
	alerts := alertsInOrder(in)
	analyses := make([]Analysis, len(alerts))
	for i, a := range alerts {
		analyses[i] = AnalyzeAlert(a, Context{History: c.History[a.Fingerprint], Profile: c.Profile})
	}
	ia := IncidentAnalysis{Alerts: make([]AlertVerdict, len(alerts))}
	for i, a := range alerts {
		an := analyses[i]
		ia.Alerts[i] = AlertVerdict{ID: a.ID, Title: a.Title, Verdict: an.Verdict, Confidence: an.Confidence, Severity: an.Severity}
	}
	ia.Techniques = mergeTechniques(analyses)
	ia.Verdict, ia.Confidence, ia.Score, ia.Reasons = incidentVerdict(alerts, analyses, ia.Techniques)
	ia.Severity, ia.SeverityReason = incidentSeverity(in.Severity, analyses)
	relevant := relevantAnalyses(analyses, ia.Verdict)
	ia.IOCs, ia.Assets = mergeEntities(relevant)
	ia.RankedIOCs, ia.Excluded = mergeRanked(relevant, ia.IOCs)
	ia.Related = relatedOf(c.Related, "")
	ia.NextSteps = mergeSteps(relevant)
	ia.Engine = Engine
	ia.Narrative = narrative(in, alerts, analyses)
	ia.Summary = incidentSummary(in, alerts, ia)
	return ia
}

// alertsInOrder sorts a copy of the alerts chronologically (then by ID).
func alertsInOrder(in Incident) []Alert {
	alerts := slices.Clone(in.Alerts)
	slices.SortStableFunc(alerts, func(a, b Alert) int {
		if c := alertTime(a, in.CreatedAt).Compare(alertTime(b, in.CreatedAt)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return alerts
}

func alertTime(a Alert, fallback time.Time) time.Time {
	switch {
	case !a.FirstSeenAt.IsZero():
		return a.FirstSeenAt
	case !a.LastSeenAt.IsZero():
		return a.LastSeenAt
	}
	return fallback
}

// incidentVerdict picks the worst verdict among alerts confident enough,
// escalating a suspicious incident whose alerts span several tactics.
func incidentVerdict(alerts []Alert, as []Analysis, ts []Technique) (string, float64, float64, []Reason) {
	if len(as) == 0 {
		return VerdictNeedsReview, 0.3, 0, []Reason{{SignalAlert, 0, "the incident has no linked alerts"}}
	}
	reasons := make([]Reason, len(as))
	verdict, best := VerdictLikelyBenign, -1
	for i, an := range as {
		reasons[i] = Reason{SignalAlert, 0, fmt.Sprintf("alert %q rated %s (%.2f): %s",
			clip(alerts[i].Title, maxQuotedTitle), an.Verdict, an.Confidence, orDefault(topDetails(an.Reasons, 1), "no signal"))}
		v := an.Verdict
		if an.Confidence < credibleConfidence && v != VerdictLikelyBenign {
			v = VerdictNeedsReview
		}
		if best < 0 || worse(v, verdict) || v == verdict && an.Confidence > as[best].Confidence {
			verdict, best = v, i
		}
	}
	// The deciding alert carries the score; the others are context.
	confidence, score := as[best].Confidence, as[best].Score
	reasons[best].Weight = score
	if verdict != as[best].Verdict {
		confidence = 0.4
	}
	if tactics := distinctTactics(ts); verdict == VerdictSuspicious && len(tactics) >= killChainTactics {
		reasons = append(reasons, Reason{SignalKillChain, 0.3, fmt.Sprintf("the alerts span %d ATT&CK tactics (%s), a multi-stage intrusion pattern", len(tactics), joinAnd(tactics))})
		verdict, score = VerdictLikelyMalicious, round2(score+0.3)
		confidence = max(confidence, 0.7)
	}
	sortReasons(reasons)
	return verdict, confidence, score, reasons
}

func worse(a, b string) bool { return slices.Index(verdictRank, a) < slices.Index(verdictRank, b) }

func distinctTactics(ts []Technique) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.Tactic) {
			out = append(out, t.Tactic)
		}
	}
	return out
}

// incidentSeverity is the highest analyst severity among the alerts.
func incidentSeverity(own string, as []Analysis) (string, string) {
	best := -1
	for _, an := range as {
		best = max(best, severityIndex(an.Severity))
	}
	if best < 0 {
		return adjustSeverity(own, VerdictNeedsReview, nil)
	}
	sev := severities[best]
	if cur := severityIndex(own); cur != best {
		from := orDefault(strings.ToLower(own), "none")
		return sev, fmt.Sprintf("the highest assessed alert severity; the incident is set to %s", from)
	}
	return sev, ""
}

// mergeTechniques unions the alerts' techniques, counting the alerts that
// matched each and keeping the first match text.
func mergeTechniques(as []Analysis) []Technique {
	var out []Technique
	for _, an := range as {
		for _, t := range an.Techniques {
			if i := slices.IndexFunc(out, func(o Technique) bool { return o.ID == t.ID }); i >= 0 {
				out[i].Alerts++
				continue
			}
			t.Alerts = 1
			out = append(out, t)
		}
	}
	sortTechniques(out)
	return nonNil(out)
}

func mergeEntities(as []Analysis) (iocs, assets []Entity) {
	var allIOCs, allAssets []Entity
	for _, an := range as {
		allIOCs = append(allIOCs, an.IOCs...)
		allAssets = append(allAssets, an.Assets...)
	}
	return nonNil(dedupeEntities(allIOCs)), nonNil(dedupeEntities(allAssets))
}

// mergeRanked keeps, for each merged IOC, its best rank and reason over
// the alerts, in the order of iocs; and the alerts' exclusions, once each.
func mergeRanked(as []Analysis, iocs []Entity) ([]RankedIOC, []Excluded) {
	best := map[Entity]RankedIOC{}
	var excluded []Excluded
	seen := map[Excluded]bool{}
	for _, an := range as {
		for _, r := range an.RankedIOCs {
			k := Entity{Type: r.Type, Value: strings.ToLower(r.Value)}
			if cur, ok := best[k]; !ok || r.Rank > cur.Rank {
				best[k] = r
			}
		}
		for _, x := range an.Excluded {
			if !seen[x] && len(excluded) < maxExcluded {
				seen[x] = true
				excluded = append(excluded, x)
			}
		}
	}
	ranked := make([]RankedIOC, 0, len(iocs))
	for _, e := range iocs {
		r, ok := best[Entity{Type: e.Type, Value: strings.ToLower(e.Value)}]
		if !ok {
			r = RankedIOC{Type: e.Type, Value: e.Value, Reason: e.Type + " from a linked alert"}
		}
		ranked = append(ranked, r)
	}
	return ranked, nonNil(excluded)
}

// relevantAnalyses drops likely-benign alerts from an incident that is not
// benign as a whole: their hosts and tuning advice would only distract.
func relevantAnalyses(as []Analysis, verdict string) []Analysis {
	if verdict == VerdictLikelyBenign {
		return as
	}
	return slices.DeleteFunc(slices.Clone(as), func(an Analysis) bool { return an.Verdict == VerdictLikelyBenign })
}

// mergeSteps unions the alerts' steps, the most severe alert's first, at
// most maxStepsPerCategory of each category so that recovery advice is not
// crowded out by containment.
func mergeSteps(as []Analysis) []Step {
	bySeverity := slices.Clone(as)
	slices.SortStableFunc(bySeverity, func(a, b Analysis) int {
		if c := cmp.Compare(severityIndex(b.Severity), severityIndex(a.Severity)); c != 0 {
			return c
		}
		return cmp.Compare(b.Score, a.Score)
	})
	var out []Step
	perCategory := make(map[string]int)
	for _, an := range bySeverity {
		for _, s := range an.NextSteps {
			if !slices.Contains(out, s) && perCategory[s.Category] < maxStepsPerCategory {
				out = append(out, s)
				perCategory[s.Category]++
			}
		}
	}
	if len(out) == 0 {
		out = append(out, Step{StepInvestigate, "Review the incident's alerts and timeline; the automatic signals are weak or conflicting."})
	}
	sortSteps(out)
	return out
}

func incidentSummary(in Incident, alerts []Alert, ia IncidentAnalysis) Summary {
	var b strings.Builder
	fmt.Fprintf(&b, "Incident %q groups %d alert%s", clip(strings.TrimSpace(in.Title), maxQuotedTitle), len(alerts), plural(len(alerts)))
	if srcs := sources(alerts); len(srcs) > 0 {
		b.WriteString(" from " + listValues(srcs))
	}
	if len(alerts) > 0 {
		first, last := alertTime(alerts[0], in.CreatedAt), alertTime(alerts[len(alerts)-1], in.CreatedAt)
		if !first.IsZero() && last.After(first) {
			fmt.Fprintf(&b, " between %s and %s (%s)", stamp(first), stamp(last), duration(last.Sub(first)))
		}
	}
	if hosts := valuesOf(ia.Assets, entities.Hostname); len(hosts) > 0 {
		b.WriteString(", on " + listValues(hosts))
	}
	if users := valuesOf(ia.Assets, entities.User); len(users) > 0 {
		b.WriteString(", for user " + listValues(users))
	}
	b.WriteString(".")
	if len(ia.Techniques) > 0 {
		b.WriteString(" The activity matches " + techniqueList(ia.Techniques) + ".")
	}
	im := fmt.Sprintf("Assessed as %s with %d%% confidence", verdictWords(ia.Verdict), int(ia.Confidence*100+0.5))
	if n := countVerdict(ia.Alerts, ia.Verdict); len(ia.Alerts) > 0 {
		im += fmt.Sprintf(" (%d of %d alerts rated %s)", n, len(ia.Alerts), verdictWords(ia.Verdict))
	}
	im += fmt.Sprintf(". Severity %s", ia.Severity)
	if ia.SeverityReason != "" {
		im += " (" + ia.SeverityReason + ")"
	}
	im += "."
	if s := relatedSentence(ia.Related); s != "" {
		im += " " + s
	}
	if top := topDetails(ia.Reasons, 2); top != "" {
		im += " Main reasons: " + top + "."
	}
	return Summary{WhatHappened: b.String(), Impact: im, Recommendation: recommendation(ia.NextSteps)}
}

func sources(alerts []Alert) []string {
	var out []string
	for _, a := range alerts {
		if s := strings.TrimSpace(a.Source); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func countVerdict(vs []AlertVerdict, v string) int {
	n := 0
	for _, av := range vs {
		if av.Verdict == v {
			n++
		}
	}
	return n
}

// duration renders a span the way an analyst would say it.
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		m := int(d / time.Minute)
		return fmt.Sprintf("%d minute%s", m, plural(m))
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		return fmt.Sprintf("%d hour%s", h, plural(h))
	}
	days := int(d / (24 * time.Hour))
	return fmt.Sprintf("%d days", days)
}
