// Package jobs runs Seliq's durable background work (report renders, AI
// analyses, e-mails, SLA timers) on River, over whichever database storage
// opened: SQLite through riversqlite on storage.DB.SQL, PostgreSQL through
// riverpgxv5 on storage.DB.Pool. Callers see only river.JobArgs, river.Workers
// and river.InsertOpts; the driver's transaction type stays inside Runner.
//
// # Enqueueing after commit
//
// Enqueue runs its own transaction. Call it after the ent transaction that
// decided the work has committed, never while one is open in the same
// goroutine: SQLite admits one writer at a time, so the enqueue would wait on
// the open transaction until busy_timeout and fail.
//
// A crash between that commit and Enqueue loses the enqueue, so callers also
// re-enqueue outstanding work on startup with
// river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}. River then
// inserts nothing when a job with the same kind and args is pending,
// available, scheduled, running or retryable, and with River's default
// ByState also when it completed and is still retained
// (24 h, River's CompletedJobRetentionPeriod). Re-enqueue only work whose
// outcome the caller's own tables do not yet record: a completed job older
// than the retention period no longer blocks a duplicate.
//
// # Delivery
//
// Delivery is at least once. A job whose process dies mid-run stays
// "running" until the elected leader's rescuer (which runs every 30 s) finds
// it older than RescueStuckJobsAfter and JobTimeout and schedules a retry, so
// workers must be idempotent, and RescueStuckJobsAfter must exceed the
// longest legitimate run. A job whose context is cancelled by Stop returns to
// "available" without consuming an attempt and is picked up by the next
// runner.
//
// Args are stored as JSON (jsonb on PostgreSQL, which rejects the NUL
// character in strings: keep \u0000 out of args).
//
// # Tenancy
//
// A job acts in one organisation, as the system principal of that
// organisation: its worker's first step is ctx = viewer.ForJob(ctx,
// args.OrganizationID), with the organisation taken from the job's args,
// which the enqueuing request filled from the row it created. That is the
// only way a job reads or writes: the privacy rules confine a job viewer
// to its organisation for reads and writes alike (rule.DenyIfNoViewer
// refuses a job viewer that reaches wider), so a job for one organisation
// can never see or change another's rows. Jobs never use the privacy
// bypass (privacy.DecisionContext with Allow); work that must start before
// any organisation is known (re-queueing at start) goes through
// ForEachOrganization, which reads only the organisations' ids that way.
// The bypass is otherwise left to what runs before any viewer exists: see
// the rule package.
//
// # SQLite
//
// River's SQLite driver has no LISTEN/NOTIFY; it emulates it with a
// river_notification outbox that each working runner polls every 50 ms, so an
// enqueue from any process (a CLI included) wakes the workers within about
// that time. FetchPollInterval is only the fallback when a wake-up is missed.
// River's fetch, completion and maintenance are short write transactions on
// the shared pool; the DSN's _txlock=immediate and busy_timeout make them
// queue behind other writers instead of failing with "database is locked".
// The driver completes and inserts jobs one row at a time where PostgreSQL
// batches, and River's migrations cannot run concurrently from two processes
// on one SQLite file (PostgreSQL is serialised by an advisory lock).
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/storage"
)

// QueueBackground is the queue of jobs that may wait for a pause in the
// replica's ingest (automatic analyses): it has workers of its own, so
// that their waits never hold up the default queue's jobs (notifications,
// webhooks, schedules).
const QueueBackground = "background"

// ErrInsertOnly is returned by Start on a Runner built without Workers.
var ErrInsertOnly = errors.New("jobs: runner has no workers: it can enqueue but not work")

const (
	defaultConcurrency = 4
	// sqliteFetchPollInterval bounds how long a job can wait when an outbox
	// wake-up is missed; each poll is one short write transaction.
	sqliteFetchPollInterval = 200 * time.Millisecond
	// hardStopGrace is how long Stop waits, once its context is done, for
	// cancelled jobs to return and their rows to be released.
	hardStopGrace = 5 * time.Second
)

