package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
)

// BenchmarkAnalysisWorker compares running a burst's built-in analyses one
// job at a time (each reads its alert, context, profile and candidates and
// commits alone) with one batch job of BatchSize, over an organisation
// holding 2,000 open alerts of the last hour (about 2 KB of vendor payload
// each) and 500 closed ones. It reports analyses per second of wall time
// (the database on the same machine, as in production here).
//
//	go test ./analysis -run '^$' -bench AnalysisWorker -benchtime 20x
func BenchmarkAnalysisWorker(b *testing.B) {
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := testenv.Open(b, d)
			org := testenv.Org(b, db, testenv.Name("Acme"))
			ctx := viewer.ForJob(context.Background(), org.ID)
			now := time.Now().UTC()
			raw, _ := json.Marshal(map[string]any{"event": map[string]any{"CommandLine": strings.Repeat("powershell -enc SQBFAFgA ", 80),
				"ComputerName": "ws-1", "UserName": "m.keller", "Tactic": "Execution", "Technique": "PowerShell", "TechniqueId": "T1059.001"}})
			var burst []*ent.Alert
			bulk := make([]*ent.AlertCreate, 0, 500)
			fp := enum.DispositionFalsePositive
			for i := range 2500 {
				at := now.Add(-time.Duration(i%3600) * time.Second)
				c := db.Client.Alert.Create().SetTitle(fmt.Sprintf("Encoded PowerShell %d", i%40)).SetSource("edr").
					SetSeverity(severitiesByRank()[i%5]).SetFingerprint(fmt.Sprintf("edr:ps:%d", i%300)).SetRaw(raw).
					SetFirstSeenAt(at).SetLastSeenAt(at).SetMitre([]string{"T1059.001"}).
					SetEntities([]schematype.Entity{{Type: "hostname", Value: fmt.Sprintf("ws-%d", i%60)}, {Type: "user", Value: fmt.Sprintf("user%d", i%90)},
						{Type: "ipv4", Value: fmt.Sprintf("10.0.%d.%d", i%7, i%200)}})
				if i >= 2000 {
					c.SetStatus(enum.AlertStatusClosed).SetDisposition(fp)
				}
				bulk = append(bulk, c)
				if len(bulk) == cap(bulk) {
					rows, err := db.Client.Alert.CreateBulk(bulk...).Save(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if len(burst) < 10*BatchSize {
						burst = append(burst, rows...)
					}
					bulk = bulk[:0]
				}
			}
			s := New(db.Client, &recorder{}, nil, nil)
			pending := func(i int) []uuid.UUID {
				off := (i * BatchSize) % len(burst)
				var ids []uuid.UUID
				for _, a := range burst[off : off+BatchSize] {
					an, err := db.Client.Analysis.Create().SetAlertID(a.ID).Save(ctx)
					if err != nil {
						b.Fatal(err)
					}
					ids = append(ids, an.ID)
				}
				return ids
			}
			for _, mode := range []string{"one-at-a-time", "batched"} {
				b.Run(mode, func(b *testing.B) {
					var spent time.Duration
					for i := range b.N {
						b.StopTimer()
						ids := pending(i)
						b.StartTimer()
						start := time.Now()
						if mode == "batched" {
							if err := s.runBatch(context.Background(), org.ID, ids); err != nil {
								b.Fatal(err)
							}
						} else {
							for _, id := range ids {
								if err := s.run(context.Background(), Args{AnalysisID: id, OrganizationID: org.ID}); err != nil {
									b.Fatal(err)
								}
							}
						}
						spent += time.Since(start)
					}
					b.ReportMetric(float64(b.N*BatchSize)/spent.Seconds(), "analyses/s")
					b.ReportMetric(0, "ns/op")
				})
			}
		})
	}
}
