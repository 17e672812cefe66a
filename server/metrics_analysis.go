package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seliq/seliq/analysis"
)

// analysisCollector exports the analysis backlog (all organisations, by
// alert severity: a fixed label set) and this process's analysis counters.
// The backlog is counted at most once per analysisScrapeTTL, so frequent
// scrapes cost one grouped count per organisation that often.
type analysisCollector struct {
	svc *analysis.Service
	log *slog.Logger

	depth, oldest, completed, deferred, ingestWait *prometheus.Desc

	mu   sync.Mutex
	at   time.Time
	last *analysis.QueueDepth
}

const analysisScrapeTTL = 5 * time.Second

func newAnalysisCollector(svc *analysis.Service, log *slog.Logger) *analysisCollector {
	return &analysisCollector{svc: svc, log: log,
		depth:      prometheus.NewDesc("seliq_analysis_queue_depth", "Open (pending or running) alert analyses, by alert severity.", []string{"severity"}, nil),
		oldest:     prometheus.NewDesc("seliq_analysis_queue_oldest_seconds", "Age of the oldest open alert analysis; 0 when none.", nil, nil),
		completed:  prometheus.NewDesc("seliq_analysis_completed_total", "Analyses this process completed.", nil, nil),
		deferred:   prometheus.NewDesc("seliq_analysis_deferred_total", "New alerts the backlog policy left for analysis on demand, by reason.", []string{"reason"}, nil),
		ingestWait: prometheus.NewDesc("seliq_analysis_ingest_wait_seconds_total", "Time batches of automatic analyses waited for a pause in this replica's ingest.", nil, nil),
	}
}

func (c *analysisCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.completed
	ch <- c.deferred
	ch <- c.ingestWait
}

func (c *analysisCollector) Collect(ch chan<- prometheus.Metric) {
	if q := c.backlog(); q != nil {
		for _, s := range q.BySeverity {
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Count), string(s.Severity))
		}
		age := 0.0
		if q.OldestAt != nil {
			age = time.Since(*q.OldestAt).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	}
	n := c.svc.Counters()
	ch <- prometheus.MustNewConstMetric(c.completed, prometheus.CounterValue, float64(n.Completed))
	ch <- prometheus.MustNewConstMetric(c.deferred, prometheus.CounterValue, float64(n.DeferredInfo), "info")
	ch <- prometheus.MustNewConstMetric(c.deferred, prometheus.CounterValue, float64(n.DeferredRepeat), "repeat")
	ch <- prometheus.MustNewConstMetric(c.ingestWait, prometheus.CounterValue, n.IngestWait.Seconds())
}

// backlog is the last count, refreshed when older than analysisScrapeTTL;
// nil when the database cannot be read (the gauges are left out rather
// than reported as zero).
func (c *analysisCollector) backlog() *analysis.QueueDepth {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && time.Since(c.at) < analysisScrapeTTL {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q, err := c.svc.Backlog(ctx)
	if err != nil {
		c.log.Warn("metrics: analysis backlog", "err", err)
		return nil
	}
	c.last, c.at = q, time.Now()
	return q
}
