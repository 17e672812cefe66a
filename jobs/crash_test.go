package jobs

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// crashHelperEnv, when set to a database URL, turns the test binary into the
// runner TestCrashedRunnerJobIsRescued kills.
const crashHelperEnv = "SELIQ_JOBS_TEST_CRASH_DB"

// runCrashHelper runs a runner on rawURL whose worker blocks on every job
// until the process is killed.
func runCrashHelper(rawURL string) {
	ctx := context.Background()
	db, err := storage.Open(ctx, rawURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		os.Exit(2)
	}
	w := newWorker()
	r, err := New(db, Config{Workers: w.workers()})
	if err == nil {
		err = r.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		os.Exit(2)
	}
	time.Sleep(time.Hour) // holds the job until the test kills this process
	os.Exit(3)
}

func TestCrashedRunnerJobIsRescued(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		testCase := t.Name()

		// Runner A is another process, killed with SIGKILL mid-job: nothing
		// of it gets to touch the job row again.
		var out bytes.Buffer
		a := exec.Command(os.Args[0], "-test.run=^$")
		a.Env = append(os.Environ(), crashHelperEnv+"="+databaseURL(t, db))
		a.Stdout, a.Stderr = &out, &out
		if err := a.Start(); err != nil {
			t.Fatalf("start runner A: %v", err)
		}
		killed := false
		t.Cleanup(func() {
			if !killed {
				_ = a.Process.Kill()
				_ = a.Wait()
			}
			if t.Failed() {
				t.Logf("runner A output:\n%s", out.String())
			}
		})

		cli := newRunner(t, db, Config{})
		enqueue(t, cli, testArgs{Case: testCase, Mode: modeBlock}, nil)
		waitJob(t, db, testCase, rivertype.JobStateRunning)
		if err := a.Process.Kill(); err != nil {
			t.Fatalf("kill runner A: %v", err)
		}
		_ = a.Wait() // "signal: killed"
		killed = true
		if rows := jobsOf(t, db, testCase); len(rows) != 1 || rows[0].State != rivertype.JobStateRunning || rows[0].Attempt != 1 {
			t.Fatalf("after the crash rows = %+v, want one running at attempt 1", rows)
		}
		// A was the leader; its lease would lapse after River's 15 s TTL.
		// Expire it now instead of waiting, so that B can lead and rescue.
		if _, err := db.SQL.ExecContext(context.Background(), "DELETE FROM river_leader"); err != nil {
			t.Fatalf("expire A's leadership: %v", err)
		}

		// B's rescuer looks when B becomes leader, then only every 30 s: let
		// the job be stuck for longer than RescueStuckJobsAfter first.
		const rescueAfter = time.Second
		time.Sleep(rescueAfter) // River measures stuck time by the clock: let it pass
		wb, logs := newWorker(), &logCapture{}
		wb.succeed = true
		start := time.Now()
		startRunner(t, db, Config{
			Workers: wb.workers(), Logger: logs.logger(),
			JobTimeout: rescueAfter / 2, RescueStuckJobsAfter: rescueAfter, RetryPolicy: testenv.RetryAfter(10 * time.Millisecond),
		})
		job := wb.waitStarted(t)
		t.Logf("%s: rescued and worked %v after runner B started", db.Dialect, time.Since(start).Round(time.Millisecond))
		if job.Args.Case != testCase || job.Attempt != 2 {
			t.Errorf("runner B got %q attempt %d, want %q attempt 2", job.Args.Case, job.Attempt, testCase)
		}
		if row := waitJob(t, db, testCase, rivertype.JobStateCompleted); row.Attempt != 2 {
			t.Errorf("completed at attempt %d, want 2", row.Attempt)
		}
		if n := wb.calls(testCase); n != 1 {
			t.Errorf("runner B worked the job %d times, want once", n)
		}
		logs.assertQuiet(t)
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
			t.Fatalf("database file: %v", err)
		}
		return "sqlite://" + file
	case dialect.Postgres:
		var name string
		if err := db.SQL.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("database name: %v", err)
		}
		base, _ := testenv.PostgresURL()
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse %s: %v", base, err)
		}
		u.Path = "/" + name
		return u.String()
	default:
		t.Fatalf("unsupported dialect %q", db.Dialect)
		return ""
	}
}
