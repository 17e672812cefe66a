package analysis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/busy"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
)

// TestBatchesYieldToIngest: while a payload is being stored, the real job
// queue takes the critical alert's batch and holds it, and the medium
// one; as soon as ingest pauses (long before the yield's limit) both run,
// critical first.
func TestBatchesYieldToIngest(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 0)
		workers := river.NewWorkers()
		runner, err := jobs.New(db, jobs.Config{Workers: workers, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		ingest := busy.New(10 * time.Millisecond)
		s := New(db.Client, runner, nil, nil).WithPolicy(Policy{Mode: PolicyAnalyseAll}).WithIngest(ingest, time.Hour)
		river.AddWorker(workers, s.Worker())
		river.AddWorker(workers, s.BatchWorker())

		var created []*ent.Alert
		for i, sev := range []enum.Severity{enum.SeverityMedium, enum.SeverityCritical} {
			a, err := db.Client.Alert.Create().SetTitle(fmt.Sprintf("alert %d", i)).SetSource("edr").SetSeverity(sev).Save(f.analyst)
			if err != nil {
				t.Fatal(err)
			}
			created = append(created, a)
		}
		var after func(context.Context)
		if err := storage.InTx(f.analyst, db.Client, func(tx *ent.Tx) error {
			after, err = s.OnCreated(f.analyst, tx, created)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		after(f.analyst)
		if err := s.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Client.Analysis.Query().All(f.analyst)
		if err != nil {
			t.Fatal(err)
		}
		sevOf := map[uuid.UUID]enum.Severity{}
		for _, r := range rows {
			for _, a := range created {
				if *r.AlertID == a.ID {
					sevOf[r.ID] = a.Severity
				}
			}
		}
		var (
			mu    sync.Mutex
			order []enum.Severity
		)
		done := make(chan struct{})
		beforeBatchCommit = func(_ context.Context, batch []uuid.UUID) error {
			mu.Lock()
			defer mu.Unlock()
			for _, id := range batch {
				order = append(order, sevOf[id])
			}
			if len(order) == len(created) {
				close(done)
			}
			return nil
		}
		t.Cleanup(func() { beforeBatchCommit = nil })

		endIngest := ingest.Begin() // a payload being stored
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := runner.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = runner.Stop(context.Background()) })
		// The critical batch is taken by the worker (running), and waits.
		waitRunning(t, db, priorityOf(enum.SeverityCritical))
		select {
		case <-done:
			t.Fatal("the analyses ran while a payload was being stored")
		case <-time.After(200 * time.Millisecond):
		}
		mu.Lock()
		if len(order) > 0 {
			t.Fatalf("analysed %v while a payload was being stored", order)
		}
		mu.Unlock()
		endIngest()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("the analyses did not run once ingest paused")
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []enum.Severity{enum.SeverityCritical, enum.SeverityMedium}; !slices.Equal(order, want) {
			t.Fatalf("analysed in the order %v, want %v", order, want)
		}
		if w := s.Counters().IngestWait; w < 200*time.Millisecond {
			t.Fatalf("IngestWait = %v, want the time the batch waited", w)
		}
	})
}

// waitRunning waits until the batch job of priority pri is running.
func waitRunning(t *testing.T, db *storage.DB, pri int) {
	t.Helper()
	q := `SELECT count(*) FROM river_job WHERE kind = 'analysis.batch' AND priority = $1 AND state = 'running'`
	if db.Dialect != dialect.Postgres {
		q = strings.Replace(q, "$1", "?", 1)
	}
	testenv.Eventually(t, time.Minute, "a running batch of priority "+strconv.Itoa(pri), func() bool {
		var n int
		if err := db.SQL.QueryRowContext(context.Background(), q, pri).Scan(&n); err != nil {
			t.Error(err)
			return true
		}
		return n > 0
	})
}

func TestParseIngestYield(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", DefaultIngestYield, false},
		{" 2s ", 2 * time.Second, false},
		{"0", 0, false},
		{"1m", time.Minute, false},
		{"61s", 0, true},
		{"-1s", 0, true},
		{"soon", 0, true},
	} {
		got, err := ParseIngestYield(c.in)
		if (err != nil) != c.wantErr || (err == nil && got != c.want) {
			t.Errorf("ParseIngestYield(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "SELIQ_ANALYSIS_INGEST_YIELD") {
			t.Errorf("ParseIngestYield(%q): %v does not name the setting", c.in, err)
		}
	}
}
