package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	entanalysis "github.com/seliq/seliq/ent/analysis"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
)

// batchFixture is an organisation with history, related alerts and
// grouping candidates, and a look-alike second organisation.
type batchFixture struct {
	db      *storage.DB
	org     *ent.Organization
	other   *ent.Organization
	analyst context.Context
	theirs  context.Context
	targets []*ent.Alert
}

func newBatchFixture(t testing.TB, db *storage.DB, targets int) *batchFixture {
	t.Helper()
	f := &batchFixture{db: db, org: testenv.Org(t, db, testenv.Name("Acme"))}
	f.other = testenv.Org(t, db, testenv.Name("Globex"))
	f.analyst, _ = testenv.UserContext(t, db, f.org, enum.RoleAnalyst)
	f.theirs, _ = testenv.UserContext(t, db, f.other, enum.RoleAnalyst)
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	fp := enum.DispositionFalsePositive
	mk := func(ctx context.Context, i int, status enum.AlertStatus, d *enum.Disposition, sev enum.Severity, at time.Time) *ent.Alert {
		host := fmt.Sprintf("ws-%02d", i%4)
		a, err := db.Client.Alert.Create().SetTitle(fmt.Sprintf("Suspicious scheduled task %d", i%3)).SetSource("defender").
			SetSeverity(sev).SetStatus(status).SetNillableDisposition(d).SetFingerprint(fmt.Sprintf("mde:schtask:%d", i%5)).
			SetFirstSeenAt(at).SetLastSeenAt(at).SetMitre([]string{"T1053.005"}).
			SetEntities([]schematype.Entity{{Type: "hostname", Value: host}, {Type: "ipv4", Value: fmt.Sprintf("198.51.100.%d", i%7)}}).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for i := range 12 {
		mk(f.analyst, i, enum.AlertStatusClosed, &fp, enum.SeverityMedium, t0.Add(-time.Duration(i)*time.Hour))
		// The other organisation's look-alikes must reach no result.
		mk(f.theirs, i, enum.AlertStatusNew, nil, enum.SeverityHigh, t0.Add(time.Duration(i)*time.Minute))
	}
	sevs := severitiesByRank()
	for i := range targets {
		f.targets = append(f.targets, mk(f.analyst, i, enum.AlertStatusNew, nil, sevs[i%len(sevs)], t0.Add(time.Duration(i)*7*time.Minute)))
	}
	return f
}

// pending inserts a pending built-in analysis for each alert.
func (f *batchFixture) pending(t testing.TB, list []*ent.Alert) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for _, a := range list {
		an, err := f.db.Client.Analysis.Create().SetAlertID(a.ID).Save(f.analyst)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, an.ID)
	}
	return ids
}

func (f *batchFixture) analyses(t testing.TB, ids []uuid.UUID) []*ent.Analysis {
	t.Helper()
	list, err := f.db.Client.Analysis.Query().Where(entanalysis.IDIn(ids...)).Order(ent.Asc(entanalysis.FieldID)).All(f.analyst)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A batch stores, for each analysis, exactly what running it alone stores:
// the shared reads change the cost, not the result. The shared read of
// grouping candidates is complete (the default bound), truncated before
// some windows end (8: alerts whose window it covers use it, the others
// read their own), or too short for any (3); likewise the shared reads of
// related alerts and histories (a tenth of their keys' rows: some keys
// complete, the others read alone).
func TestBatchMatchesOneAtATime(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		for _, c := range []struct {
			near   int
			factor float64
		}{{nearLimit, prefetchFactor}, {8, 0.1}, {3, 0.01}} {
			t.Run(fmt.Sprintf("candidates %d, shared reads ×%g", c.near, c.factor), func(t *testing.T) {
				defer func(n int, f float64) { nearLimit, prefetchFactor = n, f }(nearLimit, prefetchFactor)
				nearLimit, prefetchFactor = c.near, c.factor
				batchMatchesOneAtATime(t, db)
			})
		}
	})
}

