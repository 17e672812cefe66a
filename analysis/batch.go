package analysis

import (
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	entanalysis "github.com/seliq/seliq/ent/analysis"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
)

// BatchSize is how many automatic built-in analyses one job runs: their
// alerts, asset profile and shared context are read together and their
// results written in one transaction, so the per-analysis cost is the
// analyst's own CPU plus one UPDATE.
const BatchSize = 50

// BatchArgs is the job that runs a batch of automatic built-in alert
// analyses of one organisation. Its priority is the severity of its alerts
// (priorityOf), so River takes critical batches before high ones, and so on.
type BatchArgs struct {
	OrganizationID uuid.UUID   `json:"organization_id"`
	AnalysisIDs    []uuid.UUID `json:"analysis_ids"`
}

// Kind names the job type.
func (BatchArgs) Kind() string { return "analysis.batch" }

// InsertOpts: not unique (Resume may queue an analysis a live batch also
// holds; whichever runs second finds it ready and skips it); in the
// background queue, as a batch may wait for a pause in ingest (yield.go).
func (BatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, Queue: jobs.QueueBackground}
}

// priorityOf is River's priority (1 first … 4 last) for an analysis of an
// alert of severity sev; requests from a user (sev "") go first.
func priorityOf(sev enum.Severity) int {
	switch sev {
	case "", enum.SeverityCritical:
		return 1
	case enum.SeverityHigh:
		return 2
	case enum.SeverityMedium:
		return 3
	}
	return 4
}

// queued is an analysis to hand to the job queue.
type queued struct {
	id, org uuid.UUID
	// batched: an automatic built-in alert analysis, run in a BatchArgs
	// job; otherwise (a provider's, an incident's) it runs alone.
	batched bool
	sev     enum.Severity
}

// jobParams turns analyses into jobs: the batched ones grouped by
// organisation and priority into BatchArgs of up to BatchSize, the others
// one Args each, every job with its severity's priority.
func jobParams(list []queued) []river.InsertManyParams {
	type key struct {
		org uuid.UUID
		pri int
	}
	var out []river.InsertManyParams
	groups := map[key][]uuid.UUID{}
	var order []key
	for _, q := range list {
		pri := priorityOf(q.sev)
		if !q.batched {
			out = append(out, river.InsertManyParams{Args: Args{AnalysisID: q.id, OrganizationID: q.org}, InsertOpts: &river.InsertOpts{Priority: pri}})
			continue
		}
		k := key{q.org, pri}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], q.id)
	}
	for _, k := range order {
		for ids := range slices.Chunk(groups[k], BatchSize) {
			out = append(out, river.InsertManyParams{Args: BatchArgs{OrganizationID: k.org, AnalysisIDs: ids}, InsertOpts: &river.InsertOpts{Priority: k.pri}})
		}
	}
	return out
}

// BatchWorker runs batches of automatic analyses for the job queue.
type BatchWorker struct {
	river.WorkerDefaults[BatchArgs]
	svc *Service
}

// BatchWorker returns the worker to register with the job queue.
func (s *Service) BatchWorker() *BatchWorker { return &BatchWorker{svc: s} }

// Timeout bounds a batch: about 50 built-in analyses and a few queries.
func (w *BatchWorker) Timeout(*river.Job[BatchArgs]) time.Duration { return 5 * time.Minute }

// Work runs the batch; a database error is returned for the queue to retry
// the whole batch (nothing of it was written), and the last attempt fails
// the analyses still open with it.
func (w *BatchWorker) Work(ctx context.Context, job *river.Job[BatchArgs]) error {
	w.svc.yieldToIngest(ctx)
	err := w.svc.runBatch(ctx, job.Args.OrganizationID, job.Args.AnalysisIDs)
	if err != nil && job.Attempt >= job.MaxAttempts {
		ctx := viewer.ForJob(ctx, job.Args.OrganizationID)
		if ferr := w.svc.client.Analysis.Update().Where(entanalysis.IDIn(job.Args.AnalysisIDs...), openStatus()).
			SetStatus(enum.JobStatusFailed).SetError(err.Error()).Exec(ctx); ferr != nil {
			w.svc.log.Error("fail analyses", "analyses", len(job.Args.AnalysisIDs), "err", ferr)
		}
	}
	return err
}

