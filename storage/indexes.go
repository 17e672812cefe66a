package storage

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"entgo.io/ent/dialect"
)

// postgresIndexes are the indexes ent's schema cannot declare: GIN indexes
// over jsonb for the queue's tag, entity and attribute filters (`@>`, `?|`), and
// trigram indexes for its free-text search (ILIKE '%…%').
var postgresIndexes = []string{
	`CREATE INDEX IF NOT EXISTS alerts_tags_gin ON alerts USING GIN (tags)`,
	`CREATE INDEX IF NOT EXISTS alerts_entities_gin ON alerts USING GIN (entities jsonb_path_ops)`,
	`CREATE INDEX IF NOT EXISTS alerts_attributes_gin ON alerts USING GIN (attributes jsonb_path_ops)`,
}

// trigramIndexes need the pg_trgm extension, which a managed database may
// not let the application create; free text then falls back to scans.
var trigramIndexes = []string{
	`CREATE INDEX IF NOT EXISTS alerts_title_trgm ON alerts USING GIN (title gin_trgm_ops)`,
	`CREATE INDEX IF NOT EXISTS alerts_description_trgm ON alerts USING GIN (description gin_trgm_ops)`,
	`CREATE INDEX IF NOT EXISTS alerts_rule_trgm ON alerts USING GIN ((attributes ->> 'rule') gin_trgm_ops)`,
}

// partialIndexes are partial indexes both dialects support and ent's schema
// cannot declare. Each replica's hub reads the principal changes (the
// revocation signal) even when nobody subscribes; on PostgreSQL this keeps
// that read from scanning every alert event (SQLite reads the id range).
var partialIndexes = []string{
	`CREATE INDEX IF NOT EXISTS realtime_events_principal ON realtime_events (id) WHERE topic = 'principal'`,
}

// groupingIndexes serve analysis's grouping candidates (the open alerts
// first seen within half an hour of an alert, in first-seen order): without
// it PostgreSQL reads every alert of the organisation for each candidate
// read (~1.3 s at a million alerts, several per batch of analyses).
var groupingIndexes = []string{
	`CREATE INDEX IF NOT EXISTS alerts_first_seen ON alerts (organization_id, first_seen_at, id)`,
}

// metricIndexes serve the metrics' reads of a range: the alerts created
// in it (volume's partial quarter hours, the breakdowns, time to detect)
// and those resolved in it (time to resolve), each index holding every
// column those reads use, so that a week of a million-alert organisation
// is read off the index without visiting the wide alert rows. PostgreSQL
// carries them as INCLUDE columns, SQLite as trailing key columns. The
// resolved index replaces alerts_resolved, which held the range alone, and
// alerts_resolved_cover, which lacked suppressed: time to resolve leaves
// suppressed alerts out, and reading that flag off each row made
// PostgreSQL scan the whole table; and the created one the tenant
// mixin's (organization_id, created_at), which every alert write paid for
// (a bulk close of 10,000 alerts writes an entry in each of the table's
// indexes for each alert).
var metricIndexes = map[string][]string{
	dialect.Postgres: {
		`CREATE INDEX IF NOT EXISTS alerts_created_cover ON alerts (organization_id, created_at) INCLUDE (severity, status, connector_id, assignee_id, event_time)`,
		`DROP INDEX IF EXISTS alert_organization_id_created_at`,
		`DROP INDEX IF EXISTS alerts_resolved`,
		`DROP INDEX IF EXISTS alerts_resolved_cover`,
		`CREATE INDEX IF NOT EXISTS alerts_resolved_span ON alerts (organization_id, resolved_at) INCLUDE (created_at, severity, status, disposition, suppressed, connector_id) WHERE resolved_at IS NOT NULL`,
	},
	dialect.SQLite: {
		`CREATE INDEX IF NOT EXISTS alerts_created_cover ON alerts (organization_id, created_at, severity, status, connector_id, assignee_id, event_time)`,
		`DROP INDEX IF EXISTS alert_organization_id_created_at`,
		`DROP INDEX IF EXISTS alerts_resolved`,
		`DROP INDEX IF EXISTS alerts_resolved_cover`,
		`CREATE INDEX IF NOT EXISTS alerts_resolved_span ON alerts (organization_id, resolved_at, created_at, severity, status, disposition, suppressed, connector_id) WHERE resolved_at IS NOT NULL`,
	},
}

// fingerprintIndexes serve analysis's reads by fingerprint (the alerts of
// a dedup group, its closed history, which groups were analysed), all of
// them equality. The fingerprint is a hash, so a B-tree's new entries land
// on random leaf pages, and after each checkpoint every leaf an ingest
// touches is written whole to the WAL: at a million alerts the B-tree on
// (organization_id, fingerprint) had 9,400 leaves and wrote a quarter of
// ingest's WAL. PostgreSQL's hash index holds a 4-byte hash code per entry
// (4,100 pages at a million). It needs no organisation column: the
// fingerprint hashes its connector's id, so its rows are one organisation's,
// and every read still filters by organisation on the rows.
// SQLite has no hash indexes and keeps the B-tree under ent's old name.
var fingerprintIndexes = map[string][]string{
	dialect.Postgres: {
		`CREATE INDEX IF NOT EXISTS alerts_fingerprint_hash ON alerts USING HASH (fingerprint)`,
		`DROP INDEX IF EXISTS alert_organization_id_fingerprint`,
	},
	dialect.SQLite: {
		`CREATE INDEX IF NOT EXISTS alert_organization_id_fingerprint ON alerts (organization_id, fingerprint)`,
	},
}

// indexStatements are the index statements of dialect d that both
// dialects have a version of, in the order they run.
func indexStatements(d string) []string {
	return slices.Concat(partialIndexes, groupingIndexes, metricIndexes[d], fingerprintIndexes[d])
}

// createDialectIndexes runs after ent's migration (on PostgreSQL, on the
// connection holding the migration lock).
func (d *DB) createDialectIndexes(ctx context.Context, conn execer) error {
	for _, q := range indexStatements(d.Dialect) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create index: %w", err)
		}
	}
	if d.Dialect != dialect.Postgres {
		return nil
	}
	for _, q := range postgresIndexes {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create index: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm`); err != nil {
		slog.WarnContext(ctx, "pg_trgm unavailable: free-text alert search will scan", "error", err)
		return nil
	}
	for _, q := range trigramIndexes {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create index: %w", err)
		}
	}
	return nil
}