func batchMatchesOneAtATime(t *testing.T, db *storage.DB) {
	{
		f := newBatchFixture(t, db, 12)
		s := New(db.Client, &recorder{}, nil, nil)
		alone, batched := f.pending(t, f.targets), f.pending(t, f.targets)
		for _, id := range alone {
			if err := s.run(context.Background(), Args{AnalysisID: id, OrganizationID: f.org.ID}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.runBatch(context.Background(), f.org.ID, batched); err != nil {
			t.Fatal(err)
		}
		a, b := f.analyses(t, alone), f.analyses(t, batched)
		byAlert := map[uuid.UUID]*ent.Analysis{}
		for _, x := range a {
			byAlert[*x.AlertID] = x
		}
		grouped := 0
		for _, y := range b {
			x := byAlert[*y.AlertID]
			if x.Status != enum.JobStatusReady || y.Status != enum.JobStatusReady {
				t.Fatalf("statuses %s / %s", x.Status, y.Status)
			}
			jx, _ := json.Marshal(x.Result)
			jy, _ := json.Marshal(y.Result)
			if string(jx) != string(jy) || x.Verdict != y.Verdict || x.Confidence != y.Confidence || *x.Severity != *y.Severity {
				t.Fatalf("alert %s:\nalone   %s\nbatched %s", *y.AlertID, jx, jy)
			}
			if y.Result["grouping"] != nil {
				grouped++
			}
		}
		if grouped == 0 {
			t.Fatal("no grouping proposed: the fixture should exercise the shared candidates")
		}
	}
}

// TestBatchCrashLosesNothing: a batch that dies before its commit leaves
// every analysis pending for the retry, which completes them all; a run
// after that (River delivers at least once) changes nothing.
func TestBatchCrashLosesNothing(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 5)
		s := New(db.Client, &recorder{}, nil, nil)
		ids := f.pending(t, f.targets)
		crash := errors.New("process killed")
		beforeBatchCommit = func(context.Context, []uuid.UUID) error { return crash }
		t.Cleanup(func() { beforeBatchCommit = nil })
		if err := s.runBatch(context.Background(), f.org.ID, ids); !errors.Is(err, crash) {
			t.Fatalf("crashed batch: %v", err)
		}
		for _, a := range f.analyses(t, ids) {
			if a.Status != enum.JobStatusPending || a.Result != nil {
				t.Fatalf("after the crash: %s with a result %v", a.Status, a.Result != nil)
			}
		}
		beforeBatchCommit = nil
		if err := s.runBatch(context.Background(), f.org.ID, ids); err != nil {
			t.Fatal(err)
		}
		done := f.analyses(t, ids)
		for _, a := range done {
			if a.Status != enum.JobStatusReady || a.CompletedAt == nil {
				t.Fatalf("after the retry: %s", a.Status)
			}
		}
		if err := s.runBatch(context.Background(), f.org.ID, ids); err != nil {
			t.Fatal(err)
		}
		for i, a := range f.analyses(t, ids) {
			if !a.CompletedAt.Equal(*done[i].CompletedAt) {
				t.Fatal("a second delivery redid a finished analysis")
			}
		}
		// The last attempt's failure fails what is still open, with why.
		open := f.pending(t, f.targets[:2])
		beforeBatchCommit = func(context.Context, []uuid.UUID) error { return crash }
		w := s.BatchWorker()
		job := &river.Job[BatchArgs]{JobRow: &rivertype.JobRow{Attempt: 5, MaxAttempts: 5}, Args: BatchArgs{OrganizationID: f.org.ID, AnalysisIDs: append(open, ids[0])}}
		if err := w.Work(context.Background(), job); !errors.Is(err, crash) {
			t.Fatal(err)
		}
		for _, a := range f.analyses(t, open) {
			if a.Status != enum.JobStatusFailed || a.Error == "" {
				t.Fatalf("after the last attempt: %s %q", a.Status, a.Error)
			}
		}
		if a := f.analyses(t, ids[:1])[0]; a.Status != enum.JobStatusReady {
			t.Fatalf("a finished analysis became %s", a.Status)
		}
	})
}