func openStatus() predicate.Analysis {
	return entanalysis.StatusIn(enum.JobStatusPending, enum.JobStatusRunning)
}

// batchResult is what one analysis of a batch stores.
type batchResult struct {
	id     uuid.UUID
	out    outcome
	failed string // why it cannot run (its alert is gone); "" when out holds the result
}

// runBatch runs the open analyses among ids, all of organisation orgID,
// as that organisation's job (every read and write confined to it by the
// privacy rules). Built-in alert analyses share their reads and are written
// in one transaction, so a crash before the commit leaves all of them
// pending for the retry and one after it leaves none to redo; any other
// kind (a provider's) runs as its own job would.
func (s *Service) runBatch(ctx context.Context, orgID uuid.UUID, ids []uuid.UUID) error {
	ctx = jobContext(ctx, orgID)
	list, err := s.client.Analysis.Query().Where(entanalysis.IDIn(ids...), openStatus()).All(ctx)
	if err != nil {
		return fmt.Errorf("load analyses: %w", err)
	}
	var mine []*ent.Analysis
	alertIDs := make([]uuid.UUID, 0, len(list))
	for _, a := range list {
		if a.AlertID == nil || a.Provider != ProviderBuiltin {
			if err := s.run(ctx, Args{AnalysisID: a.ID, OrganizationID: orgID}); err != nil {
				return err
			}
			continue
		}
		mine = append(mine, a)
		alertIDs = append(alertIDs, *a.AlertID)
	}
	if len(mine) == 0 {
		return nil
	}
	rows, err := s.client.Alert.Query().Where(alert.IDIn(alertIDs...)).All(ctx)
	if err != nil {
		return fmt.Errorf("load alerts: %w", err)
	}
	byID := make(map[uuid.UUID]*ent.Alert, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	profile, err := loadProfile(ctx, s.client)
	if err != nil {
		return fmt.Errorf("asset profile: %w", err)
	}
	if s.ingest.QuietFor(mergeAfterIngest) {
		s.pending.Merge(ctx)
	}
	r := newBatchReader(s.client, rows)
	if err := r.prefetch(ctx); err != nil {
		return err
	}
	results := make([]batchResult, 0, len(mine))
	for _, a := range mine {
		al := byID[*a.AlertID]
		if al == nil {
			// Deleted meanwhile (or never visible to this organisation).
			results = append(results, batchResult{id: a.ID, failed: fmt.Sprintf("alert %s not found", *a.AlertID)})
			continue
		}
		c, _, err := gatherContext(ctx, al, r)
		if err != nil {
			return err
		}
		c.Profile = profile
		b := builtin.AnalyzeAlert(toBuiltin(al), c)
		out, err := newOutcome(b, b, b, call{provider: ProviderBuiltin, model: builtin.Engine})
		if err != nil {
			return err
		}
		g, err := r.grouping(ctx, al)
		if err != nil {
			return err
		}
		if g != nil {
			out.result["grouping"] = g
		}
		results = append(results, batchResult{id: a.ID, out: out})
	}
	if err := s.writeBatch(ctx, results); err != nil {
		return err
	}
	s.stats.completed.Add(uint64(len(results)))
	return nil
}

// mergeAfterIngest is how long this replica's ingest must have been quiet
// before a batch merges the entity index's pending list: a merge during a
// flood takes a second's entries at a time and touches most of the index's
// pages each time (ingest's WAL per alert rose by a third), where the
// inserts themselves merge 4 MB at once; after the flood the list holds
// what the inserts left, and one merge serves every batch of the drain.
const mergeAfterIngest = time.Second

// jobContext is how an analysis job reads: as its organisation, and with
// PostgreSQL planning each read with its values (storage.CustomPlans). The
// context's reads are value-dependent (an entity in five alerts is read
// off its GIN index, one in every alert by walking last_seen_at backwards),
// and the generic plan PostgreSQL switches a prepared read to after five
// runs walks the whole table for a rare entity (15 s at a million alerts).
func jobContext(ctx context.Context, orgID uuid.UUID) context.Context {
	return storage.CustomPlans(viewer.ForJob(ctx, orgID))
}

// beforeBatchCommit, when set (tests), runs inside the batch's transaction
// after its writes; an error rolls the whole batch back, as a crash would.
var beforeBatchCommit func(ctx context.Context, ids []uuid.UUID) error

// writeBatch stores a batch's results in one transaction. Only analyses
// still open are written: a result another run stored first is kept.
func (s *Service) writeBatch(ctx context.Context, results []batchResult) error {
	now := time.Now().UTC()
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		for _, r := range results {
			upd := tx.Analysis.Update().Where(entanalysis.ID(r.id), openStatus())
			if r.failed != "" {
				upd.SetStatus(enum.JobStatusFailed).SetError(r.failed)
			} else {
				o := r.out
				upd.SetStatus(enum.JobStatusReady).SetResult(o.result).SetVerdict(o.verdict).SetConfidence(o.confidence).
					SetCompletedAt(now).SetProvider(ProviderBuiltin).SetModel(builtin.Engine)
				if sev := enum.Severity(o.severity); sev.Valid() {
					upd.SetSeverity(sev)
				}
			}
			if err := upd.Exec(ctx); err != nil {
				return fmt.Errorf("store analysis %s: %w", r.id, err)
			}
		}
		if beforeBatchCommit != nil {
			ids := make([]uuid.UUID, len(results))
			for i, r := range results {
				ids[i] = r.id
			}
			return beforeBatchCommit(ctx, ids)
		}
		return nil
	})
}

