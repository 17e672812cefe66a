package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// TestDatabaseUnavailable: while the database cannot answer, REST, GraphQL
// and ingest answer 503 (GraphQL: extensions.code UNAVAILABLE) with
// Retry-After, so connectors and clients retry instead of giving up on a
// 500; once it is back, they succeed again. On PostgreSQL the outage is
// real: the test database refuses connections and its backends are
// terminated, and /readyz reports it. SQLite is a file in the process and
// cannot become unreachable; what it has is another writer holding the
// lock past the busy timeout, which is answered 503 the same way (reads
// go on, as WAL allows, and /readyz stays ready).
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		key := admin.ConnectorKey(t, "outage")
		block, readsFail, readyz := blockPostgres, true, http.StatusServiceUnavailable
		if db.Pool == nil {
			block, readsFail, readyz = lockSQLite, false, http.StatusOK
		}
		loginBody, _ := json.Marshal(map[string]string{"email": apitest.AdminEmail, "password": apitest.AdminPassword})
		loginOp, _ := json.Marshal(map[string]any{"query": fmt.Sprintf(`mutation { login(input: {email: %q, password: %q}) { accessToken } }`, apitest.AdminEmail, apitest.AdminPassword)})
		type check struct {
			name    string
			client  *apitest.Client
			method  string
			path    string
			body    string
			okCode  int  // the status once the database is back
			graphQL bool // errors come in GraphQL's shape
			read    bool // only reads: SQLite's lock does not stop them
		}
		checks := []check{
			{name: "REST read", client: admin, method: http.MethodGet, path: "/api/v1/users", okCode: http.StatusOK, read: true},
			{name: "GraphQL read", client: admin, method: http.MethodPost, path: "/graphql", body: `{"query":"{ me { email } }"}`, okCode: http.StatusOK, graphQL: true, read: true},
			{name: "REST login", client: env.Anonymous(), method: http.MethodPost, path: "/api/v1/auth/login", body: string(loginBody), okCode: http.StatusOK},
			{name: "GraphQL login", client: env.Anonymous(), method: http.MethodPost, path: "/graphql", body: string(loginOp), okCode: http.StatusOK, graphQL: true},
			{name: "ingest", client: env.Connector(key), method: http.MethodPost, path: "/api/v1/alerts/ingest", body: `{"title":"during the outage","severity":"high"}`, okCode: http.StatusAccepted},
		}
		do := func(c check) *apitest.Response { return c.client.Do(c.method, c.path, c.body) }

		restore := block(t, db)
		var wg sync.WaitGroup
		for _, c := range checks {
			if c.read && !readsFail {
				continue
			}
			wg.Go(func() {
				res := do(c)
				code, retry := errorCode(res, c.graphQL)
				if code != "UNAVAILABLE" || retry <= 0 {
					t.Errorf("%s during the outage: %d code %q retry %ds: %s", c.name, res.Status, code, retry, res.Raw)
				}
				// A GraphQL error raised while executing (the anonymous login)
				// comes in a 200 like any GraphQL error; the rest are 503.
				if res.Status != http.StatusOK && (res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "") {
					t.Errorf("%s during the outage: %d, Retry-After %q; want 503 with Retry-After", c.name, res.Status, res.Header.Get("Retry-After"))
				}
			})
		}
		if readsFail {
			wg.Go(func() {
				code, reason := websocketInit(t, env, admin.Authorization)
				if code != stream.CloseTryAgainLater || !strings.Contains(strings.ToLower(reason), "unavailable") {
					t.Errorf("WebSocket connection_init during the outage: close %d %q; want %d (try again later)", code, reason, stream.CloseTryAgainLater)
				}
				for _, leak := range []string{"dial", "pgx", "postgres", "127.0.0.1", "SQLSTATE"} {
					if strings.Contains(reason, leak) {
						t.Errorf("close reason %q leaks %q", reason, leak)
					}
				}
			})
		}
		wg.Wait()
		if res := env.Anonymous().Do(http.MethodGet, "/readyz", nil); res.Status != readyz {
			t.Errorf("/readyz during the outage: %d, want %d", res.Status, readyz)
		}
		restore()

		// The database is another process: poll until each request succeeds.
		deadline := time.Now().Add(30 * time.Second)
		for _, c := range append(checks, check{name: "readyz", client: env.Anonymous(), method: http.MethodGet, path: "/readyz", okCode: http.StatusOK}) {
			var res *apitest.Response
			if !testenv.Poll(time.Until(deadline), func() bool {
				res = do(c)
				code, _ := errorCode(res, c.graphQL)
				return res.Status == c.okCode && code == ""
			}) {
				t.Fatalf("%s after the outage: %d %s", c.name, res.Status, res.Raw)
			}
		}
	})
}

// websocketInit opens a graphql-transport-ws connection with authorization
// in connection_init and returns the code and reason it is closed with.
func websocketInit(t *testing.T, env *apitest.Env, authorization string) (int, string) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(env.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Errorf("dial: %v", err)
		return 0, ""
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": authorization}}); err != nil {
		t.Errorf("connection_init: %v", err)
		return 0, ""
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		if _, msg, err := conn.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Text
			}
			t.Errorf("read: %v", err)
			return 0, ""
		} else if strings.Contains(string(msg), "connection_ack") {
			return 0, "acknowledged"
		}
	}
}

// errorCode is the error code of a REST or GraphQL answer ("" if none) and
// the retry delay it carries in seconds (Retry-After or extensions.retryAfter).
func errorCode(res *apitest.Response, graphQL bool) (string, int) {
	retry := 0
	fmt.Sscan(res.Header.Get("Retry-After"), &retry)
	if !graphQL {
		code, _ := res.Body["code"].(string)
		return code, retry
	}
	var out struct {
		Errors []struct {
			Extensions struct {
				Code       string `json:"code"`
				RetryAfter int    `json:"retryAfter"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(res.Raw, &out) != nil || len(out.Errors) == 0 {
		return "", retry
	}
	e := out.Errors[0].Extensions
	return e.Code, max(retry, e.RetryAfter)
}

// blockPostgres refuses new connections to db's database and terminates
// its backends, as a database restart or network partition would.
func blockPostgres(t *testing.T, db *storage.DB) func() {
	t.Helper()
	ctx := context.Background()
	base, _ := testenv.PostgresURL()
	pg, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	name := db.Pool.Config().ConnConfig.Database
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := pg.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			if _, err := pg.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS true"); err != nil {
				t.Error(err)
			}
			_ = pg.Close(ctx)
		})
	}
	t.Cleanup(restore)
	return restore
}

// lockSQLite holds db's write lock from another connection, as a second
// process writing the file would.
func lockSQLite(t *testing.T, db *storage.DB) func() {
	t.Helper()
	ctx := context.Background()
	var seq int
	var schema, file string
	if err := db.SQL.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &schema, &file); err != nil {
		t.Fatal(err)
	}
	escape := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	other, err := sql.Open("sqlite", "file:"+escape.Replace(file)+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			_ = conn.Close()
			_ = other.Close()
		})
	}
	t.Cleanup(restore)
	return restore
}
