package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// loadPostgres streams n generated alerts into the alerts table with COPY
// and settles the table (VACUUM ANALYZE) and the alert counters, as a
// database that has been running a while would be: statistics gathered,
// visibility map set, the load's counter deltas folded.
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
	return settleCounters(ctx, pool)
}

// settleLimit bounds the wait for the server to fold the load's counter
// deltas.
const settleLimit = 5 * time.Minute

// settleCounters waits until the server has folded the load's deltas into
// the alert counters (one COPY leaves some 200,000 delta rows at 1M, whose
// folding takes seconds of a core: measured right after the load, it
// landed in the first phase's figures), then settles the counter tables
// as the alerts. The tables are found by name, so that the harness also
// measures builds whose counters differ.
func settleCounters(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name LIKE 'alert%count%' ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("counter tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("counter tables: %w", err)
	}
	deadline := time.Now().Add(settleLimit)
	for _, t := range tables {
		if !strings.HasSuffix(t, "_deltas") {
			continue
		}
		for {
			var pending bool
			if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{t}.Sanitize()+")").Scan(&pending); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			if !pending {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: deltas still pending %v after the load", t, settleLimit)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	for _, t := range tables {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("vacuum analyze %s: %w", t, err)
		}
	}
	// The load dirtied gigabytes of buffers: written by the checkpoint it
	// set off, they landed in the first phase measured (its ingest ran at
	// half the second phase's rate). Write them now.
	if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
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
