package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/internal/testenv"
)

// Request counts of the latency measurements: warm-up requests are not
// timed (they fill the server's and the database's caches).
const (
	warmup      = 5
	listSamples = 50
	facetRounds = 20
)

// The measured triage-queue page: three filters and a sort.
var (
	listStatuses   = []string{"new", "acknowledged"}
	listSeverities = []string{"critical", "high"}
)

const restListPath = "/api/v1/alerts?status=new,acknowledged&severity=critical,high&tag=" + listTag + "&sort=-severity&limit=50"

const graphqlList = `query($f: AlertFilter, $o: AlertOrder) {
  alerts(first: 50, filter: $f, orderBy: $o) { totalCount edges { node { id title } } }
}`

var graphqlListVars = map[string]any{
	"f": map[string]any{"status": []string{"NEW", "ACKNOWLEDGED"}, "severity": []string{"CRITICAL", "HIGH"}, "tag": []string{listTag}},
	"o": map[string]any{"field": "SEVERITY", "direction": "DESC"},
}

// restPage is the part of the REST list answer the benchmark checks.
type restPage struct {
	Items []struct {
		ID uuid.UUID `json:"id"`
	} `json:"items"`
	Total int `json:"total"`
}

// timeN runs fn warmup+n times and returns the durations of the last n.
func timeN(n int, fn func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range warmup + n {
		start := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		if i >= warmup {
			out = append(out, time.Since(start))
		}
	}
	return out, nil
}

// measureList times the filtered first page over REST and GraphQL and
// returns the REST page's ids (to compare with raw SQL's).
func measureList(ctx context.Context, a *api, f figures) ([]uuid.UUID, error) {
	var page restPage
	var gq struct {
		Alerts struct {
			TotalCount int `json:"totalCount"`
		} `json:"alerts"`
	}
	// REST and GraphQL requests alternate, so that whatever else loads the
	// machine weighs on both alike.
	var rest, gql []time.Duration
	pair := func() error {
		start := time.Now()
		if err := a.expect(ctx, http.StatusOK, http.MethodGet, restListPath, nil, &page); err != nil {
			return err
		}
		rest = append(rest, time.Since(start))
		start = time.Now()
		if err := a.graphql(ctx, graphqlList, graphqlListVars, &gq); err != nil {
			return err
		}
		gql = append(gql, time.Since(start))
		return nil
	}
	for range warmup {
		if err := pair(); err != nil {
			return nil, err
		}
	}
	rest, gql = rest[:0], gql[:0]
	for range listSamples {
		if err := pair(); err != nil {
			return nil, err
		}
	}
	if gq.Alerts.TotalCount != page.Total {
		return nil, fmt.Errorf("list: GraphQL counts %d alerts, REST %d", gq.Alerts.TotalCount, page.Total)
	}
	all := append(slices.Clone(rest), gql...)
	f["list_p50_ms"], f["list_p99_ms"] = percentile(all, 0.5), percentile(all, 0.99)
	f["list_rest_p50_ms"], f["list_rest_p99_ms"] = percentile(rest, 0.5), percentile(rest, 0.99)
	f["list_graphql_p50_ms"], f["list_graphql_p99_ms"] = percentile(gql, 0.5), percentile(gql, 0.99)
	f["list_matches"] = float64(page.Total)
	// The page's weight: REST leaves raw payloads out of lists unless
	// include=raw asks (GraphQL returns what is selected).
	for key, path := range map[string]string{"list_rest_page_kb": restListPath, "list_rest_page_raw_kb": restListPath + "&include=raw"} {
		status, body, err := a.call(ctx, http.MethodGet, path, nil, nil)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d: %.300s", path, status, body)
		}
		f[key] = float64(len(body)) / 1024
	}
	ids := make([]uuid.UUID, len(page.Items))
	for i, it := range page.Items {
		ids[i] = it.ID
	}
	return ids, nil
}

func measureFacets(ctx context.Context, a *api, f figures) error {
	d, err := timeN(facetRounds, func() error {
		return a.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/alerts/facets?status=new", nil, nil)
	})
	if err != nil {
		return err
	}
	f["facets_p50_ms"], f["facets_p99_ms"] = percentile(d, 0.5), percentile(d, 0.99)
	return nil
}

