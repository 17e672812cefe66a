package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/opentx"
)

// InTx runs fn in a transaction and commits it if fn succeeds: no partial
// writes. Entities fn returns must be detached with Unwrap before use.
// While fn runs, SQLTx answers for tx.Client(), so work that must commit
// with the change (a job queued with jobs.EnqueueTx) joins the same
// database transaction.
func InTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	sink := &opentx.Tx{}
	tx, err := client.Tx(context.WithValue(ctx, sinkKey{}, sink))
	if err != nil {
		return err
	}
	if sink.SQL != nil {
		defer opentx.Register(tx.Client(), *sink)()
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the cause is err; a failed rollback only means nothing was written
		return err
	}
	return tx.Commit()
}

// SQLTx returns the database transaction under c, a transaction's client
// inside InTx, and its dialect; ok is false for any other client.
func SQLTx(c *ent.Client) (tx *sql.Tx, dialectName string, ok bool) {
	t, ok := opentx.Of(c)
	return t.SQL, t.Dialect, ok
}

// sinkKey carries into the driver's BeginTx the *opentx.Tx that receives
// the *sql.Tx ent begins, which ent's Tx does not expose.
type sinkKey struct{}

// exposingDriver is ent's SQL driver, telling InTx the *sql.Tx it begins,
// planning CustomPlans statements with their values and telling observers
// (Observe) of every statement.
type exposingDriver struct {
	*entsql.Driver
	obs  *observers
	pool *pgxpool.Pool // PostgreSQL's: reads under a RowSink are native (nativeRows)
}

func (d exposingDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// Query runs a statement, planned with its values when ctx says so
// (CustomPlans).
func (d exposingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.obs.notify(ctx, query, args)
	args = withPlanMode(ctx, d.Dialect(), args)
	rows, isRows := v.(*entsql.Rows)
	argv, isArgs := args.([]any)
	if d.pool == nil || !isRows || !isArgs || RowSinkOf(ctx) == nil {
		return d.Driver.Query(ctx, query, args, v)
	}
	native, err := nativeQuery(ctx, d.pool, query, argv)
	if err != nil {
		return err
	}
	if taken, err := sinkRows(ctx, native); taken {
		return err
	}
	*rows = entsql.Rows{ColumnScanner: native}
	return nil
}

func (d exposingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.obs.notify(ctx, query, args)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d exposingDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.obs.notify(ctx, query, args)
	return d.Driver.QueryContext(ctx, query, args...)
}

func (d exposingDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	d.obs.notify(ctx, query, args)
	return d.Driver.ExecContext(ctx, query, args...)
}

func (d exposingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	t, ok := tx.(*entsql.Tx)
	if !ok {
		return tx, nil
	}
	if s, ok := ctx.Value(sinkKey{}).(*opentx.Tx); ok {
		s.SQL, _ = t.Tx.(*sql.Tx)
		s.Dialect = d.Dialect()
	}
	return observedTx{Tx: t, obs: d.obs, dialect: d.Dialect()}, nil
}

// savepoints numbers savepoint names; any unique name will do.
var savepoints atomic.Uint64

// Savepoint runs fn inside a savepoint of the InTx transaction under c:
// when fn fails only its writes roll back, and the transaction goes on
// (PostgreSQL would otherwise refuse every later statement). Outside InTx
// it just runs fn.
func Savepoint(ctx context.Context, c *ent.Client, fn func() error) error {
	tx, _, ok := SQLTx(c)
	if !ok {
		return fn()
	}
	name := fmt.Sprintf("seliq_sp_%d", savepoints.Add(1))
	if _, err := tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, rerr)
		}
		_, _ = tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// AlertIDs are the ids of alerts, in order.
func AlertIDs(alerts []*ent.Alert) []uuid.UUID {
	out := make([]uuid.UUID, len(alerts))
	for i, a := range alerts {
		out[i] = a.ID
	}
	return out
}
