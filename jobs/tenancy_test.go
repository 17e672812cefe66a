package jobs

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/report"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// rows is one organisation's alert, incident and report.
type rows struct{ alert, incident, report uuid.UUID }

// seed creates rows as a job of the organisation in ctx: a job writes its
// own organisation's rows.
func seed(t *testing.T, c *ent.Client, ctx context.Context) rows {
	t.Helper()
	a, err := c.Alert.Create().SetTitle("Beacon").SetSource("edr").SetSeverity(enum.SeverityHigh).SetEntities(nil).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := c.Incident.Create().SetNumber(1).SetTitle("Intrusion").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Report.Create().SetIncidentID(inc.ID).SetKind(enum.ReportKindClient).SetFormat(enum.ReportFormatPdf).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rows{a.ID, inc.ID, rep.ID}
}

// A job acting for organisation A can neither read nor change organisation
// B's alerts, incidents and reports, nor create rows in B; a job viewer
// widened beyond one organisation is refused outright.
func TestJobIsConfinedToItsOrganization(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		c := db.Client
		bg := context.Background()
		sys := privacy.DecisionContext(bg, privacy.Allow)
		orgA := testenv.Org(t, db, testenv.Slug("a"), testenv.Name("A"))
		orgB := testenv.Org(t, db, testenv.Slug("b"), testenv.Name("B"))
		jobA := viewer.ForJob(bg, orgA.ID)
		mine, theirs := seed(t, c, jobA), seed(t, c, viewer.ForJob(bg, orgB.ID))

		kinds := []struct {
			name string
			id   func(rows) uuid.UUID
			// get reads one row; update changes one row by id; updateAll
			// and deleteAll change whatever matches the id.
			get       func(ctx context.Context, id uuid.UUID) error
			update    func(ctx context.Context, id uuid.UUID) error
			updateAll func(ctx context.Context, id uuid.UUID) (int, error)
			deleteAll func(ctx context.Context, id uuid.UUID) (int, error)
		}{
			{"alert", func(r rows) uuid.UUID { return r.alert },
				func(ctx context.Context, id uuid.UUID) error { _, err := c.Alert.Get(ctx, id); return err },
				func(ctx context.Context, id uuid.UUID) error {
					return c.Alert.UpdateOneID(id).SetTitle("changed").Exec(ctx)
				},
				func(ctx context.Context, id uuid.UUID) (int, error) {
					return c.Alert.Update().Where(alert.ID(id)).SetTitle("changed").Save(ctx)
				},
				func(ctx context.Context, id uuid.UUID) (int, error) {
					return c.Alert.Delete().Where(alert.ID(id)).Exec(ctx)
				}},
			{"incident", func(r rows) uuid.UUID { return r.incident },
				func(ctx context.Context, id uuid.UUID) error { _, err := c.Incident.Get(ctx, id); return err },
				func(ctx context.Context, id uuid.UUID) error {
					return c.Incident.UpdateOneID(id).SetTitle("changed").Exec(ctx)
				},
				func(ctx context.Context, id uuid.UUID) (int, error) {
					return c.Incident.Update().Where(incident.ID(id)).SetTitle("changed").Save(ctx)
				},
				func(ctx context.Context, id uuid.UUID) (int, error) {
					return c.Incident.Delete().Where(incident.ID(id)).Exec(ctx)
				}},
			{"report", func(r rows) uuid.UUID { return r.report },
				func(ctx context.Context, id uuid.UUID) error { _, err := c.Report.Get(ctx, id); return err },
				func(ctx context.Context, id uuid.UUID) error {
					return c.Report.UpdateOneID(id).SetStatus(enum.JobStatusReady).Exec(ctx)
				},
				func(ctx context.Context, id uuid.UUID) (int, error) {
					return c.Report.Update().Where(report.ID(id)).SetStatus(enum.JobStatusReady).Save(ctx)
				},
				func(ctx context.Context, id uuid.UUID) (int, error) {
					return c.Report.Delete().Where(report.ID(id)).Exec(ctx)
				}},
		}
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				if err := k.get(jobA, k.id(mine)); err != nil {
					t.Fatalf("a job cannot read its own organisation's %s: %v", k.name, err)
				}
				if err := k.get(jobA, k.id(theirs)); !ent.IsNotFound(err) {
					t.Errorf("read of another organisation's %s: %v, want not found", k.name, err)
				}
				if err := k.update(jobA, k.id(theirs)); !ent.IsNotFound(err) {
					t.Errorf("update of another organisation's %s: %v, want not found", k.name, err)
				}
				if n, err := k.updateAll(jobA, k.id(theirs)); n != 0 || err != nil {
					t.Errorf("bulk update reached %d of another organisation's %s (%v)", n, k.name, err)
				}
				if n, err := k.deleteAll(jobA, k.id(theirs)); n != 0 || err != nil {
					t.Errorf("delete reached %d of another organisation's %s (%v)", n, k.name, err)
				}
				if err := k.get(sys, k.id(theirs)); err != nil {
					t.Errorf("another organisation's %s is gone: %v", k.name, err)
				}
			})
		}

		err := c.Alert.Create().SetOrganizationID(orgB.ID).SetTitle("planted").SetSource("edr").SetEntities(nil).Exec(jobA)
		wantRefused(t, "create in another organisation", err)

		widened := []struct {
			name string
			v    viewer.Viewer
		}{
			{"sees two organisations", viewer.Viewer{Kind: viewer.KindJob, Role: enum.RoleAnalyst, HomeOrgID: orgA.ID, OrgID: orgA.ID, VisibleOrgIDs: []uuid.UUID{orgA.ID, orgB.ID}}},
			{"acts outside its home", viewer.Viewer{Kind: viewer.KindJob, Role: enum.RoleAnalyst, HomeOrgID: orgA.ID, OrgID: orgB.ID, VisibleOrgIDs: []uuid.UUID{orgB.ID}}},
			{"no organisation", viewer.Viewer{Kind: viewer.KindJob, Role: enum.RoleAnalyst}},
		}
		for _, w := range widened {
			ctx := viewer.NewContext(bg, &w.v)
			_, err := c.Alert.Query().Count(ctx)
			wantRefused(t, w.name+": read", err)
			wantRefused(t, w.name+": write", c.Organization.UpdateOneID(orgB.ID).SetName("renamed").Exec(ctx))
		}
	})
}

func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, privacy.Deny) || !errors.Is(err, rule.ErrTenant) {
		t.Errorf("%s: %v, want a tenancy denial", what, err)
	}
}
