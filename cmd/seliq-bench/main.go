// Command seliq-bench measures a real Seliq server on a fresh database:
// it builds ./cmd/seliq, starts it as a separate process on each database
// in turn, loads a generated alert queue straight into the alerts table
// (COPY on PostgreSQL, batched INSERTs on SQLite), then measures ingest
// over HTTP, the triage queue's list and facets (against hand-written SQL
// on PostgreSQL), a bulk close, and WebSocket fan-out and memory.
//
//	go run ./cmd/seliq-bench -scale small -json
//	go run ./cmd/seliq-bench -scale large -db postgres -subscribers 10000
//
// It prints a table and, with -json, one JSON object as the last line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seliq/seliq/storage"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "seliq-bench:", err)
		os.Exit(1)
	}
}

// scales are the alert counts of -scale.
var scales = map[string]int{"small": 10_000, "medium": 100_000, "large": 1_000_000}

// options are the command line.
type options struct {
	scale       string
	alerts      int
	dbs         []string
	json        bool
	subscribers int
	// subscribersHigh, when above zero, is a second fan-out measured after
	// the first, with that many subscribers (its keys say "high").
	subscribersHigh int
	pgURL           string
	keep            bool
	runs            int
	profileDir      string
	loadOnly        bool
	// only, when not empty, names the phases measured (the others are
	// skipped), for comparing one part of two builds quickly.
	only map[string]bool
	// ingestCheckpoint issues a CHECKPOINT before each ingest run. A page's
	// first change after a checkpoint writes the whole page to the WAL, so
	// without it a run's rate depends on how much the runs before it wrote
	// (the one where a checkpoint began ran at two thirds of the others).
	ingestCheckpoint bool
}

// phases are the measurement phases -only may name, in the order they run.
var phases = []string{"fanout", "list", "queries", "metrics", "dashboard", "concurrent", "bulk", "ingest", "analysis"}

