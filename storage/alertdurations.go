package storage

import (
	"math"
	"strconv"
	"strings"
)

// Alert duration histograms: per organisation, period (an hour or a day,
// as the period counters), severity and connector, how many durations of
// each kind fell in each logarithmic slot, and their exact sum. Time to
// detect (event time to creation) is counted in the period of the alert's
// creation; time to resolve (creation to resolution) in the period of its
// resolution, for the alerts the metric keeps (resolved or closed, not as
// duplicates, not suppressed). The same triggers as the alert counters
// keep them, so no write path can forget to. Counts and means read from
// them are exact; a percentile is exact to its slot, within
// DurationError of the value, whatever the alerts' number.

// The kinds of duration.
const (
	DurationDetect  = 1
	DurationResolve = 2
)

// durationGamma is the ratio of a slot's bounds: slot i ≥ 1 holds the
// durations in [1 ms·γ^(i-1), 1 ms·γ^i); slot 0 those under a millisecond.
const durationGamma = 1.02

// DurationError bounds the relative error of a slot's value (SlotValue)
// for any duration in it: (γ-1)/(γ+1).
const DurationError = (durationGamma - 1) / (durationGamma + 1)

var lnGamma = math.Log(durationGamma)

// DurationSlot is the slot of a duration of d seconds.
func DurationSlot(d float64) int {
	if d < 0.001 {
		return 0
	}
	return 1 + int(math.Floor(math.Log(d*1000)/lnGamma))
}

// SlotValue is the value a slot stands for: 0 for slot 0, else the
// harmonic mean of its bounds, within DurationError of every duration in
// it.
func SlotValue(slot int) float64 {
	if slot <= 0 {
		return 0
	}
	lo := 0.001 * math.Pow(durationGamma, float64(slot-1))
	hi := lo * durationGamma
	return 2 * lo * hi / (lo + hi)
}

// slotSQL is DurationSlot of the seconds expression d, in SQL (ln exists
// on PostgreSQL and in SQLite's math functions).
func slotSQL(d string) string {
	return "(CASE WHEN " + d + " < 0.001 THEN 0 ELSE 1 + CAST(floor(ln((" + d + ") * 1000) / " +
		strconv.FormatFloat(lnGamma, 'g', -1, 64) + ") AS INTEGER) END)"
}

// durationDims are the histograms' key.
const durationDims = "organization_id, kind, bucket, severity, connector_id, slot"

func (g AlertCountGrain) durationTable() string  { return "alert_duration_" + g.name + "_counts" }
func (g AlertCountGrain) durationDeltas() string { return "alert_duration_" + g.name + "_count_deltas" }

// DurationView is the live histogram of g: durationDims, n and total (the
// sum of the durations, in seconds). A key may appear on several rows.
func (g AlertCountGrain) DurationView() string { return g.durationTable() + "_live" }

// durationSeconds are the two kinds' durations in seconds of the row
// qualified by row, on PostgreSQL or SQLite.
func durationSeconds(postgres bool, row, start, end string) string {
	if postgres {
		return "date_part('epoch', " + row + end + " - " + row + start + ")"
	}
	return "((julianday(" + row + end + ") - julianday(" + row + start + ")) * 86400.0)"
}

// Which alerts each kind keeps, as conditions on the row qualified by row.
func detectKept(row string) string {
	return row + "event_time IS NOT NULL AND " + row + "event_time <= " + row + "created_at"
}

func resolveKept(row string) string {
	return row + "status IN ('resolved', 'closed') AND " + row + "resolved_at IS NOT NULL AND (" + row +
		"disposition IS NULL OR " + row + "disposition <> 'duplicate') AND NOT " + row + "suppressed"
}

// durationCols are the alert columns the histograms read beyond the
// counters' (the triggers' change sets carry them).
const durationCols = "event_time, resolved_at, disposition, suppressed"

func (g AlertCountGrain) postgresDurationTables() []string {
	cols := `(organization_id uuid NOT NULL, kind smallint NOT NULL, bucket bigint NOT NULL, severity text NOT NULL,
		connector_id uuid, slot integer NOT NULL, n bigint NOT NULL, total double precision NOT NULL`
	return []string{
		`CREATE TABLE ` + g.durationTable() + ` ` + cols + `,
		CONSTRAINT ` + g.durationTable() + `_key UNIQUE NULLS NOT DISTINCT (` + durationDims + `))`,
		`CREATE INDEX ` + g.durationTable() + `_zero ON ` + g.durationTable() + ` (organization_id) WHERE n = 0`,
		`CREATE TABLE ` + g.durationDeltas() + ` ` + cols + `)`,
		`CREATE INDEX ` + g.durationDeltas() + `_org ON ` + g.durationDeltas() + ` (organization_id, bucket)`,
	}
}

