package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/seliq/seliq/internal/apperr"
)

// RetryAfter is what callers are told to wait while the database is
// unreachable or busy: long enough for a restart or failover to progress,
// short enough that connectors catch up soon after.
const RetryAfter = 5 * time.Second

// AsUnavailable recognises an error that means the database cannot answer
// right now rather than that the request is wrong: PostgreSQL unreachable,
// restarting or out of connections, a connection cut mid-query, SQLite
// busy or locked past its busy timeout. Those are answered 503 with
// Retry-After (the request may be retried as is) instead of 500.
func AsUnavailable(err error) (*apperr.Error, bool) {
	if err == nil || !unavailable(err) {
		return nil, false
	}
	return &apperr.Error{Code: apperr.Unavailable, Message: "temporarily unavailable; retry later", RetryAfter: RetryAfter}, true
}

func unavailable(err error) bool {
	var (
		connect *pgconn.ConnectError
		pg      *pgconn.PgError
		lite    *sqlite.Error
		// pgx's connection-level failures (a read or write on a dead
		// socket, "conn closed") are unexported types that all say whether
		// a retry is safe; matching them, rather than any io.ErrUnexpectedEOF
		// or net.Error, keeps a malformed cursor or an outbound call from
		// passing for a database outage.
		pgxConn interface{ SafeToRetry() bool }
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false // the request's own deadline
	case errors.As(err, &connect):
		return true
	case errors.As(err, &pg):
		return unavailablePgCode(pg.Code)
	case errors.As(err, &pgxConn):
		return true
	case errors.As(err, &lite):
		code := lite.Code() & 0xff // the primary code of an extended one
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return errors.Is(err, driver.ErrBadConn)
}

// unavailablePgCode: connection exceptions (class 08), the server shutting
// down or starting up (57P01-57P03) and too many connections (53300).
func unavailablePgCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"):
		return true
	case code == "57P01", code == "57P02", code == "57P03", code == "53300":
		return true
	}
	return false
}