// batchReader gathers the context of a batch's alerts: the same results as
// alertContext and proposeGrouping, each distinct query asked once per
// batch (alerts of one burst share fingerprints, hosts and time windows),
// with only the columns the analyst reads.
type batchReader struct {
	client *ent.Client
	shared map[string][]*ent.Alert // "f:"+fingerprint or "e:"+entity value: the batch's reads
	// near are the open alerts around the batch's alerts, in the
	// grouping's order; nearFull says the read was not truncated.
	near     []*ent.Alert
	nearFrom time.Time
	nearTo   time.Time
	nearFull bool
	nearRead bool
	batch    []*ent.Alert
}

func newBatchReader(c *ent.Client, batch []*ent.Alert) *batchReader {
	return &batchReader{client: c, shared: map[string][]*ent.Alert{}, batch: batch}
}

// relatedFields are what a related alert contributes (and what tells
// which of a shared read's keys it matches).
var relatedFields = []string{alert.FieldID, alert.FieldTitle, alert.FieldIncidentID, alert.FieldLastSeenAt,
	alert.FieldFingerprint, alert.FieldEntities}

// historyFields are what a closed alert of the history contributes (and
// what tells which keys it matches).
var historyFields = []string{alert.FieldID, alert.FieldDisposition, alert.FieldResolvedAt, alert.FieldSource,
	alert.FieldTitle, alert.FieldFingerprint, alert.FieldEntities}

// sharedKey is one per-alert query of the context: the rows matching pred
// (match says the same of a row in Go), newest first, at most n.
type sharedKey struct {
	key   string
	pred  predicate.Alert
	match func(*ent.Alert) bool
	value string // an entity key's value
}

// keysPerRead bounds the keys one shared read ORs together.
const keysPerRead = 100

// prefetchFactor sizes a shared read: this many times the rows its keys
// keep, so that a few busy keys (a host in every alert) do not crowd the
// others out; capped at 5,000 rows. A variable for tests.
var prefetchFactor = 4.0

