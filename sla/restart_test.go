package sla_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

// replica is one server's jobs runner and SLA service on a database.
type replica struct {
	runner *jobs.Runner
	sla    *sla.Service
}

func startReplica(t *testing.T, db *storage.DB, c *clock) *replica {
	t.Helper()
	workers := river.NewWorkers()
	r, err := jobs.New(db, jobs.Config{Workers: workers, FetchPollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc := sla.New(db.Client, r, c.now)
	river.AddWorker(workers, svc.Worker())
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	return &replica{runner: r, sla: svc}
}

func (r *replica) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.runner.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// resumeAll runs every replica's start-up re-enqueue at once, as replicas
// restarting together would.
func resumeAll(t *testing.T, rs ...*replica) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.sla.Resume(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
	}
}

// TestFireOnceAcrossRestartTwoReplicas: two replicas work the jobs of one
// database (on PostgreSQL each with its own pool, as two servers; on
// SQLite two runners of one process on the file); the SLA clock is moved past the at-risk instant,
// then past the due time, each time with a replica restarted and both
// re-enqueueing at once, plus a duplicate job delivered on purpose. Each
// event fires once: one notification per recipient, one timeline event.
func TestFireOnceAcrossRestartTwoReplicas(t *testing.T) {
	testenv.ForEachDB(t, testFireOnceAcrossRestart)
}

func testFireOnceAcrossRestart(t *testing.T, db *storage.DB) {
	other := db
	if db.Pool != nil {
		other = testenv.Replica(t, db)
	}
	c := &clock{}
	a, b := startReplica(t, db, c), startReplica(t, other, c)

	provider := testenv.Org(t, db, testenv.Slug("mssp"))
	padmin := testenv.User(t, db, provider, enum.RoleAdmin, testenv.Handle("pat"))
	tn := newTenant(t, db, "acme", c, a.runner, testenv.Parent(provider.ID))
	inc := tn.open(t, "Ransomware", enum.SeverityCritical, &tn.analyst.ID)
	recipients := []string{"assignee", "provider admin"}
	counts := func(kind enum.NotificationKind) []int {
		n := notifications(t, db, kind, inc.ID)
		return []int{n[tn.analyst.ID], n[padmin.ID]}
	}

	if got := counts(enum.NotificationKindSlaAtRisk); got[0]+got[1] != 0 {
		t.Fatalf("at risk fired at creation: %v", got)
	}
	// 12 minutes in: past the at-risk instant (75 % of 15 minutes).
	c.advance(12 * time.Minute)
	a.stop(t)
	a = startReplica(t, db, c)
	resumeAll(t, a, b)
	testenv.Eventually(t, 20*time.Second, "the at-risk notification", func() bool { return counts(enum.NotificationKindSlaAtRisk)[0] > 0 })
	if got := counts(enum.NotificationKindSlaBreach); got[0]+got[1] != 0 {
		t.Fatalf("breach fired before its due time: %v", got)
	}

	// 16 minutes in: past the due time.
	c.advance(4 * time.Minute)
	b.stop(t)
	b = startReplica(t, other, c)
	resumeAll(t, a, b)
	testenv.Eventually(t, 20*time.Second, "the breach notification", func() bool { return counts(enum.NotificationKindSlaBreach)[0] > 0 })

	// A duplicate delivery of both jobs, bypassing uniqueness.
	stored := tn.reload(t, inc.ID)
	for _, ev := range []string{"at_risk", "breach"} {
		args := sla.FireArgs{OrganizationID: tn.org.ID, IncidentID: inc.ID, Timer: enum.SLATimerAcknowledge, Event: ev,
			Due: *stored.SLAAckDueAt, At: *stored.SLAAckAtRiskAt}
		if err := b.runner.Enqueue(context.Background(), args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{}}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 20*time.Second, "every due job worked", func() bool {
		var n int
		err := db.SQL.QueryRowContext(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = 'sla.fire' AND state IN ('available', 'running', 'retryable')`).Scan(&n)
		return err == nil && n == 0
	})

	for _, kind := range []enum.NotificationKind{enum.NotificationKindSlaAtRisk, enum.NotificationKindSlaBreach} {
		for i, n := range counts(kind) {
			if n != 1 {
				t.Errorf("%s notifications to the %s = %d, want 1", kind, recipients[i], n)
			}
		}
	}
	for _, kind := range []enum.TimelineKind{enum.TimelineKindSlaAtRisk, enum.TimelineKindSlaBreached} {
		n, err := db.Client.TimelineEvent.Query().Where(timelineevent.IncidentID(inc.ID), timelineevent.KindEQ(kind)).Count(tn.ctx)
		if err != nil || n != 1 {
			t.Errorf("%s timeline events = %d, %v; want 1", kind, n, err)
		}
	}
	stored = tn.reload(t, inc.ID)
	if stored.SLAAckBreachedAt == nil || !stored.SLAAckBreachedAt.Equal(*stored.SLAAckDueAt) || stored.SLAResolveBreachedAt != nil {
		t.Fatalf("stamps: ack breached %v (due %v), resolve breached %v", stored.SLAAckBreachedAt, stored.SLAAckDueAt, stored.SLAResolveBreachedAt)
	}
}
