package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/report/render"
)

// BenchmarkReport1000Alerts measures what the worker does for an incident
// with 1,000 linked alerts (plus 2 from the fixture), 60 timeline events
// and 20 notes: gather the document from the database, then render it.
// SELIQ_BENCH_REPORT_DIR=dir keeps one rendered report per format there.
func BenchmarkReport1000Alerts(b *testing.B) {
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := testenv.Open(b, d)
			f := newFixture(b, db, enum.RoleAdmin)
			ids := make([]uuid.UUID, 0, 1000)
			severities := []enum.Severity{enum.SeverityCritical, enum.SeverityHigh, enum.SeverityMedium, enum.SeverityLow}
			for start := 0; start < 1000; start += 250 {
				bulk := make([]*ent.AlertCreate, 250)
				for i := range bulk {
					n := start + i
					bulk[i] = db.Client.Alert.Create().
						SetTitle(fmt.Sprintf("Suspicious PowerShell download cradle on WS-%04d", n)).
						SetSource("crowdstrike").SetSeverity(severities[n%4]).SetOccurrences(1 + n%7).
						SetEntities([]schematype.Entity{{Type: "hostname", Value: fmt.Sprintf("ws-%04d", n)}, {Type: "ipv4", Value: fmt.Sprintf("10.0.%d.%d", n/250, n%250)}})
				}
				created, err := db.Client.Alert.CreateBulk(bulk...).Save(f.ctx)
				if err != nil {
					b.Fatal(err)
				}
				for _, a := range created {
					ids = append(ids, a.ID)
				}
			}
			svc := incidents.New(db.Client)
			for i := range 60 {
				at := time.Now().Add(-time.Duration(60-i) * time.Minute)
				if _, err := svc.AddTimelineEvent(f.ctx, f.incident.ID, incidents.TimelineEventInput{Title: fmt.Sprint("Containment step ", i), OccurredAt: &at}); err != nil {
					b.Fatal(err)
				}
			}
			for i := range 20 {
				if _, err := svc.AddNote(f.ctx, f.incident.ID, fmt.Sprint("Analyst note ", i, ": checked the proxy logs for the host.")); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := svc.LinkAlerts(f.ctx, f.incident.ID, incidents.LinkAlertsInput{AlertIDs: ids}); err != nil {
				b.Fatal(err)
			}
			s := New(db.Client, nil, nil)
			for _, format := range []enum.ReportFormat{enum.ReportFormatPdf, enum.ReportFormatHtml, enum.ReportFormatMarkdown} {
				b.Run(string(format), func(b *testing.B) {
					r := &ent.Report{IncidentID: f.incident.ID, Kind: enum.ReportKindInternal, Format: format}
					ctx := context.Background()
					var size int
					for b.Loop() {
						doc, err := s.document(f.ctx, r)
						if err != nil {
							b.Fatal(err)
						}
						out, err := render.Render(ctx, render.Default(), doc, render.Format(format))
						if err != nil {
							b.Fatal(err)
						}
						size = len(out.Body)
					}
					b.ReportMetric(float64(size), "bytes/report")
					if dir := os.Getenv("SELIQ_BENCH_REPORT_DIR"); dir != "" {
						doc, _ := s.document(f.ctx, r)
						out, _ := render.Render(ctx, render.Default(), doc, render.Format(format))
						name := filepath.Join(dir, string(d)+"-"+render.FileName(doc, render.Format(format)))
						if err := os.WriteFile(name, out.Body, 0o600); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
