package storage

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
)

// Observed returns a copy of d whose ent client reports each statement it
// sends to observe before sending it, transactions' included: tests count
// them to prove a list costs the same few queries whatever its size. The
// copy shares d's connections; raw SQL on d.SQL is not reported.
func (d *DB) Observed(observe func(ctx context.Context, query string)) *DB {
	drv := observingDriver{exposingDriver: exposingDriver{entsql.OpenDB(d.Dialect, d.SQL)}, observe: observe}
	client := ent.NewClient(ent.Driver(drv))
	audit.Track(client)
	out := *d
	out.Client = client
	return &out
}

type observingDriver struct {
	exposingDriver
	observe func(context.Context, string)
}

func (d observingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.observe(ctx, query)
	return d.exposingDriver.Exec(ctx, query, args, v)
}

func (d observingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.observe(ctx, query)
	return d.exposingDriver.Query(ctx, query, args, v)
}

func (d observingDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	d.observe(ctx, query)
	return d.exposingDriver.ExecContext(ctx, query, args...)
}

func (d observingDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.observe(ctx, query)
	return d.exposingDriver.QueryContext(ctx, query, args...)
}

func (d observingDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d observingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.exposingDriver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return observingTx{Tx: tx, observe: d.observe}, nil
}

type observingTx struct {
	dialect.Tx
	observe func(context.Context, string)
}

func (t observingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.observe(ctx, query)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t observingTx) Query(ctx context.Context, query string, args, v any) error {
	t.observe(ctx, query)
	return t.Tx.Query(ctx, query, args, v)
}

func (t observingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.observe(ctx, query)
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, query, args...)
}

func (t observingTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.observe(ctx, query)
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, query, args...)
}
