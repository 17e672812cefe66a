package main

import (
	"bytes"
	"encoding/json"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestPercentile(t *testing.T) {
	msList := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    float64
	}{
		{"one sample", msList(7), 0.5, 7},
		{"median of odd count", msList(3, 1, 2), 0.5, 2},
		{"median of even count is the lower middle", msList(4, 1, 3, 2), 0.5, 2},
		{"p99 of 100", msList(hundred...), 0.99, 99},
		{"p50 of 100", msList(hundred...), 0.5, 50},
		{"max", msList(hundred...), 1, 100},
		{"tiny q is the minimum", msList(5, 9), 0.001, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.samples)
			if got := percentile(tc.samples, tc.q); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.samples, tc.q, got, tc.want)
			}
			if !slices.Equal(before, tc.samples) {
				t.Error("percentile reordered its input")
			}
		})
	}
	if got := percentile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("percentile(nil) = %v, want NaN", got)
	}
}

// requiredKeys are the figures a run must report; the JSON line must always
// carry them, null when not measured.
var requiredKeys = []string{
	"alerts_in_db", "ingest_per_s_sqlite", "ingest_per_s_postgres", "list_p50_ms", "list_p99_ms",
	"facets_p50_ms", "list_vs_raw_sql_ratio", "bulk_10k_s", "ws_fanout_p50_ms", "ws_fanout_p99_ms", "ws_conn_kib",
}

func TestReportJSONShape(t *testing.T) {
	tests := []struct {
		name  string
		byDB  map[string]figures
		check map[string]any // key → want (nil: JSON null)
	}{
		{
			name: "both databases",
			byDB: map[string]figures{
				"postgres": {"alerts_in_db": 10000, "list_p50_ms": 4.25, "ingest_per_s": 5123.4567, "ws_conn_kib": 20},
				"sqlite":   {"alerts_in_db": 10000, "list_p50_ms": 6, "ingest_per_s": 1500},
			},
			check: map[string]any{
				"alerts_in_db": 10000.0, "list_p50_ms": 4.25, "list_p50_ms_sqlite": 6.0, "list_p50_ms_postgres": 4.25,
				"ingest_per_s_postgres": 5123.457, "ingest_per_s_sqlite": 1500.0, "ws_conn_kib": 20.0,
				"ws_conn_kib_sqlite": nil, "bulk_10k_s": nil,
			},
		},
		{
			name:  "sqlite only leaves PostgreSQL's figures null",
			byDB:  map[string]figures{"sqlite": {"alerts_in_db": 10, "list_p50_ms": math.NaN()}},
			check: map[string]any{"alerts_in_db": nil, "alerts_in_db_sqlite": 10.0, "list_p50_ms_sqlite": nil, "ingest_per_s_postgres": nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := &report{Scale: "small", DBs: "both", Subscribers: 1000, Runs: 3, Elapsed: 42 * time.Second, ByDB: tc.byDB}
			line, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.ContainsRune(line, '\n') {
				t.Fatal("the JSON object spans several lines")
			}
			var got map[string]any
			if err := json.Unmarshal(line, &got); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			for _, k := range requiredKeys {
				if _, ok := got[k]; !ok {
					t.Errorf("key %q missing from %s", k, line)
				}
			}
			for k, want := range tc.check {
				if v, ok := got[k]; !ok || v != want {
					t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
				}
			}
			if got["scale"] != "small" || got["elapsed_s"] != 42.0 || got["subscribers"] != 1000.0 || got["runs"] != 3.0 {
				t.Errorf("metadata: %v %v %v %v", got["scale"], got["elapsed_s"], got["subscribers"], got["runs"])
			}
		})
	}
}

func TestReportTable(t *testing.T) {
	rep := &report{Scale: "small", ByDB: map[string]figures{"postgres": {"list_p50_ms": 12.345}}, Notes: []string{"a note"}}
	var b strings.Builder
	if err := rep.printTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"postgres", "12.3", "≤ 20", "note: a note"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sqlite") {
		t.Errorf("table has a column for a database that did not run:\n%s", out)
	}
}