// TestBatchStaysInItsOrganisation: a batch names one organisation, and
// acts as it: analyses of another organisation listed in it (a forged or
// mistaken job) are neither read nor written, and no other organisation's
// alert reaches a result.
func TestBatchStaysInItsOrganisation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 3)
		s := New(db.Client, &recorder{}, nil, nil)
		mine := f.pending(t, f.targets)
		theirAlert, err := db.Client.Alert.Create().SetTitle("Suspicious scheduled task 0").SetSource("defender").
			SetSeverity(enum.SeverityHigh).SetFingerprint("mde:schtask:0").Save(f.theirs)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := db.Client.Analysis.Create().SetAlertID(theirAlert.ID).Save(f.theirs)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.runBatch(context.Background(), f.org.ID, append(slices.Clone(mine), theirs.ID)); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Client.Analysis.Get(f.theirs, theirs.ID); err != nil || got.Status != enum.JobStatusPending || got.Result != nil {
			t.Fatalf("the other organisation's analysis: %v %v", got, err)
		}
		foreign := map[string]bool{theirAlert.ID.String(): true}
		others, err := db.Client.Alert.Query().IDs(f.theirs)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range others {
			foreign[id.String()] = true
		}
		for _, a := range f.analyses(t, mine) {
			if a.Status != enum.JobStatusReady {
				t.Fatalf("own analysis %s", a.Status)
			}
			raw, _ := json.Marshal(a.Result)
			for id := range foreign {
				if strings.Contains(string(raw), id) {
					t.Fatalf("result names the other organisation's alert %s: %s", id, raw)
				}
			}
		}
	})
}

// TestJobParams: automatic built-in analyses go in batches of at most
// BatchSize of one organisation and one priority; provider and incident
// analyses go alone; every job carries its severity's priority.
func TestJobParams(t *testing.T) {
	orgA, orgB := uuid.New(), uuid.New()
	var list []queued
	for i := range BatchSize + 3 {
		list = append(list, queued{id: uuid.New(), org: orgA, batched: true, sev: enum.SeverityCritical})
		if i < 4 {
			list = append(list, queued{id: uuid.New(), org: orgB, batched: true, sev: enum.SeverityCritical},
				queued{id: uuid.New(), org: orgA, batched: true, sev: enum.SeverityInfo},
				queued{id: uuid.New(), org: orgA, sev: enum.SeverityHigh})
		}
	}
	params := jobParams(list)
	type shape struct {
		kind string
		org  uuid.UUID
		n    int
		pri  int
	}
	var got []shape
	for _, p := range params {
		switch a := p.Args.(type) {
		case BatchArgs:
			got = append(got, shape{"batch", a.OrganizationID, len(a.AnalysisIDs), p.InsertOpts.Priority})
		case Args:
			got = append(got, shape{"single", a.OrganizationID, 1, p.InsertOpts.Priority})
		}
	}
	want := []shape{{"single", orgA, 1, 2}, {"single", orgA, 1, 2}, {"single", orgA, 1, 2}, {"single", orgA, 1, 2},
		{"batch", orgA, BatchSize, 1}, {"batch", orgA, 3, 1}, {"batch", orgB, 4, 1}, {"batch", orgA, 4, 4}}
	if !slices.Equal(got, want) {
		t.Fatalf("jobs %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		sev  enum.Severity
		want int
	}{{"", 1}, {enum.SeverityCritical, 1}, {enum.SeverityHigh, 2}, {enum.SeverityMedium, 3}, {enum.SeverityLow, 4}, {enum.SeverityInfo, 4}} {
		if got := priorityOf(c.sev); got != c.want {
			t.Errorf("priorityOf(%q) = %d, want %d", c.sev, got, c.want)
		}
	}
}

// TestBacklogRunsCriticalFirst: a backlog of mixed severities queued in
// the order the alerts came (info, low, …, critical, again and again) is
// worked by the real job queue critical first, then high, medium and the
// rest.
func TestBacklogRunsCriticalFirst(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 0)
		s, runner := newQueued(t, db)
		sevs := []enum.Severity{enum.SeverityInfo, enum.SeverityLow, enum.SeverityMedium, enum.SeverityHigh, enum.SeverityCritical}
		var ids []uuid.UUID
		sevOf := map[uuid.UUID]enum.Severity{}
		for i := range 3 * BatchSize {
			sev := sevs[i%len(sevs)]
			a, err := db.Client.Alert.Create().SetTitle(fmt.Sprintf("alert %d", i)).SetSource("edr").SetSeverity(sev).Save(f.analyst)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
			sevOf[a.ID] = sev
		}
		// One payload per alert, so each is its own enqueue, in arrival order.
		for _, id := range ids {
			queuePayload(t, f.analyst, s, db, []*ent.Alert{{ID: id}})
		}
		alertOf := analysedAlerts(t, f.analyst, db)
		log := recordCommits(t, len(ids))
		startQueue(t, runner)
		select {
		case <-log.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%d of %d analysed", len(log.committed()), len(ids))
		}
		var order []enum.Severity
		for _, id := range log.committed() {
			order = append(order, sevOf[alertOf[id]])
		}
		for i := 1; i < len(order); i++ {
			if priorityOf(order[i]) < priorityOf(order[i-1]) {
				t.Fatalf("analysed in the order %v", order)
			}
		}
		if order[0] != enum.SeverityCritical || order[len(order)-1] == enum.SeverityCritical {
			t.Fatalf("analysed in the order %v", order)
		}
	})
}