// rawPage and rawCount are the list page written by hand: what the API's
// page and totalCount need, with nothing in between. Under a tag filter the
// API asks the planner first, counts up to alerts.CountCap only when the
// estimate is below alerts.PlannedSkipFactor times it, and says so; the
// hand-written version does the same, so that the ratio compares the same
// work.
const (
	rawWhere = `WHERE organization_id = $1 AND status = ANY($2) AND severity = ANY($3) AND tags @> $4::jsonb`
	rawPage  = `SELECT ` + "id, created_at, updated_at, source, external_id, title, description, severity, severity_rank, status, disposition, tags, entities, mitre, raw, fingerprint, dedup_key, occurrences, first_seen_at, last_seen_at, event_time, ingested_at, acknowledged_at, resolved_at, organization_id, connector_id, assignee_id, incident_id" +
		` FROM alerts ` + rawWhere + ` ORDER BY severity_rank DESC, id DESC LIMIT 50`
)

var (
	rawCount   = `SELECT count(*) FROM (SELECT 1 FROM alerts ` + rawWhere + ` LIMIT ` + strconv.Itoa(alerts.CountCap) + `) AS capped`
	rawExplain = `EXPLAIN (FORMAT JSON) SELECT 1 FROM alerts ` + rawWhere
)

// rawTotal is the API's rule for a dear count, by hand.
func rawTotal(ctx context.Context, pool *pgxpool.Pool, args ...any) (int, error) {
	var plan []byte
	if err := pool.QueryRow(ctx, rawExplain, args...).Scan(&plan); err != nil {
		return 0, err
	}
	planned, err := alerts.PlannedRows(plan)
	if err != nil {
		return 0, err
	}
	if planned >= alerts.PlannedSkipFactor*alerts.CountCap {
		return alerts.CountCap, nil
	}
	var total int
	err = pool.QueryRow(ctx, rawCount, args...).Scan(&total)
	return total, err
}

// measureRawSQL times the same page and count over pgx and sets the
// ratio of the API's list p50 to it. It returns the page's ids.
func measureRawSQL(ctx context.Context, pool *pgxpool.Pool, org uuid.UUID, f figures) ([]uuid.UUID, error) {
	tags := `["` + listTag + `"]`
	var ids []uuid.UUID
	d, err := timeN(listSamples, func() error {
		ids = ids[:0]
		rows, err := pool.Query(ctx, rawPage, org, listStatuses, listSeverities, tags)
		if err != nil {
			return err
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, uuid.UUID(vals[0].([16]byte)))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = rawTotal(ctx, pool, org, listStatuses, listSeverities, tags)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("raw SQL: %w", err)
	}
	f["raw_sql_p50_ms"] = percentile(d, 0.5)
	f["list_vs_raw_sql_ratio"] = f["list_p50_ms"] / f["raw_sql_p50_ms"]
	return ids, nil
}

// bulkFilter selects the alerts the generator marked with bulkTag that are
// still open.
var bulkFilter = map[string]any{"tag": []string{bulkTag}, "status": bulkStatuses}

func measureBulk(ctx context.Context, a *api, f figures) error {
	var out struct {
		Matched int `json:"matched"`
		Updated int `json:"updated"`
	}
	body := map[string]any{"filter": bulkFilter, "action": "close", "changes": map[string]any{"disposition": "benign"}}
	start := time.Now()
	if err := a.expect(ctx, http.StatusOK, http.MethodPost, "/api/v1/alerts/bulk", body, &out); err != nil {
		return err
	}
	f["bulk_10k_s"] = time.Since(start).Seconds()
	f["bulk_matched"] = float64(out.Matched)
	if out.Updated != out.Matched {
		return fmt.Errorf("bulk: matched %d alerts but closed %d", out.Matched, out.Updated)
	}
	return nil
}

// ingestOptions shape the ingest measurement.
type ingestOptions struct {
	posters  int
	batch    int
	repeats  float64 // share of each batch that repeats an earlier alert
	duration time.Duration
}

var defaultIngest = ingestOptions{posters: 12, batch: 100, repeats: 0.2, duration: 5 * time.Second}

// ingestTotals are the alerts the server accepted.
type ingestTotals struct {
	accepted, created, merged atomic.Int64
}

// ingestRun is what one timed ingest measured.
type ingestRun struct {
	perSecond, mergedShare float64
	created, accepted      int64
}

// measureIngest posts batches concurrently with the connector's key for
// the configured duration and reports accepted alerts per second. Posters
// are numbered from posterBase, so that a second run sends new alerts
// rather than repeats of the first run's.
func measureIngest(ctx context.Context, a *api, key string, opt ingestOptions, posterBase int) (ingestRun, error) {
	var tot ingestTotals
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(opt.duration)
	start := time.Now()
	for p := range opt.posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := postUntil(ctx, a, key, posterBase+p, opt, deadline, &tot); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return ingestRun{}, fmt.Errorf("ingest: %w", firstErr)
	}
	acc := tot.accepted.Load()
	run := ingestRun{perSecond: float64(acc) / elapsed.Seconds(), created: tot.created.Load(), accepted: acc}
	if acc > 0 {
		run.mergedShare = float64(tot.merged.Load()) / float64(acc)
	}
	return run, nil
}

