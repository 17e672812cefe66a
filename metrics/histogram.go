package metrics

import (
	"context"
	"math"
	"slices"

	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/storage"
)

// ExactUpTo is how many durations a range may hold for its time to detect
// or resolve to be computed exactly from the alerts. Above it (and without
// a query narrowing) they come from the duration histograms
// (storage/alertdurations.go): counts and means stay exact, the median and
// 90th percentile are exact to their slot, within storage.DurationError
// (1 %) of the exact value; the cost no longer grows with the alerts.
const ExactUpTo = 20000

// alertDuration is one of the alerts' duration metrics: its histogram
// kind, the alerts it keeps in a range and its span.
type alertDuration struct {
	kind int
	rows func(s *Service, sc *scope) *ent.AlertQuery
	sp   span
}

var (
	timeToDetect  = alertDuration{storage.DurationDetect, (*Service).detected, detectSpan}
	timeToResolve = alertDuration{storage.DurationResolve, (*Service).resolved, resolveSpan}
)

// alertDurations computes k's statistics over sc's range, overall and per
// severity: from the histograms when the range holds more than exactUpTo
// durations, else from the alerts.
func (s *Service) alertDurations(ctx context.Context, sc *scope, k alertDuration) (*Durations, error) {
	exact := func() (*Durations, error) {
		return withSortMemory(ctx, s, func(s *Service) (*Durations, error) {
			return s.durations(ctx, alertScanner(k.rows(s, sc)), k.sp)
		})
	}
	lo, hi, whole := storage.AlertHours.Whole(sc.since, sc.until)
	if sc.alertQ != nil || !whole {
		return exact()
	}
	h := histogram{}
	for _, sp := range countedSpans(lo, hi) {
		if err := s.countedDurations(ctx, sc, k.kind, sp, h); err != nil {
			return nil, err
		}
	}
	if h.count() <= s.exactUpTo {
		return exact()
	}
	for _, part := range sc.edges(lo, hi) {
		if err := s.edgeDurations(ctx, part, k, h); err != nil {
			return nil, err
		}
	}
	return h.durations(), nil
}

// countedDurations adds the histogram rows of sp of the organisations the
// viewer reads, narrowed by severity and connector, to h.
func (s *Service) countedDurations(ctx context.Context, sc *scope, kind int, sp countedSpan, h histogram) error {
	var rows []struct {
		Severity string  `sql:"severity"`
		Slot     int     `sql:"slot"`
		N        int     `sql:"n"`
		Total    float64 `sql:"total"`
	}
	err := s.scanCounters(ctx, sp.grain.DurationView(), &rows, func(sel *sql.Selector) {
		sel.Where(sql.EQ(sel.C("kind"), kind))
		sel.Select(sel.C("severity"), sel.C("slot")).
			AppendSelectExprAs(sql.Expr(storage.SumN(sel)), "n").
			AppendSelectExprAs(sql.Expr("SUM("+sel.C("total")+")"), "total").
			GroupBy(sel.C("severity"), sel.C("slot"))
	}, append(sc.alertNarrowing(), sp.buckets)...)
	for _, r := range rows {
		h.add(r.Severity, r.Slot, r.N, r.Total)
	}
	return err
}

// edgeDurations adds the durations of sc's range, a partial hour at an end
// of the counted span, read from the alerts, to h.
func (s *Service) edgeDurations(ctx context.Context, sc *scope, k alertDuration, h histogram) error {
	var rows []struct {
		Severity string  `sql:"severity"`
		D        float64 `sql:"d"`
	}
	err := k.rows(s, sc).Modify(func(sel *sql.Selector) {
		sel.Select(sel.C("severity")).AppendSelectExprAs(sql.Expr(k.sp.seconds(s.dialect, sel)), "d")
	}).Scan(ctx, &rows)
	for _, r := range rows {
		h.add(r.Severity, storage.DurationSlot(r.D), 1, r.D)
	}
	return err
}

// histogram is durations per severity and slot: count and sum.
type histogram map[string]map[int]*slotSum

type slotSum struct {
	n     int
	total float64
}

func (h histogram) add(severity string, slot, n int, total float64) {
	per := h[severity]
	if per == nil {
		per = map[int]*slotSum{}
		h[severity] = per
	}
	s := per[slot]
	if s == nil {
		s = &slotSum{}
		per[slot] = s
	}
	s.n += n
	s.total += total
}

func (h histogram) count() int {
	n := 0
	for _, per := range h {
		for _, s := range per {
			n += s.n
		}
	}
	return n
}

// durations are h's statistics, overall and per severity.
func (h histogram) durations() *Durations {
	out := emptyDurations()
	all := map[int]*slotSum{}
	for _, per := range h {
		for slot, s := range per {
			if a := all[slot]; a != nil {
				a.n += s.n
				a.total += s.total
			} else {
				all[slot] = &slotSum{s.n, s.total}
			}
		}
	}
	out.Overall = slotStats(all)
	for _, ss := range out.BySeverity {
		ss.Stats = slotStats(h[string(ss.Severity)])
	}
	return out
}

// slotStats is Summarise over durations known by their slots: the count
// and mean exact, the median and 90th percentile interpolated as
// percentile_cont between the values of the slots holding the two ranks.
func slotStats(per map[int]*slotSum) *Stats {
	slots := make([]int, 0, len(per))
	n, sum := 0, 0.0
	for slot, s := range per {
		if s.n > 0 {
			slots = append(slots, slot)
			n += s.n
			sum += s.total
		}
	}
	st := &Stats{Count: n}
	if n == 0 {
		return st
	}
	slices.Sort(slots)
	// valueAt is the value of the slot holding the rank-th duration (from 0).
	valueAt := func(rank int) float64 {
		seen := 0
		for _, slot := range slots {
			seen += per[slot].n
			if rank < seen {
				return storage.SlotValue(slot)
			}
		}
		return storage.SlotValue(slots[len(slots)-1])
	}
	at := func(p float64) *float64 {
		pos := p * float64(n-1)
		lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
		v := valueAt(lo) + (valueAt(hi)-valueAt(lo))*(pos-float64(lo))
		return Round(&v)
	}
	mean := sum / float64(n)
	st.Mean, st.Median, st.P90 = Round(&mean), at(0.5), at(0.9)
	return st
}
