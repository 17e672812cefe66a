package testenv

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seliq/seliq/storage"
)

// Helpers for tests that pin PostgreSQL's plans of a service's reads.

// OnePooled opens db's PostgreSQL database again with a pool of one
// connection, so that the prepared statements a test inspects are the
// ones its reads ran.
func OnePooled(t testing.TB, db *storage.DB) *storage.DB {
	t.Helper()
	url := db.Pool.Config().ConnString()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	one, err := storage.Open(context.Background(), url+sep+"pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = one.Close() })
	return one
}

// GenericAlertPlans is how many of conn's prepared statements over the
// alerts ran a generic plan (planned without their values).
func GenericAlertPlans(t testing.TB, conn *sql.Conn) int {
	t.Helper()
	var generic int
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM pg_prepared_statements
		WHERE statement LIKE '%FROM "alerts"%' AND statement NOT LIKE '%pg_prepared_statements%' AND generic_plans > 0`).Scan(&generic); err != nil {
		t.Fatal(err)
	}
	return generic
}

// Explain is st's plan on conn as EXPLAIN (FORMAT JSON) gives it: the
// top node's JSON.
func Explain(t testing.TB, conn *sql.Conn, st *storage.Statement) json.RawMessage {
	t.Helper()
	var raw []byte
	if err := conn.QueryRowContext(context.Background(), "EXPLAIN (FORMAT JSON) "+st.Query, st.Args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var out []struct{ Plan json.RawMessage }
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		t.Fatalf("explain output %s: %v", raw, err)
	}
	return out[0].Plan
}

// ExplainSQLite is st's plan on SQLite: EXPLAIN QUERY PLAN's details,
// joined by "; ".
func ExplainSQLite(t testing.TB, db *storage.DB, st *storage.Statement) string {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+st.Query, st.Args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(steps, "; ")
}

// EntityPendingPages merges the pending list of PostgreSQL's entity index
// (alerts_entities_gin) and says how many pages it held: a check of what
// the step before it left, which also empties the list.
func EntityPendingPages(t testing.TB, db *storage.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRowContext(context.Background(), `SELECT gin_clean_pending_list('alerts_entities_gin'::regclass)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
