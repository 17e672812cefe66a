package jobs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestMigrate(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		removeRiver(t, db)
		// Replicas starting together on a fresh database take turns. SQLite
		// has no lock to take turns on; one process migrates it.
		replicas := 1
		if db.Dialect == dialect.Postgres {
			replicas = 3
		}
		var wg sync.WaitGroup
		errs := make([]error, replicas)
		for i := range errs {
			wg.Go(func() { errs[i] = db.Migrate(ctx) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Migrate %d of %d: %v", i+1, replicas, err)
			}
		}
		first := migrationVersions(t, db)
		if len(first) == 0 {
			t.Fatal("no River migration recorded")
		}

		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if again := migrationVersions(t, db); !slices.Equal(again, first) {
			t.Fatalf("second Migrate changed versions %v to %v", first, again)
		}
		// ent's migration must leave River's tables alone, and River's ent's.
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("ent migration after River's: %v", err)
		}
		var alerts int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM alerts").Scan(&alerts); err != nil {
			t.Fatalf("ent table after River's migration: %v", err)
		}
		r := newRunner(t, db, Config{})
		enqueue(t, r, testArgs{Case: "after-migrations"}, nil)
		waitJob(t, db, "after-migrations", rivertype.JobStateAvailable)
	})
}

// removeRiver takes River's tables out, leaving ent's, whether or not
// storage's migration created them.
func removeRiver(t *testing.T, db *storage.DB) {
	t.Helper()
	var err error
	switch db.Dialect {
	case dialect.SQLite:
		err = migrateDownAll(riversqlite.New(db.SQL))
	case dialect.Postgres:
		err = migrateDownAll(riverpgxv5.New(db.Pool))
	}
	if err != nil {
		t.Fatalf("remove River's tables: %v", err)
	}
	var leftover int
	if err := db.SQL.QueryRowContext(context.Background(), "SELECT count(*) FROM river_job").Scan(&leftover); err == nil {
		t.Fatal("river_job survived its removal")
	}
}

func migrateDownAll[TTx any](driver riverdriver.Driver[TTx]) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: defaultLogger()})
	if err != nil {
		return err
	}
	_, err = migrator.Migrate(context.Background(), rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
	return err
}

func migrationVersions(t *testing.T, db *storage.DB) []int {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(), "SELECT version FROM river_migration ORDER BY version")
	if err != nil {
		t.Fatalf("read river_migration: %v", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("scan version: %v", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read river_migration: %v", err)
	}
	return out
}

func TestNewRejectsConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "negative concurrency", cfg: Config{Workers: newWorker().workers(), Concurrency: -1}, wantErr: "negative concurrency"},
		{name: "no job timeout", cfg: Config{JobTimeout: -1}, wantErr: "exempt jobs from stuck-job rescue"},
		{
			name:    "rescue before timeout",
			cfg:     Config{JobTimeout: time.Minute, RescueStuckJobsAfter: time.Second},
			wantErr: "RescueStuckJobsAfter cannot be less than JobTimeout",
		},
		{name: "poll faster than cooldown", cfg: Config{FetchPollInterval: time.Millisecond}, wantErr: "FetchPollInterval cannot be shorter than FetchCooldown"},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := New(db, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
				}
			})
		}
	})
}

func TestEnqueueIsWorkedOnce(t *testing.T) {
	tests := []struct {
		name string
		// insertOnly enqueues through a runner without workers, as a CLI
		// would, instead of through the runner that works the job.
		insertOnly bool
	}{
		{name: "same runner"},
		{name: "insert-only runner", insertOnly: true},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				args := testArgs{
					Case: tt.name,
					Text: "héllo ✓ \"quoted\" \\ ' \t end", // no NUL: PostgreSQL's jsonb rejects \u0000
					N:    -42,
					Tags: []string{"a", "b"},
					At:   time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC),
				}
				w, logs := newWorker(), &logCapture{}
				working := startRunner(t, db, Config{Workers: w.workers(), Logger: logs.logger()})
				enqueuer := working
				if tt.insertOnly {
					enqueuer = newRunner(t, db, Config{Logger: logs.logger()})
					if err := enqueuer.Start(context.Background()); !errors.Is(err, ErrInsertOnly) {
						t.Fatalf("Start of insert-only runner = %v, want ErrInsertOnly", err)
					}
				}

				start := time.Now()
				enqueue(t, enqueuer, args, nil)
				job := w.waitStarted(t)
				t.Logf("%s: worked %v after Enqueue", db.Dialect, time.Since(start).Round(time.Millisecond))
				if !reflect.DeepEqual(job.Args, args) {
					t.Errorf("args round trip:\n got %+v\nwant %+v", job.Args, args)
				}
				if row := waitJob(t, db, tt.name, rivertype.JobStateCompleted); row.Attempt != 1 {
					t.Errorf("attempt = %d, want 1", row.Attempt)
				}
				if n := w.calls(tt.name); n != 1 {
					t.Errorf("worked %d times, want once", n)
				}
				logs.assertQuiet(t)
			})
		}
	})
}

