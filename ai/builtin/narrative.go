package builtin

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seliq/seliq/ingest/entities"
)

type storyItem struct {
	at   time.Time
	text string // sentence body without the time phrase
}

// narrative tells the incident's alerts and timeline events in order:
// "At 09:12 UTC on 2 March 2026 CrowdStrike reported ...; 4 minutes
// later ...". A long story keeps its first events and its last one, within
// maxNarrativeItems items and maxNarrative bytes.
func narrative(in Incident, alerts []Alert, as []Analysis) string {
	items := storyItems(in, alerts, as)
	if len(items) == 0 {
		return "No alerts or timeline events are recorded for this incident."
	}
	lead := len(items)
	if lead > maxNarrativeItems {
		lead = maxNarrativeItems - 1
	}
	s := tell(items, lead)
	for len(s) > maxNarrative && lead > 1 {
		lead--
		s = tell(items, lead)
	}
	return clip(s, maxNarrative)
}

// tell narrates the first lead items and, if any were left out, the last.
func tell(items []storyItem, lead int) string {
	shown := items
	skipped := 0
	if lead < len(items) {
		shown = append(slices.Clone(items[:lead]), items[len(items)-1])
		skipped = len(items) - lead - 1
	}
	sentences := make([]string, len(shown))
	for i, it := range shown {
		var prev time.Time
		if i > 0 {
			prev = shown[i-1].at
		}
		s := timePhrase(it.at, prev, i == 0) + " " + it.text + "."
		if skipped > 0 && i == len(shown)-1 {
			s = fmt.Sprintf("After %d further event%s, %s", skipped, plural(skipped), s)
		}
		sentences[i] = upperFirst(s)
	}
	return strings.Join(sentences, " ")
}

func storyItems(in Incident, alerts []Alert, as []Analysis) []storyItem {
	var items []storyItem
	if !in.CreatedAt.IsZero() {
		items = append(items, storyItem{in.CreatedAt, fmt.Sprintf("the incident was opened at %s severity", orDefault(strings.ToLower(in.Severity), "unset"))})
	}
	for i, a := range alerts {
		items = append(items, storyItem{alertTime(a, in.CreatedAt), alertSentence(a, as[i])})
	}
	for _, e := range in.Timeline {
		if e.Kind == "alert_linked" || strings.TrimSpace(e.Title) == "" {
			continue // the alert itself is already told
		}
		items = append(items, storyItem{e.OccurredAt, eventSentence(e)})
	}
	slices.SortStableFunc(items, func(a, b storyItem) int { return cmp.Compare(a.at.UnixNano(), b.at.UnixNano()) })
	return items
}

func alertSentence(a Alert, an Analysis) string {
	s := fmt.Sprintf("%s reported %q", orDefault(strings.TrimSpace(a.Source), "a source"), clip(strings.TrimSpace(a.Title), maxQuotedTitle))
	if hosts := valuesOf(an.Assets, entities.Hostname); len(hosts) > 0 {
		s += " on " + listValues(hosts)
	}
	var notes []string
	if a.Occurrences > 1 {
		notes = append(notes, fmt.Sprintf("%d times", a.Occurrences))
	}
	if len(an.Techniques) > 0 {
		notes = append(notes, an.Techniques[0].Name)
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, "; ") + ")"
	}
	return s + ", rated " + verdictWords(an.Verdict)
}

func eventSentence(e Event) string {
	kind := strings.ReplaceAll(strings.TrimSpace(e.Kind), "_", " ")
	title := clip(strings.TrimSpace(e.Title), maxQuotedTitle)
	if kind == "" {
		return title
	}
	return fmt.Sprintf("%s: %s", kind, title)
}

// timePhrase says when, relative to the previous item where that reads
// better.
func timePhrase(t, prev time.Time, first bool) string {
	t = t.UTC()
	switch {
	case t.IsZero():
		return "at an unknown time"
	case first || prev.IsZero():
		return "at " + t.Format("15:04 UTC on 2 January 2006")
	}
	d := t.Sub(prev)
	switch {
	case d < time.Minute:
		return "within the same minute"
	case d < time.Hour:
		return duration(d) + " later"
	case t.YearDay() == prev.UTC().YearDay() && t.Year() == prev.UTC().Year():
		return "at " + t.Format("15:04 UTC")
	}
	return "at " + t.Format("15:04 UTC on 2 January")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
