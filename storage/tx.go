package storage

import (
	"context"

	"github.com/seliq/seliq/ent"
)

// InTx runs fn in a transaction and commits it if fn succeeds: no partial
// writes. Entities fn returns must be detached with Unwrap before use.
func InTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the cause is err; a failed rollback only means nothing was written
		return err
	}
	return tx.Commit()
}
