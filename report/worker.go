package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/report"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/report/render"
	"github.com/seliq/seliq/storage"
)

// Worker renders reports for the job queue.
type Worker struct {
	river.WorkerDefaults[RenderArgs]
	svc *Service
}

// Worker returns the render worker to register with the job queue.
func (s *Service) Worker() *Worker { return &Worker{svc: s} }

// renderTimeout bounds one render; an incident with thousands of alerts
// renders in seconds.
const renderTimeout = 5 * time.Minute

// Timeout of a render job.
func (w *Worker) Timeout(*river.Job[RenderArgs]) time.Duration { return renderTimeout }

// Work renders one report. A render that cannot succeed (a template that
// fails on this incident, or exceeds a render limit) fails the report at
// once and cancels the job, so it is never retried; anything else (the
// database) is returned so the queue retries, and the last attempt fails
// the report with the error.
func (w *Worker) Work(ctx context.Context, job *river.Job[RenderArgs]) error {
	err := w.svc.render(ctx, job.Args)
	var permanent *permanentError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &permanent):
		if ferr := w.svc.fail(ctx, job.Args, permanent.err); ferr != nil {
			return ferr
		}
		return river.JobCancel(permanent.err)
	case job.Attempt >= job.MaxAttempts:
		if ferr := w.svc.fail(ctx, job.Args, err); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// permanentError is a render failure that retrying would repeat.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// render claims the report (pending or running: a render a crash cut short
// starts again), renders it and stores the result. A report deleted or
// finished meanwhile is left alone.
func (s *Service) render(ctx context.Context, args RenderArgs) error {
	ctx = viewer.ForJob(ctx, args.OrganizationID)
	claimed, err := s.client.Report.Update().
		Where(report.ID(args.ReportID), report.StatusIn(enum.JobStatusPending, enum.JobStatusRunning)).
		SetStatus(enum.JobStatusRunning).AddAttempts(1).Save(ctx)
	if err != nil {
		return fmt.Errorf("claim report: %w", err)
	}
	if claimed == 0 {
		return nil
	}
	if s.afterClaim != nil {
		s.afterClaim(ctx)
	}
	r, err := s.client.Report.Query().Where(report.ID(args.ReportID)).Select(metadataColumns...).Only(ctx)
	if err != nil {
		return fmt.Errorf("load report: %w", err)
	}
	tmpl, err := parsedTemplate(ctx, s.client)
	if err != nil {
		return &permanentError{fmt.Errorf("the organisation's template: %w", err)}
	}
	doc, err := s.document(ctx, r)
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := render.Render(ctx, tmpl, doc, render.Format(r.Format))
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, render.ErrResourceLimit) {
			return err // stopped from outside: another process takes it up
		}
		return &permanentError{err}
	}
	took := time.Since(start)
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		n, err := c.Report.Update().Where(report.ID(r.ID), report.StatusEQ(enum.JobStatusRunning)).
			SetStatus(enum.JobStatusReady).SetContent(out.Body).SetSize(len(out.Body)).
			SetContentType(out.ContentType).SetFileName(render.FileName(doc, render.Format(r.Format))).
			SetRenderMs(int(took.Milliseconds())).SetCompletedAt(time.Now().UTC()).SetError("").Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		if err := incidents.RecordEvent(ctx, c, r.IncidentID, enum.TimelineKindReportGenerated,
			fmt.Sprintf("%s %s report generated", title(string(r.Kind)), r.Format),
			map[string]any{"report_id": r.ID, "kind": r.Kind, "format": r.Format}); err != nil {
			return err
		}
		if r.Kind != enum.ReportKindClient {
			return nil
		}
		// Client reports go to the organisation's contacts who receive
		// reports, queued with the report's readiness.
		return notify.ContactsReport(ctx, c, r, render.FileName(doc, render.Format(r.Format)))
	})
}

// fail records why a report could not be rendered.
func (s *Service) fail(ctx context.Context, args RenderArgs, cause error) error {
	ctx = viewer.ForJob(ctx, args.OrganizationID)
	s.log.Warn("report render failed", "report", args.ReportID, "err", cause)
	return s.client.Report.Update().
		Where(report.ID(args.ReportID), report.StatusIn(enum.JobStatusPending, enum.JobStatusRunning)).
		SetStatus(enum.JobStatusFailed).SetError(cause.Error()).SetCompletedAt(time.Now().UTC()).Exec(ctx)
}

// title capitalises a report kind for an event title ("Client").
func title(kind string) string {
	if kind == "" {
		return kind
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}
