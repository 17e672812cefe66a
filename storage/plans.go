package storage

import (
	"context"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
)

// Plan choice on PostgreSQL, per query shape.
//
// pgx prepares every statement once per connection and reuses it
// (QueryExecModeCacheStatement). After five executions PostgreSQL may
// switch such a statement to a generic plan, made without the parameter
// values. For a lookup by key or the outbox's poll that plan is the custom
// one, and keeping it saves the planning. For the triage queue it is not:
// its filters are dynamic and their selectivity depends on the values (one
// organisation of a million alerts, a rare tag), and the generic plan
// intersects indexes and sorts every match (~15 ms at 100k alerts) where
// the custom plan walks the (organization_id, severity_rank, id) index
// backwards and stops after the page (~2 ms). So statements run under a
// context marked with CustomPlans use an unnamed statement (pgx's
// QueryExecModeCacheDescribe: the description is cached, the statement is
// planned with its values every time); everything else keeps prepared
// statements and whatever plan PostgreSQL settles on. SQLite plans every
// statement with its values and is unaffected.

type customPlansKey struct{}

// CustomPlans marks ctx so that the statements run under it are planned
// with their parameter values on every execution (see above).
func CustomPlans(ctx context.Context) context.Context {
	return context.WithValue(ctx, customPlansKey{}, true)
}

// customPlans reports whether ctx asks for custom plans.
func customPlans(ctx context.Context) bool {
	on, _ := ctx.Value(customPlansKey{}).(bool)
	return on
}

// customPlanMode is how CustomPlans statements run on PostgreSQL: pgx reads
// a leading QueryExecMode argument as an option, through database/sql too.
const customPlanMode = pgx.QueryExecModeCacheDescribe

// withPlanMode prepends the exec mode to a PostgreSQL statement's arguments
// when ctx asks for custom plans.
func withPlanMode(ctx context.Context, dialectName string, args any) any {
	if dialectName != dialect.Postgres || !customPlans(ctx) {
		return args
	}
	a, ok := args.([]any)
	if !ok {
		return args
	}
	return append([]any{customPlanMode}, a...)
}
