package storage

import (
	"context"
	"database/sql"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
)

// Alert slot counters: the alerts created per organisation, quarter hour
// (of created_at, since the Unix epoch) and severity, kept by the same
// triggers as the alert counters (alertcounts.go), so that a count per
// time bucket over a long range (metrics' volume) sums a few rows per
// quarter hour instead of reading every alert. A quarter hour divides
// every interval from 15 minutes up and every time zone's offset (:30 and
// :45 zones included), so slots fold exactly into local buckets.

// AlertSlotCountsView is the live slot counts: organization_id, slot,
// severity and n. A key may appear on several rows (sum n).
const AlertSlotCountsView = "alert_slot_counts_live"

// AlertSlot is the width of a slot.
const AlertSlot = 15 * time.Minute

// slotDims are the slot counters' key.
const slotDims = "organization_id, slot, severity"

func pgSlotOf(col string) string {
	return "CAST(floor(extract(epoch from " + col + ") / 900) AS BIGINT)"
}

func sqliteSlotOf(col string) string {
	return "(CAST(strftime('%s', " + col + ") AS INTEGER) / 900)"
}

var postgresSlotTables = []string{
	`CREATE TABLE alert_slot_counts (organization_id uuid NOT NULL, slot bigint NOT NULL, severity text NOT NULL,
		n bigint NOT NULL, CONSTRAINT alert_slot_counts_key UNIQUE (` + slotDims + `))`,
	`CREATE TABLE alert_slot_count_deltas (organization_id uuid NOT NULL, slot bigint NOT NULL, severity text NOT NULL,
		n bigint NOT NULL)`,
	`CREATE INDEX alert_slot_count_deltas_org ON alert_slot_count_deltas (organization_id, slot)`,
}

var sqliteSlotTables = []string{
	`CREATE TABLE alert_slot_counts (organization_id text NOT NULL, slot integer NOT NULL, severity text NOT NULL,
		n integer NOT NULL)`,
	`CREATE UNIQUE INDEX alert_slot_counts_key ON alert_slot_counts (` + slotDims + `)`,
}

var postgresSlotBackfill = []string{
	`INSERT INTO alert_slot_counts (` + slotDims + `, n)
		SELECT organization_id, ` + pgSlotOf("created_at") + `, severity, count(*) FROM alerts GROUP BY 1, 2, 3`,
}

var sqliteSlotBackfill = []string{
	`INSERT INTO alert_slot_counts (` + slotDims + `, n)
		SELECT organization_id, ` + sqliteSlotOf("created_at") + `, severity, count(*) FROM alerts GROUP BY 1, 2, 3`,
}

// SlotCount is the number of alerts of one severity created in one slot.
type SlotCount struct {
	Severity string
	Slot     int64
	N        int
}

// Querier runs a read: a *sql.DB, a transaction, or an ent client.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CountAlertSlots sums the slot counters of orgs over the whole slots of
// [lo, hi), per severity and slot; severities, when not nil, narrows them.
// The counters are outside ent's privacy policies: orgs must be what the
// caller may read (rule.ReadableOrgs).
func CountAlertSlots(ctx context.Context, db Querier, d string, orgs []uuid.UUID, lo, hi time.Time, severities []string) ([]SlotCount, error) {
	if len(orgs) == 0 || (severities != nil && len(severities) == 0) {
		return nil, nil
	}
	sel := CountersOf(d, AlertSlotCountsView, orgs)
	sel.Select(sel.C("severity"), sel.C("slot")).AppendSelectExprAs(entsql.Expr(SumN(sel)), "n").
		Where(entsql.And(entsql.GTE(sel.C("slot"), lo.Unix()/int64(AlertSlot/time.Second)),
			entsql.LT(sel.C("slot"), hi.Unix()/int64(AlertSlot/time.Second)))).
		GroupBy(sel.C("severity"), sel.C("slot"))
	if severities != nil {
		sevs := make([]any, len(severities))
		for i, v := range severities {
			sevs[i] = v
		}
		sel.Where(entsql.In(sel.C("severity"), sevs...))
	}
	q, args := sel.Query()
	rs, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []SlotCount
	for rs.Next() {
		var r SlotCount
		if err := rs.Scan(&r.Severity, &r.Slot, &r.N); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// CountersOf starts a read of a counter view (alert counts, slots or
// periods): the view's rows of orgs. A key may be on several rows (the
// compacted count and its deltas), so readers sum n (SumN).
func CountersOf(d, view string, orgs []uuid.UUID) *entsql.Selector {
	ids := make([]any, len(orgs))
	for i, id := range orgs {
		ids[i] = id
	}
	sel := entsql.Dialect(d).Select().From(entsql.Table(view))
	return sel.Where(entsql.In(sel.C("organization_id"), ids...))
}

// SumN is the sum of a counter view's n, as a BIGINT on both databases.
func SumN(sel *entsql.Selector) string { return "CAST(SUM(" + sel.C("n") + ") AS BIGINT)" } // SUM of a bigint is numeric on PostgreSQL

// WholeAlertSlots is the span of whole slots inside [since, until); ok is
// false when there is none.
func WholeAlertSlots(since, until time.Time) (lo, hi time.Time, ok bool) {
	return wholeSpan(since, until, AlertSlot)
}

// wholeSpan is the span of whole periods of width (counted from the Unix
// epoch) inside [since, until); ok is false when there is none.
func wholeSpan(since, until time.Time, width time.Duration) (lo, hi time.Time, ok bool) {
	lo, hi = since.Truncate(width), until.Truncate(width)
	if lo.Before(since) {
		lo = lo.Add(width)
	}
	return lo, hi, lo.Before(hi)
}

// PartialEdges are the parts of [since, until) outside [lo, hi), its whole
// slots or periods: the partial ones at either end, which a reader of the
// counters counts from the alerts.
func PartialEdges(since, until, lo, hi time.Time) [][2]time.Time {
	var out [][2]time.Time
	for _, edge := range [][2]time.Time{{since, lo}, {hi, until}} {
		if edge[0].Before(edge[1]) {
			out = append(out, edge)
		}
	}
	return out
}