// prefetch reads the related alerts and the histories of the whole batch
// in a few statements instead of one per alert and key: per kind, one read
// of every key's rows in the query's own order (alert.Or of the keys'
// predicates), from which each key keeps its first rows. A key is exact
// when the read was not truncated or already holds its n rows (its first n
// in the shared order are its first n alone); the others are left to
// related and history, which read them alone.
func (r *batchReader) prefetch(ctx context.Context) error {
	var fps, ents, hist []sharedKey
	seen := map[string]bool{}
	add := func(list *[]sharedKey, k sharedKey) {
		if !seen[k.key] {
			seen[k.key] = true
			*list = append(*list, k)
		}
	}
	for _, a := range r.batch {
		if fp := a.Fingerprint; fp != "" {
			add(&fps, sharedKey{"f:" + fp, alert.Fingerprint(fp), func(x *ent.Alert) bool { return x.Fingerprint == fp }, ""})
		}
		for i, e := range a.Entities {
			if i == entitiesProbed {
				break
			}
			v := e.Value
			add(&ents, sharedKey{"e:" + v, entityPred(v), func(x *ent.Alert) bool { return hasEntity(x, v) }, v})
		}
		if key, pred, match := historyKey(a); key != "" {
			add(&hist, sharedKey{key, pred, match, ""})
		}
	}
	newest := []alert.OrderOption{ent.Desc(alert.FieldLastSeenAt), ent.Desc(alert.FieldID)}
	org := uuid.Nil
	if v := viewer.FromContext(ctx); v != nil {
		org = v.OrgID
	}
	for _, kind := range []struct {
		keys    []sharedKey
		base    []predicate.Alert
		order   []alert.OrderOption
		n       int
		fields  []string
		combine func(keys []sharedKey, n int) predicate.Alert
	}{
		{fps, nil, newest, relatedPerQuery + 1, relatedFields, anyKey},
		{ents, nil, newest, relatedPerQuery + 1, relatedFields, newestWithEntities(org)},
		{hist, []predicate.Alert{alert.StatusEQ(enum.AlertStatusClosed), alert.DispositionNotNil()},
			[]alert.OrderOption{ent.Desc(alert.FieldResolvedAt), ent.Desc(alert.FieldID)}, historyWindow + 1, historyFields, anyKey},
	} {
		for keys := range slices.Chunk(kind.keys, keysPerRead) {
			limit := max(1, min(int(prefetchFactor*float64(kind.n*len(keys))), 5000))
			rows, err := r.client.Alert.Query().Where(append(slices.Clone(kind.base), kind.combine(keys, kind.n))...).
				Order(kind.order...).Limit(limit).Select(kind.fields...).All(ctx)
			if err != nil {
				return fmt.Errorf("alert context: %w", err)
			}
			got := make(map[string][]*ent.Alert, len(keys))
			for _, x := range rows {
				for _, k := range keys {
					if len(got[k.key]) < kind.n && k.match(x) {
						got[k.key] = append(got[k.key], x)
					}
				}
			}
			for _, k := range keys {
				if len(rows) < limit || len(got[k.key]) == kind.n {
					r.shared[k.key] = append([]*ent.Alert{}, got[k.key]...)
				}
			}
		}
	}
	return nil
}

// anyKey is the rows matching any of keys: one read for all of them,
// exact for the keys the read's limit did not cut.
func anyKey(keys []sharedKey, _ int) predicate.Alert {
	preds := make([]predicate.Alert, len(keys))
	for i, k := range keys {
		preds[i] = k.pred
	}
	return alert.Or(preds...)
}