// newQueued is a Service that analyses every new alert, on a real job
// queue with one worker a queue, not started yet.
func newQueued(t *testing.T, db *storage.DB) (*Service, *jobs.Runner) {
	t.Helper()
	workers := river.NewWorkers()
	runner, err := jobs.New(db, jobs.Config{Workers: workers, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := New(db.Client, runner, nil, nil).WithPolicy(Policy{Mode: PolicyAnalyseAll})
	river.AddWorker(workers, s.Worker())
	river.AddWorker(workers, s.BatchWorker())
	return s, runner
}

// startQueue starts runner until the test ends.
func startQueue(t *testing.T, runner *jobs.Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = runner.Stop(context.Background()) })
}

// queuePayload hands alerts to s as ingest hands it one payload's new
// alerts, and waits until their jobs are queued.
func queuePayload(t *testing.T, ctx context.Context, s *Service, db *storage.DB, alerts []*ent.Alert) {
	t.Helper()
	var after func(context.Context)
	if err := storage.InTx(ctx, db.Client, func(tx *ent.Tx) error {
		var err error
		after, err = s.OnCreated(ctx, tx, alerts)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	after(ctx)
	if err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// analysedAlerts maps each analysis the acting organisation has to its alert.
func analysedAlerts(t *testing.T, ctx context.Context, db *storage.DB) map[uuid.UUID]uuid.UUID {
	t.Helper()
	rows, err := db.Client.Analysis.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alertOf := map[uuid.UUID]uuid.UUID{}
	for _, r := range rows {
		alertOf[r.ID] = *r.AlertID
	}
	return alertOf
}

// commitLog is the analyses of the batches that committed, in order.
type commitLog struct {
	mu   sync.Mutex
	ids  []uuid.UUID
	done chan struct{} // closed once the awaited number committed
}

// recordCommits logs every batch as it commits (beforeBatchCommit) until
// the test ends; done closes once n analyses have.
func recordCommits(t *testing.T, n int) *commitLog {
	l := &commitLog{done: make(chan struct{})}
	beforeBatchCommit = func(_ context.Context, batch []uuid.UUID) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.ids = append(l.ids, batch...)
		if len(l.ids) == n {
			close(l.done)
		}
		return nil
	}
	t.Cleanup(func() { beforeBatchCommit = nil })
	return l
}

// committed is a copy of the analyses committed so far, in order.
func (l *commitLog) committed() []uuid.UUID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

// TestBacklogPolicy covers each branch of the policy: what gets an
// automatic analysis and what is left for analysis on demand.
func TestBacklogPolicy(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		cases := []struct {
			name    string
			policy  Policy
			backlog int // open analyses before the payload
			// want: which of the payload's alerts (info, repeat of an
			// analysed group, new group, its repeat in the payload) get
			// an analysis.
			want           [4]bool
			info, repeated uint64
		}{
			{"analyse all", Policy{Mode: PolicyAnalyseAll}, 0, [4]bool{true, true, true, true}, 0, 0},
			{"defer always", Policy{Mode: PolicyDeferLowValue, DeferAbove: 0}, 0, [4]bool{false, false, true, false}, 1, 2},
			{"defer, backlog below the limit", Policy{Mode: PolicyDeferLowValue, DeferAbove: 3}, 2, [4]bool{true, true, true, true}, 0, 0},
			{"defer, backlog at the limit", Policy{Mode: PolicyDeferLowValue, DeferAbove: 3}, 3, [4]bool{false, false, true, false}, 1, 2},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := newBatchFixture(t, db, 0)
				s := New(db.Client, &recorder{}, nil, nil).WithPolicy(c.policy)
				mk := func(sev enum.Severity, fp string) *ent.Alert {
					a, err := db.Client.Alert.Create().SetTitle("t").SetSource("edr").SetSeverity(sev).SetFingerprint(fp).Save(f.analyst)
					if err != nil {
						t.Fatal(err)
					}
					return a
				}
				// An analysed group, and the backlog.
				f.pending(t, []*ent.Alert{mk(enum.SeverityHigh, "seen")})
				for range c.backlog - 1 {
					f.pending(t, []*ent.Alert{mk(enum.SeverityLow, "backlog-"+uuid.NewString())})
				}
				// info, a repeat of the analysed group, a new group and
				// its repeat in the same payload, in that order.
				payload := []*ent.Alert{mk(enum.SeverityInfo, "info"), mk(enum.SeverityHigh, "seen"), mk(enum.SeverityHigh, "twice"), mk(enum.SeverityHigh, "twice")}
				if err := storage.InTx(f.analyst, db.Client, func(tx *ent.Tx) error {
					_, err := s.OnCreated(f.analyst, tx, payload)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				var got [4]bool
				for i, a := range payload {
					n, err := db.Client.Analysis.Query().Where(entanalysis.AlertID(a.ID)).Count(f.analyst)
					if err != nil {
						t.Fatal(err)
					}
					got[i] = n == 1
				}
				n := s.Counters()
				if got != c.want || n.DeferredInfo != c.info || n.DeferredRepeat != c.repeated {
					t.Fatalf("analysed %v (want %v); deferred info %d repeats %d (want %d, %d)", got, c.want, n.DeferredInfo, n.DeferredRepeat, c.info, c.repeated)
				}
			})
		}
	})
}

