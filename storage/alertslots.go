package storage

import "time"

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
