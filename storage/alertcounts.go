package storage

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
)

// Alert counters: the number of alerts per (organisation, status, severity,
// source, connector, assignee), and per the same and one tag, so that the
// queue's facets read a few thousand counter rows instead of grouping every
// alert. Triggers keep them, so no write path (ingest, updates, bulk
// actions, incident links, deletes, foreign-key SET NULL) can forget to.
//
// On PostgreSQL, concurrent ingest transactions incrementing the same hot
// counter rows would queue on their row locks, so statement-level triggers
// append each statement's net change, grouped by key, to insert-only delta
// tables; CompactAlertCounts folds the deltas into the counters and readers
// add the pending deltas (the *_live views). SQLite has one writer at a
// time: row-level triggers update the counters directly.

// AlertCountsView and AlertTagCountsView are the live counts readers query:
// organization_id, status, severity, source, connector_id, assignee_id
// (and tag), and n. A key may appear on several rows (sum n) and with a
// total of zero (ignore it).
const (
	AlertCountsView    = "alert_counts_live"
	AlertTagCountsView = "alert_tag_counts_live"
)

// countDims are the alert columns the counters are keyed by.
const countDims = "organization_id, status, severity, source, connector_id, assignee_id"

// prefixed qualifies each of countDims with alias.
func prefixed(alias string) string {
	return alias + "." + strings.ReplaceAll(countDims, ", ", ", "+alias+".")
}

// pgTagsOf and sqliteTagsOf expand a tags column into one row per tag (a
// value that is not a JSON array gives none), as the exact facet does.
func pgTagsOf(col string) string {
	return "jsonb_array_elements_text(CASE WHEN jsonb_typeof(" + col + ") = 'array' THEN " + col + " END) AS t(tag)"
}

func sqliteTagsOf(col string) string {
	return "json_each(CASE WHEN json_type(" + col + ") = 'array' THEN " + col + " END) AS t"
}

// postgresCounterTables: the counters, keyed with NULLS NOT DISTINCT so that
// "no connector" is one key; the deltas, unkeyed so that appending never
// waits on another transaction. The partial indexes let the compactor find
// the counters that dropped to zero without a scan.
var postgresCounterTables = []string{
	`CREATE TABLE alert_counts (organization_id uuid NOT NULL, status text NOT NULL, severity text NOT NULL,
		source text NOT NULL, connector_id uuid, assignee_id uuid, n bigint NOT NULL,
		CONSTRAINT alert_counts_key UNIQUE NULLS NOT DISTINCT (` + countDims + `))`,
	`CREATE INDEX alert_counts_zero ON alert_counts (organization_id) WHERE n = 0`,
	`CREATE TABLE alert_tag_counts (organization_id uuid NOT NULL, status text NOT NULL, severity text NOT NULL,
		source text NOT NULL, connector_id uuid, assignee_id uuid, tag text NOT NULL, n bigint NOT NULL,
		CONSTRAINT alert_tag_counts_key UNIQUE NULLS NOT DISTINCT (` + countDims + `, tag))`,
	`CREATE INDEX alert_tag_counts_zero ON alert_tag_counts (organization_id) WHERE n = 0`,
	`CREATE TABLE alert_count_deltas (organization_id uuid NOT NULL, status text NOT NULL, severity text NOT NULL,
		source text NOT NULL, connector_id uuid, assignee_id uuid, n bigint NOT NULL)`,
	`CREATE INDEX alert_count_deltas_org ON alert_count_deltas (organization_id)`,
	`CREATE TABLE alert_tag_count_deltas (organization_id uuid NOT NULL, status text NOT NULL, severity text NOT NULL,
		source text NOT NULL, connector_id uuid, assignee_id uuid, tag text NOT NULL, n bigint NOT NULL)`,
	`CREATE INDEX alert_tag_count_deltas_org ON alert_tag_count_deltas (organization_id)`,
}

