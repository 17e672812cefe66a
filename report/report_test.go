package report

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/report"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
)

// fixture is an organisation with an incident worth reporting on.
type fixture struct {
	db       *storage.DB
	ctx      context.Context
	org      uuid.UUID
	incident *ent.Incident
}

func newFixture(t testing.TB, db *storage.DB, role enum.Role) *fixture {
	t.Helper()
	org := testenv.Org(t, db, testenv.Slug("acme"), testenv.Name("Acme Corp"))
	u := testenv.User(t, db, org, role, testenv.Handle("ada"), testenv.FullName("Ada Analyst"))
	ctx := testenv.As(u, org)
	// The alerts are raised by an admin acting as the same user.
	admin := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, UserID: u.ID, Role: enum.RoleAdmin,
		HomeOrgID: org.ID, OrgID: org.ID, VisibleOrgIDs: []uuid.UUID{org.ID}, TopLevel: true})
	var ids []uuid.UUID
	for _, title := range []string{"Ransom note written to \\\\FS01\\share", "Лateral movement via SMB from 10.0.0.5"} {
		a, err := db.Client.Alert.Create().SetTitle(title).SetSource("crowdstrike").SetSeverity(enum.SeverityCritical).
			SetEntities(nil).Save(admin)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	svc := incidents.New(db.Client)
	inc, err := svc.Create(admin, incidents.CreateIncidentInput{Title: "Ransomware on FS01", AlertIDs: ids,
		Summary: ptr("Manual summary: contained within an hour.")})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Client.Incident.UpdateOne(inc).SetAiSummary("AI summary that the manual one overrides.").Exec(admin); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNote(admin, inc.ID, "Internal only: the backup server was also probed."); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, ctx: ctx, org: org.ID, incident: inc}
}

func ptr[T any](v T) *T { return &v }