// setAutoAnalyse turns the organisation's analysis of every new alert on
// or off, and returns once ingest does as told: ingest trusts the settings
// it read for a few seconds (analysis.autoTTL), which is as long as an
// ingest run, so without the wait a run may measure the setting before.
func setAutoAnalyse(ctx context.Context, a *api, key string, on bool) error {
	body := map[string]any{"features": map[string]any{"auto_analyse": on}}
	if err := a.expect(ctx, http.StatusOK, http.MethodPatch, "/api/v1/settings/ai", body, nil); err != nil {
		return err
	}
	deadline := time.Now().Add(autoAnalyseLimit)
	for probe := 0; ; probe++ {
		analysed, err := probeAutoAnalyse(ctx, a, key, probe)
		if err != nil || analysed == on {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("auto-analysis still %v %v after it was set to %v", !on, autoAnalyseLimit, on)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// autoAnalyseLimit bounds the wait for a changed auto-analysis setting.
const autoAnalyseLimit = 15 * time.Second

// probeAutoAnalyse ingests one new alert (source bench-probe, so the ingest
// check does not count it) and reports whether it got an analysis.
func probeAutoAnalyse(ctx context.Context, a *api, key string, probe int) (bool, error) {
	body := map[string]any{"title": fmt.Sprintf("Auto-analysis probe %d %d", probe, time.Now().UnixNano()), "severity": "low", "source": "bench-probe"}
	raw, err := a.ingest(ctx, key, body)
	if err != nil {
		return false, fmt.Errorf("auto-analysis probe: %w", err)
	}
	var out struct{ Results []struct{ ID string } }
	if json.Unmarshal(raw, &out) != nil || len(out.Results) != 1 {
		return false, fmt.Errorf("auto-analysis probe: %.300s", raw)
	}
	status, raw, err := a.call(ctx, http.MethodGet, "/api/v1/alerts/"+out.Results[0].ID+"/analysis", nil, nil)
	switch {
	case err != nil:
		return false, err
	case status == http.StatusOK:
		return true, nil
	case status == http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("auto-analysis probe: analysis status %d: %.300s", status, raw)
	}
}

// checkIngested makes sure every alert the server acknowledged as created
// is stored: a fast ingest that loses alerts would not count.
func checkIngested(ctx context.Context, a *api, created int64) error {
	var page restPage
	if err := a.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/alerts?source="+ingestSource+"&limit=1", nil, &page); err != nil {
		return err
	}
	if int64(page.Total) != created {
		return fmt.Errorf("ingest: the server acknowledged %d new alerts but stores %d", created, page.Total)
	}
	return nil
}

// postUntil is one poster: batches of new alerts mixed with repeats of
// alerts it sent before, until the deadline.
func postUntil(ctx context.Context, a *api, key string, poster int, opt ingestOptions, deadline time.Time, tot *ingestTotals) error {
	r := mrand.New(mrand.NewPCG(uint64(poster), 42))
	b := ingestBatcher{poster: poster, rng: r, repeats: opt.repeats}
	for time.Now().Before(deadline) {
		raw, err := a.ingest(ctx, key, b.next(opt.batch))
		if err != nil {
			return err
		}
		var res struct{ Accepted, Created, Merged int }
		if err := json.Unmarshal(raw, &res); err != nil {
			return err
		}
		tot.accepted.Add(int64(res.Accepted))
		tot.created.Add(int64(res.Created))
		tot.merged.Add(int64(res.Merged))
	}
	return nil
}

// ingestBatcher makes one poster's batches in the generic connector's
// schema. A repeat resends an earlier alert unchanged, so it has the same
// fingerprint and merges into the open alert.
type ingestBatcher struct {
	poster  int
	rng     *mrand.Rand
	repeats float64
	seq     int
	sent    []map[string]any
}

// ingestSource is the source of the ingested alerts, apart from the loaded ones.
const ingestSource = "bench-ingest"

// historyCap bounds the alerts a poster may repeat.
const historyCap = 2000

func (b *ingestBatcher) next(size int) []map[string]any {
	out := make([]map[string]any, 0, size)
	repeats := 0
	if len(b.sent) > 0 {
		repeats = int(b.repeats * float64(size))
	}
	for range repeats {
		out = append(out, b.sent[b.rng.IntN(len(b.sent))])
	}
	for len(out) < size {
		b.seq++
		sev := pick(b.rng, severities)
		host := fmt.Sprintf("ingest-%02d-%04d", b.poster, b.seq%5000)
		alert := map[string]any{
			"title":       fmt.Sprintf("Bench ingest %d-%d on %s", b.poster, b.seq, host),
			"description": "Generated by seliq-bench.",
			"severity":    sev,
			"source":      ingestSource,
			"external_id": fmt.Sprintf("bench-%d-%d", b.poster, b.seq),
			"tags":        []string{"bench"},
			"attributes":  map[string]any{"host": host, "src_ip": fmt.Sprintf("10.9.%d.%d", b.poster, 1+b.seq%250)},
		}
		out = append(out, alert)
		if len(b.sent) < historyCap {
			b.sent = append(b.sent, alert)
		} else {
			b.sent[b.rng.IntN(historyCap)] = alert
		}
	}
	return out
}

// The query language's measurements: a three-condition row query's first
// page, counts by severity per hour over the generated month, and the
// lookups an editor calls on each keystroke.
const (
	queryRowsText = `severity >= "high" && status == "new" && "` + listTag + `" in tags`
	querySamples  = 20
)

// lookupPaths are the lookups measured: fields the alert counters keep and
// fields read from the latest records.
var lookupPaths = []string{
	"/api/v1/queries/lookups?source=alerts&field=source&prefix=c",
	"/api/v1/queries/lookups?source=alerts&field=tags",
	"/api/v1/queries/lookups?source=alerts&field=assignee.email",
	"/api/v1/queries/lookups?source=alerts&field=attributes.rule&prefix=s",
	"/api/v1/queries/lookups?source=alerts&field=entities.ip&prefix=10.",
}

func measureQueries(ctx context.Context, a *api, f figures) error {
	rows, err := timeN(querySamples, func() error {
		return a.expect(ctx, http.StatusOK, http.MethodPost, "/api/v1/queries/run",
			map[string]any{"source": "alerts", "query": queryRowsText, "limit": 50}, nil)
	})
	if err != nil {
		return err
	}
	f["query_rows_p50_ms"], f["query_rows_p99_ms"] = percentile(rows, 0.5), percentile(rows, 0.99)
	since := time.Now().Add(-spreadDays * 24 * time.Hour).UTC().Format(time.RFC3339)
	grouped, err := timeN(querySamples, func() error {
		return a.expect(ctx, http.StatusOK, http.MethodPost, "/api/v1/queries/run",
			map[string]any{"source": "alerts", "query": "", "group_by": []string{"severity"}, "interval": "1h", "since": since}, nil)
	})
	if err != nil {
		return err
	}
	f["query_grouped_p50_ms"], f["query_grouped_p99_ms"] = percentile(grouped, 0.5), percentile(grouped, 0.99)
	var lookups []time.Duration
	for _, path := range lookupPaths {
		d, err := timeN(querySamples, func() error { return a.expect(ctx, http.StatusOK, http.MethodGet, path, nil, nil) })
		if err != nil {
			return err
		}
		lookups = append(lookups, d...)
	}
	f["lookups_p50_ms"], f["lookups_p99_ms"] = percentile(lookups, 0.5), percentile(lookups, 0.99)
	return nil
}

// metricPaths are the metrics measured, over their default range (the last
// 7 days) without a query narrowing; the summary is measured on its own.
var metricPaths = []string{
	"/api/v1/metrics/alerts/volume", "/api/v1/metrics/alerts/by-severity", "/api/v1/metrics/alerts/by-status",
	"/api/v1/metrics/alerts/by-connector", "/api/v1/metrics/alerts/by-assignee", "/api/v1/metrics/alerts/unassigned-count",
	"/api/v1/metrics/alerts/mttd", "/api/v1/metrics/alerts/mttr", "/api/v1/metrics/incidents/by-status",
	"/api/v1/metrics/incidents/by-assignee", "/api/v1/metrics/incidents/open-count",
}

// metricSamples is how many times each metric is timed.
const metricSamples = 10

// measureMetrics times each metric and the summary. metrics_p50_ms is the
// slowest metric's p50, since the target holds for each of them.
func measureMetrics(ctx context.Context, a *api, f figures) error {
	worst := 0.0
	for _, path := range metricPaths {
		d, err := timeN(metricSamples, func() error { return a.expect(ctx, http.StatusOK, http.MethodGet, path, nil, nil) })
		if err != nil {
			return err
		}
		worst = max(worst, percentile(d, 0.5))
	}
	f["metrics_p50_ms"] = worst
	d, err := timeN(metricSamples, func() error {
		return a.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/metrics/summary", nil, nil)
	})
	if err != nil {
		return err
	}
	f["summary_p50_ms"] = percentile(d, 0.5)
	return nil
}

// dashboardWidgets is the measured dashboard: ten widgets, nine metrics and
// a grouped query, each computed by the server in one GraphQL request.
var dashboardWidgets = func() []map[string]any {
	var out []map[string]any
	for i, m := range []string{"alerts/unassigned-count", "incidents/open-count", "alerts/mttd", "alerts/mttr", "alerts/volume",
		"alerts/by-severity", "alerts/by-status", "alerts/by-connector", "summary"} {
		out = append(out, map[string]any{"id": fmt.Sprint("m", i), "title": m, "kind": "metric", "metric": m,
			"visualization": "number", "x": (i % 4) * 3, "y": (i / 4) * 2, "w": 3, "h": 2})
	}
	return append(out, map[string]any{"id": "q", "title": "high by severity", "kind": "query", "visualization": "bar",
		"query": map[string]any{"source": "alerts", "query": `severity >= "high"`, "group_by": []string{"severity"}}, "x": 0, "y": 6, "w": 12, "h": 3})
}()

// measureDashboard times a 10-widget dashboard's data in one GraphQL
// request (the server computes the widgets a few at a time).
func measureDashboard(ctx context.Context, a *api, f figures) error {
	var created struct {
		ID string `json:"id"`
	}
	if err := a.expect(ctx, http.StatusCreated, http.MethodPost, "/api/v1/dashboards",
		map[string]any{"name": "bench", "widgets": dashboardWidgets}, &created); err != nil {
		return err
	}
	const q = `query($id: ID!) { dashboard(id: $id) { widgets { id data } } }`
	d, err := timeN(querySamples, func() error {
		var out struct {
			Dashboard struct {
				Widgets []struct {
					ID   string          `json:"id"`
					Data json.RawMessage `json:"data"`
				} `json:"widgets"`
			} `json:"dashboard"`
		}
		if err := a.graphql(ctx, q, map[string]any{"id": created.ID}, &out); err != nil {
			return err
		}
		if n := len(out.Dashboard.Widgets); n != len(dashboardWidgets) {
			return fmt.Errorf("dashboard: %d widgets answered, want %d", n, len(dashboardWidgets))
		}
		return nil
	})
	if err != nil {
		return err
	}
	f["dashboard_p50_ms"], f["dashboard_p99_ms"] = percentile(d, 0.5), percentile(d, 0.99)
	return nil
}

// analysisDrainLimit bounds the wait for the analysis backlog to drain.
const analysisDrainLimit = 3 * time.Minute

// measureAnalysisDrain follows the acting organisation's analysis queue
// (GraphQL analysisQueue) from the end of the ingest with auto-analysis
// until it is empty or limit passes: analysis_per_s is the backlog drained
// per second over that time, analysis_backlog_after_s how long it took.
// countFailedAnalyses counts the analyses that ended failed, in the
// benchmark's database.
func countFailedAnalyses(ctx context.Context, dialect, dbURL string) (int, error) {
	const q = `SELECT count(*) FROM analyses WHERE status = 'failed'`
	var n int
	if dialect == "postgres" {
		conn, err := connectPG(ctx, dbURL)
		if err != nil {
			return 0, err
		}
		defer conn.Close(ctx) //nolint:errcheck // a read
		err = conn.QueryRow(ctx, q).Scan(&n)
		return n, err
	}
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dbURL, "sqlite://")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}

func measureAnalysisDrain(ctx context.Context, a *api, fig figures, limit time.Duration) error {
	depth := func() (int, error) {
		var out struct {
			AnalysisQueue struct {
				Depth int `json:"depth"`
			} `json:"analysisQueue"`
		}
		err := a.graphql(ctx, `{ analysisQueue { depth } }`, nil, &out)
		return out.AnalysisQueue.Depth, err
	}
	start := time.Now()
	first, err := depth()
	if err != nil {
		return fmt.Errorf("analysis queue: %w", err)
	}
	fig["analysis_backlog_at_end"] = float64(first)
	last, at := first, time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for last > 0 && time.Since(start) < limit {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if last, err = depth(); err != nil {
			return fmt.Errorf("analysis queue: %w", err)
		}
		at = time.Now()
	}
	elapsed := at.Sub(start).Seconds()
	fig["analysis_backlog_after_s"] = elapsed
	fig["analysis_backlog_left"] = float64(last)
	if elapsed > 0 && first > last {
		fig["analysis_per_s"] = float64(first-last) / elapsed
	}
	return nil
}

// benchTriggers is how many triggers the automation ingest run enables.
const benchTriggers = 50

// createBenchTriggers makes benchTriggers alert.created triggers of the
// kinds a SOC writes: routing by source and severity, host patterns, tags,
// title words, entity lookups. Most never match the ingested alerts; every
// fifth matches some (a host pattern of the ingest posters) and tags them,
// so the run pays for actions too.
func createBenchTriggers(ctx context.Context, a *api) ([]string, error) {
	var ids []string
	for i, cond := range testenv.TriggerConditions(benchTriggers) {
		body := map[string]any{"name": fmt.Sprintf("bench trigger %02d", i), "event": "alert.created", "condition": cond,
			"actions": []map[string]any{{"type": "add_tags", "tags": []string{fmt.Sprintf("t%02d", i)}}}}
		var created struct{ ID string }
		if err := a.expect(ctx, http.StatusCreated, http.MethodPost, "/api/v1/triggers", body, &created); err != nil {
			return nil, fmt.Errorf("create trigger %d: %w", i, err)
		}
		ids = append(ids, created.ID)
	}
	return ids, nil
}

// disableTriggers turns the benchmark's triggers off, so later runs
// measure what they measured before.
func disableTriggers(ctx context.Context, a *api, ids []string) error {
	for _, id := range ids {
		if err := a.expect(ctx, http.StatusOK, http.MethodPatch, "/api/v1/triggers/"+id, map[string]any{"enabled": false}, nil); err != nil {
			return fmt.Errorf("disable trigger %s: %w", id, err)
		}
	}
	return nil
}