// newestWithEntities is, on PostgreSQL, the newest n alerts of org holding
// each key's entity value, read value by value in one statement (so every
// key is exact): an OR of the values made PostgreSQL either walk
// last_seen_at testing every value on each row (a common value: seconds)
// or rescan the GIN index's pending list once per value. OFFSET 0 keeps
// each value's read on the GIN index (without it the planner walks
// last_seen_at for each value and a rare one scans the table). The org
// condition only keeps another organisation's alerts from taking a key's
// places: the query around it is tenant-filtered as every read. On SQLite
// it is anyKey.
func newestWithEntities(org uuid.UUID) func(keys []sharedKey, n int) predicate.Alert {
	return func(keys []sharedKey, n int) predicate.Alert {
		return func(s *sql.Selector) {
			if s.Dialect() != dialect.Postgres {
				anyKey(keys, n)(s)
				return
			}
			values := make([]string, len(keys))
			for i, k := range keys {
				values[i] = k.value
			}
			s.Where(sql.P(func(b *sql.Builder) {
				b.WriteString(s.C(alert.FieldID) + " IN (SELECT x.id FROM unnest(").Arg(values).
					WriteString("::text[]) AS k(v) CROSS JOIN LATERAL (SELECT e.id FROM (SELECT a.id, a.last_seen_at FROM alerts a" +
						" WHERE a.organization_id = ").Arg(org).
					WriteString(" AND a.entities @> jsonb_build_array(jsonb_build_object('value', k.v)) OFFSET 0) e" +
						" ORDER BY e.last_seen_at DESC, e.id DESC LIMIT ").Arg(n).WriteString(") x)")
			}))
		}
	}
}

// entityPred is the queue's entity filter (any type, exact value).
func entityPred(v string) predicate.Alert {
	return alert.And(alerts.Predicates(&schematype.AlertFilter{Entity: &v})...)
}

func hasEntity(a *ent.Alert, v string) bool {
	for _, e := range a.Entities {
		if e.Value == v {
			return true
		}
	}
	return false
}

// historyKey is history's query for a: its key, predicate (beside closed
// with a disposition) and the same test in Go; "" when a has none.
func historyKey(a *ent.Alert) (string, predicate.Alert, func(*ent.Alert) bool) {
	switch asset := assetOf(a); {
	case asset != "":
		src, title := a.Source, a.Title
		return "h:a\x00" + src + "\x00" + title + "\x00" + asset,
			alert.And(alert.Source(src), alert.Title(title), entityPred(asset)),
			func(x *ent.Alert) bool { return x.Source == src && x.Title == title && hasEntity(x, asset) }
	case a.Fingerprint != "":
		fp := a.Fingerprint
		return "h:f\x00" + fp, alert.Fingerprint(fp), func(x *ent.Alert) bool { return x.Fingerprint == fp }
	}
	return "", nil, nil
}

// related returns up to relatedPerQuery alerts matching where, newest
// first, other than a; the read (one more row, so that excluding a leaves
// as many) is shared by the batch under key.
func (r *batchReader) related(ctx context.Context, a *ent.Alert, key string, where ...predicate.Alert) ([]*ent.Alert, error) {
	list, ok := r.shared[key]
	if !ok {
		var err error
		list, err = r.client.Alert.Query().Where(where...).Order(ent.Desc(alert.FieldLastSeenAt), ent.Desc(alert.FieldID)).
			Limit(relatedPerQuery + 1).Select(relatedFields...).All(ctx)
		if err != nil {
			return nil, err
		}
		r.shared[key] = list
	}
	out := make([]*ent.Alert, 0, relatedPerQuery)
	for _, x := range list {
		if x.ID != a.ID && len(out) < relatedPerQuery {
			out = append(out, x)
		}
	}
	return out, nil
}

// history is history's count for a, shared by the alerts of the batch
// with the same rule and asset (the read takes one row more and leaves a
// out, as history's IDNEQ does).
func (r *batchReader) history(ctx context.Context, a *ent.Alert) (builtin.DispositionHistory, error) {
	var h builtin.DispositionHistory
	key, pred, _ := historyKey(a)
	if key == "" {
		return h, nil
	}
	closed, ok := r.shared[key]
	if !ok {
		var err error
		closed, err = r.client.Alert.Query().Where(alert.StatusEQ(enum.AlertStatusClosed), alert.DispositionNotNil(), pred).
			Order(ent.Desc(alert.FieldResolvedAt), ent.Desc(alert.FieldID)).
			Limit(historyWindow + 1).Select(historyFields...).All(ctx)
		if err != nil {
			return h, fmt.Errorf("disposition history: %w", err)
		}
		r.shared[key] = closed
	}
	n := 0
	for _, c := range closed {
		if c.ID == a.ID || n == historyWindow {
			continue
		}
		n++
		countDisposition(&h, *c.Disposition)
	}
	return h, nil
}