func TestGeneratedAlertsAreValid(t *testing.T) {
	org, user := uuid.New(), uuid.New()
	conns := map[string]uuid.UUID{"crowdstrike": uuid.New()}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	g := newGenerator(7, now, org, user, conns)
	const n = 20_000
	ids := map[uuid.UUID]bool{}
	fingerprints := map[string]bool{}
	var bulk, listTagged, open int
	for range n {
		a := g.next()
		checkRow(t, &a, now)
		if ids[a.ID] || fingerprints[a.Fingerprint] {
			t.Fatalf("duplicate id or fingerprint: %v %s", a.ID, a.Fingerprint)
		}
		ids[a.ID], fingerprints[a.Fingerprint] = true, true
		if a.OrganizationID != org {
			t.Fatalf("organization_id %v, want %v", a.OrganizationID, org)
		}
		if (a.Source == "crowdstrike") != (a.ConnectorID != nil) {
			t.Fatalf("source %s has connector %v", a.Source, a.ConnectorID)
		}
		var tags []string
		if err := json.Unmarshal(a.Tags, &tags); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(tags, bulkTag) {
			bulk++
			if !isOpen(a.Status) {
				t.Fatalf("closed alert %v carries %s", a.ID, bulkTag)
			}
		}
		if slices.Contains(tags, listTag) {
			listTagged++
		}
		if isOpen(a.Status) {
			open++
		}
		if len(a.values()) != len(alertColumns) {
			t.Fatalf("%d values for %d columns", len(a.values()), len(alertColumns))
		}
	}
	if bulk != bulkTarget {
		t.Errorf("%d alerts carry %s, want %d", bulk, bulkTag, bulkTarget)
	}
	if share := float64(listTagged) / n; share < 0.25 || share > 0.42 {
		t.Errorf("%.2f of the alerts carry %s, want about a third", share, listTag)
	}
	if share := float64(open) / n; share < 0.5 || share > 0.65 {
		t.Errorf("%.2f of the alerts are open, want about 58%%", share)
	}
}