func TestParsePolicy(t *testing.T) {
	for _, c := range []struct {
		mode, above string
		want        Policy
		err         bool
	}{
		{"", "", DefaultPolicy, false},
		{"analyse_all", "", Policy{Mode: PolicyAnalyseAll, DeferAbove: DefaultPolicy.DeferAbove}, false},
		{" Defer_Low_Value ", "0", Policy{Mode: PolicyDeferLowValue, DeferAbove: 0}, false},
		{"", "250", Policy{Mode: PolicyDeferLowValue, DeferAbove: 250}, false},
		{"drop", "", DefaultPolicy, true},
		{"", "-1", DefaultPolicy, true},
		{"", "many", DefaultPolicy, true},
	} {
		got, err := ParsePolicy(c.mode, c.above)
		if (err != nil) != c.err || (err == nil && got != c.want) {
			t.Errorf("ParsePolicy(%q, %q) = %+v, %v", c.mode, c.above, got, err)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"analyse_all", "10"}, {"defer_low_value", "0"}, {"x", "-5"}, {"", "99999999999999999999"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, mode, above string) {
		p, err := ParsePolicy(mode, above)
		if err != nil {
			return
		}
		if (p.Mode != PolicyAnalyseAll && p.Mode != PolicyDeferLowValue) || p.DeferAbove < 0 {
			t.Fatalf("accepted %+v", p)
		}
	})
}

