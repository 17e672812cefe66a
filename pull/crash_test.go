package pull_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/pull"
	"github.com/seliq/seliq/storage"
)

// Environment of the crash helper: the database to poll from and the
// secret key the connector's token was sealed with.
const (
	crashDBEnv  = "SELIQ_PULL_TEST_CRASH_DB"
	crashKeyEnv = "SELIQ_PULL_TEST_CRASH_KEY"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(crashDBEnv); url != "" {
		runCrashHelper(url, os.Getenv(crashKeyEnv)) // never returns: the test kills it
	}
	os.Exit(m.Run())
}

// runCrashHelper is a server replica reduced to its poller: it works the
// poll jobs on rawURL until killed.
func runCrashHelper(rawURL, key string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, rawURL)
	if err != nil {
		fail(err)
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		fail(err)
	}
	box, err := secrets.NewBox(k)
	if err != nil {
		fail(err)
	}
	workers := river.NewWorkers()
	runner, err := jobs.New(db, jobs.Config{Workers: workers, Logger: quietLog()})
	if err != nil {
		fail(err)
	}
	p := pull.New(db.Client, ingest.New(db, ingest.Options{}), box, outbound.Fixed{Policy: vendorfake.Policy()}, runner,
		pull.Config{PageSize: 4, MaxPages: 10, Backoff: time.Millisecond}, quietLog())
	river.AddWorker(workers, p.Worker())
	if err := runner.Start(ctx); err != nil {
		fail(err)
	}
	time.Sleep(time.Hour) // polls until the test kills this process
	os.Exit(3)
}

// TestCrashMidPollLosesAndRepeatsNothing kills a replica (SIGKILL) while
// it is paging through a vendor's threats, after two pages committed;
// another replica rescues the job and goes on from the checkpoint. Every
// threat becomes exactly one alert, seen once.
func TestCrashMidPollLosesAndRepeatsNothing(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		key := make([]byte, secrets.KeySize)
		for i := range key {
			key[i] = byte(i * 7)
		}
		box, err := secrets.NewBox(key)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, db, "acme", box, testConfig(), jobs.Config{})
		srv := vendorfake.SentinelOne(t, creds())
		recs := threats(0, 20) // five pages of four
		srv.Add(recs...)
		entered, release := srv.Hold(2) // the third page's call hangs
		defer release()
		c := f.sentinelone(t, srv, token) // queues its job

		var out bytes.Buffer
		a := exec.Command(os.Args[0], "-test.run=^$")
		a.Env = append(os.Environ(), crashDBEnv+"="+databaseURL(t, db), crashKeyEnv+"="+base64.StdEncoding.EncodeToString(key))
		a.Stdout, a.Stderr = &out, &out
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		t.Cleanup(func() {
			if !killed {
				_ = a.Process.Kill()
				_ = a.Wait()
			}
			if t.Failed() {
				t.Logf("replica A output:\n%s", out.String())
			}
		})
		select {
		case <-entered:
		case <-time.After(30 * time.Second):
			t.Fatal("replica A never reached the third page")
		}
		if err := a.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = a.Wait()
		killed = true
		release()
		if got, _ := f.externalIDs(t); len(got) != 8 {
			t.Fatalf("%d alerts when A died, want the 8 of the two committed pages", len(got))
		}
		callsBefore := srv.Requests("/web/api/v2.1/threats")

		// Time passes: A's leadership and its lease on the connector lapse
		// (15 s and RunTimeout + LeaseMargin in production).
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, "DELETE FROM river_leader"); err != nil {
			t.Fatal(err)
		}
		if err := db.Client.Connector.Update().Where(connector.ID(c.ID)).SetPollLeaseUntil(time.Now().UTC().Add(-time.Second)).Exec(f.job()); err != nil {
			t.Fatal(err)
		}
		const rescueAfter = time.Second
		time.Sleep(rescueAfter) // River measures stuck time by the clock
		b := wire(t, db, f.org, f.admin, box, pull.Config{PageSize: 4, MaxPages: 10, Backoff: time.Millisecond, RunTimeout: rescueAfter},
			jobs.Config{JobTimeout: rescueAfter / 2, RescueStuckJobsAfter: rescueAfter})
		start := time.Now()
		b.start(t)
		testenv.Eventually(t, 60*time.Second, "the rescued poll to finish", func() bool {
			h := f.reload(t, c.ID)
			return h.LastSuccessAt != nil && h.PollLeaseToken == ""
		})
		t.Logf("%s: rescued and caught up %v after replica B started", db.Dialect, time.Since(start).Round(time.Millisecond))
		got, occ := f.externalIDs(t)
		if len(got) != len(recs) {
			t.Fatalf("%d alerts, want %d", len(got), len(recs))
		}
		for _, id := range recordIDs(recs) {
			if occ[id] != 1 {
				t.Errorf("threat %s: %d occurrences, want 1 (lost or read twice)", id, occ[id])
			}
		}
		// Pages three to five, from the checkpoint; on a loaded machine B's
		// own one-second run limit may cut a page short, which is then read
		// again (uncommitted, so not doubled). Starting over would take 5.
		if n := srv.Requests("/web/api/v2.1/threats") - callsBefore; n < 3 || n > 4 {
			t.Errorf("B made %d calls, want 3 (pages three to five, from the checkpoint)", n)
		}
	})
}

// databaseURL names db for another process.
func databaseURL(t *testing.T, db *storage.DB) string {
	t.Helper()
	ctx := context.Background()
	switch db.Dialect {
	case dialect.SQLite:
		var file string
		if err := db.SQL.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
			t.Fatal(err)
		}
		return "sqlite://" + file
	default:
		var name string
		if err := db.SQL.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		base, _ := testenv.PostgresURL()
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		return u.String()
	}
}