const sqliteDurationKey = "organization_id, kind, bucket, severity, ifnull(connector_id, ''), slot"

func (g AlertCountGrain) sqliteDurationTables() []string {
	return []string{
		`CREATE TABLE ` + g.durationTable() + ` (organization_id text NOT NULL, kind integer NOT NULL, bucket integer NOT NULL,
		severity text NOT NULL, connector_id text, slot integer NOT NULL, n integer NOT NULL, total real NOT NULL)`,
		`CREATE UNIQUE INDEX ` + g.durationTable() + `_key ON ` + g.durationTable() + ` (` + sqliteDurationKey + `)`,
	}
}

// durationRows is a relation of (organization_id, kind, t, severity,
// connector_id, d, slot, n) over the relation from (alerts, or a trigger's
// change set with n), t being the instant whose period counts d.
func durationRows(postgres bool, from, n string) string {
	kinds := []struct {
		kind     int64
		t, start string
		kept     string
		end      string
	}{
		{DurationDetect, "created_at", "event_time", detectKept(""), "created_at"},
		{DurationResolve, "resolved_at", "created_at", resolveKept(""), "resolved_at"},
	}
	var parts []string
	for _, k := range kinds {
		d := durationSeconds(postgres, "", k.start, k.end)
		parts = append(parts, `SELECT organization_id, `+itoa64(k.kind)+` AS kind, `+k.t+` AS t, severity, connector_id, d, `+
			slotSQL("d")+` AS slot, n FROM (SELECT organization_id, `+k.t+`, severity, connector_id, `+d+` AS d, `+n+` AS n FROM `+
			from+` WHERE `+k.kept+`) AS `+k.t+`_kept`)
	}
	return strings.Join(parts, "\n\t\tUNION ALL ")
}

// durationGroups groups durationRows (as relation dur) by g's key.
func (g AlertCountGrain) durationGroups(postgres bool, dur string) string {
	return `SELECT organization_id, kind, ` + g.bucketOf(postgres, "t") + `, severity, connector_id, slot, sum(n), sum(n * d) FROM ` +
		dur + ` GROUP BY 1, 2, 3, 4, 5, 6`
}

func (g AlertCountGrain) durationBackfill(postgres bool) []string {
	out := []string{`INSERT INTO ` + g.durationTable() + ` (` + durationDims + `, n, total) ` +
		g.durationGroups(postgres, "("+durationRows(postgres, "alerts", "1")+") AS dur")}
	if postgres {
		out = append(out, `ANALYZE `+g.durationTable())
	}
	return out
}

// pgAppendDurationDeltas are the CTEs of pgAppendDeltas appending the net
// change of c to each grain's duration deltas.
func pgAppendDurationDeltas() string {
	out := `,
	dur AS (` + durationRows(true, "c", "n") + `)`
	for _, g := range alertCountGrains {
		out += `,
	` + g.name + `_durations AS (INSERT INTO ` + g.durationDeltas() + ` (` + durationDims + `, n, total) ` +
			g.durationGroups(true, "dur") + ` HAVING sum(n) <> 0 OR sum(n * d) <> 0)`
	}
	return out
}

// sqliteBumpDurations adds sign to row's duration slots (SQLite triggers).
func sqliteBumpDurations(row, sign string) string {
	out := ""
	from := "(SELECT " + row + ".organization_id AS organization_id, " + row + ".severity AS severity, " + row + ".connector_id AS connector_id, " +
		row + ".created_at AS created_at, " + row + ".event_time AS event_time, " + row + ".resolved_at AS resolved_at, " +
		row + ".status AS status, " + row + ".disposition AS disposition, " + row + ".suppressed AS suppressed)"
	for _, g := range alertCountGrains {
		out += `
	INSERT INTO ` + g.durationTable() + ` (` + durationDims + `, n, total) ` +
			g.durationGroups(false, "("+durationRows(false, from, sign)+") AS dur") + `
		ON CONFLICT (` + sqliteDurationKey + `) DO UPDATE SET n = n + excluded.n, total = total + excluded.total;`
	}
	return out
}

func (g AlertCountGrain) postgresDurationView() []string {
	return pgLiveView(g.DurationView(), g.durationTable(), g.durationDeltas(), durationDims+", n, total")
}

func (g AlertCountGrain) sqliteDurationView() []string {
	return sqliteLiveView(g.DurationView(), g.durationTable(), durationDims+", n, total")
}

func (g AlertCountGrain) sqliteDropDurationZeros() string {
	return `DELETE FROM ` + g.durationTable() + ` WHERE n = 0;`
}

func (g AlertCountGrain) durationCompactions() []string {
	return foldDeltas(g.durationTable(), g.durationDeltas(), durationDims, "n", "total")
}
