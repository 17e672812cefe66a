package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// percentile is the nearest-rank q-quantile (0 < q ≤ 1) of samples, in
// milliseconds; NaN without samples. samples is left unchanged.
func percentile(samples []time.Duration, q float64) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := int(math.Ceil(q*float64(len(s)))) - 1
	rank = min(max(rank, 0), len(s)-1)
	return ms(s[rank])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// metric is one reported figure. Every metric is reported per database as
// key_postgres and key_sqlite; alias, when set, also names the PostgreSQL
// figure (the required names are PostgreSQL's).
type metric struct {
	key    string
	alias  string
	label  string
	unit   string
	target string // the target on PostgreSQL at 1M alerts
}

// metrics are the figures in report order.
var metrics = slices.Concat([]metric{
	{key: "alerts_in_db", alias: "alerts_in_db", label: "alerts in database", unit: "alerts"},
	{key: "load_s", label: "bulk load (COPY / batched INSERT)", unit: "s"},
	{key: "ingest_per_s", label: "HTTP ingest, 20% repeats, auto-analysis off", unit: "alerts/s", target: "≥ 5000"},
	{key: "ingest_merged_share", label: "  of which merged", unit: "share"},
}, pgWriteMetrics("ingest"), []metric{
	{key: "ingest_auto_analyse_per_s", label: "HTTP ingest with auto-analysis (the default)", unit: "alerts/s"},
}, pgWriteMetrics("ingest_auto_analyse"), []metric{
	{key: "ingest_per_s_triggers", label: "HTTP ingest with 50 enabled triggers, auto-analysis off", unit: "alerts/s"},
}, pgWriteMetrics("ingest_triggers"), []metric{
	{key: "ingest_per_s_after_triggers", label: "  the plain ingest again, triggers disabled", unit: "alerts/s"},
}, pgWriteMetrics("ingest_after_triggers"), []metric{
	{key: "ingest_triggers_ratio", label: "  ÷ the mean of the plain ingests before and after", unit: "×", target: "≥ 0.8"},
	{key: "analysis_backlog_at_end", label: "  analyses queued when that ingest ended", unit: "analyses"},
	{key: "analysis_per_s", alias: "analysis_per_s", label: "  built-in analyses completed while draining that backlog", unit: "analyses/s", target: "≥ 200"},
	{key: "analysis_backlog_after_s", alias: "analysis_backlog_after_s", label: "  time from the ingest's end to an empty analysis queue", unit: "s"},
	{key: "analysis_backlog_left", label: "  analyses still queued at the drain limit", unit: "analyses"},
	{key: "analysis_failed", label: "  analyses failed (counted as drained)", unit: "analyses"},
	{key: "list_p50_ms", alias: "list_p50_ms", label: "list first page, REST+GraphQL p50", unit: "ms", target: "≤ 20"},
	{key: "list_p99_ms", alias: "list_p99_ms", label: "list first page, REST+GraphQL p99", unit: "ms", target: "≤ 100"},
	{key: "list_rest_p50_ms", alias: "list_rest_p50_ms", label: "  REST p50", unit: "ms"},
	{key: "list_rest_p99_ms", alias: "list_rest_p99_ms", label: "  REST p99", unit: "ms"},
	{key: "list_graphql_p50_ms", alias: "list_graphql_p50_ms", label: "  GraphQL p50", unit: "ms"},
	{key: "list_graphql_p99_ms", alias: "list_graphql_p99_ms", label: "  GraphQL p99", unit: "ms"},
	{key: "list_rest_page_kb", alias: "list_rest_page_kb", label: "  REST page of 50, raw payloads left out", unit: "KB"},
	{key: "list_rest_page_raw_kb", alias: "list_rest_page_raw_kb", label: "  the same page with include=raw", unit: "KB"},
	{key: "list_matches", label: "  list total (exact, or 10,000 as a labelled lower bound)", unit: "alerts"},
	{key: "raw_sql_p50_ms", alias: "raw_sql_p50_ms", label: "same page by hand-written SQL p50", unit: "ms"},
	{key: "list_vs_raw_sql_ratio", alias: "list_vs_raw_sql_ratio", label: "list p50 ÷ raw SQL p50", unit: "×", target: "≤ 1.5"},
	{key: "list_conc_rps_graphql", alias: "list_conc_rps_graphql", label: "list page, 16 concurrent clients, GraphQL", unit: "req/s"},
	{key: "list_conc_rps_rest", alias: "list_conc_rps_rest", label: "list page, 16 concurrent clients, REST", unit: "req/s"},
	{key: "list_conc_rps_raw", alias: "list_conc_rps_raw", label: "list page, 16 concurrent clients, raw SQL (page + capped count)", unit: "req/s"},
	{key: "list_conc_graphql_vs_raw", label: "  GraphQL ÷ raw SQL throughput", unit: "×", target: "≥ 0.85"},
	{key: "list_conc_rest_vs_raw", label: "  REST ÷ raw SQL throughput", unit: "×", target: "≥ 0.75"},
	{key: "list_conc_cpu_ms_graphql", label: "  CPU per request, GraphQL (server process)", unit: "ms"},
	{key: "list_conc_cpu_ms_rest", label: "  CPU per request, REST (server process)", unit: "ms"},
	{key: "list_conc_cpu_ms_raw", label: "  CPU per request, raw SQL (pgx client process)", unit: "ms"},
	{key: "list_conc_cpu_graphql_vs_raw", label: "  GraphQL ÷ raw SQL CPU per request", unit: "×", target: "≤ 1.3"},
	{key: "list_conc_cpu_rest_vs_raw", label: "  REST ÷ raw SQL CPU per request", unit: "×", target: "≤ 1.3"},
	{key: "facets_p50_ms", alias: "facets_p50_ms", label: "facets (status=new) p50", unit: "ms", target: "≤ 150"},
	{key: "facets_p99_ms", alias: "facets_p99_ms", label: "facets (status=new) p99", unit: "ms"},
	{key: "query_rows_p50_ms", alias: "query_rows_p50_ms", label: "query run, 3 conditions, first page p50", unit: "ms", target: "≤ 30"},
	{key: "query_rows_p99_ms", alias: "query_rows_p99_ms", label: "  p99", unit: "ms"},
	{key: "query_grouped_p50_ms", alias: "query_grouped_p50_ms", label: "query run, by severity per hour over 30 days p50", unit: "ms", target: "≤ 300"},
	{key: "query_grouped_p99_ms", alias: "query_grouped_p99_ms", label: "  p99", unit: "ms"},
	{key: "lookups_p50_ms", alias: "lookups_p50_ms", label: "query lookups (5 fields) p50", unit: "ms", target: "≤ 50"},
	{key: "lookups_p99_ms", alias: "lookups_p99_ms", label: "  p99", unit: "ms"},
	{key: "metrics_p50_ms", alias: "metrics_p50_ms", label: "metrics, last 7 days, slowest of 11 p50", unit: "ms", target: "≤ 100"},
	{key: "summary_p50_ms", alias: "summary_p50_ms", label: "metrics summary, last 7 days p50", unit: "ms", target: "≤ 250"},
	{key: "dashboard_p50_ms", alias: "dashboard_p50_ms", label: "dashboard, 10 widgets' data in one GraphQL request p50", unit: "ms", target: "≤ 1000"},
	{key: "dashboard_p99_ms", alias: "dashboard_p99_ms", label: "  p99", unit: "ms"},
	{key: "bulk_10k_s", alias: "bulk_10k_s", label: "bulk close by filter", unit: "s", target: "≤ 3 (10k)"},
	{key: "bulk_matched", alias: "bulk_matched", label: "  alerts the bulk filter matched", unit: "alerts"},
	{key: "ws_fanout_p50_ms", alias: "ws_fanout_p50_ms", label: "WebSocket fan-out p50", unit: "ms"},
	{key: "ws_fanout_p99_ms", alias: "ws_fanout_p99_ms", label: "WebSocket fan-out p99", unit: "ms", target: "≤ 250 (10k subs)"},
	{key: "ws_fanout_last_ms", alias: "ws_fanout_last_ms", label: "  time to the last delivery (median of rounds)", unit: "ms"},
	{key: "ws_conn_kib", alias: "ws_conn_kib", label: "server RSS per idle subscriber", unit: "KiB", target: "≤ 32"},
	{key: "ws_conn_stack_kib", alias: "ws_conn_stack_kib", label: "  of which goroutine stacks (runtime gauge)", unit: "KiB"},
	{key: "ws_conn_goroutines", alias: "ws_conn_goroutines", label: "  goroutines per idle subscriber", unit: "goroutines"},
	{key: highKey("ws_fanout_p50_ms"), alias: highKey("ws_fanout_p50_ms"), label: "WebSocket fan-out p50 at -subscribers-high", unit: "ms"},
	{key: highKey("ws_fanout_p99_ms"), alias: highKey("ws_fanout_p99_ms"), label: "WebSocket fan-out p99 at -subscribers-high", unit: "ms", target: "≤ 250 (10k subs)"},
	{key: highKey("ws_fanout_last_ms"), alias: highKey("ws_fanout_last_ms"), label: "  time to the last delivery (median of rounds)", unit: "ms"},
})

