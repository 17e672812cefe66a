package query

import "time"

// SeriesCounted tells whether a series of text over src grouped by
// groupBy is summed from the slot counters.
func SeriesCounted(src *Source, text string, groupBy []string) (bool, error) {
	q, err := Compile(src, "query", text, time.Now())
	if err != nil {
		return false, err
	}
	keys, err := parseGroupBy(src, groupBy)
	if err != nil {
		return false, err
	}
	_, ok := q.countedSeverities(keys)
	return ok, nil
}
