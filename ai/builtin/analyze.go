package builtin

// maxRelated bounds the related alerts and incidents kept per analysis.
const maxRelated = 50

// AnalyzeAlert triages one alert. It is deterministic (the same input
// gives the same output), never fails and does bounded work whatever the
// input size.
func AnalyzeAlert(a Alert, c Context) Analysis {
	ev := gatherEvidence(a, c)
	reasons := signals(ev, c.History)
	verdict, confidence, score := decide(ev.rules, c.History, reasons)
	sev, sevWhy := adjustSeverity(a.Severity, verdict, ev.techniques)
	an := Analysis{
		Verdict:        verdict,
		Confidence:     confidence,
		Score:          score,
		Reasons:        nonNil(reasons),
		Severity:       sev,
		SeverityReason: sevWhy,
		IOCs:           nonNil(ev.iocs),
		RankedIOCs:     nonNil(ev.ranked),
		Excluded:       nonNil(ev.excluded),
		Assets:         nonNil(ev.assets),
		Techniques:     nonNil(attackTechniques(verdict, ev.techniques)),
		Related:        relatedOf(c.Related, a.ID),
		NextSteps:      nextSteps(ev, verdict, c.History),
		Engine:         Engine,
	}
	an.Summary = summarize(ev, an)
	return an
}

// relatedOf deduplicates the related items, keeps the caller's order and
// drops the alert itself.
func relatedOf(rs []Related, self string) []Related {
	out := []Related{}
	seen := make(map[[2]string]bool, len(rs))
	for _, r := range rs {
		key := [2]string{r.Kind, r.ID}
		if seen[key] || r.Kind == "alert" && r.ID == self && self != "" {
			continue
		}
		seen[key] = true
		out = append(out, r)
		if len(out) == maxRelated {
			break
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// attackTechniques are the techniques an analyst records: none for benign
// activity, which is no attack (the summary still says what it resembles).
func attackTechniques(verdict string, ts []Technique) []Technique {
	if verdict == VerdictLikelyBenign {
		return nil
	}
	return ts
}