// pgAppendDeltas is the body of a trigger function: it appends the net
// change of the relation changes (countDims, tags, n = +1 or -1 per row) to
// both delta tables, one row per key.
func pgAppendDeltas(changes string) string {
	return `WITH c AS (` + changes + `),
	d AS (INSERT INTO alert_count_deltas (` + countDims + `, n)
		SELECT ` + countDims + `, sum(n) FROM c GROUP BY ` + countDims + ` HAVING sum(n) <> 0),
	s AS (INSERT INTO alert_slot_count_deltas (` + slotDims + `, n)
		SELECT organization_id, ` + pgSlotOf("created_at") + `, severity, sum(n) FROM c
		GROUP BY 1, 2, 3 HAVING sum(n) <> 0)` + pgAppendPeriodDeltas() + pgAppendDurationDeltas() + `
	INSERT INTO alert_tag_count_deltas (` + countDims + `, tag, n)
	SELECT ` + countDims + `, t.tag, sum(n) FROM c, ` + pgTagsOf("c.tags") + `
	GROUP BY ` + countDims + `, t.tag HAVING sum(n) <> 0`
}

// pgChangedRows counts the updated rows' old versions -1 and their new
// versions +1: a row whose counted columns did not change (an ingest
// repeat, a retired dedup key) cancels out, and pgAppendDeltas's HAVING
// drops its key. Pairing old and new rows by id instead would join two
// transition tables, which have no statistics: PostgreSQL plans a nested
// loop and closing 20,000 alerts takes 1 s longer.
var pgChangedRows = `SELECT ` + changeCols + `, -1 AS n FROM old_rows
	UNION ALL SELECT ` + changeCols + `, 1 AS n FROM new_rows`

// changeCols are the columns of a trigger's change set: the counters'
// key, and what the period counters and duration histograms read.
const changeCols = countDims + ", tags, created_at, " + durationCols

// pgCountTrigger is one statement-level trigger and its function.
// PostgreSQL allows transition tables only on single-event triggers, so
// there is one per event. An INSERT … ON CONFLICT DO UPDATE fires both: the
// inserted rows reach the insert trigger, the updated ones the update
// trigger.
type pgCountTrigger struct {
	name, event, referencing, changes string
}

var pgCountTriggers = []pgCountTrigger{
	{"alert_counts_insert", "INSERT", "NEW TABLE AS new_rows", `SELECT ` + changeCols + `, 1 AS n FROM new_rows`},
	{"alert_counts_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", pgChangedRows},
	{"alert_counts_delete", "DELETE", "OLD TABLE AS old_rows", `SELECT ` + changeCols + `, -1 AS n FROM old_rows`},
}

func (tr pgCountTrigger) statements() []string {
	return []string{
		`CREATE OR REPLACE FUNCTION ` + tr.name + `() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			` + pgAppendDeltas(tr.changes) + `;
			RETURN NULL;
		END $$`,
		// Replaced in the migration's transaction: no write runs between the
		// drop and the create.
		`DROP TRIGGER IF EXISTS ` + tr.name + ` ON alerts`,
		`CREATE TRIGGER ` + tr.name + ` AFTER ` + tr.event + ` ON alerts REFERENCING ` + tr.referencing +
			` FOR EACH STATEMENT EXECUTE FUNCTION ` + tr.name + `()`,
	}
}

// postgresCountViews add the pending deltas to the counters.
var postgresCountViews = slices.Concat(
	pgLiveView(AlertCountsView, "alert_counts", "alert_count_deltas", countDims+", n"),
	pgLiveView(AlertTagCountsView, "alert_tag_counts", "alert_tag_count_deltas", countDims+", tag, n"),
	pgLiveView(AlertSlotCountsView, "alert_slot_counts", "alert_slot_count_deltas", slotDims+", n"),
)

// pgLiveView is the view of a counter table with its pending deltas added.
func pgLiveView(view, table, deltas, cols string) []string {
	return []string{`CREATE OR REPLACE VIEW ` + view + ` AS
		SELECT ` + cols + ` FROM ` + table + ` UNION ALL SELECT ` + cols + ` FROM ` + deltas}
}

// postgresBackfill counts the alerts that predate the counters. It runs
// after the triggers are created in the same transaction: creating them
// locked out writers (SHARE ROW EXCLUSIVE) once the ones in flight had
// committed, so every alert is counted exactly once, here or by a trigger.
var postgresBackfill = []string{
	`INSERT INTO alert_counts (` + countDims + `, n) SELECT ` + countDims + `, count(*) FROM alerts GROUP BY ` + countDims,
	`INSERT INTO alert_tag_counts (` + countDims + `, tag, n)
		SELECT ` + prefixed("a") + `, t.tag, count(*) FROM alerts a, ` + pgTagsOf("a.tags") + `
		GROUP BY ` + prefixed("a") + `, t.tag`,
}

