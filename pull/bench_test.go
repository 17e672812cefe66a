package pull_test

import (
	"testing"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/pull"
)

// BenchmarkPoll measures one poll of a SentinelOne connector that finds
// 500 new threats (five pages of 100), from the fake's answers to the
// committed alerts, checkpoints and health, on each database.
func BenchmarkPoll(b *testing.B) {
	const perPoll = 500
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := testenv.Open(b, d)
			f := newFixture(b, db, "bench", testenv.Box(b), pull.Config{PageSize: 100, MaxPages: 20}, jobs.Config{})
			srv := vendorfake.SentinelOne(b, creds())
			c := f.sentinelone(b, srv, token)
			next := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				srv.Add(threats(next, perPoll)...)
				next += perPoll
				if err := db.Client.Connector.UpdateOneID(c.ID).ClearNextPollAt().Exec(f.job()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := f.pull.Run(f.job(), c.ID); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if h := f.reload(b, c.ID); h.LastError != "" || h.ItemsLastPoll != perPoll {
				b.Fatalf("last poll: %d items, %q", h.ItemsLastPoll, h.LastError)
			}
			b.ReportMetric(float64(perPoll*b.N)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