// Config configures a Runner. The zero value is an insert-only Runner.
type Config struct {
	// Workers are the workers to run. Nil makes the Runner insert-only: it can
	// Enqueue (any kind) but not Start, which suits a CLI. A non-nil Workers
	// must register every kind the process enqueues, as River rejects other
	// kinds at Enqueue to catch a forgotten registration early. River does not
	// expose how many workers a bundle holds, so an empty bundle cannot be
	// told apart: pass nil instead (an empty one rejects every Enqueue).
	Workers *river.Workers
	// Concurrency is how many jobs of each queue (the default and
	// QueueBackground) run at once in this process. Default 4.
	Concurrency int
	// Logger receives River's logs and job failures. Default: warnings and
	// errors on stderr.
	Logger *slog.Logger
	// JobTimeout cancels a job's context after this long unless its worker
	// overrides Timeout. Default River's (1 minute). River's -1 (no timeout)
	// is refused: the rescuer never rescues a job without a timeout.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before the
	// rescuer assumes its process died and retries it; it must be at least
	// JobTimeout. Default River's (1 hour, or JobTimeout + 1 hour).
	RescueStuckJobsAfter time.Duration
	// RetryPolicy schedules retries of failed jobs. Default River's
	// exponential backoff (attempt⁴ seconds).
	RetryPolicy river.ClientRetryPolicy
	// FetchPollInterval is the fallback fetch period, at least River's
	// FetchCooldown (100 ms). Default 200 ms on SQLite and River's 1 s on
	// PostgreSQL, where LISTEN/NOTIFY wakes workers.
	FetchPollInterval time.Duration
}

// riverClient is the part of River's client the Runner uses. Both
// *river.Client[pgx.Tx] and *river.Client[*sql.Tx] satisfy it, as none of
// these methods mention the transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

var (
	_ riverClient = (*river.Client[pgx.Tx])(nil)
	_ riverClient = (*river.Client[*sql.Tx])(nil)
)

// Runner owns a River client on one database.
type Runner struct {
	client     riverClient
	insertOnly bool
}

// New builds a Runner on db, which storage's Migrate has prepared.
func New(db *storage.DB, cfg Config) (*Runner, error) {
	rc, err := riverConfig(db.Dialect, cfg)
	if err != nil {
		return nil, err
	}
	client, err := newClient(db, rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: new river client: %w", err)
	}
	return &Runner{client: client, insertOnly: cfg.Workers == nil}, nil
}

func riverConfig(dbDialect string, cfg Config) (*river.Config, error) {
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("jobs: negative concurrency %d", cfg.Concurrency)
	}
	if cfg.JobTimeout < 0 {
		return nil, fmt.Errorf("jobs: JobTimeout %v would exempt jobs from stuck-job rescue", cfg.JobTimeout)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = defaultLogger()
	}
	rc := &river.Config{
		ErrorHandler:         &failureLogger{logger: logger},
		JobTimeout:           cfg.JobTimeout,
		Logger:               logger,
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
		RetryPolicy:          cfg.RetryPolicy,
		FetchPollInterval:    cfg.FetchPollInterval,
	}
	if rc.FetchPollInterval == 0 && dbDialect == dialect.SQLite {
		rc.FetchPollInterval = sqliteFetchPollInterval
	}
	if cfg.Workers != nil {
		concurrency := cfg.Concurrency
		if concurrency == 0 {
			concurrency = defaultConcurrency
		}
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: concurrency},
			QueueBackground:    {MaxWorkers: concurrency},
		}
	}
	return rc, nil
}

func newClient(db *storage.DB, rc *river.Config) (riverClient, error) {
	switch db.Dialect {
	case dialect.SQLite:
		return river.NewClient(riversqlite.New(db.SQL), rc)
	case dialect.Postgres:
		return river.NewClient(riverpgxv5.New(db.Pool), rc)
	default:
		return nil, fmt.Errorf("unsupported dialect %q", db.Dialect)
	}
}

