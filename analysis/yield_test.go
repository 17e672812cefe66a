package analysis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/busy"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// TestBatchesYieldToIngest: while a payload is being stored, the real job
// queue takes the critical alert's batch and holds it, and the medium
// one; as soon as ingest pauses (long before the yield's limit) both run,
// critical first.
func TestBatchesYieldToIngest(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 0)
		s, runner := newQueued(t, db)
		ingest := busy.New(10 * time.Millisecond)
		s.WithIngest(ingest, time.Hour)

		var created []*ent.Alert
		sevOf := map[uuid.UUID]enum.Severity{}
		for i, sev := range []enum.Severity{enum.SeverityMedium, enum.SeverityCritical} {
			a, err := db.Client.Alert.Create().SetTitle(fmt.Sprintf("alert %d", i)).SetSource("edr").SetSeverity(sev).Save(f.analyst)
			if err != nil {
				t.Fatal(err)
			}
			created = append(created, a)
			sevOf[a.ID] = sev
		}
		queuePayload(t, f.analyst, s, db, created)
		alertOf := analysedAlerts(t, f.analyst, db)
		log := recordCommits(t, len(created))

		endIngest := ingest.Begin() // a payload being stored
		startQueue(t, runner)
		// The critical batch is taken by the worker (running), and waits.
		waitRunning(t, db, priorityOf(enum.SeverityCritical))
		select {
		case <-log.done:
			t.Fatal("the analyses ran while a payload was being stored")
		case <-time.After(200 * time.Millisecond):
		}
		if got := log.committed(); len(got) > 0 {
			t.Fatalf("analysed %v while a payload was being stored", got)
		}
		endIngest()
		select {
		case <-log.done:
		case <-time.After(time.Minute):
			t.Fatal("the analyses did not run once ingest paused")
		}
		var order []enum.Severity
		for _, id := range log.committed() {
			order = append(order, sevOf[alertOf[id]])
		}
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
