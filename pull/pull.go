// Package pull polls the connectors in pull mode: one durable River job per
// connector, snoozed between polls, runs the type's poller (ingest/catalogue)
// from the connector's checkpoint and hands each page to ingest, whose
// transaction also saves the page's checkpoint. A crash therefore loses
// nothing and repeats nothing: a page either committed with its checkpoint
// or is read again.
//
// One replica polls a connector at a time: River gives a job to one
// worker, and a lease on the connector row (a token and an expiry, checked
// again when each page commits) keeps out a worker the rescuer started
// while a slow one still ran.
//
// Polls run as the organisation's system principal (viewer.ForJob), with
// the connector's secrets opened from internal/secrets, over the outbound
// policy of the organisation (orgallow).
package pull

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
)

// Defaults of Config.
const (
	DefaultLookBack     = 24 * time.Hour
	DefaultMaxPages     = 20
	DefaultRunTimeout   = 5 * time.Minute
	DefaultHTTPTimeout  = 30 * time.Second
	DefaultFailingAfter = time.Hour
)

// Policies gives the outbound policy of an organisation's calls.
type Policies interface {
	For(ctx context.Context, org uuid.UUID) (*outbound.Policy, error)
}

// Config tunes a Service; zero values take the defaults.
type Config struct {
	// LookBack is how far back a connector's first poll reads.
	LookBack time.Duration
	// MaxPages bounds the pages one run reads; a connector further behind
	// is polled again at once.
	MaxPages int
	// RunTimeout bounds one run (River's job timeout); the lease lasts a
	// minute longer.
	RunTimeout time.Duration
	// LeaseMargin is how long the lease outlives RunTimeout: a replica
	// that dies mid-poll holds its connector this much longer. Default 1 min.
	LeaseMargin time.Duration
	// HTTPTimeout bounds one request to a vendor.
	HTTPTimeout time.Duration
	// FailingAfter is how long a connector fails before its admins are told.
	FailingAfter time.Duration
	// Backoff is the pollers' first retry wait (tests shorten it).
	Backoff time.Duration
	// PageSize overrides the vendors' page sizes (tests).
	PageSize int
	// Transport, when set, replaces the policy's transport (tests that
	// intercept calls); the policy is still checked on the URL.
	Transport func(*outbound.Policy) http.RoundTripper
}

func (c Config) withDefaults() Config {
	if c.LookBack <= 0 {
		c.LookBack = DefaultLookBack
	}
	if c.MaxPages <= 0 {
		c.MaxPages = DefaultMaxPages
	}
	if c.RunTimeout <= 0 {
		c.RunTimeout = DefaultRunTimeout
	}
	if c.LeaseMargin <= 0 {
		c.LeaseMargin = time.Minute
	}
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = DefaultHTTPTimeout
	}
	if c.FailingAfter <= 0 {
		c.FailingAfter = DefaultFailingAfter
	}
	return c
}

// Service polls connectors and answers "poll now".
type Service struct {
	client   *ent.Client
	ingest   *ingest.Service
	box      *secrets.Box
	policies Policies
	runner   *jobs.Runner
	tokens   *catalogue.TokenCache
	cfg      Config
	log      *slog.Logger
}

// New returns the service; runner schedules the poll jobs (register
// Worker on it).
func New(client *ent.Client, in *ingest.Service, box *secrets.Box, policies Policies, runner *jobs.Runner, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{client: client, ingest: in, box: box, policies: policies, runner: runner,
		tokens: catalogue.NewTokenCache(), cfg: cfg.withDefaults(), log: log}
}

// Args are a poll job's: one job per connector, unique by these args.
type Args struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	ConnectorID    uuid.UUID `json:"connector_id"`
}

// Kind names the job.
func (Args) Kind() string { return "connector_poll" }

// insertOpts make the job unique per connector while it lives; a completed
// one (its connector left pull mode) does not block a new one.
func insertOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// Schedule makes sure a pull connector has its job and that the job looks
// at the connector now (its next_poll_at decides whether it polls). It is
// called after the change that makes it necessary has committed.
func (s *Service) Schedule(ctx context.Context, c *ent.Connector) error {
	if c.Mode != enum.ConnectorModePull || !c.Enabled {
		return nil
	}
	return s.runner.Wake(ctx, Args{OrganizationID: c.OrganizationID, ConnectorID: c.ID}, insertOpts())
}

