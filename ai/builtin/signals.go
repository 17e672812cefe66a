package builtin

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/entities"
)

// Signal names used in Reasons.
const (
	SignalSeverity     = "severity"
	SignalTechnique    = "technique"
	SignalKnownBadTag  = "known_bad_tag"
	SignalVendor       = "vendor_verdict"
	SignalRepetition   = "repetition"
	SignalHistory      = "disposition_history"
	SignalInternalOnly = "internal_only"
	SignalExternal     = "external_indicators"
	SignalNoise        = "scan_noise"
	SignalInfra        = "infrastructure"
	SignalKillChain    = "kill_chain"
	SignalAlert        = "alert"
	SignalRule         = "rule"
)

// Scoring constants. Scores are sums of reason weights; positive means
// malicious.
const (
	maxTechniqueWeight = 0.6
	maliciousAt        = 0.65
	suspiciousAt       = 0.25
	benignAt           = -0.25
	// Both sides at least this strong and a margin under conflictMargin
	// means the evidence disagrees: a person must look.
	conflictSide   = 0.4
	conflictMargin = 0.4
	// minHistory closed alerts are needed before history counts.
	minHistory = 3
	// historyFull closed alerts give history its full weight.
	historyFull    = 10
	historyWeight  = 0.8
	maxListedValue = 3
)

var severityWeights = map[string]float64{
	"critical": 0.35, "high": 0.25, "medium": 0.10, "low": 0, "info": -0.15,
}

// evidence is everything the signals look at.
type evidence struct {
	alert      Alert
	facts      facts
	techniques []Technique
	iocs       []Entity
	ranked     []RankedIOC
	excluded   []Excluded
	assets     []Entity
	rules      []ruleHit
	infra      bool
	noise      string // the noise keyword found, if any
}

func gatherEvidence(a Alert, c Context) evidence {
	ev := evidence{alert: a, facts: readAlert(a)}
	p := compileProfile(c.Profile)
	hidden := make(map[Entity]bool, len(ev.facts.hidden))
	for _, e := range ev.facts.hidden {
		hidden[e] = true
	}
	cl := classifyEntities(slices.Concat(a.Entities, ev.facts.hidden), iocContext{profile: p, fields: &ev.facts.fields, hidden: hidden})
	ev.iocs, ev.ranked, ev.assets, ev.excluded = cl.iocs, cl.ranked, cl.assets, cl.excluded
	ev.rules = decisionRules(newRuleInput(&ev, p))
	ev.techniques = chooseTechniques(a, ev.facts.text, ev.rules, vendorTactics(ev.facts.fields, a.Tags))
	ev.infra = len(ev.techniques) == 0 && !decidedMalicious(ev.rules) && isInfra(a.Source, ev.facts.text)
	ev.noise = firstKeyword(ev.facts.text, noiseKeywords)
	return ev
}

// chooseTechniques: what the source gave (validated against the ATT&CK
// matrix) and what the decision rules establish; keywords only when
// neither says anything. A rule's supporting techniques count only when
// the source gave none, or when they refine one the source gave.
func chooseTechniques(a Alert, text string, rules []ruleHit, tactics []string) []Technique {
	given := vendorTechniques(a.VendorTechniques)
	if len(given) == 0 {
		given = vendorTechniques(vendorTechniqueIDs(text))
	}
	// The source's tactic is the context it saw the technique in (many
	// techniques serve several tactics); when it names exactly one, it wins.
	if len(tactics) == 1 {
		for i := range given {
			given[i].Tactic = tactics[0]
		}
	}
	parents := map[string]bool{}
	for _, t := range given {
		parents[t.ID] = true
	}
	out := slices.Clone(given)
	seen := map[string]bool{}
	for _, t := range out {
		seen[t.ID] = true
	}
	add := func(id, why string) {
		if seen[id] {
			return
		}
		if t, ok := techniqueByID(id, why); ok {
			seen[id] = true
			out = append(out, t)
		}
	}
	for _, r := range rules {
		for _, id := range r.defining {
			add(id, "rule "+r.name)
		}
		for _, id := range r.supporting {
			parent, _, _ := strings.Cut(id, ".")
			if len(given) == 0 || parents[parent] && parent != id {
				add(id, "rule "+r.name)
			}
		}
	}
	if len(out) == 0 {
		return techniques.match(text)
	}
	out = dropParents(out)
	sortTechniques(out)
	return out
}

func decidedMalicious(rs []ruleHit) bool {
	return slices.ContainsFunc(rs, func(r ruleHit) bool { return r.decision == decideMalicious })
}

func isInfra(source, text string) bool {
	return firstKeyword(strings.ToLower(source), infraSources) != "" || firstKeyword(text, infraKeywords) != ""
}

func firstKeyword(text string, words []string) string {
	for _, w := range words {
		if strings.Contains(text, w) {
			return strings.TrimSpace(w)
		}
	}
	return ""
}

// Weights of decision rules: one decides on its own.
const (
	ruleWeight     = 1.0
	testRuleWeight = 1.2
	noteWeight     = 0.3
)

