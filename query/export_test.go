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

// Unguarded is q without its guards: the program decides every record.
func Unguarded(q *Query) *Query {
	u := *q
	u.guards = nil
	return &u
}

// Guards describes q's guards, e.g. `source==x`, `attributes.host^=web-`.
func Guards(q *Query) []string {
	var out []string
	for _, g := range q.guards {
		out = append(out, g.String())
	}
	return out
}
