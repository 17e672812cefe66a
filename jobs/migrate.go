package jobs

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/seliq/seliq/storage"
)

// migrateLockKey serialises River's migration between replicas that start
// together; storage.Migrate holds a different key, released before this runs.
const migrateLockKey = 0x5e11c1

// Migrate creates or updates River's tables (river_*) beside ent's. It is
// idempotent, and on PostgreSQL replicas migrating at once take turns. Run it
// after storage's Migrate.
func Migrate(ctx context.Context, db *storage.DB) error {
	var err error
	switch db.Dialect {
	case dialect.SQLite:
		err = migrateUp(ctx, riversqlite.New(db.SQL))
	case dialect.Postgres:
		err = migratePostgres(ctx, db)
	default:
		err = fmt.Errorf("unsupported dialect %q", db.Dialect)
	}
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// migratePostgres runs the migration while holding a transaction-scoped
// advisory lock, which PostgreSQL releases even if this process dies.
func migratePostgres(ctx context.Context, db *storage.DB) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // only releases the lock
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return migrateUp(ctx, riverpgxv5.New(db.Pool))
}

func migrateUp[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: defaultLogger()})
	if err != nil {
		return err
	}
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