// activeStates is River's default ByState without completed.
var activeStates = []rivertype.JobState{
	rivertype.JobStatePending, rivertype.JobStateAvailable, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

func TestUniqueEnqueue(t *testing.T) {
	type stateCase struct {
		state rivertype.JobState
		mode  string
		opts  river.InsertOpts // of the first enqueue, beyond UniqueOpts
		start bool             // whether a runner works the job
	}
	states := []stateCase{
		{state: rivertype.JobStatePending, opts: river.InsertOpts{Pending: true}},
		{state: rivertype.JobStateAvailable},
		{state: rivertype.JobStateScheduled, opts: river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}},
		{state: rivertype.JobStateRunning, mode: modeBlock, start: true},
		{state: rivertype.JobStateRetryable, mode: modeFail, start: true},
		{state: rivertype.JobStateCompleted, start: true},
	}
	byStates := []struct {
		name   string
		states []rivertype.JobState
	}{
		{name: "default states"},
		{name: "active states", states: activeStates},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		for _, sc := range states {
			for _, bs := range byStates {
				name := fmt.Sprintf("%s/%s", sc.state, bs.name)
				t.Run(name, func(t *testing.T) {
					w, logs := newWorker(), &logCapture{}
					cfg := Config{Workers: w.workers(), Logger: logs.logger(), RetryPolicy: testenv.RetryAfter(time.Hour)}
					r := newRunner(t, db, cfg)
					t.Cleanup(func() { close(w.release) }) // before Stop: blocked jobs finish
					if sc.start {
						if err := r.Start(context.Background()); err != nil {
							t.Fatalf("Start: %v", err)
						}
					}
					args := testArgs{Case: name, Mode: sc.mode}
					opts := sc.opts
					opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: bs.states}
					enqueue(t, r, args, &opts)
					first := waitJob(t, db, name, sc.state)

					// The startup re-enqueue: same args, no scheduling.
					enqueue(t, r, args, &river.InsertOpts{UniqueOpts: opts.UniqueOpts})
					rows := jobsOf(t, db, name)
					wantRows := 1
					if sc.state == rivertype.JobStateCompleted && bs.states != nil {
						wantRows = 2 // completed is not among the states checked
					}
					if len(rows) != wantRows || rows[0] != first {
						t.Errorf("after re-enqueue rows = %+v, want %d row(s) starting with %+v", rows, wantRows, first)
					}
				})
			}
		}
	})
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		mode        string
		maxAttempts int
		wantState   rivertype.JobState
		wantAttempt int
		wantLogs    []string // messages at warning level and above, in order
	}{
		{
			name: "flaky job succeeds on its third attempt", maxAttempts: 5,
			wantState: rivertype.JobStateCompleted, wantAttempt: 3,
			wantLogs: []string{"WARN job failed", "WARN job failed"},
		},
		{
			name: "failing job discarded after max attempts", mode: modeFail, maxAttempts: 3,
			wantState: rivertype.JobStateDiscarded, wantAttempt: 3,
			wantLogs: []string{"WARN job failed", "WARN job failed", "ERROR job failed; no attempts left, discarding"},
		},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w, logs := newWorker(), &logCapture{}
				w.failFirst = 2
				r := startRunner(t, db, Config{
					Workers: w.workers(), Logger: logs.logger(),
					RetryPolicy: testenv.RetryAfter(50 * time.Millisecond), FetchPollInterval: 100 * time.Millisecond,
				})
				enqueue(t, r, testArgs{Case: tt.name, Mode: tt.mode}, &river.InsertOpts{MaxAttempts: tt.maxAttempts})
				row := waitJob(t, db, tt.name, tt.wantState)
				if row.Attempt != tt.wantAttempt {
					t.Errorf("attempt = %d, want %d", row.Attempt, tt.wantAttempt)
				}
				if n := w.calls(tt.name); n != tt.wantAttempt {
					t.Errorf("worked %d times, want %d", n, tt.wantAttempt)
				}
				if got := logs.messages(); !slices.Equal(got, tt.wantLogs) {
					t.Errorf("logged:\n%s\nwant messages %q", strings.Join(logs.lines(), "\n"), tt.wantLogs)
				}
			})
		}
	})
}

