package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seliq/seliq/internal/apperr"
)

// TestAsUnavailable: connection failures and busy databases are 503 with
// Retry-After; the request's own deadline and errors about the data are not.
func TestAsUnavailable(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connect error", fmt.Errorf("query: %w", &pgconn.ConnectError{}), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"bad conn", fmt.Errorf("exec: %w", driver.ErrBadConn), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), false},
		{"cancelled", context.Canceled, false},
		{"malformed cursor", fmt.Errorf("cannot decode cursor: %w", io.ErrUnexpectedEOF), false},
		{"outbound call", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, ok := AsUnavailable(c.err)
			if ok != c.want {
				t.Fatalf("AsUnavailable(%v) = %v, want %v", c.err, ok, c.want)
			}
			if ok && (e.Code != apperr.Unavailable || e.RetryAfter <= 0) {
				t.Fatalf("got %+v, want UNAVAILABLE with RetryAfter", e)
			}
		})
	}
}