// wants is true when phase is measured.
func (o options) wants(phase string) bool { return len(o.only) == 0 || o.only[phase] }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("seliq-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.String("scale", "small", "alerts loaded: small (10k), medium (100k) or large (1M)")
	db := fs.String("db", "both", "database: sqlite, postgres or both (one server each, in turn)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object on the last line")
	subs := fs.Int("subscribers", 1000, "WebSocket subscribers for the fan-out and memory figures")
	subsHigh := fs.Int("subscribers-high", 0, "also measure the fan-out with this many subscribers, after the first (0: not)")
	pgDefault := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	if env := os.Getenv("SELIQ_TEST_POSTGRES_URL"); env != "" {
		pgDefault = env
	}
	pg := fs.String("pg", pgDefault, "PostgreSQL server URL (a maintenance database; the benchmark creates and drops its own)")
	keep := fs.Bool("keep", false, "keep the temporary directory (server logs, SQLite file) for inspection")
	runs := fs.Int("runs", 1, "runs per database, each on a fresh database and server; figures are the medians")
	profile := fs.String("profile", "", "write the server's CPU profiles of the fan-out, list and ingest phases into this directory")
	loadOnly := fs.Bool("load-only", false, "load the alerts, keep the database and print how to serve it (an investigation's starting point), measure nothing")
	only := fs.String("only", "", "measure only these phases, comma-separated: "+strings.Join(phases, ", ")+" (default: all)")
	ingestCheckpoint := fs.Bool("ingest-checkpoint", true, "PostgreSQL: issue a CHECKPOINT before each ingest run, so that every run starts at the same point of the checkpoint cycle (false: where the earlier phases left it)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	o := options{scale: *scale, json: *asJSON, subscribers: *subs, subscribersHigh: *subsHigh, pgURL: *pg, keep: *keep || *loadOnly, runs: *runs,
		profileDir: *profile, loadOnly: *loadOnly, ingestCheckpoint: *ingestCheckpoint}
	if *only != "" {
		o.only = map[string]bool{}
		for _, p := range strings.Split(*only, ",") {
			if !slices.Contains(phases, p) {
				return o, fmt.Errorf("-only %q: unknown phase %q (want %s)", *only, p, strings.Join(phases, ", "))
			}
			o.only[p] = true
		}
	}
	var ok bool
	if o.alerts, ok = scales[*scale]; !ok {
		return o, fmt.Errorf("-scale %q: want small, medium or large", *scale)
	}
	switch *db {
	case "both":
		o.dbs = []string{"sqlite", "postgres"}
	case "sqlite", "postgres":
		o.dbs = []string{*db}
	default:
		return o, fmt.Errorf("-db %q: want sqlite, postgres or both", *db)
	}
	if o.subscribers < 1 {
		return o, errNoSubscribers
	}
	if o.subscribersHigh < 0 {
		return o, fmt.Errorf("-subscribers-high %d: want 0 (off) or more", o.subscribersHigh)
	}
	if o.runs < 1 {
		return o, fmt.Errorf("-runs %d: want at least 1", o.runs)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	opt, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()

	if contains(opt.dbs, "postgres") {
		// Fail before building anything when PostgreSQL is not there.
		conn, err := connectPG(ctx, opt.pgURL)
		if err != nil {
			return err
		}
		_ = conn.Close(ctx) // only a reachability check
	}
	dir, err := os.MkdirTemp("", "seliq-bench-")
	if err != nil {
		return err
	}
	if opt.keep {
		fmt.Fprintln(stderr, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	progress := func(format string, a ...any) {
		fmt.Fprintf(stderr, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	progress("building ./cmd/seliq")
	bin, err := buildServer(ctx, dir)
	if err != nil {
		return err
	}
	if opt.profileDir != "" {
		if err := os.MkdirAll(opt.profileDir, 0o755); err != nil {
			return err
		}
	}
	rep := &report{Scale: opt.scale, DBs: joinDBs(opt.dbs), Subscribers: opt.subscribers, SubscribersHigh: opt.subscribersHigh, Runs: opt.runs, ByDB: map[string]figures{},
		Low: map[string]figures{}, High: map[string]figures{}, Notes: []string{}}
	for _, db := range opt.dbs {
		var runs []figures
		for i := range opt.runs {
			f := figures{}
			b := &bench{opt: opt, dialect: db, bin: bin, dir: dir, fig: f, runNo: i + 1, progress: func(format string, a ...any) {
				progress(fmt.Sprintf("%s run %d/%d: %s", db, i+1, opt.runs, format), a...)
			}}
			if err := b.run(ctx); err != nil {
				return fmt.Errorf("%s: %w", db, err)
			}
			if opt.loadOnly {
				fmt.Fprintf(stdout, "%s: %d alerts loaded and kept: %s\n", db, opt.alerts, b.loaded)
				continue
			}
			runs = append(runs, f)
			for _, n := range b.notes {
				if !slices.Contains(rep.Notes, n) { // the same on every run
					rep.Notes = append(rep.Notes, n)
				}
			}
		}
		if opt.loadOnly {
			continue
		}
		rep.ByDB[db] = medianFigures(runs)
		rep.Low[db], rep.High[db] = spreadFigures(runs)
	}
	if opt.loadOnly {
		return nil
	}
	rep.Elapsed = time.Since(start)
	if err := rep.printTable(stdout); err != nil {
		return err
	}
	if opt.json {
		line, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", line)
	}
	return nil
}

func joinDBs(dbs []string) string {
	if len(dbs) > 1 {
		return "both"
	}
	return dbs[0]
}

// bench is one database's run: a fresh database, a server on it, the load
// and the measurements.
type bench struct {
	opt      options
	dialect  string // "sqlite" or "postgres"
	bin, dir string
	fig      figures
	runNo    int // 1-based, for profile names
	notes    []string
	loaded   string // with -load-only: how to serve the kept database
	progress func(format string, a ...any)
}

func (b *bench) run(ctx context.Context) (err error) {
	dbURL, cleanup, err := b.freshDatabase(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if b.opt.loadOnly && err == nil {
			return // kept: b.loaded says how to serve it
		}
		err = errors.Join(err, cleanup())
	}()

	cred := newCredentials()
	b.progress("starting the server")
	srv, err := startServer(ctx, b.bin, b.dir, dbURL, cred, b.opt.profileDir != "")
	if err != nil {
		return err
	}
	defer srv.stop()
	a := newAPI(srv.base)
	me, err := a.login(ctx, cred)
	if err != nil {
		return err
	}
	if err := b.load(ctx, a, dbURL, me); err != nil {
		return err
	}
	if b.opt.loadOnly {
		b.loaded = fmt.Sprintf("SELIQ_DATABASE_URL=%s SELIQ_SECRET_KEY=%s (administrator %s, password %s)",
			dbURL, cred.secretKey, cred.email, cred.password)
		return nil
	}
	return b.measure(ctx, srv, a, dbURL, me)
}

// freshDatabase creates an empty database and returns its URL and how to
// remove it.
func (b *bench) freshDatabase(ctx context.Context) (string, func() error, error) {
	if b.dialect == "sqlite" {
		path := filepath.Join(b.dir, "bench.db")
		remove := func() error {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
			return nil
		}
		return "sqlite://" + path, remove, nil
	}
	pg, err := createPGDatabase(ctx, b.opt.pgURL)
	if err != nil {
		return "", nil, err
	}
	return pg.url, pg.drop, nil
}

// load creates one connector per generated source (so alerts carry real
// connector ids) and loads the queue straight into the table.
func (b *bench) load(ctx context.Context, a *api, dbURL string, me identity) error {
	conns := map[string]uuid.UUID{}
	for _, s := range sources {
		c, err := a.createConnector(ctx, s.value, s.value, 0)
		if err != nil {
			return err
		}
		conns[s.value] = c.ID
	}
	g := newGenerator(1, time.Now(), me.OrgID, me.UserID, conns)
	b.progress("loading %d alerts", b.opt.alerts)
	start := time.Now()
	if err := b.loadInto(ctx, dbURL, g); err != nil {
		return err
	}
	b.fig["load_s"] = time.Since(start).Seconds()
	// The server must see every loaded alert as its organisation's.
	var page restPage
	if err := a.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/alerts?limit=1", nil, &page); err != nil {
		return err
	}
	if page.Total != b.opt.alerts {
		return fmt.Errorf("loaded %d alerts but the API lists %d", b.opt.alerts, page.Total)
	}
	b.fig["alerts_in_db"] = float64(page.Total)
	return nil
}

func (b *bench) loadInto(ctx context.Context, dbURL string, g *generator) error {
	if b.dialect == "postgres" {
		pool, err := pgxpool.New(ctx, dbURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		return loadPostgres(ctx, pool, g, b.opt.alerts)
	}
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return loadSQLite(ctx, db.SQL, g, b.opt.alerts)
}

// measure runs the measurements, the destructive ones last: fan-out first
// (on a server that has done little, so its memory growth is the
// subscribers'), then the read side, the bulk close and ingest.
func (b *bench) measure(ctx context.Context, srv *serverProc, a *api, dbURL string, me identity) error {
	probe, err := a.createConnector(ctx, "bench-probe", "generic", 0)
	if err != nil {
		return err
	}
	if b.opt.wants("fanout") {
		if err := b.measureFanouts(ctx, srv, a, probe.APIKey); err != nil {
			return err
		}
	}
	var apiIDs []uuid.UUID
	if b.opt.wants("list") {
		b.progress("list and facets")
		if err := b.profiled(ctx, srv, "list", 3, func() (err error) {
			apiIDs, err = measureList(ctx, a, b.fig)
			return err
		}); err != nil {
			return err
		}
		if err := b.profiled(ctx, srv, "facets", 3, func() error { return measureFacets(ctx, a, b.fig) }); err != nil {
			return err
		}
	}
	reads := []struct {
		phase string
		run   func(context.Context, *api, figures) error
	}{{"queries", measureQueries}, {"metrics", measureMetrics}, {"dashboard", measureDashboard}}
	for _, r := range reads {
		if !b.opt.wants(r.phase) {
			continue
		}
		b.progress("%s", r.phase)
		if err := b.profiled(ctx, srv, r.phase, 3, func() error { return r.run(ctx, a, b.fig) }); err != nil {
			return err
		}
	}
	if b.dialect == "postgres" && b.opt.wants("concurrent") {
		if err := b.measureRaw(ctx, srv, a, dbURL, me, apiIDs); err != nil {
			return err
		}
	}
	if b.opt.wants("bulk") {
		b.progress("bulk close")
		if err := measureBulk(ctx, a, b.fig); err != nil {
			return err
		}
		if m := b.fig["bulk_matched"]; m < bulkTarget {
			b.notes = append(b.notes, fmt.Sprintf("%s: the bulk filter matched %.0f open alerts (fewer than %d at this scale); bulk_10k_s is the time for those", b.dialect, m, bulkTarget))
		}
	}
	if !b.opt.wants("ingest") && !b.opt.wants("analysis") {
		return nil
	}
	return b.measureIngests(ctx, srv, a, dbURL)
}

// measureIngests ingests up to three times: the pipeline alone; with 50
// enabled alert.created triggers of realistic conditions (what automation
// costs), right after so that both see the same machine (phase ingest);
// then, the triggers disabled, with the built-in analysis of every new
// alert (the default), whose jobs run beside the posters and after them
// (phase analysis).
func (b *bench) measureIngests(ctx context.Context, srv *serverProc, a *api, dbURL string) error {
	// Connector limits are per minute; the benchmark's posters would
	// exhaust the default 300 in a fraction of a second.
	ingestKey, err := a.createConnector(ctx, "bench-ingest", "generic", 100_000)
	if err != nil {
		return err
	}
	writes, err := b.openPGWrites(ctx, dbURL)
	if err != nil {
		return err
	}
	defer writes.close()
	// ingest runs one measured ingest; offset keeps each run's payloads apart.
	ingest := func(name string, offset int) (run ingestRun, err error) {
		if err := writes.begin(ctx, b.opt.ingestCheckpoint); err != nil {
			return run, err
		}
		err = b.profiled(ctx, srv, name, int(defaultIngest.duration/time.Second), func() (err error) {
			run, err = measureIngest(ctx, a, ingestKey.APIKey, defaultIngest, offset*defaultIngest.posters)
			return err
		})
		if err != nil {
			return run, err
		}
		return run, writes.end(ctx, run.accepted, strings.ReplaceAll(name, "-", "_"), b.fig)
	}
	warm, err := b.warmIngest(ctx, a, ingestKey.APIKey)
	if err != nil {
		return err
	}
	var plain, auto, withTriggers, plainAfter ingestRun
	if b.opt.wants("ingest") {
		// The warm-up left auto-analysis off, as these runs need it.
		b.progress("ingest for %v with %d posters, auto-analysis off", defaultIngest.duration, defaultIngest.posters)
		if plain, err = ingest("ingest", 0); err != nil {
			return err
		}
		triggerIDs, err := createBenchTriggers(ctx, a)
		if err != nil {
			return err
		}
		b.progress("ingest for %v with %d posters and %d triggers", defaultIngest.duration, defaultIngest.posters, benchTriggers)
		if withTriggers, err = ingest("ingest-triggers", 2); err != nil {
			return err
		}
		if err := disableTriggers(ctx, a, triggerIDs); err != nil {
			return err
		}
		// The plain ingest again, after: the run with triggers is compared
		// with the mean of the two around it, so that a drift between the
		// first run and the later ones does not count as the triggers' cost
		// or gain.
		b.progress("ingest for %v with %d posters, triggers disabled again", defaultIngest.duration, defaultIngest.posters)
		if plainAfter, err = ingest("ingest-after-triggers", 3); err != nil {
			return err
		}
		b.fig["ingest_per_s"], b.fig["ingest_merged_share"] = plain.perSecond, plain.mergedShare
		b.fig["ingest_per_s_triggers"] = withTriggers.perSecond
		b.fig["ingest_per_s_after_triggers"] = plainAfter.perSecond
		if around := (plain.perSecond + plainAfter.perSecond) / 2; around > 0 {
			b.fig["ingest_triggers_ratio"] = withTriggers.perSecond / around
		}
	}
	if b.opt.wants("analysis") {
		if err := setAutoAnalyse(ctx, a, ingestKey.APIKey, true); err != nil {
			return err
		}
		b.progress("ingest for %v with %d posters, auto-analysis on", defaultIngest.duration, defaultIngest.posters)
		if auto, err = ingest("ingest-auto-analyse", 1); err != nil {
			return err
		}
		b.fig["ingest_auto_analyse_per_s"] = auto.perSecond
		b.progress("analysis backlog left by the ingest with auto-analysis")
		if err := measureAnalysisDrain(ctx, a, b.fig, analysisDrainLimit); err != nil {
			return err
		}
		if b.fig["analysis_backlog_left"] > 0 {
			b.notes = append(b.notes, fmt.Sprintf("%s: %.0f analyses still queued %v after the ingest; analysis_backlog_after_s is that limit", b.dialect, b.fig["analysis_backlog_left"], analysisDrainLimit))
		}
		// A failed analysis leaves the queue too: the drain counts only
		// when none failed.
		failed, err := countFailedAnalyses(ctx, b.dialect, dbURL)
		if err != nil {
			return err
		}
		b.fig["analysis_failed"] = float64(failed)
		if failed > 0 {
			b.notes = append(b.notes, fmt.Sprintf("%s: %d analyses failed; analysis_per_s counts them as drained", b.dialect, failed))
		}
	}
	return checkIngested(ctx, a, warm.created+plain.created+auto.created+withTriggers.created+plainAfter.created)
}

// ingestWarmup is how long the server's connections are warmed by ingest
// before the measured runs.
const ingestWarmup = 3 * time.Second

// warmIngest ingests for ingestWarmup, not measured, with auto-analysis
// off. A fresh pool connection runs the ingest's statements several times
// slower at first: PostgreSQL builds, per backend, its caches of the alert
// table (twenty indexes, triggers) and plans each statement. From a fresh
// server the first second ran at a fifth of the warm rate and the first
// 5-s run at 60 %; the same server after its backends were restarted ran
// at 46 %. A server that has been up does not pay it. The warm-up has a
// connector of its own, so its alerts count against no measured run's
// rate limit.
func (b *bench) warmIngest(ctx context.Context, a *api, key string) (ingestRun, error) {
	warmKey, err := a.createConnector(ctx, "bench-ingest-warmup", "generic", 100_000)
	if err != nil {
		return ingestRun{}, err
	}
	if err := setAutoAnalyse(ctx, a, key, false); err != nil {
		return ingestRun{}, err
	}
	b.progress("warming the server's connections: ingest for %v, not measured", ingestWarmup)
	opt := defaultIngest
	opt.duration = ingestWarmup
	return measureIngest(ctx, a, warmKey.APIKey, opt, 4*defaultIngest.posters)
}

// measureFanouts measures the fan-out to -subscribers and, when asked, to
// -subscribers-high.
func (b *bench) measureFanouts(ctx context.Context, srv *serverProc, a *api, key string) error {
	b.progress("fan-out to %d WebSocket subscribers", b.opt.subscribers)
	hooks := fanoutHooks{
		idle:   func() { b.snapshot(ctx, srv, "idle") },
		rounds: func(run func() error) error { return b.profiled(ctx, srv, "fanout", 3, run) },
	}
	if err := measureFanout(ctx, srv, a, key, b.opt.subscribers, b.fig, hooks); err != nil {
		return err
	}
	n := b.opt.subscribersHigh
	if n == 0 {
		return nil
	}
	b.progress("fan-out to %d WebSocket subscribers", n)
	high := figures{}
	hooks = fanoutHooks{idle: func() {}, rounds: func(run func() error) error { return b.profiled(ctx, srv, "fanout-high", 3, run) }}
	if err := measureFanout(ctx, srv, a, key, n, high, hooks); err != nil {
		return err
	}
	// Only the latencies: the memory figures would count the first
	// fan-out's freed memory being reused (a run of its own measures them).
	for _, k := range []string{"ws_fanout_p50_ms", "ws_fanout_p99_ms", "ws_fanout_last_ms"} {
		b.fig[highKey(k)] = high[k]
	}
	return nil
}

// measureRaw times the list page by hand-written SQL and checks it is the
// same page the API served.
func (b *bench) measureRaw(ctx context.Context, srv *serverProc, a *api, dbURL string, me identity, apiIDs []uuid.UUID) error {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	// As many connections as the server's pool and the concurrent clients.
	cfg.MaxConns = concClients
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	rawIDs, err := measureRawSQL(ctx, pool, me.OrgID, b.fig)
	if err != nil {
		return err
	}
	if apiIDs != nil && !slices.Equal(apiIDs, rawIDs) {
		b.notes = append(b.notes, "postgres: the raw SQL page differs from the API's page (ordering of ties?)")
	}
	b.progress("list page from %d concurrent clients, %v per surface", concClients, concDuration)
	profiled := func(name string, run func() error) error {
		return b.profiled(ctx, srv, name, int(concDuration/time.Second), run)
	}
	return measureConcurrent(ctx, srv.cmd.Process.Pid, a, pool, me.OrgID, b.fig, profiled)
}
