// Package analysis runs the triage analysis of alerts and incidents as
// durable jobs: a request commits a pending row and queues a job; the worker
// gathers the context (related alerts, the disposition history of the same
// fingerprint) and runs the built-in analyst and, when the organisation
// configured a provider, asks its model too (llm.go), then stores the
// result. Every alert can be analysed with no provider configured, and a
// provider that fails or answers badly leaves the built-in result, flagged.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	entanalysis "github.com/seliq/seliq/ent/analysis"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/busy"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// Queue takes analysis jobs; jobs.Runner is one.
type Queue interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
	// EnqueueMany inserts jobs in one batch.
	EnqueueMany(ctx context.Context, params []river.InsertManyParams) error
}

// Service is the analysis API and its worker's home.
type Service struct {
	client *ent.Client
	queue  Queue
	ai     *config.Service // nil: the built-in analyst only
	log    *slog.Logger
	// callTimeout bounds one model call, its retries included.
	callTimeout time.Duration
	auto        *autoCache // the settings auto-analysis reads
	batch       *batcher   // the job inserts of automatic analyses
	policy      *policy    // what auto-analysis defers when behind (policy.go)
	stats       stats      // counters for /metrics
	// incidents opens the incidents of accepted groupings (with their SLA
	// timers when the server wired them); nil: a plain incidents service.
	incidents *incidents.Service
	// ingest is this replica's ingest, which batches of automatic analyses wait
	// for a pause in, up to ingestYield (yield.go); nil: they never wait.
	ingest      *busy.Tracker
	ingestYield time.Duration
	// pending merges the entity index's pending list before a batch's
	// reads (storage.PendingLists); nil: never.
	pending *storage.PendingLists
}

// WithPendingLists has each batch of automatic analyses merge the entity
// index's pending list (at most p's interval apart) before its reads.
func (s *Service) WithPendingLists(p *storage.PendingLists) *Service {
	s.pending = p
	return s
}

// WithIncidents opens accepted groupings' incidents through svc, so that
// they get what every incident gets (SLA timers).
func (s *Service) WithIncidents(svc *incidents.Service) *Service {
	s.incidents = svc
	return s
}

// New returns the service; jobs are queued on q, and ai (which may be nil)
// gives the organisation's provider.
func New(client *ent.Client, q Queue, ai *config.Service, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{client: client, queue: q, ai: ai, log: log, callTimeout: 150 * time.Second, auto: newAutoCache(autoTTL),
		policy: newPolicy(DefaultPolicy)}
	s.batch = newBatcher(s)
	return s
}

// Engines a request may ask for.
const (
	// EngineAuto runs the organisation's configured provider, else the
	// built-in analyst.
	EngineAuto = "auto"
	// EngineBuiltin always runs the built-in analyst: no provider, no tokens.
	EngineBuiltin = "builtin"
)

// ProviderBuiltin is the provider recorded for the built-in analyst.
const ProviderBuiltin = config.ProviderBuiltin

// Options are a request's choices (GraphQL AnalyseInput, the REST body).
type Options struct {
	Engine *string `json:"engine,omitempty"`
}

func (o *Options) engine() (string, error) {
	if o == nil || o.Engine == nil || *o.Engine == "" {
		return EngineAuto, nil
	}
	switch e := strings.ToLower(*o.Engine); e {
	case EngineAuto, EngineBuiltin:
		return e, nil
	}
	return "", apperr.Invalid("engine", "must be auto or builtin")
}

// Args is the job that runs one analysis. Who requested it is on the
// analysis row (requested_by), so a job queued again by Resume records its
// usage for the same user.
type Args struct {
	AnalysisID     uuid.UUID `json:"analysis_id" river:"unique"`
	OrganizationID uuid.UUID `json:"organization_id"`
}

// Kind names the job type.
func (Args) Kind() string { return "analysis.run" }