// TestQueueDepth: the backlog by severity is the acting organisation's
// only, for analysts and admins.
func TestQueueDepth(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 7) // critical, high, medium, low, info, critical, high
		s := New(db.Client, &recorder{}, nil, nil)
		ids := f.pending(t, f.targets)
		if err := s.runBatch(context.Background(), f.org.ID, ids[6:]); err != nil { // one high done
			t.Fatal(err)
		}
		q, err := s.Queue(f.analyst)
		if err != nil {
			t.Fatal(err)
		}
		want := []SeverityCount{{enum.SeverityCritical, 2}, {enum.SeverityHigh, 1}, {enum.SeverityMedium, 1}, {enum.SeverityLow, 1}, {enum.SeverityInfo, 1}}
		if q.Depth != 6 || !slices.Equal(q.BySeverity, want) || q.OldestAt == nil {
			t.Fatalf("queue %+v", q)
		}
		theirs, err := s.Queue(f.theirs)
		if err != nil || theirs.Depth != 0 || theirs.OldestAt != nil {
			t.Fatalf("the other organisation's queue: %+v, %v", theirs, err)
		}
		reader, _ := testenv.UserContext(t, db, f.org, enum.RoleReadOnly)
		for name, ctx := range map[string]context.Context{"read-only": reader, "job": viewer.ForJob(context.Background(), f.org.ID), "nobody": context.Background()} {
			if _, err := s.Queue(ctx); err == nil {
				t.Errorf("%s read the queue", name)
			}
		}
		all, err := s.Backlog(context.Background())
		if err != nil || all.Depth != 6 {
			t.Fatalf("backlog of every organisation: %+v, %v", all, err)
		}
	})
}

// TestSharedEntityReadIsExact: the batch's shared read of related alerts
// by entity gives each value exactly what reading it alone gives, newest
// first, however many of another organisation's alerts (newer, same
// value) there are, and however many values the batch holds.
func TestSharedEntityReadIsExact(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newBatchFixture(t, db, 0)
		t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		mk := func(ctx context.Context, at time.Time, values ...string) *ent.Alert {
			ents := make([]schematype.Entity, len(values))
			for i, v := range values {
				ents[i] = schematype.Entity{Type: "ipv4", Value: v}
			}
			a, err := db.Client.Alert.Create().SetTitle("beacon").SetSource("edr").SetSeverity(enum.SeverityHigh).
				SetFirstSeenAt(at).SetLastSeenAt(at).SetEntities(ents).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		var batch []*ent.Alert
		for i := range 12 {
			common, rare := "203.0.113.1", fmt.Sprintf("192.0.2.%d", i)
			for k := range 3 {
				mk(f.analyst, t0.Add(-time.Duration(10*i+k)*time.Minute), common, rare)
			}
			// Newer alerts of the other organisation with the same values.
			for k := range relatedPerQuery + 2 {
				mk(f.theirs, t0.Add(time.Duration(10*i+k)*time.Minute), common, rare)
			}
			batch = append(batch, mk(f.analyst, t0.Add(time.Hour), rare, common))
		}
		ctx := jobContext(context.Background(), f.org.ID)
		shared := newBatchReader(db.Client, batch)
		if err := shared.prefetch(ctx); err != nil {
			t.Fatal(err)
		}
		for _, v := range append([]string{"203.0.113.1"}, "192.0.2.0", "192.0.2.11") {
			got, ok := shared.shared["e:"+v]
			if !ok {
				t.Fatalf("%s: not in the shared read", v)
			}
			alone, err := db.Client.Alert.Query().Where(entityPred(v)).Order(ent.Desc(alert.FieldLastSeenAt), ent.Desc(alert.FieldID)).
				Limit(relatedPerQuery + 1).IDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ids := storage.AlertIDs(got); !slices.Equal(ids, alone) {
				t.Errorf("%s: shared read %v, alone %v", v, ids, alone)
			}
			for _, a := range got {
				if a.OrganizationID != uuid.Nil && a.OrganizationID != f.org.ID {
					t.Errorf("%s: another organisation's alert %s", v, a.ID)
				}
			}
		}
	})
}
