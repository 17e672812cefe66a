// Package report renders incidents into documents (PDF, HTML, Markdown)
// for analysts and for clients, through each organisation's template and
// branding. A report is a row first (pending), rendered by a durable job
// (ready or failed): the job queue keeps work across restarts, and Resume
// re-queues whatever a crash left between the row and its job.
package report

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/report"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
)

// Queue takes render jobs; jobs.Runner is one.
type Queue interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Service is the reports API and the render worker's home.
type Service struct {
	client *ent.Client
	queue  Queue
	log    *slog.Logger
	// afterClaim, when set, runs between claiming a report and rendering
	// it: the restart tests stop the process there.
	afterClaim func(ctx context.Context)
}

// New returns the service; reports are queued on q.
func New(client *ent.Client, q Queue, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{client: client, queue: q, log: log}
}

// RenderArgs is the job that renders one report.
type RenderArgs struct {
	ReportID       uuid.UUID `json:"report_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
}

// Kind names the job type in the queue.
func (RenderArgs) Kind() string { return "report.render" }

// InsertOpts make render jobs unique per report, so that Resume and a
// retried request cannot queue a report twice.
func (RenderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// maxAttempts bounds the renders of one report before it is failed.
const maxAttempts = 5

// Create queues a report of an incident. Kind and format default to the
// organisation's settings. The report is pending until the worker renders
// it; the row commits before the job is queued, and Resume covers a crash
// in between.
func (s *Service) Create(ctx context.Context, incidentID uuid.UUID, in *CreateInput) (*ent.Report, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Forbidden, "only users create reports")
	}
	var out *ent.Report
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		if err := incidentVisible(ctx, c, incidentID); err != nil {
			return err
		}
		set, err := settings(ctx, c)
		if err != nil {
			return err
		}
		kind, format := set.DefaultKind, set.DefaultFormat
		if in != nil && in.Kind != nil {
			kind = *in.Kind
		}
		if in != nil && in.Format != nil {
			format = *in.Format
		}
		if !kind.Valid() {
			return apperr.Invalid("kind", "%q is not a report kind", kind)
		}
		if !format.Valid() {
			return apperr.Invalid("format", "%q is not a report format", format)
		}
		out, err = c.Report.Create().SetIncidentID(incidentID).SetKind(kind).SetFormat(format).
			SetCreatedByID(v.UserID).Save(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{EntityType: "incident", EntityID: incidentID, Action: "report_create",
			After: map[string]any{"report_id": out.ID, "kind": kind, "format": format}})
	})
	if err != nil {
		return nil, err
	}
	if err := s.queue.Enqueue(ctx, RenderArgs{ReportID: out.ID, OrganizationID: out.OrganizationID}, nil); err != nil {
		// The row is committed; Resume queues it at the next start.
		s.log.Error("queue report render", "report", out.ID, "err", err)
	}
	return out.Unwrap(), nil
}

// List returns an incident's reports, newest first.
func (s *Service) List(ctx context.Context, incidentID uuid.UUID) ([]*ent.Report, error) {
	if err := incidentVisible(ctx, s.client, incidentID); err != nil {
		return nil, err
	}
	return s.client.Report.Query().Where(report.IncidentID(incidentID)).
		Order(ent.Desc(report.FieldCreatedAt), ent.Desc(report.FieldID)).
		Select(metadataColumns...).All(ctx)
}

// metadataColumns are every column but the content, which only Download
// reads.
var metadataColumns = func() []string {
	var cols []string
	for _, c := range report.Columns {
		if c != report.FieldContent {
			cols = append(cols, c)
		}
	}
	return cols
}()

// Get returns one report's metadata.
func (s *Service) Get(ctx context.Context, incidentID, reportID uuid.UUID) (*ent.Report, error) {
	return s.get(ctx, incidentID, reportID, metadataColumns...)
}

// Download returns a ready report with its content; a report still
// rendering, or failed, is a CONFLICT that says which.
func (s *Service) Download(ctx context.Context, incidentID, reportID uuid.UUID) (*ent.Report, error) {
	r, err := s.get(ctx, incidentID, reportID, report.Columns...)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case enum.JobStatusReady:
		return r, nil
	case enum.JobStatusFailed:
		return nil, apperr.New(apperr.Conflict, "report %s failed to render: %s", r.ID, r.Error)
	}
	return nil, apperr.New(apperr.Conflict, "report %s is still %s; try again shortly", r.ID, r.Status)
}

func (s *Service) get(ctx context.Context, incidentID, reportID uuid.UUID, cols ...string) (*ent.Report, error) {
	if v := viewer.FromContext(ctx); v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	r, err := s.client.Report.Query().Where(report.ID(reportID), report.IncidentID(incidentID)).Select(cols...).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("report %s not found on incident %s", reportID, incidentID)
	}
	return r, err
}

// Delete removes a report.
func (s *Service) Delete(ctx context.Context, incidentID, reportID uuid.UUID) error {
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		n, err := c.Report.Delete().Where(report.ID(reportID), report.IncidentID(incidentID)).Exec(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.NotFoundf("report %s not found on incident %s", reportID, incidentID)
		}
		return audit.Record(ctx, c, audit.Entry{EntityType: "incident", EntityID: incidentID, Action: "report_delete",
			Before: map[string]any{"report_id": reportID}})
	})
}

// Resume queues a render for every report left pending or running, in all
// organisations: the server calls it at start, so a crash between a
// report's commit and its job, or a queue that lost a job, loses nothing.
// Jobs are unique per report, so reports whose job survived are not
// queued twice. Each organisation's reports are read as its job.
func (s *Service) Resume(ctx context.Context) (int, error) {
	queued := 0
	err := jobs.ForEachOrganization(ctx, s.client, func(ctx context.Context, _ uuid.UUID) error {
		open, err := s.client.Report.Query().
			Where(report.StatusIn(enum.JobStatusPending, enum.JobStatusRunning)).
			Select(report.FieldID, report.FieldOrganizationID).All(ctx)
		if err != nil {
			return fmt.Errorf("open reports: %w", err)
		}
		for _, r := range open {
			if err := s.queue.Enqueue(ctx, RenderArgs{ReportID: r.ID, OrganizationID: r.OrganizationID}, nil); err != nil {
				return fmt.Errorf("queue report %s: %w", r.ID, err)
			}
		}
		queued += len(open)
		return nil
	})
	return queued, err
}

// incidentVisible reports a missing incident, or another organisation's,
// as not found.
func incidentVisible(ctx context.Context, c *ent.Client, id uuid.UUID) error {
	ok, err := c.Incident.Query().Where(incident.ID(id)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFoundf("incident %s not found", id)
	}
	return nil
}
