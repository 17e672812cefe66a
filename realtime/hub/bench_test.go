package hub

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// BenchmarkFanout measures, per dialect and number of subscribers of one
// organisation, the time from Record+Poke to delivery at the last
// subscriber (p50, p99) and the heap each idle subscriber costs.
func BenchmarkFanout(b *testing.B) {
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := testenv.Open(b, d)
			for _, n := range []int{1_000, 10_000} {
				b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
					benchmarkFanout(b, db, n)
				})
			}
		})
	}
}

func benchmarkFanout(b *testing.B, db *storage.DB, n int) {
	h := startHub(b, db, Config{PollInterval: time.Hour})
	org := uuid.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	subs := make([]*Subscription, n)
	for i := range subs {
		s, err := h.Subscribe(ctx, 0, Filter{OrganizationID: org})
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	idle := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)

	// Every subscriber reads on its own goroutine, as a WebSocket would;
	// the n-th delivery of an event completes the round.
	var received atomic.Int64
	round := make(chan struct{}, 1)
	var readers sync.WaitGroup
	for _, s := range subs {
		readers.Go(func() {
			for range s.C {
				if received.Add(1)%int64(n) == 0 {
					round <- struct{}{}
				}
			}
		})
	}
	defer readers.Wait()
	defer cancel() // ends the subscriptions, so the readers return

	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		record(b, db, h, alert(org))
		<-round
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	// Reported after the loop: ResetTimer discards metrics reported before.
	b.ReportMetric(idle, "B/idle-sub")
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}
