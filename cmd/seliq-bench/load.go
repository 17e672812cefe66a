package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// loadPostgres streams n generated alerts into the alerts table with COPY
// and settles the table (VACUUM ANALYZE), as a database that has been
// running a while would be: statistics gathered, visibility map set.
func loadPostgres(ctx context.Context, pool *pgxpool.Pool, g *generator, n int) error {
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		row := g.next()
		return pgValues(row.values()), nil
	})
	copied, err := pool.CopyFrom(ctx, pgx.Identifier{"alerts"}, alertColumns, src)
	if err != nil {
		return fmt.Errorf("copy alerts: %w", err)
	}
	if copied != int64(n) {
		return fmt.Errorf("copied %d alerts, want %d", copied, n)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE alerts"); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	return nil
}

// pgValues gives pgx's binary COPY the UUIDs in its own type.
func pgValues(vs []any) []any {
	for i, v := range vs {
		if id, ok := v.(uuid.UUID); ok {
			vs[i] = pgtype.UUID{Bytes: id, Valid: true}
		}
	}
	return vs
}

// sqliteBatch is the rows of one INSERT statement (28 parameters each,
// far below SQLite's 32766), and sqliteTxRows those of one transaction.
const (
	sqliteBatch  = 500
	sqliteTxRows = 20_000
)

// loadSQLite inserts n generated alerts with multi-row INSERTs, binding the
// Go values ent binds so the stored forms (text UUIDs and times, JSON) are
// those the server writes, then gathers statistics (ANALYZE).
func loadSQLite(ctx context.Context, db *sql.DB, g *generator, n int) error {
	for done := 0; done < n; done += sqliteTxRows {
		if err := insertSQLiteTx(ctx, db, g, min(sqliteTxRows, n-done)); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

func insertSQLiteTx(ctx context.Context, db *sql.DB, g *generator, n int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	full, err := tx.PrepareContext(ctx, insertStatement(sqliteBatch))
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer full.Close()
	args := make([]any, 0, sqliteBatch*len(alertColumns))
	for done := 0; done < n; done += sqliteBatch {
		rows := min(sqliteBatch, n-done)
		args = args[:0]
		for range rows {
			row := g.next()
			args = append(args, row.values()...)
		}
		if rows == sqliteBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertStatement(rows), args...)
		}
		if err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
	}
	return tx.Commit()
}

// insertStatement is an INSERT of rows alerts.
func insertStatement(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(alertColumns)), ",") + ")"
	var b strings.Builder
	b.WriteString("INSERT INTO alerts (" + strings.Join(alertColumns, ", ") + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}