// sqliteKey is the counters' key on SQLite, whose unique indexes treat NULLs
// as distinct: a missing connector or assignee is keyed as the empty
// string. Ids are text, as ent stores them on SQLite.
const sqliteKey = "organization_id, status, severity, source, ifnull(connector_id, ''), ifnull(assignee_id, '')"

var sqliteCounterTables = []string{
	`CREATE TABLE alert_counts (organization_id text NOT NULL, status text NOT NULL, severity text NOT NULL,
		source text NOT NULL, connector_id text, assignee_id text, n integer NOT NULL)`,
	`CREATE UNIQUE INDEX alert_counts_key ON alert_counts (` + sqliteKey + `)`,
	`CREATE INDEX alert_counts_zero ON alert_counts (organization_id) WHERE n = 0`,
	`CREATE TABLE alert_tag_counts (organization_id text NOT NULL, status text NOT NULL, severity text NOT NULL,
		source text NOT NULL, connector_id text, assignee_id text, tag text NOT NULL, n integer NOT NULL)`,
	`CREATE UNIQUE INDEX alert_tag_counts_key ON alert_tag_counts (` + sqliteKey + `, tag)`,
	`CREATE INDEX alert_tag_counts_zero ON alert_tag_counts (organization_id) WHERE n = 0`,
}

// sqliteBump adds sign to the counters of row (NEW or OLD). The WHERE true
// keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
func sqliteBump(row, sign string) string {
	vals := prefixed(row)
	return `INSERT INTO alert_counts (` + countDims + `, n) VALUES (` + vals + `, ` + sign + `)
		ON CONFLICT (` + sqliteKey + `) DO UPDATE SET n = n + excluded.n;
	INSERT INTO alert_tag_counts (` + countDims + `, tag, n)
		SELECT ` + vals + `, t.value, ` + sign + ` FROM ` + sqliteTagsOf(row+".tags") + ` WHERE true
		ON CONFLICT (` + sqliteKey + `, tag) DO UPDATE SET n = n + excluded.n;
	INSERT INTO alert_slot_counts (` + slotDims + `, n)
		VALUES (` + row + `.organization_id, ` + sqliteSlotOf(row+".created_at") + `, ` + row + `.severity, ` + sign + `)
		ON CONFLICT (` + slotDims + `) DO UPDATE SET n = n + excluded.n;` + sqliteBumpPeriods(row, sign) + sqliteBumpDurations(row, sign)
}

// sqliteDropZeros removes the counters a decrement emptied.
var sqliteDropZeros = `DELETE FROM alert_counts WHERE n = 0; DELETE FROM alert_tag_counts WHERE n = 0;
	DELETE FROM alert_slot_counts WHERE n = 0; ` + AlertHours.sqliteDropZeros() + AlertDays.sqliteDropZeros() +
	AlertHours.sqliteDropDurationZeros() + AlertDays.sqliteDropDurationZeros()

// sqliteCountedChanged is true when an update changes a counted column.
var sqliteCountedChanged = func() string {
	var conds []string
	for _, c := range strings.Split(countDims+", tags, "+durationCols, ", ") {
		conds = append(conds, "OLD."+c+" IS NOT NEW."+c)
	}
	return strings.Join(conds, " OR ")
}()

var sqliteCountTriggers = []struct{ name, body string }{
	{"alert_counts_insert", `AFTER INSERT ON alerts BEGIN ` + sqliteBump("NEW", "1") + ` END`},
	// UPDATE OF: an ingest repeat, which sets none of these, skips the trigger.
	{"alert_counts_update", `AFTER UPDATE OF ` + countDims + `, tags, ` + durationCols + ` ON alerts WHEN ` + sqliteCountedChanged +
		` BEGIN ` + sqliteBump("OLD", "-1") + sqliteBump("NEW", "1") + sqliteDropZeros + ` END`},
	{"alert_counts_delete", `AFTER DELETE ON alerts BEGIN ` + sqliteBump("OLD", "-1") + sqliteDropZeros + ` END`},
}