// InsertOpts make analysis jobs unique per analysis.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// AnalyseAlert queues an analysis of an alert and returns it, pending.
func (s *Service) AnalyseAlert(ctx context.Context, alertID uuid.UUID, in *Options) (*ent.Analysis, error) {
	ok, err := s.client.Alert.Query().Where(alert.ID(alertID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.NotFoundf("alert %s not found", alertID)
	}
	return s.request(ctx, s.client.Analysis.Create().SetAlertID(alertID), config.FeatureAnalysis, in)
}

// AnalyseIncident queues an analysis of an incident and returns it, pending.
func (s *Service) AnalyseIncident(ctx context.Context, incidentID uuid.UUID, in *Options) (*ent.Analysis, error) {
	ok, err := s.client.Incident.Query().Where(incident.ID(incidentID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.NotFoundf("incident %s not found", incidentID)
	}
	return s.request(ctx, s.client.Analysis.Create().SetIncidentID(incidentID), config.FeatureIncidentSummary, in)
}

func (s *Service) request(ctx context.Context, create *ent.AnalysisCreate, feature string, in *Options) (*ent.Analysis, error) {
	engine, err := in.engine()
	if err != nil {
		return nil, err
	}
	prov, model, err := s.choose(ctx, feature, engine)
	if err != nil {
		return nil, err
	}
	if v := viewer.FromContext(ctx); v != nil && v.Kind == viewer.KindUser {
		create.SetRequestedBy(v.UserID)
	}
	a, err := create.SetProvider(prov).SetModel(model).Save(ctx)
	if err != nil {
		return nil, err
	}
	// A user waits for it: ahead of the automatic backlog (priority 1).
	if err := s.queue.Enqueue(ctx, Args{AnalysisID: a.ID, OrganizationID: a.OrganizationID}, &river.InsertOpts{Priority: priorityOf("")}); err != nil {
		// The row is committed; Resume queues it at the next start.
		s.log.Error("queue analysis", "analysis", a.ID, "err", err)
	}
	return a, nil
}

// choose picks the engine of a new analysis: the built-in analyst when asked
// for or when no provider is configured (or the feature is off), else the
// provider, whose quota must not be used up (RATE_LIMITED, naming the
// built-in way out).
func (s *Service) choose(ctx context.Context, feature, engine string) (prov, model string, err error) {
	if engine == EngineBuiltin || s.ai == nil {
		return ProviderBuiltin, builtin.Engine, nil
	}
	st, err := s.ai.Check(ctx)
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code == apperr.RateLimited {
		out := *ae
		out.Message += `. To analyse now without tokens, ask for the built-in analyst: engine "builtin" (REST body {"engine": "builtin"}, GraphQL input {engine: "builtin"})`
		return "", "", &out
	}
	if err != nil {
		return "", "", err
	}
	if st.Provider == config.ProviderBuiltin || !featureOn(st, feature) {
		return ProviderBuiltin, builtin.Engine, nil
	}
	return st.Provider, st.Model, nil
}

// featureOn reports whether the settings let a model do feature's work;
// alert analyses have no switch of their own.
func featureOn(st config.Settings, feature string) bool {
	return feature != config.FeatureIncidentSummary || st.Features.IncidentSummaries
}

// LatestForAlert returns an alert's newest analysis.
func (s *Service) LatestForAlert(ctx context.Context, alertID uuid.UUID) (*ent.Analysis, error) {
	a, err := s.client.Analysis.Query().Where(entanalysis.AlertID(alertID)).
		Order(ent.Desc(entanalysis.FieldCreatedAt), ent.Desc(entanalysis.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("alert %s has no analysis yet; POST /alerts/{id}/analyse requests one", alertID)
	}
	return a, err
}

// LatestForIncident returns an incident's newest analysis.
func (s *Service) LatestForIncident(ctx context.Context, incidentID uuid.UUID) (*ent.Analysis, error) {
	a, err := s.client.Analysis.Query().Where(entanalysis.IncidentID(incidentID)).
		Order(ent.Desc(entanalysis.FieldCreatedAt), ent.Desc(entanalysis.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("incident %s has no analysis yet; POST /incidents/{id}/analysis requests one", incidentID)
	}
	return a, err
}

// Resume queues every analysis left pending or running, in all
// organisations (the server calls it at start), in batches, each with its
// alert's severity as priority. Each organisation's analyses are read as
// its job.
func (s *Service) Resume(ctx context.Context) (int, error) {
	queued := 0
	err := jobs.ForEachOrganization(ctx, s.client, func(ctx context.Context, _ uuid.UUID) error {
		open, err := s.client.Analysis.Query().Where(openStatus()).
			Select(entanalysis.FieldID, entanalysis.FieldOrganizationID, entanalysis.FieldAlertID, entanalysis.FieldProvider).All(ctx)
		if err != nil {
			return fmt.Errorf("open analyses: %w", err)
		}
		list, err := s.queuedOf(ctx, open)
		if err != nil {
			return err
		}
		queued += len(list)
		return s.enqueueAll(ctx, list)
	})
	return queued, err
}

// queuedOf describes analyses for the job queue, reading their alerts'
// severities (one query per createBatch alerts).
func (s *Service) queuedOf(ctx context.Context, list []*ent.Analysis) ([]queued, error) {
	var alertIDs []uuid.UUID
	for _, a := range list {
		if a.AlertID != nil {
			alertIDs = append(alertIDs, *a.AlertID)
		}
	}
	sev := make(map[uuid.UUID]enum.Severity, len(alertIDs))
	for chunk := range slices.Chunk(alertIDs, createBatch) {
		rows, err := s.client.Alert.Query().Where(alert.IDIn(chunk...)).Select(alert.FieldID, alert.FieldSeverity).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("alerts' severities: %w", err)
		}
		for _, r := range rows {
			sev[r.ID] = r.Severity
		}
	}
	out := make([]queued, len(list))
	for i, a := range list {
		out[i] = queued{id: a.ID, org: a.OrganizationID}
		if a.AlertID != nil {
			out[i].sev = sev[*a.AlertID]
			out[i].batched = a.Provider == ProviderBuiltin
		}
	}
	return out, nil
}

// enqueueBatch is how many jobs one EnqueueMany inserts.
const enqueueBatch = 500

// enqueueAll queues the jobs of analyses (see jobParams); each job reads
// its requester from the row.
func (s *Service) enqueueAll(ctx context.Context, list []queued) error {
	params := jobParams(list)
	for chunk := range slices.Chunk(params, enqueueBatch) {
		if err := s.queue.EnqueueMany(ctx, chunk); err != nil {
			return fmt.Errorf("queue %d analysis jobs: %w", len(chunk), err)
		}
	}
	return nil
}

// Worker runs analyses for the job queue.
type Worker struct {
	river.WorkerDefaults[Args]
	svc *Service
}

// Worker returns the worker to register with the job queue.
func (s *Service) Worker() *Worker { return &Worker{svc: s} }

// Timeout lets a job outlive River's default minute: a model call may take
// callTimeout, retries included.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return w.svc.callTimeout + time.Minute }

// Work runs one analysis; a database error is returned for the queue to
// retry, and the last attempt fails the analysis with it. Provider problems
// are not errors: the built-in result is stored, flagged with the reason.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	err := w.svc.run(ctx, job.Args)
	if err != nil && job.Attempt >= job.MaxAttempts {
		ctx := viewer.ForJob(ctx, job.Args.OrganizationID)
		if ferr := w.svc.client.Analysis.UpdateOneID(job.Args.AnalysisID).
			SetStatus(enum.JobStatusFailed).SetError(err.Error()).Exec(ctx); ferr != nil {
			w.svc.log.Error("fail analysis", "analysis", job.Args.AnalysisID, "err", ferr)
		}
	}
	return err
}

// outcome is what an analysis stores.
type outcome struct {
	result     map[string]any
	verdict    string
	confidence float64
	severity   string
	call       call
}

func (s *Service) run(ctx context.Context, args Args) error {
	// Everything below reads through the tenant-scoped client as the job's
	// organisation: nothing of another organisation can reach a prompt.
	ctx = jobContext(ctx, args.OrganizationID)
	a, err := s.client.Analysis.Get(ctx, args.AnalysisID)
	if ent.IsNotFound(err) {
		return nil // deleted meanwhile
	}
	if err != nil || a.Status == enum.JobStatusReady || a.Status == enum.JobStatusFailed {
		return err
	}
	var out outcome
	switch {
	case a.AlertID != nil:
		out, err = s.runAlert(ctx, a)
	case a.IncidentID != nil:
		out, err = s.runIncident(ctx, a)
	default:
		return fmt.Errorf("analysis %s names neither an alert nor an incident", a.ID)
	}
	if err != nil {
		return err
	}
	c := out.call
	if c.fallback != nil {
		out.result["fallback"] = map[string]any{"reason": c.fallback.Reason, "detail": c.fallback.Detail}
	}
	upd := s.client.Analysis.UpdateOne(a).SetStatus(enum.JobStatusReady).SetResult(out.result).
		SetVerdict(out.verdict).SetConfidence(out.confidence).SetCompletedAt(time.Now().UTC()).
		SetProvider(c.provider).SetModel(c.model).
		SetPromptTokens(c.usage.PromptTokens).SetCompletionTokens(c.usage.CompletionTokens)
	if sev := enum.Severity(out.severity); sev.Valid() {
		upd.SetSeverity(sev)
	}
	if err := upd.Exec(ctx); err != nil {
		return err
	}
	s.stats.completed.Add(1)
	return nil
}

func (s *Service) runAlert(ctx context.Context, a *ent.Analysis) (outcome, error) {
	al, c, b, err := s.analyseAlert(ctx, *a.AlertID)
	if err != nil {
		return outcome{}, err
	}
	call := s.consult(ctx, a, config.FeatureAnalysis, func() (provider.Request, error) { return alertPrompt(al, c, b) })
	res := b
	if call.answer != nil {
		res = merge(b, call.answer)
	}
	out, err := newOutcome(res, res, b, call)
	if err != nil {
		return out, err
	}
	g, err := s.proposeGrouping(ctx, al)
	if err != nil {
		return out, err
	}
	if g != nil {
		out.result["grouping"] = g
	}
	return out, nil
}

func (s *Service) runIncident(ctx context.Context, a *ent.Analysis) (outcome, error) {
	in, linked, ic, b, err := s.analyseIncident(ctx, *a.IncidentID)
	if err != nil {
		return outcome{}, err
	}
	call := s.consult(ctx, a, config.FeatureIncidentSummary, func() (provider.Request, error) { return incidentPrompt(in, linked, ic, b) })
	res := b
	if call.answer != nil {
		res.Analysis = merge(b.Analysis, call.answer)
	}
	return newOutcome(res, res.Analysis, b.Analysis, call)
}

// newOutcome stores result (an alert's or an incident's), whose common part
// is final; with a model's answer, the built-in analyst's own view b is kept
// next to it.
func newOutcome(result any, final, b builtin.Analysis, c call) (outcome, error) {
	m, err := settingstore.ToMap(result)
	if err != nil {
		return outcome{}, err
	}
	if c.answer != nil {
		m["builtin"] = builtinSummary(b)
	}
	return outcome{result: m, verdict: final.Verdict, confidence: final.Confidence, severity: final.Severity, call: c}, nil
}

// builtinSummary keeps the built-in analyst's own view next to a model's.
func builtinSummary(b builtin.Analysis) map[string]any {
	return map[string]any{"engine": b.Engine, "verdict": b.Verdict, "confidence": b.Confidence, "severity": b.Severity, "score": b.Score}
}

// timeline reads an incident's events for the narrative.
func (s *Service) timeline(ctx context.Context, incidentID uuid.UUID) ([]builtin.Event, error) {
	events, err := s.client.TimelineEvent.Query().Where(timelineevent.IncidentID(incidentID)).
		Order(ent.Asc(timelineevent.FieldOccurredAt)).Limit(200).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]builtin.Event, len(events))
	for i, e := range events {
		out[i] = builtin.Event{OccurredAt: e.OccurredAt, Kind: string(e.Kind), Title: e.Title}
	}
	return out, nil
}

