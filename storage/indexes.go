package storage

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

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
//
// alerts_resolved is metrics' time to resolve, which reads the alerts
// resolved in a range: only resolved alerts are in it.
var partialIndexes = []string{
	`CREATE INDEX IF NOT EXISTS realtime_events_principal ON realtime_events (id) WHERE topic = 'principal'`,
	`CREATE INDEX IF NOT EXISTS alerts_resolved ON alerts (organization_id, resolved_at) WHERE resolved_at IS NOT NULL`,
}

// createDialectIndexes runs after ent's migration, under the same lock.
func (d *DB) createDialectIndexes(ctx context.Context, conn *sql.Conn) error {
	for _, q := range partialIndexes {
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
