package analysis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seliq/seliq/internal/busy"
)

// Ingest first: a batch of automatic analyses waits for a pause in this
// replica's ingest before it runs, for at most the ingest yield
// (SELIQ_ANALYSIS_INGEST_YIELD). Under a flood the two share the CPU and the
// database, and ingest ran at 55 % of its plain rate (BENCHMARKS.md, seventh
// session); waiting, ingest keeps its pace and the backlog is analysed in
// the pauses, most severe first (the queue's priorities). Critical alerts'
// batches wait too: at 5 % of a flood they arrive a few per payload, and
// with their batches' shared reads paid that often, a run of a build that
// let them run at once ingested 3,125 alerts/s (waiting: 4,489, median of
// 3). The analyses people ask for are not batches and never wait, and no
// batch waits longer than the yield, so a flood that never pauses delays
// analyses but does not stop them. The batches run in jobs.QueueBackground,
// so a waiting batch holds no worker of the default queue.

// DefaultIngestYield is the longest a batch waits for a pause in ingest.
const DefaultIngestYield = 10 * time.Second

// maxIngestYield bounds the setting well inside a batch job's timeout.
const maxIngestYield = time.Minute

// ParseIngestYield reads SELIQ_ANALYSIS_INGEST_YIELD: a duration up to a
// minute, 0 for no waiting; empty keeps the default.
func ParseIngestYield(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultIngestYield, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxIngestYield {
		return 0, fmt.Errorf("SELIQ_ANALYSIS_INGEST_YIELD: %q is not a duration from 0 (no waiting) to %v", v, maxIngestYield)
	}
	return d, nil
}

// WithIngest makes batches of automatic analyses wait, up to limit, for a
// pause in the ingest t tracks.
func (s *Service) WithIngest(t *busy.Tracker, limit time.Duration) *Service {
	s.ingest, s.ingestYield = t, limit
	return s
}

// yieldToIngest waits for a pause in ingest before a batch runs.
func (s *Service) yieldToIngest(ctx context.Context) {
	s.stats.ingestWait.Add(uint64(s.ingest.Wait(ctx, s.ingestYield)))
}
