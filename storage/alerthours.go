package storage

import (
	"strconv"
	"time"
)

// Alert period counters: the alerts created per organisation, period (an
// hour or a day of created_at, numbered since the Unix epoch), status,
// severity, connector and assignee, kept by the same triggers as the alert
// counters (alertcounts.go), so that the metrics' breakdowns of the alerts
// created in a range (by severity, status, connector, assignee; narrowed
// by severity or connector) sum counter rows instead of grouping every
// alert. A status change, a reassignment or a delete moves or removes the
// alert's count in its creation period. At 1M alerts an hour holds about
// 270 keys and a day about 320, so a week is read as its whole days, the
// whole hours at either end, and only the partial hours from the alerts:
// some 8,000 counter rows instead of 45,000 hours or 230,000 alerts.

// AlertCountGrain is one width of the period counters.
type AlertCountGrain struct {
	name  string
	Width time.Duration
}

// The period counters' grains.
var (
	AlertHours = AlertCountGrain{name: "hour", Width: time.Hour}
	AlertDays  = AlertCountGrain{name: "day", Width: 24 * time.Hour}
)

var alertCountGrains = []AlertCountGrain{AlertHours, AlertDays}

func (g AlertCountGrain) table() string  { return "alert_" + g.name + "_counts" }
func (g AlertCountGrain) deltas() string { return "alert_" + g.name + "_count_deltas" }

// View is the live counts of g: organization_id, bucket, status,
// severity, connector_id, assignee_id and n. A key may appear on several
// rows (sum n) and with a total of zero (ignore it).
func (g AlertCountGrain) View() string { return g.table() + "_live" }

// Bucket is the number of t's period, as the counters key it.
func (g AlertCountGrain) Bucket(t time.Time) int64 { return t.Unix() / g.secs() }

func (g AlertCountGrain) secs() int64 { return int64(g.Width / time.Second) }

// Whole is the span of g's whole periods inside [since, until); ok is
// false when there is none.
func (g AlertCountGrain) Whole(since, until time.Time) (lo, hi time.Time, ok bool) {
	return wholeSpan(since, until, g.Width)
}

// periodDims are the period counters' key.
const periodDims = "organization_id, bucket, status, severity, connector_id, assignee_id"

// columns is the key's values computed from the alert columns qualified
// by row ("" for none), on PostgreSQL or SQLite.
func (g AlertCountGrain) columns(postgres bool, row string) string {
	return row + "organization_id, " + g.bucketOf(postgres, row+"created_at") + ", " + row + "status, " + row + "severity, " +
		row + "connector_id, " + row + "assignee_id"
}

// bucketOf is the number of the period of the instant column col.
func (g AlertCountGrain) bucketOf(postgres bool, col string) string {
	if postgres {
		return "CAST(floor(extract(epoch from " + col + ") / " + itoa64(g.secs()) + ") AS BIGINT)"
	}
	return "(CAST(strftime('%s', " + col + ") AS INTEGER) / " + itoa64(g.secs()) + ")"
}

func (g AlertCountGrain) postgresTables() []string {
	return []string{
		`CREATE TABLE ` + g.table() + ` (organization_id uuid NOT NULL, bucket bigint NOT NULL, status text NOT NULL,
		severity text NOT NULL, connector_id uuid, assignee_id uuid, n bigint NOT NULL,
		CONSTRAINT ` + g.table() + `_key UNIQUE NULLS NOT DISTINCT (` + periodDims + `))`,
		`CREATE INDEX ` + g.table() + `_zero ON ` + g.table() + ` (organization_id) WHERE n = 0`,
		`CREATE TABLE ` + g.deltas() + ` (organization_id uuid NOT NULL, bucket bigint NOT NULL, status text NOT NULL,
		severity text NOT NULL, connector_id uuid, assignee_id uuid, n bigint NOT NULL)`,
		`CREATE INDEX ` + g.deltas() + `_org ON ` + g.deltas() + ` (organization_id, bucket)`,
	}
}

// sqlitePeriodKey keys a missing connector or assignee as the empty string
// (SQLite's unique indexes treat NULLs as distinct).
const sqlitePeriodKey = "organization_id, bucket, status, severity, ifnull(connector_id, ''), ifnull(assignee_id, '')"

func (g AlertCountGrain) sqliteTables() []string {
	return []string{
		`CREATE TABLE ` + g.table() + ` (organization_id text NOT NULL, bucket integer NOT NULL, status text NOT NULL,
		severity text NOT NULL, connector_id text, assignee_id text, n integer NOT NULL)`,
		`CREATE UNIQUE INDEX ` + g.table() + `_key ON ` + g.table() + ` (` + sqlitePeriodKey + `)`,
	}
}

// backfill counts the existing alerts; on PostgreSQL it also gathers the
// new table's statistics, without which the planner takes it for empty
// and sorts a week's counter rows instead of hashing them.
func (g AlertCountGrain) backfill(postgres bool) []string {
	out := []string{`INSERT INTO ` + g.table() + ` (` + periodDims + `, n)
		SELECT ` + g.columns(postgres, "") + `, count(*) FROM alerts GROUP BY 1, 2, 3, 4, 5, 6`}
	if postgres {
		out = append(out, `ANALYZE `+g.table())
	}
	return out
}

// pgAppendPeriodDeltas are the CTEs of pgAppendDeltas appending the net
// change of c to each grain's delta table.
func pgAppendPeriodDeltas() string {
	out := ""
	for _, g := range alertCountGrains {
		out += `,
	` + g.name + ` AS (INSERT INTO ` + g.deltas() + ` (` + periodDims + `, n)
		SELECT ` + g.columns(true, "") + `, sum(n) FROM c
		GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0)`
	}
	return out
}

// sqliteBumpPeriods adds sign to row's period counters (SQLite triggers).
func sqliteBumpPeriods(row, sign string) string {
	out := ""
	for _, g := range alertCountGrains {
		out += `
	INSERT INTO ` + g.table() + ` (` + periodDims + `, n)
		SELECT ` + g.columns(false, row+".") + `, ` + sign + ` WHERE true
		ON CONFLICT (` + sqlitePeriodKey + `) DO UPDATE SET n = n + excluded.n;`
	}
	return out
}

func periodStatements(each func(AlertCountGrain) []string) []string {
	var out []string
	for _, g := range alertCountGrains {
		out = append(out, each(g)...)
	}
	return out
}

func (g AlertCountGrain) postgresView() []string {
	return pgLiveView(g.View(), g.table(), g.deltas(), periodDims+", n")
}

func (g AlertCountGrain) sqliteView() []string {
	return sqliteLiveView(g.View(), g.table(), periodDims+", n")
}

func (g AlertCountGrain) sqliteDropZeros() string {
	return `DELETE FROM ` + g.table() + ` WHERE n = 0;`
}

func (g AlertCountGrain) compactions() []string {
	return foldDeltas(g.table(), g.deltas(), periodDims, "n")
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
