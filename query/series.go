package query

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/storage"
)

// bucketRow is a grouped count placed in its local bucket.
type bucketRow struct {
	groupRow
	bucket int
}

// seriesRows counts the matching records of [since, until) per key and
// local bucket of b. An alerts series whose query reads nothing but the
// severity, grouped by nothing or the severity, sums the slot counters
// (storage/alertslots.go) over the range's whole quarter hours: a few rows
// per quarter hour however many alerts. Only the partial quarter hours at
// either end, and every other series, are counted from the rows.
func (s *Service) seriesRows(ctx context.Context, q *Query, since, until time.Time, keys []groupKey, b *Buckets) ([]bucketRow, error) {
	field := q.Source.SeriesField()
	sevs, counted := q.countedSeverities(keys)
	lo, hi, whole := storage.WholeAlertSlots(since, until)
	if !counted || q.Source.Name != "alerts" || field != "created_at" || b.Slot%storage.AlertSlot != 0 || !whole {
		return s.scannedSeries(ctx, q, field, since, until, keys, b)
	}
	var out []bucketRow
	for _, edge := range storage.PartialEdges(since, until, lo, hi) {
		rows, err := s.scannedSeries(ctx, q, field, edge[0], edge[1], keys, b)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	orgs, err := rule.ReadableOrgs(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := storage.CountAlertSlots(ctx, s.client, s.dialect, orgs, lo, hi, sevs)
	if err != nil {
		return nil, err
	}
	rows := make([]groupRow, 0, len(counts))
	for _, c := range counts {
		r := groupRow{Slot: c.Slot, Count: c.N}
		if len(keys) == 1 {
			r.K0 = c.Severity
		}
		rows = append(rows, r)
	}
	return append(out, place(rows, &Buckets{Starts: b.Starts, Slot: storage.AlertSlot, Location: b.Location})...), nil
}

// scannedSeries counts the rows of [since, until) by field per key and
// slot of b's grain.
func (s *Service) scannedSeries(ctx context.Context, q *Query, field string, since, until time.Time, keys []groupKey, b *Buckets) ([]bucketRow, error) {
	col := q.Source.byName[field].col.name
	rows, err := s.grouped(ctx, q, field, &since, &until, keys, func(sel *sql.Selector) string {
		return slotSQL(sel.Dialect(), sel.C(col), b.Slot)
	})
	return place(rows, b), err
}

// place puts each slot's rows in the bucket of b holding the slot, leaving
// out slots before the first bucket.
func place(rows []groupRow, b *Buckets) []bucketRow {
	index := map[int64]int{}
	out := make([]bucketRow, 0, len(rows))
	for _, r := range rows {
		i, ok := index[r.Slot]
		if !ok {
			i = b.Index(r.Slot)
			index[r.Slot] = i
		}
		if i >= 0 {
			out = append(out, bucketRow{groupRow: r, bucket: i})
		}
	}
	return out
}

// countedSeverities tells whether the slot counters can answer a series
// of q grouped by keys: q reads no field but the severity, and keys group
// by nothing or by it. The severities q admits are found by running q on
// each of them.
func (q *Query) countedSeverities(keys []groupKey) ([]string, bool) {
	for _, k := range keys {
		if k.field.Name != "severity" {
			return nil, false
		}
	}
	f, ok := q.Source.byName["severity"]
	if !ok || !q.readsOnly("severity") {
		return nil, false
	}
	out := []string{}
	for _, v := range f.Values {
		match, err := q.Matches(Record{"severity": v})
		if err != nil {
			return nil, false
		}
		if match {
			out = append(out, v)
		}
	}
	return out, true
}

// readsOnly tells whether every field q names is one of names.
func (q *Query) readsOnly(names ...string) bool {
	for id := range q.idents {
		ok := false
		for _, n := range names {
			ok = ok || id == n
		}
		if !ok {
			return false
		}
	}
	return true
}