// Resume queues a job for every enabled pull connector that has none: a
// crash between a change's commit and its Schedule loses nothing. It
// first seals secret settings stored in clear by an older version.
func (s *Service) Resume(ctx context.Context) (int, error) {
	var params []river.InsertManyParams
	sealer := connectors.New(s.client, s.box)
	err := jobs.ForEachOrganization(ctx, s.client, func(ctx context.Context, org uuid.UUID) error {
		if n, err := sealer.SealStored(ctx); err != nil {
			return err
		} else if n > 0 {
			s.log.Info("sealed connector secrets stored in clear", "org", org, "connectors", n)
		}
		ids, err := s.client.Connector.Query().
			Where(connector.ModeEQ(enum.ConnectorModePull), connector.Enabled(true)).IDs(ctx)
		for _, id := range ids {
			params = append(params, river.InsertManyParams{Args: Args{OrganizationID: org, ConnectorID: id}, InsertOpts: insertOpts()})
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return len(params), s.runner.EnqueueMany(ctx, params)
}

// PollNow asks for a poll of a pull connector at once (admins; the GraphQL
// directive checks the role). It returns at once: the poll runs as a job.
func (s *Service) PollNow(ctx context.Context, id uuid.UUID) (*ent.Connector, error) {
	var out *ent.Connector
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c, err := tx.Connector.Get(ctx, id)
		if ent.IsNotFound(err) {
			return apperr.NotFoundf("connector %s not found", id)
		}
		if err != nil {
			return err
		}
		if c.Mode != enum.ConnectorModePull {
			return apperr.Invalid("mode", "only pull connectors are polled; this one is %s", c.Mode)
		}
		if !c.Enabled {
			return apperr.Invalid("enabled", "the connector is disabled; enable it to poll")
		}
		now := time.Now().UTC()
		if out, err = c.Update().SetNextPollAt(now).SetPollRequestedAt(now).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: "connector", EntityID: c.ID, Action: "poll_requested"})
	})
	if err != nil {
		return nil, err
	}
	if err := s.Schedule(ctx, out); err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Worker returns the River worker of the poll jobs.
func (s *Service) Worker() river.Worker[Args] { return &worker{s: s} }

type worker struct {
	river.WorkerDefaults[Args]
	s *Service
}

// Timeout bounds one run; the lease outlives it by LeaseMargin.
func (w *worker) Timeout(*river.Job[Args]) time.Duration { return w.s.cfg.RunTimeout }

// Work runs one poll and snoozes the job until the next. A connector gone,
// disabled or switched to push ends its job; a failed poll is recorded on
// the connector and snoozed like a good one, so the job never runs out of
// attempts. Only a database failure fails the job (River retries it).
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	ctx = viewer.ForJob(ctx, job.Args.OrganizationID)
	wait, err := w.s.Run(ctx, job.Args.ConnectorID)
	if errors.Is(err, errNotPolled) {
		return nil
	}
	if err != nil {
		return err
	}
	return river.JobSnooze(wait)
}

// errNotPolled: the connector no longer exists, is disabled or pushes.
var errNotPolled = errors.New("pull: connector is not polled")

// errLeaseLost: another worker took the connector over (this one overran
// its lease); the page is rolled back and read again by the new holder.
var errLeaseLost = errors.New("pull: poll lease lost")