func TestStop(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		t.Run("waits for the running job", func(t *testing.T) {
			testCase := t.Name()
			w, logs := newWorker(), &logCapture{}
			r, err := New(db, Config{Workers: w.workers(), Logger: logs.logger()})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatalf("Start: %v", err)
			}
			enqueue(t, r, testArgs{Case: testCase, Mode: modeBlock}, nil)
			w.waitStarted(t)

			stopped := make(chan error)
			go func() { stopped <- r.Stop(context.Background()) }()
			select {
			case err := <-stopped:
				t.Fatalf("Stop returned (%v) while the job was running", err)
			case <-time.After(300 * time.Millisecond):
			}
			close(w.release)
			if err := <-stopped; err != nil {
				t.Fatalf("Stop: %v", err)
			}
			// Stop returned only after the job's completion was recorded.
			if rows := jobsOf(t, db, testCase); len(rows) != 1 || rows[0].State != rivertype.JobStateCompleted {
				t.Errorf("after Stop rows = %+v, want one completed", rows)
			}
			logs.assertQuiet(t)
		})

		t.Run("deadline releases the job to another runner", func(t *testing.T) {
			testCase := t.Name()
			wa, logs := newWorker(), &logCapture{}
			a, err := New(db, Config{Workers: wa.workers(), Logger: logs.logger()})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if err := a.Start(context.Background()); err != nil {
				t.Fatalf("Start: %v", err)
			}
			enqueue(t, a, testArgs{Case: testCase, Mode: modeBlock}, nil)
			wa.waitStarted(t)

			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if err := a.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Stop past its deadline = %v, want DeadlineExceeded", err)
			}
			// The interrupted attempt is given back rather than counted.
			if row := waitJob(t, db, testCase, rivertype.JobStateAvailable); row.Attempt != 0 {
				t.Errorf("attempt after interruption = %d, want 0", row.Attempt)
			}

			// B works the same args without blocking.
			wb := newWorker()
			wb.succeed = true
			startRunner(t, db, Config{Workers: wb.workers(), Logger: logs.logger()})
			job := wb.waitStarted(t)
			if job.Args.Case != testCase || job.Attempt != 1 {
				t.Errorf("runner B got %q attempt %d, want %q attempt 1", job.Args.Case, job.Attempt, testCase)
			}
			waitJob(t, db, testCase, rivertype.JobStateCompleted)
			if a, b := wa.calls(testCase), wb.calls(testCase); a != 1 || b != 1 {
				t.Errorf("attempts: runner A %d, runner B %d; want 1 each", a, b)
			}
			logs.assertQuiet(t)
		})
	})
}