func countDisposition(h *builtin.DispositionHistory, d enum.Disposition) {
	switch d {
	case enum.DispositionTruePositive:
		h.TruePositive++
	case enum.DispositionFalsePositive:
		h.FalsePositive++
	case enum.DispositionBenign:
		h.Benign++
	case enum.DispositionDuplicate:
		h.Duplicate++
	}
}

// groupingFields are what relation and a proposal read of a candidate.
var groupingFields = []string{alert.FieldID, alert.FieldTitle, alert.FieldIncidentID, alert.FieldEntities,
	alert.FieldSource, alert.FieldMitre, alert.FieldFirstSeenAt}

// nearLimit bounds the batch's shared read of grouping candidates: enough
// for every alert of a burst (first seen within a few minutes of each
// other) to find its own 200 in it; an alert that cannot is read alone.
var nearLimit = 2 * (groupingCandidates + 1)

// grouping is proposeGrouping's result for a. The batch's open alerts
// around all its alerts are read once, in the grouping's order; a's
// candidates are the run of them within its window (a left out), exact
// when that run is complete in the read (the read was not truncated, it
// reached past a's window, or it already holds 200 of a's candidates);
// otherwise a's candidates are read on their own.
func (r *batchReader) grouping(ctx context.Context, a *ent.Alert) (*Grouping, error) {
	if !r.nearRead {
		from, to := a.FirstSeenAt, a.FirstSeenAt
		for _, b := range r.batch {
			from, to = minTime(from, b.FirstSeenAt), maxTime(to, b.FirstSeenAt)
		}
		r.nearFrom, r.nearTo = from.Add(-groupingWindow), to.Add(groupingWindow)
		near, err := r.candidates(ctx, r.nearFrom, r.nearTo, nearLimit)
		if err != nil {
			return nil, err
		}
		r.near, r.nearFull, r.nearRead = near, len(near) < nearLimit, true
	}
	lo, hi := a.FirstSeenAt.Add(-groupingWindow), a.FirstSeenAt.Add(groupingWindow)
	var mine []*ent.Alert
	exact := false
	if !lo.Before(r.nearFrom) && !hi.After(r.nearTo) {
		for _, b := range r.near {
			if b.FirstSeenAt.Before(lo) || b.ID == a.ID {
				continue
			}
			if b.FirstSeenAt.After(hi) || len(mine) == groupingCandidates {
				break
			}
			mine = append(mine, b)
		}
		exact = r.nearFull || len(mine) == groupingCandidates ||
			len(r.near) > 0 && r.near[len(r.near)-1].FirstSeenAt.After(hi)
	}
	if !exact {
		var err error
		if mine, err = r.candidates(ctx, lo, hi, groupingCandidates+1); err != nil {
			return nil, err
		}
		mine = slices.DeleteFunc(mine, func(b *ent.Alert) bool { return b.ID == a.ID })
		mine = mine[:min(len(mine), groupingCandidates)]
	}
	return groupingFrom(a, mine), nil
}

// candidates reads the open alerts first seen in [from, to], in the
// grouping's order.
func (r *batchReader) candidates(ctx context.Context, from, to time.Time, limit int) ([]*ent.Alert, error) {
	list, err := r.client.Alert.Query().
		Where(alert.StatusNEQ(enum.AlertStatusClosed), alert.FirstSeenAtGTE(from), alert.FirstSeenAtLTE(to)).
		Order(ent.Asc(alert.FieldFirstSeenAt), ent.Asc(alert.FieldID)).Limit(limit).Select(groupingFields...).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("grouping candidates: %w", err)
	}
	return list, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
