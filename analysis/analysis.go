// Package analysis runs the triage analysis of alerts and incidents as
// durable jobs: a request commits a pending row and queues a job; the worker
// gathers the context (related alerts, the disposition history of the same
// fingerprint) and runs the built-in analyst, then stores the result. Every
// alert can be analysed with no provider configured.
package analysis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/apperr"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	entanalysis "github.com/seliq/seliq/ent/analysis"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/settingdoc"
	"github.com/seliq/seliq/viewer"
)

// Queue takes analysis jobs; jobs.Runner is one.
type Queue interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Service is the analysis API and its worker's home.
type Service struct {
	client *ent.Client
	queue  Queue
	log    *slog.Logger
}

// New returns the service; jobs are queued on q.
func New(client *ent.Client, q Queue, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{client: client, queue: q, log: log}
}

// Args is the job that runs one analysis.
type Args struct {
	AnalysisID     uuid.UUID `json:"analysis_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
}

// Kind names the job type.
func (Args) Kind() string { return "analysis.run" }

// InsertOpts make analysis jobs unique per analysis.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// AnalyseAlert queues an analysis of an alert and returns it, pending.
func (s *Service) AnalyseAlert(ctx context.Context, alertID uuid.UUID) (*ent.Analysis, error) {
	ok, err := s.client.Alert.Query().Where(alert.ID(alertID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.NotFoundf("alert %s not found", alertID)
	}
	return s.request(ctx, s.client.Analysis.Create().SetAlertID(alertID))
}

// AnalyseIncident queues an analysis of an incident and returns it, pending.
func (s *Service) AnalyseIncident(ctx context.Context, incidentID uuid.UUID) (*ent.Analysis, error) {
	ok, err := s.client.Incident.Query().Where(incident.ID(incidentID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.NotFoundf("incident %s not found", incidentID)
	}
	return s.request(ctx, s.client.Analysis.Create().SetIncidentID(incidentID))
}

func (s *Service) request(ctx context.Context, create *ent.AnalysisCreate) (*ent.Analysis, error) {
	a, err := create.SetProvider("builtin").SetModel(builtin.Engine).Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.queue.Enqueue(ctx, Args{AnalysisID: a.ID, OrganizationID: a.OrganizationID}, nil); err != nil {
		// The row is committed; Resume queues it at the next start.
		s.log.Error("queue analysis", "analysis", a.ID, "err", err)
	}
	return a, nil
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
// organisations (the server calls it at start).
func (s *Service) Resume(ctx context.Context) (int, error) {
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	open, err := s.client.Analysis.Query().
		Where(entanalysis.StatusIn(enum.JobStatusPending, enum.JobStatusRunning)).
		Select(entanalysis.FieldID, entanalysis.FieldOrganizationID).All(sys)
	if err != nil {
		return 0, fmt.Errorf("open analyses: %w", err)
	}
	for _, a := range open {
		if err := s.queue.Enqueue(ctx, Args{AnalysisID: a.ID, OrganizationID: a.OrganizationID}, nil); err != nil {
			return 0, fmt.Errorf("queue analysis %s: %w", a.ID, err)
		}
	}
	return len(open), nil
}

// Worker runs analyses for the job queue.
type Worker struct {
	river.WorkerDefaults[Args]
	svc *Service
}

// Worker returns the worker to register with the job queue.
func (s *Service) Worker() *Worker { return &Worker{svc: s} }

// Work runs one analysis; a database error is returned for the queue to
// retry, and the last attempt fails the analysis with it.
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

func (s *Service) run(ctx context.Context, args Args) error {
	ctx = viewer.ForJob(ctx, args.OrganizationID)
	a, err := s.client.Analysis.Get(ctx, args.AnalysisID)
	if ent.IsNotFound(err) {
		return nil // deleted meanwhile
	}
	if err != nil || a.Status == enum.JobStatusReady || a.Status == enum.JobStatusFailed {
		return err
	}
	var result any
	var verdict string
	var confidence float64
	var severity string
	switch {
	case a.AlertID != nil:
		an, err := s.analyseAlert(ctx, *a.AlertID)
		if err != nil {
			return err
		}
		result, verdict, confidence, severity = an, an.Verdict, an.Confidence, an.Severity
	case a.IncidentID != nil:
		an, err := s.analyseIncident(ctx, *a.IncidentID)
		if err != nil {
			return err
		}
		result, verdict, confidence, severity = an, an.Verdict, an.Confidence, an.Severity
	default:
		return fmt.Errorf("analysis %s names neither an alert nor an incident", a.ID)
	}
	m, err := settingdoc.ToMap(result)
	if err != nil {
		return err
	}
	upd := s.client.Analysis.UpdateOne(a).SetStatus(enum.JobStatusReady).SetResult(m).
		SetVerdict(verdict).SetConfidence(confidence).SetCompletedAt(time.Now().UTC())
	if sev := enum.Severity(severity); sev.Valid() {
		upd.SetSeverity(sev)
	}
	return upd.Exec(ctx)
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