// checkRow checks one generated row against the schema's rules.
func checkRow(t *testing.T, a *alertRow, now time.Time) {
	t.Helper()
	if a.ID.Version() != 7 || a.ID.Variant() != uuid.RFC4122 {
		t.Fatalf("id %v is not a UUIDv7", a.ID)
	}
	if sec, nsec := a.ID.Time().UnixTime(); time.Unix(sec, nsec).UnixMilli() != a.CreatedAt.UnixMilli() {
		t.Fatalf("id %v does not carry created_at %v", a.ID, a.CreatedAt)
	}
	if severityRank[a.Severity] != a.SeverityRank || a.SeverityRank == 0 {
		t.Fatalf("severity %q with rank %d", a.Severity, a.SeverityRank)
	}
	if a.CreatedAt.Before(now.Add(-spreadDays*24*time.Hour)) || a.CreatedAt.After(now) {
		t.Fatalf("created_at %v outside the last %d days", a.CreatedAt, spreadDays)
	}
	if a.LastSeenAt.Before(a.FirstSeenAt) || a.UpdatedAt.Before(a.LastSeenAt) || a.Occurrences < 1 {
		t.Fatalf("times out of order: first %v last %v updated %v (%d occurrences)", a.FirstSeenAt, a.LastSeenAt, a.UpdatedAt, a.Occurrences)
	}
	if (a.Status == "closed") != (a.Disposition != nil) {
		t.Fatalf("status %s with disposition %v", a.Status, a.Disposition)
	}
	if (a.Status == "new") != (a.AcknowledgedAt == nil) {
		t.Fatalf("status %s with acknowledged_at %v", a.Status, a.AcknowledgedAt)
	}
	if (a.Status == "resolved" || a.Status == "closed") != (a.ResolvedAt != nil) {
		t.Fatalf("status %s with resolved_at %v", a.Status, a.ResolvedAt)
	}
	if a.DedupKey != nil || a.Title == "" || len(a.Title) > 1000 || a.Fingerprint == "" {
		t.Fatalf("bad row %+v", a)
	}
	var es []entity
	if err := json.Unmarshal(a.Entities, &es); err != nil || len(es) < 2 {
		t.Fatalf("entities %s: %v", a.Entities, err)
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	now := time.Now()
	org := uuid.New()
	a, b := newGenerator(3, now, org, org, nil), newGenerator(3, now, org, org, nil)
	for range 100 {
		x, y := a.next(), b.next()
		if x.ID != y.ID || x.Title != y.Title || !bytes.Equal(x.Tags, y.Tags) {
			t.Fatalf("same seed, different alerts: %+v / %+v", x, y)
		}
	}
}

func TestIngestBatches(t *testing.T) {
	b := ingestBatcher{poster: 1, rng: mrand.New(mrand.NewPCG(1, 2)), repeats: 0.2}
	first := b.next(100)
	if len(first) != 100 || countSeen(first, nil) != 0 {
		t.Fatalf("first batch: %d alerts, want 100 new", len(first))
	}
	seen := map[string]bool{}
	for _, a := range first {
		seen[a["title"].(string)] = true
	}
	second := b.next(100)
	if len(second) != 100 {
		t.Fatalf("second batch has %d alerts", len(second))
	}
	if got := countSeen(second, seen); got != 20 {
		t.Errorf("second batch repeats %d earlier alerts, want 20", got)
	}
}

func countSeen(batch []map[string]any, seen map[string]bool) int {
	n := 0
	for _, a := range batch {
		if seen[a["title"].(string)] {
			n++
		}
	}
	return n
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    float64
		wantErr bool
	}{
		{"typical", "Name:\tseliq\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nThreads:\t9\n", 51234, false},
		{"missing", "Name:\tseliq\n", 0, true},
		{"odd unit", "VmRSS:\t 12 MB\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmRSS(strings.NewReader(tc.status))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseVmRSS = %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseProcStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    time.Duration
		wantErr bool
	}{
		// utime 250 and stime 50 ticks: three seconds.
		{"typical", "4242 (seliq) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 50 0 0 20 0 9 0 100 0 0", 3 * time.Second, false},
		{"spaces and parentheses in the name", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 0 0", 30 * time.Millisecond, false},
		{"truncated", "7 (x) R 1 7", 0, true},
		{"no name", "7 x R", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 u 2 0", 0, true},
		{"negative", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 -1 2 0", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStatCPU(tc.line)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseProcStatCPU = %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// FuzzParseProcStatCPU: any line is refused or read as a CPU time that is
// not negative.
func FuzzParseProcStatCPU(f *testing.F) {
	f.Add("4242 (seliq) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 50 0 0 20 0 9 0 100 0 0")
	f.Add("7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0")
	f.Add("7 (x) R 1 7 7 0 -1 0 0 0 0 0 -1 99999999999999999999 0")
	f.Fuzz(func(t *testing.T, line string) {
		d, err := parseProcStatCPU(line)
		if err == nil && d < 0 {
			t.Fatalf("%q: negative CPU time %v", line, d)
		}
	})
}

func TestParseGauges(t *testing.T) {
	text := "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 5042\n" +
		"go_memstats_stack_inuse_bytes 4.194304e+07\nhttp_requests_total{route=\"/x\"} 3\n"
	got, err := parseGauges(strings.NewReader(text), "go_goroutines", "go_memstats_stack_inuse_bytes")
	if err != nil {
		t.Fatal(err)
	}
	if got["go_goroutines"] != 5042 || got["go_memstats_stack_inuse_bytes"] != 41943040 {
		t.Errorf("got %v", got)
	}
	if _, err := parseGauges(strings.NewReader(text), "go_threads"); err == nil {
		t.Error("a missing metric was not reported")
	}
	if _, err := parseGauges(strings.NewReader("go_goroutines many\n"), "go_goroutines"); err == nil {
		t.Error("a malformed value was not reported")
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		alerts  int
		dbs     []string
		wantErr bool
	}{
		{nil, 10_000, []string{"sqlite", "postgres"}, false},
		{[]string{"-scale", "large", "-db", "postgres"}, 1_000_000, []string{"postgres"}, false},
		{[]string{"-scale", "huge"}, 0, nil, true},
		{[]string{"-db", "mysql"}, 0, nil, true},
		{[]string{"-subscribers", "0"}, 0, nil, true},
		{[]string{"-runs", "3", "-db", "sqlite"}, 10_000, []string{"sqlite"}, false},
		{[]string{"-runs", "0"}, 0, nil, true},
		{[]string{"-subscribers-high", "-1"}, 0, nil, true},
		{[]string{"-subscribers-high", "10000"}, 10_000, []string{"sqlite", "postgres"}, false},
		{[]string{"-only", "bulk,ingest"}, 10_000, []string{"sqlite", "postgres"}, false},
		{[]string{"-only", "bulk,reads"}, 0, nil, true},
	}
	if k := highKey("ws_fanout_p99_ms"); k != "ws_high_fanout_p99_ms" {
		t.Errorf("highKey = %q", k)
	}
	if o, err := parseFlags([]string{"-load-only"}, &strings.Builder{}); err != nil || !o.loadOnly || !o.keep {
		t.Errorf("-load-only: %+v, %v; want it to keep what it loads", o, err)
	}
	o, err := parseFlags([]string{"-only", "bulk,ingest"}, &strings.Builder{})
	if err != nil || !o.wants("bulk") || !o.wants("ingest") || o.wants("list") {
		t.Errorf("-only bulk,ingest: %v, %v; want bulk and ingest only", o.only, err)
	}
	if o, _ := parseFlags(nil, &strings.Builder{}); !o.wants("list") || !o.wants("ingest") || !o.ingestCheckpoint {
		t.Errorf("no flags: want every phase, each ingest run after a checkpoint")
	}
	if o, err := parseFlags([]string{"-ingest-checkpoint=false"}, &strings.Builder{}); err != nil || o.ingestCheckpoint {
		t.Errorf("-ingest-checkpoint=false: %v, %v; want no checkpoints", o.ingestCheckpoint, err)
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o, err := parseFlags(tc.args, &strings.Builder{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && (o.alerts != tc.alerts || !slices.Equal(o.dbs, tc.dbs)) {
				t.Errorf("got %d alerts on %v, want %d on %v", o.alerts, o.dbs, tc.alerts, tc.dbs)
			}
		})
	}
}

func TestSpreadFigures(t *testing.T) {
	lo, hi := spreadFigures([]figures{{"a": 9, "b": math.NaN()}, {"a": 1}, {"a": 4, "b": 2}})
	if lo["a"] != 1 || hi["a"] != 9 || lo["b"] != 2 || hi["b"] != 2 {
		t.Fatalf("lo %v hi %v, want a 1–9 and b 2–2", lo, hi)
	}
	rep := &report{Scale: "large", Runs: 3, ByDB: map[string]figures{"postgres": {"ws_fanout_p99_ms": 40}},
		Low: map[string]figures{"postgres": lo}, High: map[string]figures{"postgres": {"ws_fanout_p99_ms": 613}}}
	rep.Low["postgres"]["ws_fanout_p99_ms"] = 35.5
	line, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Spread map[string][2]float64 `json:"spread"`
	}
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatal(err)
	}
	if s := got.Spread["ws_fanout_p99_ms_postgres"]; s != [2]float64{35.5, 613} {
		t.Errorf("spread of the fan-out p99 = %v in %s", s, line)
	}
	var b strings.Builder
	if err := rep.printTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "40.0 (35.5–613)") {
		t.Errorf("table lacks the median with its spread:\n%s", b.String())
	}
	rep.Runs = 1
	if line, _ := json.Marshal(rep); bytes.Contains(line, []byte(`"spread"`)) {
		t.Errorf("one run reports a spread: %s", line)
	}
}

func TestMedianFigures(t *testing.T) {
	tests := []struct {
		name string
		runs []figures
		want figures
	}{
		{"one run is itself", []figures{{"a": 3}}, figures{"a": 3}},
		{"odd count takes the middle", []figures{{"a": 9}, {"a": 1}, {"a": 4}}, figures{"a": 4}},
		{"even count takes the middle two's mean", []figures{{"a": 1}, {"a": 10}, {"a": 2}, {"a": 4}}, figures{"a": 3}},
		{"a metric missing from a run uses the others", []figures{{"a": 1, "b": 5}, {"a": 3}, {"a": 2, "b": 7}}, figures{"a": 2, "b": 6}},
		{"NaN is not a sample", []figures{{"a": math.NaN()}, {"a": 8}}, figures{"a": 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := medianFigures(tc.runs)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("%s = %v, want %v", k, got[k], w)
				}
			}
		})
	}
	if v := medianFigures([]figures{{"a": math.NaN()}})["a"]; !math.IsNaN(v) {
		t.Errorf("all-NaN metric = %v, want NaN (reported as null)", v)
	}
}

func TestInsertStatement(t *testing.T) {
	s := insertStatement(3)
	if got := strings.Count(s, "?"); got != 3*len(alertColumns) {
		t.Errorf("%d placeholders, want %d", got, 3*len(alertColumns))
	}
	if !strings.HasPrefix(s, "INSERT INTO alerts (id, created_at,") || strings.Count(s, "(") != 4 {
		t.Errorf("statement %q", s)
	}
}
