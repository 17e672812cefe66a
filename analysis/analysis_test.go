package analysis

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// recorder is a queue that keeps what it was given, so the test runs the
// job itself. args lists one Args per analysis, a batch's included.
type recorder struct {
	args    []Args
	jobs    []river.InsertManyParams // every job as queued
	batches int                      // EnqueueMany calls
}

func (r *recorder) Enqueue(_ context.Context, a river.JobArgs, opts *river.InsertOpts) error {
	r.record(river.InsertManyParams{Args: a, InsertOpts: opts})
	return nil
}

func (r *recorder) EnqueueMany(_ context.Context, params []river.InsertManyParams) error {
	r.batches++
	for _, p := range params {
		r.record(p)
	}
	return nil
}

func (r *recorder) record(p river.InsertManyParams) {
	r.jobs = append(r.jobs, p)
	switch a := p.Args.(type) {
	case Args:
		r.args = append(r.args, a)
	case BatchArgs:
		for _, id := range a.AnalysisIDs {
			r.args = append(r.args, Args{AnalysisID: id, OrganizationID: a.OrganizationID})
		}
	}
}

func TestAlertAnalysisUsesHistoryAndRelated(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"), testenv.Name("Acme"))
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAnalyst, testenv.Handle("ada"))
		mk := func(status enum.AlertStatus, d *enum.Disposition, host string) *ent.Alert {
			b := db.Client.Alert.Create().SetTitle("Suspicious scheduled task created").SetSource("defender").
				SetSeverity(enum.SeverityMedium).SetStatus(status).SetNillableDisposition(d).SetFingerprint("mde:schtask:backup").
				SetEntities([]schematype.Entity{{Type: "hostname", Value: host}})
			a, err := b.Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		fp := enum.DispositionFalsePositive
		for range 12 {
			mk(enum.AlertStatusClosed, &fp, "backup-01")
		}
		target := mk(enum.AlertStatusNew, nil, "backup-01")

		q := &recorder{}
		s := New(db.Client, q, nil, nil)
		pending, err := s.AnalyseAlert(ctx, target.ID, nil)
		if err != nil || pending.Status != enum.JobStatusPending || len(q.args) != 1 {
			t.Fatalf("request: %v %v %d", pending, err, len(q.args))
		}
		if err := s.run(context.Background(), q.args[0]); err != nil {
			t.Fatal(err)
		}
		got, err := s.LatestForAlert(ctx, target.ID)
		if err != nil {
			t.Fatal(err)
		}
		reasons := ""
		for _, r := range got.Result["reasons"].([]any) {
			reasons += r.(map[string]any)["detail"].(string) + "; "
		}
		related := got.Result["related"].([]any)
		if got.Status != enum.JobStatusReady || got.Verdict != "likely_benign" || !strings.Contains(reasons, "false positive 12 of the last 12") || len(related) == 0 {
			t.Fatalf("analysis %s %s, reasons %q, %d related", got.Status, got.Verdict, reasons, len(related))
		}
		// Running the job again (a retry) leaves the finished analysis alone.
		if err := s.run(context.Background(), q.args[0]); err != nil {
			t.Fatal(err)
		}

		other := testenv.Org(t, db, testenv.Slug("globex"), testenv.Name("Globex"))
		theirs := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, UserID: uuid.New(), Role: enum.RoleAdmin,
			HomeOrgID: other.ID, OrgID: other.ID, VisibleOrgIDs: []uuid.UUID{other.ID}, TopLevel: true})
		if _, err := s.LatestForAlert(theirs, target.ID); err == nil {
			t.Fatal("another organisation read the analysis")
		}
		if _, err := s.AnalyseAlert(theirs, target.ID, nil); err == nil {
			t.Fatal("another organisation requested an analysis")
		}
	})
}