func TestConcurrentWriters(t *testing.T) {
	const enqueuers, jobsEach, writers, writesEach = 2, 20, 2, 50
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE jobs_test_writes (source text NOT NULL)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
		insert := "INSERT INTO jobs_test_writes (source) VALUES (?)"
		if db.Dialect == dialect.Postgres {
			insert = "INSERT INTO jobs_test_writes (source) VALUES ($1)"
		}
		// write stands for an ent write transaction, by the application or
		// by a job.
		write := func(ctx context.Context, source string) error {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			if _, err := tx.ExecContext(ctx, insert, source); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("insert: %w", err)
			}
			return tx.Commit()
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[testArgs]) error {
			return write(ctx, "job")
		}))
		logs := &logCapture{}
		r := startRunner(t, db, Config{Workers: workers, Logger: logs.logger()})

		var wg sync.WaitGroup
		errs := make(chan error, enqueuers+writers)
		for i := range enqueuers {
			wg.Go(func() {
				for j := range jobsEach {
					if err := r.Enqueue(ctx, testArgs{Case: t.Name(), N: i*jobsEach + j}, nil); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		for range writers {
			wg.Go(func() {
				for range writesEach {
					if err := write(ctx, "writer"); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}

		done := 0
		if !testenv.Poll(20*time.Second, func() bool {
			done = 0
			for _, row := range jobsOf(t, db, t.Name()) {
				if row.State == rivertype.JobStateCompleted {
					done++
				}
			}
			return done == enqueuers*jobsEach
		}) {
			t.Fatalf("%d of %d jobs completed within 20s", done, enqueuers*jobsEach)
		}
		var written int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM jobs_test_writes").Scan(&written); err != nil {
			t.Fatalf("count writes: %v", err)
		}
		if want := enqueuers*jobsEach + writers*writesEach; written != want {
			t.Errorf("%d rows written, want %d", written, want)
		}
		logs.assertQuiet(t)
	})
}

func TestEnqueueMany(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		r := newRunner(t, db, Config{})
		unique := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
		batch := func(cases ...string) []river.InsertManyParams {
			out := make([]river.InsertManyParams, len(cases))
			for i, c := range cases {
				out[i] = river.InsertManyParams{Args: testArgs{Case: c}, InsertOpts: unique}
			}
			return out
		}
		if err := r.EnqueueMany(context.Background(), nil); err != nil {
			t.Fatalf("empty batch: %v", err)
		}
		if err := r.EnqueueMany(context.Background(), batch("many-a", "many-b", "many-c")); err != nil {
			t.Fatal(err)
		}
		// The startup re-enqueue of the same batch, plus one new job.
		if err := r.EnqueueMany(context.Background(), batch("many-a", "many-b", "many-c", "many-d")); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"many-a", "many-b", "many-c", "many-d"} {
			if rows := jobsOf(t, db, c); len(rows) != 1 || rows[0].State != rivertype.JobStateAvailable {
				t.Errorf("%s: rows %+v, want one available job", c, rows)
			}
		}
	})
}

// TestWakeRunsASnoozedJobNow: Wake inserts a unique recurring job, and
// once it snoozes until its next period, Wake makes it run again now,
// on the same row.
func TestWakeRunsASnoozedJobNow(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		w := newWorker()
		r := startRunner(t, db, Config{Workers: w.workers()})
		args := testArgs{Case: t.Name(), Mode: modeSnooze}
		opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
		ctx := context.Background()
		if err := r.Wake(ctx, args, opts); err != nil {
			t.Fatal(err)
		}
		w.waitStarted(t)
		waitJob(t, db, t.Name(), rivertype.JobStateScheduled)
		if err := r.Wake(ctx, args, opts); err != nil {
			t.Fatal(err)
		}
		w.waitStarted(t)
		waitJob(t, db, t.Name(), rivertype.JobStateScheduled)
		if n := w.calls(t.Name()); n != 2 {
			t.Fatalf("worked %d times, want 2", n)
		}
		if rows := jobsOf(t, db, t.Name()); len(rows) != 1 {
			t.Fatalf("%d rows, want the one job", len(rows))
		}
	})
}

// TestBackgroundQueueHasItsOwnWorkers: with one worker a queue, a job
// holding the default queue's worker does not keep a background job from
// running, nor the other way round.
func TestBackgroundQueueHasItsOwnWorkers(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		migrated(t, db)
		for _, tc := range []struct{ name, blocked, free string }{
			{"default busy", river.QueueDefault, QueueBackground},
			{"background busy", QueueBackground, river.QueueDefault},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w := newWorker()
				r := startRunner(t, db, Config{Workers: w.workers(), Concurrency: 1})
				blocking := tc.name + " blocking"
				enqueue(t, r, testArgs{Case: blocking, Mode: modeBlock}, &river.InsertOpts{Queue: tc.blocked})
				if job := w.waitStarted(t); job.Args.Case != blocking {
					t.Fatalf("started %q, want %q", job.Args.Case, blocking)
				}
				free := tc.name + " free"
				enqueue(t, r, testArgs{Case: free}, &river.InsertOpts{Queue: tc.free})
				if job := w.waitStarted(t); job.Args.Case != free {
					t.Fatalf("started %q, want %q", job.Args.Case, free)
				}
				waitJob(t, db, free, rivertype.JobStateCompleted)
				close(w.release)
				waitJob(t, db, blocking, rivertype.JobStateCompleted)
			})
		}
	})
}