// signals evaluates every signal; each contribution is a Reason.
func signals(ev evidence, h DispositionHistory) []Reason {
	var rs []Reason
	add := func(r Reason, ok bool) {
		if ok {
			rs = append(rs, r)
		}
	}
	for _, r := range ev.rules {
		w := ruleWeight * float64(r.decision)
		if r.decision == decideNote {
			w = noteWeight
		}
		if r.test {
			w = -testRuleWeight
		}
		detail := r.detail
		if ids := slices.Concat(r.defining); len(ids) > 0 {
			detail += " (ATT&CK " + strings.Join(ids, ", ") + ")"
		}
		rs = append(rs, Reason{SignalRule, w, r.name + ": " + detail})
	}
	add(severitySignal(ev))
	rs = append(rs, techniqueSignals(ev.techniques)...)
	add(knownBadTagSignal(ev.alert.Tags))
	add(vendorSignal(ev.facts.verdicts))
	add(repetitionSignal(ev))
	add(historySignal(h))
	add(networkSignal(ev))
	add(noiseSignal(ev))
	add(infraSignal(ev))
	for i := range rs {
		rs[i].Weight = round2(rs[i].Weight)
	}
	sortReasons(rs)
	return rs
}

func severitySignal(ev evidence) (Reason, bool) {
	sev := strings.ToLower(ev.alert.Severity)
	w, ok := severityWeights[sev]
	if !ok {
		return Reason{}, false
	}
	if ev.infra {
		return Reason{SignalSeverity, 0, fmt.Sprintf("source severity %s rates availability, not threat; not counted", sev)}, true
	}
	return Reason{SignalSeverity, w, "source severity " + sev}, true
}

// techniqueSignals weighs techniques by tactic, with diminishing returns:
// the strongest counts fully, the next half, then a quarter, capped.
func techniqueSignals(ts []Technique) []Reason {
	ordered := slices.Clone(ts)
	slices.SortStableFunc(ordered, func(a, b Technique) int {
		return cmp.Compare(tacticWeights[b.Tactic], tacticWeights[a.Tactic])
	})
	var rs []Reason
	left, factor := maxTechniqueWeight, 1.0
	for _, t := range ordered {
		w := min(tacticWeights[t.Tactic]*factor, left)
		if w < 0.005 {
			break
		}
		rs = append(rs, Reason{SignalTechnique, w, fmt.Sprintf("%s %s (%s) matched %q", t.ID, t.Name, t.Tactic, t.Matched)})
		left -= w
		factor /= 2
	}
	return rs
}

func knownBadTagSignal(tags []string) (Reason, bool) {
	var hits []string
	for _, t := range tags[:min(len(tags), maxTags)] {
		t = strings.ToLower(strings.TrimSpace(t))
		if slices.Contains(knownBadTags, t) && !slices.Contains(hits, t) {
			hits = append(hits, t)
		}
	}
	if len(hits) == 0 {
		return Reason{}, false
	}
	return Reason{SignalKnownBadTag, 0.3, "tagged " + strings.Join(hits, ", ")}, true
}

func vendorSignal(verdicts []string) (Reason, bool) {
	for _, v := range verdicts {
		if containsAny(valuePart(v), maliciousWords) {
			return Reason{SignalVendor, 0.3, "vendor verdict " + v}, true
		}
	}
	for _, v := range verdicts {
		if containsAny(valuePart(v), enforcedWords) {
			return Reason{SignalVendor, 0.15, "vendor enforced " + v}, true
		}
	}
	return Reason{}, false
}