// runner starts a job runner working svc's renders.
func runner(t *testing.T, db *storage.DB, svc *Service) *jobs.Runner {
	t.Helper()
	workers := river.NewWorkers()
	r, err := jobs.New(db, jobs.Config{Workers: workers, FetchPollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc.queue = r
	river.AddWorker(workers, svc.Worker())
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	return r
}

// await polls a report until it leaves pending and running.
func await(t *testing.T, f *fixture, id uuid.UUID) *ent.Report {
	t.Helper()
	var r *ent.Report
	testenv.Eventually(t, 60*time.Second, "report "+id.String()+" rendered", func() bool {
		var err error
		if r, err = f.db.Client.Report.Get(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		return r.Status == enum.JobStatusReady || r.Status == enum.JobStatusFailed
	})
	return r
}

func TestRenderLifecycle(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, enum.RoleAnalyst)
		svc := New(db.Client, nil, nil)
		runner(t, db, svc)

		render := func(kind enum.ReportKind, format enum.ReportFormat) *ent.Report {
			t.Helper()
			r, err := svc.Create(f.ctx, f.incident.ID, &CreateInput{Kind: &kind, Format: &format})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != enum.JobStatusPending {
				t.Fatalf("a new report is %s, want pending", r.Status)
			}
			done := await(t, f, r.ID)
			if done.Status != enum.JobStatusReady {
				t.Fatalf("report %s: %s", done.Status, done.Error)
			}
			got, err := svc.Download(f.ctx, f.incident.ID, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		pdf := render(enum.ReportKindInternal, enum.ReportFormatPdf)
		if !bytes.HasPrefix(pdf.Content, []byte("%PDF-")) || pdf.ContentType != "application/pdf" ||
			pdf.FileName != "incident-1-internal-report.pdf" || pdf.Size != len(pdf.Content) || pdf.Attempts != 1 {
			t.Fatalf("pdf: %q %s %d bytes, %d attempts, starts %q", pdf.FileName, pdf.ContentType, pdf.Size, pdf.Attempts, pdf.Content[:min(8, len(pdf.Content))])
		}

		internal := string(render(enum.ReportKindInternal, enum.ReportFormatMarkdown).Content)
		client := string(render(enum.ReportKindClient, enum.ReportFormatMarkdown).Content)
		for _, want := range []string{"Ransomware on FS01", "Manual summary: contained", "Лateral movement", "Internal only: the backup"} {
			if !strings.Contains(internal, want) {
				t.Errorf("internal report lacks %q", want)
			}
		}
		if strings.Contains(client, "Internal only") {
			t.Errorf("the client report shows an internal note")
		}
		if strings.Contains(client, "AI summary") || !strings.Contains(client, "Manual summary") {
			t.Errorf("the client report does not prefer the manual summary")
		}
		html := render(enum.ReportKindClient, enum.ReportFormatHtml)
		if !strings.HasPrefix(html.ContentType, "text/html") || !strings.Contains(string(html.Content), "Ransomware on FS01") {
			t.Errorf("html: %s", html.ContentType)
		}

		events, err := db.Client.TimelineEvent.Query().Where(timelineevent.IncidentID(f.incident.ID),
			timelineevent.KindEQ(enum.TimelineKindReportGenerated)).Count(f.ctx)
		if err != nil || events != 4 {
			t.Fatalf("%d report_generated events (%v), want 4", events, err)
		}
		list, err := svc.List(f.ctx, f.incident.ID)
		if err != nil || len(list) != 4 || list[0].Content != nil {
			t.Fatalf("list: %d reports (%v); content must not be listed", len(list), err)
		}
		if err := svc.Delete(f.ctx, f.incident.ID, pdf.ID); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Download(f.ctx, f.incident.ID, pdf.ID)
		wantCode(t, err, apperr.NotFound)
	})
}

// TestRestartMidRender stops the process while a render is under way: the
// next process renders the report, and nothing is lost.
func TestRestartMidRender(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, enum.RoleAnalyst)
		first := New(db.Client, nil, nil)
		claimed := make(chan struct{})
		first.afterClaim = func(ctx context.Context) {
			close(claimed)
			<-ctx.Done() // the process is going away mid-render
		}
		r1 := runner(t, db, first)
		rep, err := first.Create(f.ctx, f.incident.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-claimed:
		case <-time.After(30 * time.Second):
			t.Fatal("the render never started")
		}
		stopCtx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := r1.Stop(stopCtx); err == nil {
			t.Fatalf("stop returned nil; the render should have been cut short")
		}
		mid, err := db.Client.Report.Get(f.ctx, rep.ID)
		if err != nil || mid.Status != enum.JobStatusRunning {
			t.Fatalf("after the stop the report is %v (%v), want running", mid.Status, err)
		}

		second := New(db.Client, nil, nil)
		runner(t, db, second)
		done := await(t, f, rep.ID)
		if done.Status != enum.JobStatusReady || done.Attempts != 2 || done.Size == 0 {
			t.Fatalf("after the restart: %s after %d attempts, %d bytes (%s)", done.Status, done.Attempts, done.Size, done.Error)
		}
	})
}

// failingQueue loses every enqueue, as a crash between a report's commit
// and its job would.
type failingQueue struct{}

func (failingQueue) Enqueue(context.Context, river.JobArgs, *river.InsertOpts) error {
	return errors.New("queue unavailable")
}

func TestResumeQueuesLostRenders(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, enum.RoleAnalyst)
		lost := New(db.Client, failingQueue{}, nil)
		rep, err := lost.Create(f.ctx, f.incident.ID, nil)
		if err != nil {
			t.Fatalf("a lost enqueue must not fail the request (the row is committed): %v", err)
		}
		svc := New(db.Client, nil, nil)
		runner(t, db, svc)
		n, err := svc.Resume(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("resume queued %d (%v), want 1", n, err)
		}
		if again, err := svc.Resume(context.Background()); err != nil || again > 1 {
			t.Fatalf("second resume: %d, %v", again, err)
		}
		if done := await(t, f, rep.ID); done.Status != enum.JobStatusReady {
			t.Fatalf("report %s: %s", done.Status, done.Error)
		}
		if c := db.Client.Report.Query().Where(report.StatusEQ(enum.JobStatusReady)).CountX(f.ctx); c != 1 {
			t.Fatalf("%d ready reports, want 1", c)
		}
	})
}

func wantCode(t testing.TB, err error, code apperr.Code) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}
