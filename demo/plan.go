package demo

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"time"
)

// RepeatPercent of the alerts in each batch are repeats of alerts the same
// connector sent shortly before (re-deliveries, re-notifications), so that
// deduplication merges them.
const RepeatPercent = 15

// Batch is one body to post through a connector.
type Batch struct {
	Vendor  string // catalogue key
	Body    []byte // as the vendor posts it
	Fresh   int    // alerts not sent before
	Repeats int    // alerts repeated from earlier in this connector's stream
}

// Plan produces the batches of a run one at a time, in the order the
// sources would have sent them: whichever connector's next alert is the
// oldest posts next. It is deterministic for a seeded r and a given now.
type Plan struct {
	g       *gen
	size    int
	streams []*stream
}

// stream is one connector's share of the alerts.
type stream struct {
	v      vendor
	times  []time.Time       // event times of the alerts still to send, ascending
	recent []json.RawMessage // what it sent last, for repeats
}

// NewPlan spreads alerts fresh alerts over the vendors by their shares,
// with event times in (now-span, now], to be sent in batches of at most
// batchSize alerts (repeats included).
func NewPlan(r *rand.Rand, now time.Time, alerts int, span time.Duration, batchSize int) *Plan {
	p := &Plan{g: newGen(r, now), size: max(batchSize, 1)}
	for i, n := range apportion(alerts, vendors) {
		if n > 0 {
			p.streams = append(p.streams, &stream{v: vendors[i], times: p.g.eventTimes(n, span)})
		}
	}
	return p
}

// apportion splits total over the vendors by share (largest remainder).
func apportion(total int, vs []vendor) []int {
	sum := 0
	for _, v := range vs {
		sum += v.share
	}
	out := make([]int, len(vs))
	rem := make([]int, len(vs))
	given := 0
	for i, v := range vs {
		out[i] = total * v.share / sum
		rem[i] = total * v.share % sum
		given += out[i]
	}
	for ; given < total; given++ {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
	}
	return out
}

// Next returns the next batch; ok is false when every alert has been sent.
func (p *Plan) Next() (b Batch, ok bool, err error) {
	s := p.oldest()
	if s == nil {
		return Batch{}, false, nil
	}
	freshMax := max(p.size-p.size*RepeatPercent/100, 1)
	n := min(freshMax, len(s.times))
	docs := make([]json.RawMessage, 0, p.size)
	for _, at := range s.times[:n] {
		raw, err := s.v.document(p.g, at)
		if err != nil {
			return Batch{}, false, err
		}
		docs = append(docs, raw)
	}
	s.times = s.times[n:]
	s.remember(docs, p.size)
	// Rounded so that repeats are RepeatPercent of the batch they join.
	repeats := (n*RepeatPercent + (100-RepeatPercent)/2) / (100 - RepeatPercent)
	for range repeats {
		at := p.g.r.IntN(len(docs) + 1)
		docs = slices.Insert(docs, at, pick(p.g.r, s.recent))
	}
	body, err := s.v.envelope(p.g, docs)
	if err != nil {
		return Batch{}, false, err
	}
	return Batch{Vendor: s.v.key, Body: body, Fresh: n, Repeats: repeats}, true, nil
}

// oldest is the stream whose next alert happened first.
func (p *Plan) oldest() *stream {
	var best *stream
	for _, s := range p.streams {
		if len(s.times) > 0 && (best == nil || s.times[0].Before(best.times[0])) {
			best = s
		}
	}
	return best
}

// remember keeps the last window alerts the stream sent: repeats come from
// recent ones, as re-deliveries do, and stay inside the dedup window.
func (s *stream) remember(docs []json.RawMessage, window int) {
	s.recent = append(s.recent, docs...)
	if over := len(s.recent) - window; over > 0 {
		s.recent = append(s.recent[:0:0], s.recent[over:]...)
	}
}
