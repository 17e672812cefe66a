package analysis

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// createBatch bounds the rows of one INSERT (SQLite allows 32,766 bound
// values, about 14 a row here).
const createBatch = 1000

// OnCreated is auto-analysis, called by ingest inside its transaction with
// the alerts a payload created: when the organisation's autoAnalyse feature
// is on (the default), it inserts a pending analysis for each alert the
// backlog policy does not defer (policy.go), in the same transaction (one
// statement per 1,000 alerts), and returns the hand-over of their jobs to
// the batcher, to run after commit: built-in analyses in batches of
// BatchSize, each job with its alerts' severity as priority. The settings are read
// at most once per autoTTL and organisation (a change of the feature or the
// provider applies to payloads within that long). A crash between commit
// and the jobs' insert leaves the rows pending, which Resume queues at the
// next start.
func (s *Service) OnCreated(ctx context.Context, tx *ent.Tx, alerts []*ent.Alert) (func(context.Context), error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	st, err := s.auto.settings(ctx, tx.Client())
	if err != nil {
		return nil, err
	}
	if !st.Features.AutoAnalyse {
		return nil, nil
	}
	// The quota is checked when the job runs (FallbackQuota), not here:
	// ingest never fails for want of tokens.
	prov, model := ProviderBuiltin, builtin.Engine
	if st.Provider != config.ProviderBuiltin && s.ai != nil {
		prov, model = st.Provider, st.Model
	}
	builtinRun := prov == ProviderBuiltin
	// One read of the new alerts' severities (the jobs' priorities) and
	// fingerprints (the backlog policy's repeats), by primary key: a
	// trigger may have changed the severity since ingest wrote it.
	info, err := tx.Alert.Query().Where(alert.IDIn(storage.AlertIDs(alerts)...)).
		Select(alert.FieldID, alert.FieldSeverity, alert.FieldFingerprint).All(ctx)
	if err != nil {
		return nil, err
	}
	keep, err := s.policy.filter(ctx, s, tx, info)
	if err != nil {
		return nil, err
	}
	if len(keep) == 0 {
		return nil, nil
	}
	created := make([]queued, 0, len(keep))
	for chunk := range slices.Chunk(keep, createBatch) {
		bulk := make([]*ent.AnalysisCreate, len(chunk))
		for i, a := range chunk {
			bulk[i] = tx.Analysis.Create().SetAlertID(a.ID).SetProvider(prov).SetModel(model)
		}
		rows, err := tx.Analysis.CreateBulk(bulk...).Save(ctx)
		if err != nil {
			return nil, err
		}
		for i, r := range rows {
			created = append(created, queued{id: r.ID, org: r.OrganizationID, batched: builtinRun, sev: chunk[i].Severity})
		}
	}
	return func(context.Context) { s.batch.add(created) }, nil
}

// batcher coalesces the job inserts of automatic analyses: after-commit
// hooks hand it their analyses and return at once, and one goroutine at a
// time inserts everything gathered meanwhile with EnqueueMany, so payloads
// committed while an insert runs share the next one, which starts at least
// gather after it (and no ingest request waits for River). Nothing runs
// while there is nothing to insert. A failed insert is retried, with what
// arrived meanwhile, after a growing pause (the database restarting or
// failing over should not leave analyses waiting for the next start); a
// process that dies first leaves the rows pending for Resume at the next
// start.
type batcher struct {
	svc     *Service
	mu      sync.Mutex
	pending []queued
	running bool
	idle    chan struct{} // closed when no insert runs; replaced when one starts
	// backoff is the pause before retry n (1, 2, …) of a failed insert.
	backoff func(n int) time.Duration
	// gather is the least time between the starts of two inserts when
	// analyses are already waiting for the second (gatherEvery).
	gather time.Duration
}

// gatherEvery: under a flood of payloads, one insert every 200 ms takes
// what some ten payloads queued, so that a batch holds up to BatchSize
// analyses of one severity rather than the two or three of each payload
// (a batch's shared reads are paid once per batch). A payload that finds
// no insert running is queued at once.
const gatherEvery = 200 * time.Millisecond

func newBatcher(s *Service) *batcher {
	idle := make(chan struct{})
	close(idle)
	return &batcher{svc: s, idle: idle, backoff: enqueueBackoff, gather: gatherEvery}
}

// enqueueBackoff doubles from 250 ms to a 30 s ceiling.
func enqueueBackoff(n int) time.Duration {
	return min(250*time.Millisecond<<min(n-1, 7), 30*time.Second)
}

func (b *batcher) add(list []queued) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, list...)
	if !b.running {
		b.running, b.idle = true, make(chan struct{})
		go b.run()
	}
}

func (b *batcher) run() {
	var last time.Time // when the previous insert started
	for {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.running = false
			close(b.idle)
			b.mu.Unlock()
			return
		}
		if wait := b.gather - time.Since(last); wait > 0 {
			// More arrived during the previous insert: a flood. Gather.
			b.mu.Unlock()
			time.Sleep(wait)
			b.mu.Lock()
		}
		list := b.pending
		b.pending = nil
		b.mu.Unlock()
		last = time.Now()
		for failures := 1; ; failures++ {
			err := b.svc.enqueueAll(context.Background(), list)
			if err == nil {
				break
			}
			pause := b.backoff(failures)
			b.svc.log.Error("queue automatic analyses; retrying", "analyses", len(list), "retry_in", pause, "err", err)
			time.Sleep(pause)
			// Single jobs are unique by their arguments, so those of list
			// inserted before the failure are not queued twice; a batch
			// may be (an earlier chunk of jobs committed), and its second
			// run finds its analyses done and skips them.
			b.mu.Lock()
			list = append(list, b.pending...)
			b.pending = nil
			b.mu.Unlock()
		}
	}
}

// Drain waits until the automatic analyses handed over so far are queued,
// or ctx ends (the server calls it before stopping the job queue).
func (s *Service) Drain(ctx context.Context) error {
	s.batch.mu.Lock()
	idle := s.batch.idle
	s.batch.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// autoTTL is how long ingest trusts the auto-analysis settings it read.
const autoTTL = 5 * time.Second

// autoCache remembers each organisation's AI settings for ingest, so that
// a busy connector does not pay a settings query per payload.
type autoCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[uuid.UUID]autoEntry
}

type autoEntry struct {
	st config.Settings
	at time.Time
}

func newAutoCache(ttl time.Duration) *autoCache {
	return &autoCache{ttl: ttl, now: time.Now, m: map[uuid.UUID]autoEntry{}}
}

// settings returns the acting organisation's settings, read through c
// unless a read of less than ttl ago is remembered.
func (a *autoCache) settings(ctx context.Context, c *ent.Client) (config.Settings, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return config.Settings{}, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	now := a.now()
	a.mu.Lock()
	e, ok := a.m[v.OrgID]
	a.mu.Unlock()
	if ok && now.Sub(e.at) < a.ttl {
		return e.st, nil
	}
	st, err := config.Read(ctx, c)
	if err != nil {
		return st, err
	}
	a.mu.Lock()
	a.m[v.OrgID] = autoEntry{st: st, at: now}
	a.mu.Unlock()
	return st, nil
}
