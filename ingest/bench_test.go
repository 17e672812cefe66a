package ingest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/testenv"
)

// BenchmarkIngest measures alerts per second through Ingest (one
// transaction per post) on each database, posting one at a time and from
// many goroutines, with new alerts and with repeats of one alert.
func BenchmarkIngest(b *testing.B) {
	cases := []struct {
		name   string
		batch  int
		repeat bool // every post repeats the same alert: merges on one row
	}{
		{"new/batch=1", 1, false},
		{"new/batch=100", 100, false},
		{"repeat/batch=1", 1, true},
	}
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := testenv.Open(b, d)
			e := newEnv(b, db, Options{})
			for _, tc := range cases {
				for _, parallel := range []bool{false, true} {
					mode := "sequential"
					if parallel {
						mode = "parallel"
					}
					b.Run(tc.name+"/"+mode, func(b *testing.B) {
						c, key := testenv.Connector(b, db, e.org, "generic")
						ctx := e.as(b, key)
						var seq atomic.Int64
						payload := func() []byte {
							items := make([][]byte, tc.batch)
							for i := range items {
								n := int64(0)
								if !tc.repeat {
									n = seq.Add(1)
								}
								items[i] = testenv.GenericAlert(fmt.Sprintf("Benchmark alert %d", n), fmt.Sprintf("host-%d", n%500))
							}
							if tc.batch == 1 {
								return items[0]
							}
							return testenv.GenericBatch(items...)
						}
						start := time.Now()
						if !parallel {
							for b.Loop() {
								if _, err := e.svc.Ingest(ctx, c, payload()); err != nil {
									b.Fatal(err)
								}
							}
						} else {
							b.SetParallelism(8)
							b.RunParallel(func(pb *testing.PB) {
								for pb.Next() {
									if _, err := e.svc.Ingest(ctx, c, payload()); err != nil {
										b.Error(err)
										return
									}
								}
							})
						}
						b.ReportMetric(float64(b.N*tc.batch)/time.Since(start).Seconds(), "alerts/s")
					})
				}
			}
		})
	}
}
