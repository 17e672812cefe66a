package jobs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(crashHelperEnv); url != "" {
		runCrashHelper(url) // never returns: the parent test kills this process
	}
	code := m.Run()
	if code == 0 {
		if stacks := riverGoroutines(5 * time.Second); stacks != "" {
			fmt.Fprintf(os.Stderr, "River goroutines outlived their runners:\n%s\n", stacks)
			code = 1
		}
	}
	os.Exit(code)
}

// riverGoroutines waits up to timeout for River's goroutines to end and
// returns the stacks of those still alive.
func riverGoroutines(timeout time.Duration) string {
	var alive []string
	testenv.Poll(timeout, func() bool {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		alive = nil
		for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
			if bytes.Contains(g, []byte("github.com/riverqueue/river")) {
				alive = append(alive, string(g))
			}
		}
		return len(alive) == 0
	})
	return strings.Join(alive, "\n\n")
}

// testArgs is the args of every test job; Case tells the jobs of one
// (sub)test apart in a shared database and Mode picks the worker's behaviour.
type testArgs struct {
	Case string    `json:"case"`
	Mode string    `json:"mode,omitempty"`
	Text string    `json:"text,omitempty"`
	N    int       `json:"n,omitempty"`
	Tags []string  `json:"tags,omitempty"`
	At   time.Time `json:"at,omitzero"`
}

func (testArgs) Kind() string { return "jobs_test" }

// Worker modes.
const (
	modeOK     = ""       // succeed
	modeFail   = "fail"   // fail every attempt
	modeBlock  = "block"  // block until the job's context ends or release closes
	modeSnooze = "snooze" // snooze for an hour, as a recurring job waits for its next period
)

// worker records every attempt and behaves per the args' Mode; started
// receives each job as it begins.
type worker struct {
	mu       sync.Mutex
	attempts []river.Job[testArgs]
	started  chan *river.Job[testArgs]
	// release ends blocked jobs successfully when closed.
	release chan struct{}
	// failFirst makes the first attempts of each job fail.
	failFirst int
	// succeed ignores Mode: a replacement runner finishes what the first
	// could not.
	succeed bool
}

func newWorker() *worker {
	return &worker{started: make(chan *river.Job[testArgs], 1000), release: make(chan struct{})}
}

func (w *worker) workers() *river.Workers {
	ws := river.NewWorkers()
	river.AddWorker(ws, river.WorkFunc(w.work))
	return ws
}

func (w *worker) work(ctx context.Context, job *river.Job[testArgs]) error {
	w.mu.Lock()
	w.attempts = append(w.attempts, *job)
	w.mu.Unlock()
	w.started <- job
	switch {
	case w.succeed:
	case job.Args.Mode == modeBlock:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.release:
		}
	case job.Args.Mode == modeSnooze:
		return river.JobSnooze(time.Hour)
	case job.Args.Mode == modeFail:
		return fmt.Errorf("attempt %d of %q fails by design", job.Attempt, job.Args.Case)
	case job.Attempt <= w.failFirst:
		return fmt.Errorf("attempt %d of %q fails before succeeding", job.Attempt, job.Args.Case)
	}
	return nil
}

// calls counts the attempts made on jobs of testCase.
func (w *worker) calls(testCase string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, job := range w.attempts {
		if job.Args.Case == testCase {
			n++
		}
	}
	return n
}

// waitStarted returns the next job the worker starts.
func (w *worker) waitStarted(t *testing.T) *river.Job[testArgs] {
	t.Helper()
	select {
	case job := <-w.started:
		return job
	case <-time.After(20 * time.Second):
		t.Fatal("no job started within 20s")
		return nil
	}
}

// logCapture keeps the records at warning level and above.
type logCapture struct {
	mu      sync.Mutex
	records []slog.Record
}

func (c *logCapture) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, r.Clone())
	return nil
}

// WithAttrs and WithGroup drop the logger's context: the tests look only at
// messages and the record's own attributes.
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCapture) WithGroup(string) slog.Handler      { return c }

func (c *logCapture) logger() *slog.Logger { return slog.New(c) }

// lines renders the records as "LEVEL message key=value ...".
func (c *logCapture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.records))
	for _, r := range c.records {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "trace" {
				fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			}
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// messages renders the records as "LEVEL message".
func (c *logCapture) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.records))
	for _, r := range c.records {
		out = append(out, r.Level.String()+" "+r.Message)
	}
	return out
}

// assertQuiet fails the test if anything reached warning level.
func (c *logCapture) assertQuiet(t *testing.T) {
	t.Helper()
	if lines := c.lines(); len(lines) > 0 {
		t.Errorf("unexpected warnings or errors logged:\n%s", strings.Join(lines, "\n"))
	}
}

// migrated runs River's migration on db (ent's ran in testenv).
func migrated(t *testing.T, db *storage.DB) *storage.DB {
	t.Helper()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// newRunner builds a runner that is stopped when the test ends.
func newRunner(t *testing.T, db *storage.DB, cfg Config) *Runner {
	t.Helper()
	r, err := New(db, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

// startRunner builds and starts a runner.
func startRunner(t *testing.T, db *storage.DB, cfg Config) *Runner {
	t.Helper()
	r := newRunner(t, db, cfg)
	// Not t.Context(): it ends before cleanups, which would cancel running
	// jobs before the graceful Stop registered by newRunner.
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r
}

func enqueue(t *testing.T, r *Runner, args testArgs, opts *river.InsertOpts) {
	t.Helper()
	if err := r.Enqueue(context.Background(), args, opts); err != nil {
		t.Fatalf("Enqueue %+v: %v", args, err)
	}
}

// jobRow is a river_job row as the tests see it.
type jobRow struct {
	ID      int64
	State   rivertype.JobState
	Attempt int
}

// jobsOf reads the rows of testCase's jobs straight from the table, the
// state the next runner would see.
func jobsOf(t *testing.T, db *storage.DB, testCase string) []jobRow {
	t.Helper()
	query := "SELECT id, state, attempt FROM river_job WHERE kind = ? AND args->>'case' = ? ORDER BY id"
	if db.Dialect == dialect.Postgres {
		query = "SELECT id, state, attempt FROM river_job WHERE kind = $1 AND args->>'case' = $2 ORDER BY id"
	}
	rows, err := db.SQL.QueryContext(context.Background(), query, testArgs{}.Kind(), testCase)
	if err != nil {
		t.Fatalf("read jobs: %v", err)
	}
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var j jobRow
		if err := rows.Scan(&j.ID, &j.State, &j.Attempt); err != nil {
			t.Fatalf("scan job: %v", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read jobs: %v", err)
	}
	return out
}

// waitJob waits until testCase has exactly one job and it is in state.
func waitJob(t *testing.T, db *storage.DB, testCase string, state rivertype.JobState) jobRow {
	t.Helper()
	var last []jobRow
	if testenv.Poll(20*time.Second, func() bool {
		last = jobsOf(t, db, testCase)
		return len(last) == 1 && last[0].State == state
	}) {
		return last[0]
	}
	t.Fatalf("job of %q not alone in state %s within 20s; rows: %+v", testCase, state, last)
	return jobRow{}
}