// SQLite keeps no deltas: the live views are the counters. It has no
// CREATE OR REPLACE VIEW; dropping first applies a changed definition.
var sqliteCountViews = slices.Concat(
	sqliteLiveView(AlertCountsView, "alert_counts", countDims+", n"),
	sqliteLiveView(AlertTagCountsView, "alert_tag_counts", countDims+", tag, n"),
	sqliteLiveView(AlertSlotCountsView, "alert_slot_counts", slotDims+", n"),
)

// sqliteLiveView is the view readers query over a counter table.
func sqliteLiveView(view, table, cols string) []string {
	return []string{`DROP VIEW IF EXISTS ` + view, `CREATE VIEW ` + view + ` AS SELECT ` + cols + ` FROM ` + table}
}

var sqliteBackfill = []string{
	`INSERT INTO alert_counts (` + countDims + `, n) SELECT ` + countDims + `, count(*) FROM alerts GROUP BY ` + countDims,
	`INSERT INTO alert_tag_counts (` + countDims + `, tag, n)
		SELECT ` + prefixed("a") + `, t.value, count(*) FROM alerts a, ` + sqliteTagsOf("a.tags") + `
		GROUP BY ` + prefixed("a") + `, t.value`,
}

// beginner is a *sql.DB or the *sql.Conn holding the migration lock.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// migrateAlertCounts creates the counters and their triggers after ent's
// migration (on PostgreSQL under its lock), in one transaction. The tables
// are created, and filled from the existing alerts, only the first time;
// the triggers and functions are replaced every time so that a new version
// of their SQL takes effect.
func (d *DB) migrateAlertCounts(ctx context.Context, db beginner) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var exists bool
	if err := tx.QueryRowContext(ctx, d.tableExists(), "alert_counts").Scan(&exists); err != nil {
		return fmt.Errorf("alert counters: %w", err)
	}
	var slotsExist bool
	if err := tx.QueryRowContext(ctx, d.tableExists(), "alert_slot_counts").Scan(&slotsExist); err != nil {
		return fmt.Errorf("alert slot counters: %w", err)
	}
	// The period counters came later, and the duration histograms later
	// still: each grain's table is created and filled the first time it
	// is missing.
	newGrains, err := d.missingGrains(ctx, tx, AlertCountGrain.table)
	if err != nil {
		return err
	}
	newHistograms, err := d.missingGrains(ctx, tx, AlertCountGrain.durationTable)
	if err != nil {
		return err
	}
	pg := d.Dialect == dialect.Postgres
	var steps []string
	if !exists {
		steps = append(steps, d.choose(postgresCounterTables, sqliteCounterTables)...)
	}
	if !slotsExist {
		steps = append(steps, d.choose(postgresSlotTables, sqliteSlotTables)...)
	}
	for _, g := range newGrains {
		steps = append(steps, d.choose(g.postgresTables(), g.sqliteTables())...)
	}
	for _, g := range newHistograms {
		steps = append(steps, d.choose(g.postgresDurationTables(), g.sqliteDurationTables())...)
	}
	steps = append(steps, d.countTriggers()...)
	if !exists {
		steps = append(steps, d.choose(postgresBackfill, sqliteBackfill)...)
	}
	if !slotsExist {
		steps = append(steps, d.choose(postgresSlotBackfill, sqliteSlotBackfill)...)
	}
	for _, g := range newGrains {
		steps = append(steps, g.backfill(pg)...)
	}
	for _, g := range newHistograms {
		steps = append(steps, g.durationBackfill(pg)...)
	}
	steps = append(steps, d.choose(postgresCountViews, sqliteCountViews)...)
	steps = append(steps, periodStatements(func(g AlertCountGrain) []string {
		return slices.Concat(d.choose(g.postgresView(), g.sqliteView()), d.choose(g.postgresDurationView(), g.sqliteDurationView()))
	})...)
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("alert counters: %w\n%s", err, q)
		}
	}
	return tx.Commit()
}