// Run polls the connector if it is due and returns how long to wait
// before looking again. ctx acts as the connector's organisation.
func (s *Service) Run(ctx context.Context, id uuid.UUID) (time.Duration, error) {
	c, err := s.client.Connector.Get(ctx, id)
	if ent.IsNotFound(err) {
		return 0, errNotPolled
	}
	if err != nil {
		return 0, err
	}
	if c.Mode != enum.ConnectorModePull || !c.Enabled {
		return 0, errNotPolled
	}
	now := time.Now().UTC()
	interval := time.Duration(c.PollIntervalSeconds) * time.Second
	if c.NextPollAt != nil && c.NextPollAt.After(now) && !requestedSince(c, c.LastPolledAt) {
		return c.NextPollAt.Sub(now), nil
	}
	token := uuid.NewString()
	leased, err := s.client.Connector.Update().
		Where(connector.ID(id), connector.Or(connector.PollLeaseUntilIsNil(), connector.PollLeaseUntilLT(now))).
		SetPollLeaseToken(token).SetPollLeaseUntil(now.Add(s.cfg.RunTimeout + s.cfg.LeaseMargin)).Save(ctx)
	if err != nil {
		return 0, err
	}
	if leased == 0 {
		return interval, nil // another replica polls it now
	}
	// Read again under the lease: a replica that held it until a moment
	// ago may have moved the checkpoint since c was read.
	if c, err = s.client.Connector.Get(ctx, id); err != nil {
		_ = s.release(context.WithoutCancel(ctx), id, token)
		return 0, err
	}
	items, more, pollErr := s.poll(ctx, c, token)
	if errors.Is(pollErr, errLeaseLost) {
		return interval, nil
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// The replica is stopping: not the vendor's failure. The pages
		// read so far are committed; the next replica goes on from there.
		_ = s.release(context.WithoutCancel(ctx), c.ID, token)
		return 0, ctx.Err()
	}
	if pollErr != nil && ctx.Err() == nil && isStorage(pollErr) {
		_ = s.release(context.WithoutCancel(ctx), c.ID, token)
		return 0, pollErr
	}
	next := interval
	var pe *catalogue.PollError
	if errors.As(pollErr, &pe) && pe.RetryAfter > next {
		next = pe.RetryAfter
	}
	if more && pollErr == nil {
		next = 0 // bounded run, still behind: go on at once
	}
	at, err := s.finish(context.WithoutCancel(ctx), c, token, now, next, items, pollErr)
	if err != nil {
		return 0, err
	}
	return max(time.Until(at), 0), nil
}

// isStorage tells a database failure (retried by River) from a vendor's.
func isStorage(err error) bool {
	var pe *catalogue.PollError
	var setup *setupError
	return !errors.As(err, &pe) && !errors.As(err, &setup) && !errors.Is(err, context.DeadlineExceeded)
}

// setupError: the connector cannot be polled as configured.
type setupError struct{ reason string }

func (e *setupError) Error() string { return e.reason }

// poll reads pages until caught up or MaxPages, each committed with its
// checkpoint; it returns the records ingested and whether more remain.
func (s *Service) poll(ctx context.Context, c *ent.Connector, token string) (int, bool, error) {
	p, err := s.poller(ctx, c)
	if err != nil {
		return 0, false, err
	}
	checkpoint := c.PollCheckpoint
	items := 0
	for range s.cfg.MaxPages {
		page, err := p.Fetch(ctx, checkpoint)
		var pe *catalogue.PollError
		if err != nil && !errors.As(err, &pe) && ctx.Err() == nil {
			// Not the vendor's answer nor the database: a checkpoint the
			// poller cannot read. Say so rather than retry it forever.
			err = &setupError{"the stored poll position cannot be read: " + err.Error()}
		}
		if err != nil {
			return items, false, err
		}
		_, err = s.ingest.IngestPolled(ctx, c, page.Records, func(ctx context.Context, tx *ent.Tx) error {
			n, err := tx.Connector.Update().Where(connector.ID(c.ID), connector.PollLeaseToken(token)).
				SetPollCheckpoint(page.Checkpoint).Save(ctx)
			if err == nil && n == 0 {
				return errLeaseLost
			}
			return err
		})
		if err != nil {
			return items, false, err
		}
		items += len(page.Records)
		checkpoint = page.Checkpoint
		if !page.More {
			return items, false, nil
		}
	}
	return items, true, nil
}

// poller builds the connector's poller: secrets opened, the outbound
// policy of its organisation, a timeout per request.
func (s *Service) poller(ctx context.Context, c *ent.Connector) (catalogue.Poller, error) {
	t, ok := catalogue.Lookup(c.Type)
	if !ok || t.NewPoller == nil {
		return nil, &setupError{fmt.Sprintf("connector type %q cannot be polled; switch the connector to push", c.Type)}
	}
	settings, err := connectors.OpenSettings(s.box, c)
	if err != nil {
		return nil, &setupError{strings.TrimPrefix(err.Error(), "connectors: ")}
	}
	policy, err := s.policies.For(ctx, c.OrganizationID)
	if err != nil {
		return nil, err
	}
	if base, _ := settings["base_url"].(string); base != "" {
		if _, err := policy.CheckURL(base); err != nil {
			return nil, &setupError{"base_url is not allowed by the outbound policy: " + strings.TrimPrefix(err.Error(), "outbound: ") +
				" (on-premises services in private ranges need SELIQ_OUTBOUND_ALLOW or the provider organisation's allowlist)"}
		}
	}
	client := policy.Client(outbound.ClientOptions{Timeout: s.cfg.HTTPTimeout})
	if tr, ok := client.Transport.(*http.Transport); ok {
		if v, set := settings["verify_tls"].(bool); set && !v {
			tr.TLSClientConfig = insecureTLS()
		}
	}
	if s.cfg.Transport != nil {
		client.Transport = s.cfg.Transport(policy)
	}
	since := time.Now().UTC().Add(-s.cfg.LookBack)
	p, err := catalogue.NewPoller(c.Type, catalogue.PollConfig{
		Settings: settings, HTTP: client, Since: since, Tokens: s.tokens, TokenKey: c.ID.String(),
		Backoff: s.cfg.Backoff, PageSize: s.cfg.PageSize,
	})
	var pe *catalogue.PollError
	if errors.As(err, &pe) {
		return nil, &setupError{pe.Reason}
	}
	return p, err
}