// QueueTx queues an analysis of an alert or an incident (one of the two
// ids) inside the caller's transaction: the pending row and its job commit
// with the change that decided them (automation's analyze action), with
// the engine the organisation's settings choose.
func (s *Service) QueueTx(ctx context.Context, tx *ent.Tx, alertID, incidentID *uuid.UUID) (*ent.Analysis, error) {
	c := tx.Client()
	create, feature := c.Analysis.Create(), config.FeatureAnalysis
	switch {
	case alertID != nil:
		create.SetAlertID(*alertID)
	case incidentID != nil:
		create.SetIncidentID(*incidentID)
		feature = config.FeatureIncidentSummary
	default:
		return nil, errors.New("analysis: QueueTx needs an alert or an incident")
	}
	prov, model, err := s.choose(ctx, feature, EngineAuto)
	if err != nil {
		return nil, err
	}
	if v := viewer.FromContext(ctx); v != nil && v.Kind == viewer.KindUser {
		create.SetRequestedBy(v.UserID)
	}
	a, err := create.SetProvider(prov).SetModel(model).Save(ctx)
	if err != nil {
		return nil, err
	}
	return a, jobs.EnqueueTx(ctx, c, Args{AnalysisID: a.ID, OrganizationID: a.OrganizationID}, nil)
}