// Start begins fetching and working jobs until Stop. Jobs' contexts derive
// from ctx: cancelling it cancels running jobs as Stop's deadline would.
func (r *Runner) Start(ctx context.Context) error {
	if r.insertOnly {
		return ErrInsertOnly
	}
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching and waits for running jobs to finish. If ctx ends
// first, it cancels the running jobs' contexts, which returns their rows to
// "available" without using an attempt, waits up to 5 s for them to return, and reports ctx's error. A job that ignores its context is left
// running; the rescuer retries it after RescueStuckJobsAfter.
func (r *Runner) Stop(ctx context.Context) error {
	// River's Stop fails only when ctx ends first.
	if r.client.Stop(ctx) == nil {
		return nil
	}
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopGrace)
	defer cancel()
	if err := r.client.StopAndCancel(graceCtx); err != nil {
		return fmt.Errorf("jobs: stop: running jobs ignored cancellation: %w", err)
	}
	return fmt.Errorf("jobs: stop: running jobs cancelled: %w", ctx.Err())
}

// Enqueue inserts a job in its own transaction; see the package comment for
// why it must not run inside an open ent transaction. With
// opts.UniqueOpts.ByArgs, enqueueing the same args again while the first job
// is live inserts nothing and returns nil.
func (r *Runner) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := r.client.Insert(ctx, args, opts); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// EnqueueMany inserts several jobs in one transaction (a batch statement on
// PostgreSQL), with the same rules as Enqueue: after commit, never inside an
// open ent transaction; unique jobs already live are skipped.
func (r *Runner) EnqueueMany(ctx context.Context, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if _, err := r.client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("jobs: enqueue %d jobs (%s...): %w", len(params), params[0].Args.Kind(), err)
	}
	return nil
}

// Wake makes a recurring unique job run now: it inserts the job when none
// is live and otherwise moves a waiting one (scheduled, e.g. snoozed until
// its next period, or retryable) to available. A running job cannot be
// moved: its worker is expected to look again at what changed before it
// snoozes, and in case it had already looked, Wake follows the job for
// up to wakeFollow and moves it once it waits.
func (r *Runner) Wake(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	res, err := r.client.Insert(ctx, args, opts)
	if err != nil {
		return fmt.Errorf("jobs: wake %s: %w", args.Kind(), err)
	}
	if !res.UniqueSkippedAsDuplicate {
		return nil
	}
	switch res.Job.State {
	case rivertype.JobStateScheduled, rivertype.JobStateRetryable:
		if _, err := r.client.JobRetry(ctx, res.Job.ID); err != nil {
			return fmt.Errorf("jobs: wake %s: %w", args.Kind(), err)
		}
	case rivertype.JobStateRunning:
		go r.follow(context.WithoutCancel(ctx), res.Job.ID)
	}
	return nil
}

// wakeFollow bounds how long Wake follows a running job.
const wakeFollow = 10 * time.Second

// follow retries job id as soon as it stops running and waits, for up to
// wakeFollow; a job that runs longer looked at the change itself.
func (r *Runner) follow(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(ctx, wakeFollow)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		job, err := r.client.JobGet(ctx, id)
		if err != nil {
			return
		}
		switch job.State {
		case rivertype.JobStateRunning:
			continue
		case rivertype.JobStateScheduled, rivertype.JobStateRetryable:
			_, _ = r.client.JobRetry(ctx, id)
		}
		return
	}
}

func defaultLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// failureLogger reports failed attempts at warning level (River logs them at
// info, below the default logger's threshold) and the final one at error.
type failureLogger struct {
	logger *slog.Logger
}

func (f *failureLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	f.log(ctx, job, "job failed", slog.String("error", err.Error()))
	return nil
}

func (f *failureLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	f.log(ctx, job, "job panicked", slog.Any("panic", panicVal), slog.String("trace", trace))
	return nil
}

func (f *failureLogger) log(ctx context.Context, job *rivertype.JobRow, msg string, attrs ...slog.Attr) {
	level := slog.LevelWarn
	if job.Attempt >= job.MaxAttempts {
		level = slog.LevelError
		msg += "; no attempts left, discarding"
	}
	attrs = append(attrs,
		slog.Int64("job_id", job.ID),
		slog.String("job_kind", job.Kind),
		slog.Int("attempt", job.Attempt),
		slog.Int("max_attempts", job.MaxAttempts),
	)
	f.logger.LogAttrs(ctx, level, msg, attrs...)
}
