package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/storage"
)

// EnqueueTx inserts a job in the open transaction of c, a client that
// storage.InTx handed out: the job commits or rolls back with the change
// that decided it, so none is lost and none runs for a change that did not
// happen. This is the exception to enqueueing after commit: it shares the
// transaction's connection, so SQLite's single writer is not contended.
// The job is worked by whichever Runner works its kind.
func EnqueueTx(ctx context.Context, c *ent.Client, args river.JobArgs, opts *river.InsertOpts) error {
	tx, dialectName, ok := storage.SQLTx(c)
	if !ok || tx == nil {
		return fmt.Errorf("jobs: enqueue %s: not inside storage.InTx", args.Kind())
	}
	client, err := txInserter(dialectName)
	if err != nil {
		return err
	}
	if _, err := client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// inserters are insert-only River clients over database/sql, one per
// dialect, without a pool: they only ever insert through a transaction
// they are given. On PostgreSQL the ent transaction is a database/sql one
// (pgx's stdlib), hence riverdatabasesql rather than the Runner's pgx driver.
var (
	insertersOnce sync.Once
	inserters     map[string]*river.Client[*sql.Tx]
	insertersErr  error
)

func txInserter(dialectName string) (*river.Client[*sql.Tx], error) {
	insertersOnce.Do(func() {
		lite, err := river.NewClient(riversqlite.New(nil), &river.Config{Logger: defaultLogger()})
		if err != nil {
			insertersErr = err
			return
		}
		pg, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{Logger: defaultLogger()})
		if err != nil {
			insertersErr = err
			return
		}
		inserters = map[string]*river.Client[*sql.Tx]{dialect.SQLite: lite, dialect.Postgres: pg}
	})
	if insertersErr != nil {
		return nil, fmt.Errorf("jobs: transactional inserter: %w", insertersErr)
	}
	c, ok := inserters[dialectName]
	if !ok {
		return nil, fmt.Errorf("jobs: unsupported dialect %q", dialectName)
	}
	return c, nil
}
