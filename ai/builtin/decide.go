package builtin

import (
	"math"
	"slices"
)

// historyDecisive is the share of one disposition among at least
// minHistory decided closures that lets history decide on its own.
const historyDecisive = 0.8

// decide turns the decision rules, the disposition history and the
// weighed signals into a verdict. A decision rule settles the verdict; a
// vendor test alert settles it unless a malicious rule found an external
// indicator; a malicious rule against a benign one (or against history)
// is a real conflict and needs review. Without a rule the score decides,
// and weak evidence is suspicious rather than needs_review.
func decide(rules []ruleHit, h DispositionHistory, rs []Reason) (verdict string, confidence, score float64) {
	_, conf, score := verdictOf(rs)
	mal := slices.ContainsFunc(rules, func(r ruleHit) bool { return r.decision == decideMalicious })
	malExternal := slices.ContainsFunc(rules, func(r ruleHit) bool { return r.decision == decideMalicious && r.external })
	test := slices.ContainsFunc(rules, func(r ruleHit) bool { return r.test })
	ben := slices.ContainsFunc(rules, func(r ruleHit) bool { return r.decision == decideBenign })
	histBen, histMal := historyDecides(h)
	ben = ben || histBen
	switch {
	case test && !malExternal:
		return VerdictLikelyBenign, 0.9, score
	case mal && (ben || test):
		return VerdictNeedsReview, 0.8, score
	case histMal && ben:
		return VerdictNeedsReview, 0.7, score
	case mal || histMal:
		return VerdictLikelyMalicious, round2(math.Max(conf, 0.85)), score
	case ben:
		return VerdictLikelyBenign, round2(math.Max(conf, 0.8)), score
	}
	verdict, conf, score = verdictOf(rs)
	if verdict == VerdictNeedsReview && !conflicting(rs) {
		verdict = VerdictSuspicious
		conf = round2(0.4 + 0.1*math.Min(1, math.Abs(score)))
	}
	if verdict == VerdictLikelyMalicious {
		// Without a decision rule, weighed evidence alone stays suspicious.
		verdict = VerdictSuspicious
	}
	return verdict, conf, score
}

// conflicting: both sides carry weight.
func conflicting(rs []Reason) bool {
	var pos, neg float64
	for _, r := range rs {
		if r.Weight > 0 {
			pos += r.Weight
		} else {
			neg -= r.Weight
		}
	}
	return pos >= conflictSide && neg >= conflictSide
}

// historyDecides: enough closures of the same rule on the same asset,
// nearly all one way.
func historyDecides(h DispositionHistory) (benign, malicious bool) {
	h = nonNegative(h)
	decided := h.TruePositive + h.FalsePositive + h.Benign
	if decided < minHistory {
		return false, false
	}
	n := float64(decided)
	return float64(h.FalsePositive+h.Benign) >= historyDecisive*n, float64(h.TruePositive) >= historyDecisive*n
}