// highKey names a fan-out figure of the -subscribers-high measurement.
func highKey(key string) string { return strings.Replace(key, "ws_", "ws_high_", 1) }

// figures are one database's measurements by metric key.
type figures map[string]float64

// medianFigures is each metric's median over runs (the mean of the middle
// two for an even count); a metric missing from a run is left out of its
// median.
func medianFigures(runs []figures) figures {
	return summariseRuns(runs, func(vs []float64) float64 {
		mid := len(vs) / 2
		if len(vs)%2 == 1 {
			return vs[mid]
		}
		return (vs[mid-1] + vs[mid]) / 2
	})
}

// spreadFigures are each metric's lowest and highest value over runs: the
// spread a median hides (a stall shows in one run's p99, not the median).
func spreadFigures(runs []figures) (lo, hi figures) {
	lo = summariseRuns(runs, func(vs []float64) float64 { return vs[0] })
	hi = summariseRuns(runs, func(vs []float64) float64 { return vs[len(vs)-1] })
	return lo, hi
}

// summariseRuns folds each metric's sorted, NaN-free values over runs with
// pick; a metric without any value is NaN (reported as null).
func summariseRuns(runs []figures, pick func(sorted []float64) float64) figures {
	out := figures{}
	keys := map[string]bool{}
	for _, f := range runs {
		for k := range f {
			keys[k] = true
		}
	}
	for k := range keys {
		var vs []float64
		for _, f := range runs {
			if v, ok := f[k]; ok && !math.IsNaN(v) {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			out[k] = math.NaN()
			continue
		}
		slices.Sort(vs)
		out[k] = pick(vs)
	}
	return out
}

// dbNames are the databases in report order (the JSON suffixes).
var dbNames = []string{"postgres", "sqlite"}

// report is everything one run measured.
type report struct {
	Scale       string
	DBs         string
	Subscribers int
	// SubscribersHigh is -subscribers-high (0: not measured).
	SubscribersHigh int
	Runs            int // per database; figures are the medians
	Elapsed         time.Duration
	ByDB            map[string]figures // "postgres", "sqlite"; absent when not run
	// Low and High are each figure's lowest and highest run, by database;
	// shown beside the medians when there was more than one run.
	Low, High map[string]figures
	Notes     []string
}

// field is one key of the JSON line, in order.
type field struct {
	key   string
	value any
}

// jsonFields lays the report out flat: run metadata, then each metric
// under its alias (PostgreSQL's figure) and per database. A figure that was
// not measured is null, so the shape is the same whatever -db says.
func (r *report) jsonFields() []field {
	out := []field{
		{"scale", r.Scale}, {"db", r.DBs}, {"subscribers", r.Subscribers}, {"subscribers_high", r.SubscribersHigh}, {"runs", r.Runs},
		{"elapsed_s", round(r.Elapsed.Seconds(), 1)},
	}
	for _, m := range metrics {
		if m.alias != "" {
			out = append(out, field{m.alias, r.value("postgres", m.key)})
		}
	}
	for _, m := range metrics {
		for _, db := range dbNames {
			out = append(out, field{m.key + "_" + db, r.value(db, m.key)})
		}
	}
	if r.Runs > 1 {
		out = append(out, field{"spread", r.spreads()})
	}
	return append(out, field{"notes", r.Notes})
}

// spreads are [lowest, highest] of every figure measured, under the same
// key_db names as the medians.
func (r *report) spreads() map[string][2]any {
	out := map[string][2]any{}
	for _, m := range metrics {
		for _, db := range dbNames {
			lo, hi := figureValue(r.Low[db], m.key), figureValue(r.High[db], m.key)
			if lo != nil && hi != nil {
				out[m.key+"_"+db] = [2]any{lo, hi}
			}
		}
	}
	return out
}

// value is a figure rounded for printing, or nil when it was not measured.
func (r *report) value(db, key string) any { return figureValue(r.ByDB[db], key) }

func figureValue(f figures, key string) any {
	v, ok := f[key]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return round(v, 3)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// MarshalJSON writes the fields in order (a map would sort them).
func (r *report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range r.jsonFields() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// printTable writes the human table: one row per metric, one column per
// database that ran, and the target.
func (r *report) printTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var dbs []string
	for _, db := range dbNames {
		if _, ok := r.ByDB[db]; ok {
			dbs = append(dbs, db)
		}
	}
	fmt.Fprintf(tw, "seliq-bench  scale=%s  subscribers=%d (high %d)  runs=%d (medians, and lowest–highest run when more than one)  elapsed=%.1fs\n\n", r.Scale, r.Subscribers, r.SubscribersHigh, r.Runs, r.Elapsed.Seconds())
	fmt.Fprintf(tw, "metric\tunit\t%s\ttarget (PostgreSQL, 1M)\n", strings.Join(dbs, "\t"))
	for _, m := range metrics {
		cells := make([]string, len(dbs))
		for i, db := range dbs {
			cells[i] = formatValue(r.value(db, m.key))
			lo, hi := figureValue(r.Low[db], m.key), figureValue(r.High[db], m.key)
			if r.Runs > 1 && lo != nil && hi != nil {
				cells[i] += fmt.Sprintf(" (%s–%s)", formatValue(lo), formatValue(hi))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.label, m.unit, strings.Join(cells, "\t"), m.target)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func formatValue(v any) string {
	f, ok := v.(float64)
	switch {
	case !ok:
		return "-"
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	default:
		return fmt.Sprintf("%.2f", f)
	}
}