// missingGrains are the grains whose table (named by table) does not
// exist yet.
func (d *DB) missingGrains(ctx context.Context, tx *sql.Tx, table func(AlertCountGrain) string) ([]AlertCountGrain, error) {
	var out []AlertCountGrain
	for _, g := range alertCountGrains {
		var ok bool
		if err := tx.QueryRowContext(ctx, d.tableExists(), table(g)).Scan(&ok); err != nil {
			return nil, fmt.Errorf("%s: %w", table(g), err)
		}
		if !ok {
			out = append(out, g)
		}
	}
	return out, nil
}

func (d *DB) tableExists() string {
	if d.Dialect == dialect.Postgres {
		return `SELECT to_regclass($1) IS NOT NULL`
	}
	return `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?`
}

func (d *DB) choose(postgres, sqlite []string) []string {
	if d.Dialect == dialect.Postgres {
		return postgres
	}
	return sqlite
}

func (d *DB) countTriggers() []string {
	var out []string
	if d.Dialect == dialect.Postgres {
		for _, tr := range pgCountTriggers {
			out = append(out, tr.statements()...)
		}
		return out
	}
	for _, tr := range sqliteCountTriggers {
		out = append(out, `DROP TRIGGER IF EXISTS `+tr.name, `CREATE TRIGGER `+tr.name+` `+tr.body)
	}
	return out
}

// compactLock is the advisory lock one compactor holds at a time; the
// others skip their turn rather than contend on the same counter rows.
const compactLock = 0x5e11c1

// compactions fold each delta table into its counters. The DELETE …
// RETURNING and the upsert are one statement, so a reader's snapshot sees
// a delta either pending or folded, never both or neither.
var compactions = slices.Concat(
	foldDeltas("alert_counts", "alert_count_deltas", countDims, "n"),
	foldDeltas("alert_tag_counts", "alert_tag_count_deltas", countDims+", tag", "n"),
	foldDeltas("alert_slot_counts", "alert_slot_count_deltas", slotDims, "n"),
)

// foldDeltas are the compaction of one counter table: its deltas, keyed
// by dims, folded in (each of sums added) and the keys a decrement
// brought to zero dropped.
func foldDeltas(table, deltas, dims string, sums ...string) []string {
	var summed, nonZero, added []string
	for _, c := range sums {
		summed = append(summed, "sum("+c+")")
		nonZero = append(nonZero, "sum("+c+") <> 0")
		added = append(added, c+" = c."+c+" + excluded."+c)
	}
	cols := dims + ", " + strings.Join(sums, ", ")
	return []string{`WITH d AS (DELETE FROM ` + deltas + ` RETURNING ` + cols + `)
	INSERT INTO ` + table + ` AS c (` + cols + `)
	SELECT ` + dims + `, ` + strings.Join(summed, ", ") + ` FROM d GROUP BY ` + dims + ` HAVING ` + strings.Join(nonZero, " OR ") + `
	ON CONFLICT (` + dims + `) DO UPDATE SET ` + strings.Join(added, ", "),
		`DELETE FROM ` + table + ` WHERE n = 0`}
}

// CompactAlertCounts folds the pending deltas into the alert counters
// (PostgreSQL; SQLite keeps none). Readers are correct without it; it keeps
// what they add up small. Replicas may call it at once: one compacts, the
// others return at once.
func (d *DB) CompactAlertCounts(ctx context.Context) error {
	if d.Dialect != dialect.Postgres {
		return nil
	}
	tx, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var locked bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, compactLock).Scan(&locked); err != nil {
		return fmt.Errorf("compact alert counts: %w", err)
	}
	if !locked {
		return nil
	}
	for _, q := range slices.Concat(compactions, periodStatements(AlertCountGrain.compactions), periodStatements(AlertCountGrain.durationCompactions)) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("compact alert counts: %w", err)
		}
	}
	return tx.Commit()
}

// CompactAlertCountsEvery compacts the alert counters every interval until
// ctx ends. A failure is logged and retried at the next tick: readers stay
// correct meanwhile, they only add up more deltas.
func (d *DB) CompactAlertCountsEvery(ctx context.Context, every time.Duration, log *slog.Logger) {
	if d.Dialect != dialect.Postgres {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := d.CompactAlertCounts(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "compact alert counters", "error", err)
		}
	}
}
