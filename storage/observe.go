package storage

import (
	"context"
	"database/sql"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Statement is one statement the ent client sent to the database, with the
// context it ran under (a request's, a job's).
type Statement struct {
	Ctx   context.Context
	Query string
	Args  []any
}

// observers are the functions told of every statement (Observe).
type observers struct {
	mu  sync.RWMutex
	fns map[*func(Statement)]struct{}
}

func (o *observers) notify(ctx context.Context, query string, args any) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.fns) == 0 {
		return
	}
	a, _ := args.([]any)
	for fn := range o.fns {
		(*fn)(Statement{Ctx: ctx, Query: query, Args: a})
	}
}

// Observe calls fn with every statement the ent client runs from now on,
// in and out of transactions, until stop is called: how tests count the
// statements a request costs and read the ones it ran. fn runs on the
// caller's goroutine, before the statement, and must not block.
func (d *DB) Observe(fn func(Statement)) (stop func()) {
	d.observers.mu.Lock()
	defer d.observers.mu.Unlock()
	if d.observers.fns == nil {
		d.observers.fns = map[*func(Statement)]struct{}{}
	}
	key := &fn
	d.observers.fns[key] = struct{}{}
	return func() {
		d.observers.mu.Lock()
		defer d.observers.mu.Unlock()
		delete(d.observers.fns, key)
	}
}

// observedTx is a transaction whose statements observers see and which
// keeps CustomPlans, like exposingDriver outside transactions.
type observedTx struct {
	*entsql.Tx
	obs     *observers
	dialect string
}

func (t observedTx) Query(ctx context.Context, query string, args, v any) error {
	t.obs.notify(ctx, query, args)
	return t.Tx.Query(ctx, query, withPlanMode(ctx, t.dialect, args), v)
}

func (t observedTx) Exec(ctx context.Context, query string, args, v any) error {
	t.obs.notify(ctx, query, args)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t observedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.obs.notify(ctx, query, args)
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t observedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.obs.notify(ctx, query, args)
	return t.Tx.ExecContext(ctx, query, args...)
}

var _ dialect.Tx = observedTx{}