func valuePart(kv string) string {
	_, v, _ := strings.Cut(kv, ": ")
	return v
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// repetitionSignal: repeated attack behaviour is persistence, not chance;
// frequent low-severity alerts without any behaviour are noise.
func repetitionSignal(ev evidence) (Reason, bool) {
	n := ev.alert.Occurrences
	switch {
	case n >= 5 && len(ev.techniques) > 0:
		return Reason{SignalRepetition, 0.1, fmt.Sprintf("seen %d times", n)}, true
	case n >= 10 && enum.Severity(strings.ToLower(ev.alert.Severity)).Rank() <= enum.Severity("low").Rank():
		return Reason{SignalRepetition, -0.1, fmt.Sprintf("recurs often (%d times) at low severity with no attack behaviour", n)}, true
	}
	return Reason{}, false
}

// historySignal: how analysts closed earlier alerts with this fingerprint.
// Its weight grows with the number of decided closures up to historyFull;
// duplicates say nothing about the activity and are left out.
func historySignal(h DispositionHistory) (Reason, bool) {
	h = nonNegative(h)
	decided := h.TruePositive + h.FalsePositive + h.Benign
	if decided == 0 {
		return Reason{}, false
	}
	detail := "closed " + historyPhrase(h)
	if decided < minHistory {
		return Reason{SignalHistory, 0, detail + "; too little history to count"}, true
	}
	balance := float64(h.TruePositive-h.FalsePositive-h.Benign) / float64(decided)
	trust := math.Min(1, float64(decided)/historyFull)
	return Reason{SignalHistory, historyWeight * balance * trust, detail}, true
}

func nonNegative(h DispositionHistory) DispositionHistory {
	return DispositionHistory{
		TruePositive: max(0, h.TruePositive), FalsePositive: max(0, h.FalsePositive),
		Benign: max(0, h.Benign), Duplicate: max(0, h.Duplicate),
	}
}

// historyPhrase reads like "as false positive 47 of the last 50 times
// (true positive 3)": the most frequent disposition first.
func historyPhrase(h DispositionHistory) string {
	type count struct {
		n    int
		name string
	}
	counts := []count{{h.FalsePositive, "false positive"}, {h.Benign, "benign"}, {h.TruePositive, "true positive"}}
	slices.SortStableFunc(counts, func(a, b count) int { return cmp.Compare(b.n, a.n) })
	decided := h.TruePositive + h.FalsePositive + h.Benign
	s := fmt.Sprintf("as %s %d of the last %d time%s", counts[0].name, counts[0].n, decided, plural(decided))
	var others []string
	for _, c := range counts[1:] {
		if c.n > 0 {
			others = append(others, fmt.Sprintf("%s %d", c.name, c.n))
		}
	}
	if h.Duplicate > 0 {
		others = append(others, fmt.Sprintf("%d duplicate%s not counted", h.Duplicate, plural(h.Duplicate)))
	}
	if len(others) > 0 {
		s += " (" + strings.Join(others, ", ") + ")"
	}
	return s
}

// networkSignal: addresses that stay inside the network lower the stakes;
// external ones raise them.
func networkSignal(ev evidence) (Reason, bool) {
	external := valuesOf(ev.iocs, entities.IPv4, entities.IPv6, entities.Domain, entities.URL)
	if len(external) > 0 {
		return Reason{SignalExternal, 0.1, "external indicators " + listValues(external)}, true
	}
	internal := valuesOf(ev.assets, entities.IPv4, entities.IPv6)
	if len(internal) > 0 {
		return Reason{SignalInternalOnly, -0.1, "only internal addresses " + listValues(internal)}, true
	}
	return Reason{}, false
}

func noiseSignal(ev evidence) (Reason, bool) {
	if _, strong := firstWeighing(ev.techniques, 0.2); ev.noise == "" || strong {
		return Reason{}, false
	}
	return Reason{SignalNoise, -0.15, fmt.Sprintf("policy, scan or informational signature (%q)", ev.noise)}, true
}

func infraSignal(ev evidence) (Reason, bool) {
	if !ev.infra {
		return Reason{}, false
	}
	what := firstKeyword(ev.facts.text, infraKeywords)
	if what == "" {
		what = strings.ToLower(ev.alert.Source)
	}
	return Reason{SignalInfra, -0.35, fmt.Sprintf("availability or capacity alert (%q) with no attack behaviour", what)}, true
}

// sortReasons puts the strongest contributions first; ties keep the
// evaluation order, so the result is deterministic.
func sortReasons(rs []Reason) {
	slices.SortStableFunc(rs, func(a, b Reason) int {
		return cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight))
	})
}

// verdictOf turns the reasons into a verdict, a confidence and the score.
func verdictOf(rs []Reason) (verdict string, confidence, score float64) {
	var pos, neg float64
	for _, r := range rs {
		if r.Weight > 0 {
			pos += r.Weight
		} else {
			neg -= r.Weight
		}
	}
	pos, neg = round2(pos), round2(neg)
	score = round2(pos - neg)
	switch {
	case pos >= conflictSide && neg >= conflictSide && math.Abs(score) < conflictMargin:
		verdict = VerdictNeedsReview
	case score >= maliciousAt:
		verdict = VerdictLikelyMalicious
	case score >= suspiciousAt:
		verdict = VerdictSuspicious
	case score <= benignAt:
		verdict = VerdictLikelyBenign
	default:
		verdict = VerdictNeedsReview
	}
	return verdict, confidenceOf(verdict, pos, neg), score
}

// confidenceOf grows with the margin and shrinks with disagreement. For
// needs_review it says how sure the analyst is that a person must look:
// more (conflicting) evidence makes that surer.
func confidenceOf(verdict string, pos, neg float64) float64 {
	strength := math.Min(1, math.Abs(pos-neg))
	agreement := 1.0
	if hi := math.Max(pos, neg); hi > 0 {
		agreement = 1 - 0.5*math.Min(pos, neg)/hi
	}
	var c float64
	switch verdict {
	case VerdictLikelyMalicious, VerdictLikelyBenign:
		c = 0.55 + 0.4*strength*agreement
	case VerdictSuspicious:
		c = 0.45 + 0.3*strength*agreement
	default:
		c = 0.3 + 0.3*math.Min(1, (pos+neg)/1.2)
	}
	return round2(math.Max(0, math.Min(1, c)))
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// listValues lists up to maxListedValue values, then "and N more".
func listValues(vs []string) string {
	if len(vs) <= maxListedValue {
		return joinAnd(vs)
	}
	return strings.Join(vs[:maxListedValue], ", ") + fmt.Sprintf(" and %d more", len(vs)-maxListedValue)
}

func joinAnd(vs []string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " and " + vs[len(vs)-1]
}
