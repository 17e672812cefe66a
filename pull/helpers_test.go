package pull_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/pull"
	"github.com/seliq/seliq/storage"
)

// fixture is one organisation with an admin, the services a server wires,
// and a runner that only enqueues unless started.
type fixture struct {
	db         *storage.DB
	org        *ent.Organization
	admin      *ent.User
	ctx        context.Context // the admin's
	box        *secrets.Box
	pull       *pull.Service
	connectors *connectors.Service
	ingest     *ingest.Service
	runner     *jobs.Runner
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testConfig polls in small pages with millisecond backoff.
func testConfig() pull.Config {
	return pull.Config{Backoff: time.Millisecond, PageSize: 4, MaxPages: 3}
}

func newFixture(t testing.TB, db *storage.DB, slug string, box *secrets.Box, cfg pull.Config, jcfg jobs.Config) *fixture {
	t.Helper()
	org := testenv.Org(t, db, testenv.Slug(slug))
	admin := testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("admin-"+slug), testenv.Email("admin@"+slug+".test"))
	return wire(t, db, org, admin, box, cfg, jcfg)
}

// wire builds the services over db (a replica of another fixture's
// database gives a second replica).
func wire(t testing.TB, db *storage.DB, org *ent.Organization, admin *ent.User, box *secrets.Box, cfg pull.Config, jcfg jobs.Config) *fixture {
	t.Helper()
	workers := river.NewWorkers()
	jcfg.Workers = workers
	if jcfg.Logger == nil {
		jcfg.Logger = quietLog()
	}
	runner, err := jobs.New(db, jcfg)
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(db, ingest.Options{})
	p := pull.New(db.Client, in, box, outbound.Fixed{Policy: vendorfake.Policy()}, runner, cfg, quietLog())
	river.AddWorker(workers, p.Worker())
	return &fixture{db: db, org: org, admin: admin, ctx: testenv.As(admin, org), box: box, pull: p,
		connectors: connectors.New(db.Client, box).WithScheduler(p), ingest: in, runner: runner}
}

// start works the jobs until the test ends.
func (f *fixture) start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := f.runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = f.runner.Stop(stop)
		cancel()
	})
}

// job is the organisation's system principal, as the worker acts.
func (f *fixture) job() context.Context { return viewer.ForJob(context.Background(), f.org.ID) }

func (f *fixture) sentinelone(t testing.TB, srv *vendorfake.Server, token string) *ent.Connector {
	t.Helper()
	mode := enum.ConnectorModePull
	created, err := f.connectors.Create(f.ctx, connectors.CreateConnectorInput{
		Name: "S1", Type: "sentinelone", Mode: &mode,
		Settings: map[string]any{"base_url": srv.URL, "api_token": token},
	})
	if err != nil {
		t.Fatal(err)
	}
	return created.Connector
}

func (f *fixture) reload(t testing.TB, id fmt.Stringer) *ent.Connector {
	t.Helper()
	all := f.db.Client.Connector.Query().AllX(f.job())
	for _, c := range all {
		if c.ID.String() == id.String() {
			return c
		}
	}
	t.Fatalf("connector %s not found", id)
	return nil
}

// externalIDs are the external ids of the organisation's alerts, sorted,
// with their occurrences.
func (f *fixture) externalIDs(t testing.TB) ([]string, map[string]int) {
	t.Helper()
	alerts := f.db.Client.Alert.Query().Order(ent.Asc(alert.FieldExternalID)).AllX(f.job())
	ids := make([]string, len(alerts))
	occ := map[string]int{}
	for i, a := range alerts {
		ids[i] = a.ExternalID
		occ[a.ExternalID] = a.Occurrences
	}
	return ids, occ
}

var t0 = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

// threats makes n SentinelOne threats from index from, two per second.
func threats(from, n int) []vendorfake.Record {
	out := make([]vendorfake.Record, n)
	for i := range n {
		k := from + i
		at := t0.Add(time.Duration(k/2) * time.Second)
		id := fmt.Sprintf("2%06d", k)
		doc := fmt.Sprintf(`{"id":%q,"threatInfo":{"threatId":%q,"threatName":"Ransom.%d.exe","confidenceLevel":"malicious","createdAt":%q,"sha256":"%064x","filePath":"C:\\Users\\bob\\Ransom.%d.exe","classification":"Ransomware"},"agentRealtimeInfo":{"agentComputerName":"ws-%d"},"agentDetectionInfo":{"agentIpV4":"10.0.0.%d"},"indicators":[{"category":"Ransomware","tactics":[{"techniques":[{"title":"T1486"}]}]}]}`,
			id, id, k, at.Format(time.RFC3339Nano), k, k, k%7, k%250+1)
		out[i] = vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
	}
	return out
}

func recordIDs(recs []vendorfake.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
