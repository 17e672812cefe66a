package storage

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// migrateJobQueue creates or updates the durable job queue's tables
// (River's river_*) beside ent's, so that one Migrate prepares everything
// the server writes. On PostgreSQL it runs under the caller's migration
// lock.
func (d *DB) migrateJobQueue(ctx context.Context) error {
	var err error
	switch d.Dialect {
	case dialect.SQLite:
		err = riverUp(ctx, riversqlite.New(d.SQL))
	case dialect.Postgres:
		err = riverUp(ctx, riverpgxv5.New(d.Pool))
	default:
		err = fmt.Errorf("unsupported dialect %q", d.Dialect)
	}
	if err != nil {
		return fmt.Errorf("job queue migration: %w", err)
	}
	return nil
}

func riverUp[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet})
	if err != nil {
		return err
	}
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
