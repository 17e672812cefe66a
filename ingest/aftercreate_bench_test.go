package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage/settingstore"
)

// BenchmarkIngestAutoAnalysis measures what auto-analysis adds to ingest:
// no hook, the hook with the feature off (one settings read a post), and
// the hook on (a pending analysis per created alert in the transaction,
// their jobs batch-inserted in River after commit, in the background), and
// the hook on with the job inserts left out (auto-rows-only), which splits
// the cost between rows and jobs.
func BenchmarkIngestAutoAnalysis(b *testing.B) {
	modes := []struct {
		name string
		hook bool
		on   bool
		noop bool
	}{{"no-hook", false, false, false}, {"hook-feature-off", true, false, false}, {"auto-analysis", true, true, false}, {"auto-rows-only", true, true, true}}
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			for _, batch := range []int{1, 100} {
				for _, m := range modes {
					b.Run(fmt.Sprintf("batch=%d/%s", batch, m.name), func(b *testing.B) {
						// A fresh database each, so that no mode works on
						// the tables an earlier one filled.
						db := testenv.Open(b, d)
						runner, err := jobs.New(db, jobs.Config{}) // insert-only: jobs are queued, not worked
						if err != nil {
							b.Fatal(err)
						}
						var opts Options
						var svc *analysis.Service
						if m.hook {
							var q analysis.Queue = runner
							if m.noop {
								q = noopQueue{}
							}
							svc = analysis.New(db.Client, q, nil, nil)
							opts.AfterCreate = svc
						}
						e := newEnv(b, db, opts)
						st := map[string]any{"provider": "builtin", "features": map[string]any{"autoAnalyse": m.on, "chat": true, "incidentSummaries": true}}
						if err := settingstore.Save(orgCtx(e.org), db.Client, "ai", st); err != nil {
							b.Fatal(err)
						}
						if got, err := config.Read(orgCtx(e.org), db.Client); err != nil || got.Features.AutoAnalyse != m.on {
							b.Fatalf("settings %+v %v", got, err)
						}
						c, key := testenv.Connector(b, db, e.org, "generic")
						ctx := e.as(b, key)
						n := 0
						start := time.Now()
						for b.Loop() {
							items := make([][]byte, batch)
							for i := range items {
								n++
								items[i] = testenv.GenericAlert(fmt.Sprintf("Benchmark alert %d", n), fmt.Sprintf("host-%d", n%500))
							}
							body := items[0]
							if batch > 1 {
								body = testenv.GenericBatch(items...)
							}
							if _, err := e.svc.Ingest(ctx, c, body); err != nil {
								b.Fatal(err)
							}
						}
						if svc != nil {
							// The jobs are inserted in the background: count
							// them in.
							if err := svc.Drain(context.Background()); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "alerts/s")
					})
				}
			}
		})
	}
}

type noopQueue struct{}

func (noopQueue) Enqueue(context.Context, river.JobArgs, *river.InsertOpts) error { return nil }
func (noopQueue) EnqueueMany(context.Context, []river.InsertManyParams) error     { return nil }
