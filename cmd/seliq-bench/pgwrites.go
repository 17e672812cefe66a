package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgWrites is PostgreSQL's account of the writing a phase caused. The WAL
// position is exact; full-page images come from pg_stat_wal, which
// backends report about once a second, so a short run's count may lack its
// last second. Both are cluster-wide: the benchmark needs a quiet server.
//
// They show where a run fell in the checkpoint cycle: a page's first change
// after a checkpoint writes the whole page to the WAL, and an alert's
// insert changes a page of each of the alert table's twenty indexes.
type pgWrites struct {
	lsn         string
	fpi         int64
	checkpoints int64
}

const pgWritesQuery = `SELECT pg_current_wal_lsn()::text, w.wal_fpi, b.checkpoints_timed + b.checkpoints_req
FROM pg_stat_wal w, pg_stat_bgwriter b`

// readPGWrites reads the counters; PostgreSQL 17 moved checkpoints out of
// pg_stat_bgwriter, and there the figures are left out.
func readPGWrites(ctx context.Context, conn *pgx.Conn) (pgWrites, error) {
	var w pgWrites
	err := conn.QueryRow(ctx, pgWritesQuery).Scan(&w.lsn, &w.fpi, &w.checkpoints)
	return w, err
}

// pgWritesFigures sets, under prefix, the WAL megabytes and full-page
// images per 1,000 alerts accepted between before and after, and the
// checkpoints that began meanwhile.
func pgWritesFigures(before, after pgWrites, accepted int64, prefix string, f figures) error {
	if accepted <= 0 {
		return nil
	}
	from, err := parseLSN(before.lsn)
	if err != nil {
		return err
	}
	to, err := parseLSN(after.lsn)
	if err != nil {
		return err
	}
	if to < from {
		return fmt.Errorf("WAL position went back from %s to %s", before.lsn, after.lsn)
	}
	per1k := 1000 / float64(accepted)
	f[prefix+walMBSuffix] = float64(to-from) / 1e6 * per1k
	f[prefix+fpiSuffix] = float64(after.fpi-before.fpi) * per1k
	f[prefix+checkpointsSuffix] = float64(after.checkpoints - before.checkpoints)
	return nil
}

// The write figures of a run are named by its prefix and these suffixes,
// in pgWritesFigures and in the report's rows (pgWriteMetrics).
const (
	walMBSuffix       = "_wal_mb_per_1k"
	fpiSuffix         = "_fpi_per_1k"
	checkpointsSuffix = "_checkpoints"
)

// pgWriteMetrics are the report's rows for the write figures under prefix,
// shown beneath the run's rate.
func pgWriteMetrics(prefix string) []metric {
	return []metric{
		{key: prefix + walMBSuffix, label: "    WAL written per 1,000 alerts", unit: "MB"},
		{key: prefix + fpiSuffix, label: "    of which full-page images, per 1,000 alerts", unit: "pages"},
		{key: prefix + checkpointsSuffix, label: "    checkpoints begun during the run", unit: "checkpoints"},
	}
}

// writeMeter measures each ingest run's writing on PostgreSQL; on SQLite
// it does nothing.
type writeMeter struct {
	conn   *pgx.Conn
	before pgWrites
}

// openPGWrites connects to the benchmark's PostgreSQL database; the
// figures are left out, with a note, where its statistics views differ.
func (b *bench) openPGWrites(ctx context.Context, dbURL string) (*writeMeter, error) {
	if b.dialect != "postgres" {
		return &writeMeter{}, nil
	}
	conn, err := connectPG(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if _, err := readPGWrites(ctx, conn); err != nil {
		b.notes = append(b.notes, fmt.Sprintf("postgres: no WAL figures and no checkpoints before the ingest runs: %v", err))
		_ = conn.Close(ctx)
		return &writeMeter{}, nil
	}
	return &writeMeter{conn: conn}, nil
}

// begin checkpoints when asked and reads the counters before a run.
func (m *writeMeter) begin(ctx context.Context, checkpoint bool) error {
	if m.conn == nil {
		return nil
	}
	var err error
	if m.before, err = readPGWrites(ctx, m.conn); err != nil || !checkpoint {
		return err
	}
	if _, err := m.conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// The checkpointer counts the checkpoint just after the command
	// returns: wait for the count, so that the run does not report it.
	deadline := time.Now().Add(checkpointCountLimit)
	for {
		w, err := readPGWrites(ctx, m.conn)
		if err != nil {
			return err
		}
		if w.checkpoints > m.before.checkpoints || time.Now().After(deadline) {
			m.before = w
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkpointCountLimit bounds the wait for a checkpoint to be counted.
const checkpointCountLimit = 5 * time.Second

// end reads them after the run and sets the run's figures under prefix.
func (m *writeMeter) end(ctx context.Context, accepted int64, prefix string, f figures) error {
	if m.conn == nil {
		return nil
	}
	after, err := readPGWrites(ctx, m.conn)
	if err != nil {
		return err
	}
	return pgWritesFigures(m.before, after, accepted, prefix, f)
}

func (m *writeMeter) close() {
	if m.conn != nil {
		_ = m.conn.Close(context.Background())
	}
}

// parseLSN reads a WAL position as PostgreSQL prints it: two hexadecimal
// halves of a 64-bit byte offset, "16/B374D848".
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("WAL position %q: want two hexadecimal halves, X/Y", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("WAL position %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("WAL position %q: %w", s, err)
	}
	return h<<32 | l, nil
}