// finish records the run on the connector and releases the lease, in one
// transaction with its activity and, after an hour of failures, the
// admins' notification. It returns when the next poll is due: next from
// now, or earlier if a poll was requested (or the interval changed) while
// this one ran.
func (s *Service) finish(ctx context.Context, c *ent.Connector, token string, started time.Time, next time.Duration, items int, pollErr error) (time.Time, error) {
	now := time.Now().UTC()
	at := now.Add(next)
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		cur, err := tx.Connector.Get(ctx, c.ID)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.PollLeaseToken != token {
			return nil // overran the lease; the new holder reports
		}
		if cur.NextPollAt != nil && !sameTime(cur.NextPollAt, c.NextPollAt) && cur.NextPollAt.Before(at) {
			at = *cur.NextPollAt // the interval changed while this poll ran
		}
		if requestedSince(cur, &started) {
			at = now // asked to poll now while this poll ran
		}
		u := cur.Update().SetLastPolledAt(started).SetItemsLastPoll(items).
			SetNextPollAt(at).SetPollLeaseToken("").ClearPollLeaseUntil()
		var entries []audit.Entry
		if pollErr == nil {
			u.SetLastSuccessAt(now).SetLastError("").ClearFailingSince().SetFailureNotified(false)
			if cur.LastError != "" {
				entries = append(entries, audit.Entry{EntityType: "connector", EntityID: c.ID, Action: "poll_recovered", Before: cur.LastError})
			}
		} else {
			reason := describe(pollErr)
			u.SetLastError(reason)
			since := now
			if cur.FailingSince != nil {
				since = *cur.FailingSince
			} else {
				u.SetFailingSince(now)
			}
			if cur.LastError != reason {
				entries = append(entries, audit.Entry{EntityType: "connector", EntityID: c.ID, Action: "poll_failed", Before: cur.LastError, After: reason})
			}
			if !cur.FailureNotified && now.Sub(since) >= s.cfg.FailingAfter {
				u.SetFailureNotified(true)
				subject := notify.Subject{EntityType: "connector", EntityID: c.ID, Title: cur.Name}
				if err := notify.ConnectorFailing(ctx, tx.Client(), subject, reason); err != nil {
					return err
				}
				entries = append(entries, audit.Entry{EntityType: "connector", EntityID: c.ID, Action: "failing_notified", After: reason})
			}
		}
		if err := u.Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), entries...)
	})
	return at, err
}

// requestedSince reports whether an admin asked to poll c now after t
// (nil: ever).
func requestedSince(c *ent.Connector, t *time.Time) bool {
	return c.PollRequestedAt != nil && (t == nil || c.PollRequestedAt.After(*t))
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// release gives the lease back after a database failure.
func (s *Service) release(ctx context.Context, id uuid.UUID, token string) error {
	return s.client.Connector.Update().Where(connector.ID(id), connector.PollLeaseToken(token)).
		SetPollLeaseToken("").ClearPollLeaseUntil().Exec(ctx)
}

// describe turns a poll failure into last_error's words.
func describe(err error) string {
	var (
		pe    *catalogue.PollError
		setup *setupError
	)
	switch {
	case errors.As(err, &pe):
		return pe.Error()
	case errors.As(err, &setup):
		return setup.reason
	case errors.Is(err, context.DeadlineExceeded):
		return "the poll took longer than its time limit; it resumes from its checkpoint"
	}
	return err.Error()
}

func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the connector's verify_tls: false, for on-premises self-signed certificates
}
