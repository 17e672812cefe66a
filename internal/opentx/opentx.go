// Package opentx knows the database transaction under each client that
// storage.InTx hands out, which ent's Tx does not expose. It stands apart
// from storage so that packages storage itself imports (audit) can join
// the transaction too.
package opentx

import (
	"database/sql"
	"sync"

	"github.com/seliq/seliq/ent"
)

// Tx is a running transaction and its dialect.
type Tx struct {
	SQL     *sql.Tx
	Dialect string
}

// open maps the clients of running transactions to them.
var open sync.Map

// Register makes Of answer tx for c until the returned func is called.
func Register(c *ent.Client, tx Tx) (unregister func()) {
	open.Store(c, tx)
	return func() { open.Delete(c) }
}

// Of returns the transaction under c; ok is false for a client that is
// not a registered transaction's.
func Of(c *ent.Client) (tx Tx, ok bool) {
	v, found := open.Load(c)
	if !found {
		return Tx{}, false
	}
	return v.(Tx), true
}
