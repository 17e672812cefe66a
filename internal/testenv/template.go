package testenv

// PostgreSQL tests copy a template database migrated once instead of
// migrating a database each: CREATE DATABASE … TEMPLATE copies the tables,
// indexes, triggers, functions and job queue tables Migrate creates.
//
// The template is named seliq_tpl_<hash of storage.SchemaFingerprint>, so a
// changed schema gets a new template and an unchanged one is reused across
// test binaries and runs. An advisory lock keeps the test binaries go test
// runs in parallel from building it at once; the template is marked
// IS_TEMPLATE only once migrated, so one left half-built is rebuilt.
// Templates of older schemas are left in place (a test binary of another
// checkout may be copying them); drop them by hand when done:
//
//	psql -Atc "SELECT 'DROP DATABASE ' || datname || ';' FROM pg_database WHERE datname LIKE 'seliq_tpl_%'"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seliq/seliq/storage"
)

// templateLock is the advisory lock held while a template is built.
const templateLock = 0x5e11c7e5

var template struct {
	sync.Mutex
	name string
}

// migratedTemplate returns the name of the migrated template database,
// building it on first use. admin is connected to the server at base.
func migratedTemplate(admin *pgx.Conn, base string) (string, error) {
	template.Lock()
	defer template.Unlock()
	if template.name != "" {
		return template.name, nil
	}
	fp, err := storage.SchemaFingerprint()
	if err != nil {
		return "", err
	}
	name := "seliq_tpl_" + fp[:16]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("template lock: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLock) //nolint:errcheck // released with the session anyway
	var exists, ready bool
	err = admin.QueryRow(ctx, "SELECT true, datistemplate FROM pg_database WHERE datname = $1", name).Scan(&exists, &ready)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", err
	}
	if !ready {
		if err := buildTemplate(ctx, admin, base, name, exists); err != nil {
			return "", fmt.Errorf("build %s: %w", name, err)
		}
	}
	template.name = name
	return name, nil
}

// buildTemplate creates database name, migrates it and marks it a template,
// first dropping a half-built one.
func buildTemplate(ctx context.Context, admin *pgx.Conn, base, name string, exists bool) error {
	if exists {
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return err
	}
	u, err := withDatabase(base, name)
	if err != nil {
		return err
	}
	db, err := storage.Open(ctx, u)
	if err != nil {
		return err
	}
	err = db.Migrate(ctx)
	// Copying needs the template without connections: close them first.
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_, err = admin.Exec(ctx, "ALTER DATABASE "+name+" IS_TEMPLATE true")
	return err
}

// createDatabase runs a CREATE DATABASE statement, retrying while the
// template is still in use: a closed connection's server process may not
// have ended yet.
func createDatabase(ctx context.Context, admin *pgx.Conn, stmt string) error {
	for {
		_, err := admin.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
