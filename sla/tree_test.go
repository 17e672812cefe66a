package sla_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

// treeFixture is a provider with one client organisation and an unrelated
// provider, each with critical incidents: the provider's acknowledged
// after 10 minutes, the client's after 20 minutes and one not yet, the
// other tree's after 30 minutes.
type treeFixture struct {
	prov, client, other *tenant
	// provTree is the provider's admin acting in it, reaching the client
	// (as the authentication middleware builds it); clientPicked is the
	// same admin naming the client with X-Seliq-Org.
	provTree, clientPicked context.Context
}

func newTreeFixture(t *testing.T, db *storage.DB) *treeFixture {
	c := &clock{}
	f := &treeFixture{prov: newTenant(t, db, "mssp", c, nil)}
	f.client = newTenant(t, db, "client-a", c, nil, testenv.Parent(f.prov.org.ID))
	f.other = newTenant(t, db, "other", c, nil)
	v := *viewer.FromContext(f.prov.ctx)
	v.VisibleOrgIDs = []uuid.UUID{f.prov.org.ID, f.client.org.ID}
	f.provTree = viewer.NewContext(context.Background(), &v)
	p := v
	p.OrgID, p.VisibleOrgIDs, p.Picked = f.client.org.ID, []uuid.UUID{f.client.org.ID}, true
	f.clientPicked = viewer.NewContext(context.Background(), &p)

	sys := privacy.DecisionContext(context.Background(), privacy.Allow)
	ack := func(inc *ent.Incident, after time.Duration) {
		if err := db.Client.Incident.UpdateOneID(inc.ID).SetAcknowledgedAt(inc.CreatedAt.Add(after)).Exec(sys); err != nil {
			t.Fatal(err)
		}
	}
	ack(f.prov.open(t, "provider's", enum.SeverityCritical, nil), 10*time.Minute)
	ack(f.client.open(t, "client's acknowledged", enum.SeverityCritical, nil), 20*time.Minute)
	f.client.open(t, "client's open", enum.SeverityCritical, nil)
	ack(f.other.open(t, "other tree's", enum.SeverityCritical, nil), 30*time.Minute)
	return f
}

// The SLA figures roll up over a provider's tree through the read-only
// tree viewer: the tree's total and a row per organisation, never another
// tree's incidents; a client organisation's user is refused and a named
// organisation wins over "all".
func TestMetricsRollUp(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newTreeFixture(t, db)
		all := str("all")
		type ackFigures struct {
			tracked, met, count int
			mean                float64
		}
		ackOf := func(rows []*sla.MetricRow) ackFigures {
			r := rows[0] // critical / acknowledge, or the acknowledge total
			if r.Timer != enum.SLATimerAcknowledge {
				t.Fatalf("first row is %v", r.Timer)
			}
			var mean float64
			if r.Time.MeanSeconds != nil {
				mean = *r.Time.MeanSeconds
			}
			return ackFigures{r.Tracked, r.Met, r.Time.Count, mean}
		}

		m, err := f.prov.sla.Metrics(f.provTree, nil, nil, all)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ackOf(m.Total), (ackFigures{3, 2, 2, 900}); got != want {
			t.Fatalf("tree total %+v, want %+v (the other tree counted?)", got, want)
		}
		if got, want := ackOf(m.Rows), (ackFigures{3, 2, 2, 900}); got != want {
			t.Fatalf("tree critical row %+v, want %+v", got, want)
		}
		// 600 s and 1200 s: p90 interpolates to 1140.
		if p90 := m.Total[0].Time.P90Seconds; p90 == nil || *p90 != 1140 {
			t.Fatalf("tree p90 %v, want 1140", p90)
		}
		if len(m.Organizations) != 2 {
			t.Fatalf("%d organisation rows, want the provider and its client", len(m.Organizations))
		}
		for i, want := range []struct {
			org *tenant
			ack ackFigures
		}{{f.prov, ackFigures{1, 1, 1, 600}}, {f.client, ackFigures{2, 1, 1, 1200}}} {
			row := m.Organizations[i]
			if row.OrganizationID != want.org.org.ID || row.OrganizationName != want.org.org.Name {
				t.Fatalf("row %d is %s, want %s (the provider first)", i, row.OrganizationName, want.org.org.Name)
			}
			if got := ackOf(row.Total); got != want.ack {
				t.Fatalf("%s: %+v, want %+v", row.OrganizationName, got, want.ack)
			}
		}

		// The acting organisation alone, without "all": no rows.
		own, err := f.prov.sla.Metrics(f.prov.ctx, nil, nil, nil)
		if err != nil || own.Organizations != nil || ackOf(own.Total) != (ackFigures{1, 1, 1, 600}) {
			t.Fatalf("own figures %+v %v", own, err)
		}
		// X-Seliq-Org wins over "all".
		picked, err := f.prov.sla.Metrics(f.clientPicked, nil, nil, all)
		if err != nil || picked.Organizations != nil || ackOf(picked.Total) != (ackFigures{2, 1, 1, 1200}) {
			t.Fatalf("named organisation with all: %+v %v", picked, err)
		}
		// A client organisation's user, and a job, are refused.
		_, err = f.client.sla.Metrics(f.client.ctx, nil, nil, all)
		wantCode(t, err, apperr.Forbidden)
		_, err = f.prov.sla.Metrics(viewer.ForJob(context.Background(), f.prov.org.ID), nil, nil, all)
		wantCode(t, err, apperr.Forbidden)
		_, err = f.prov.sla.Metrics(f.provTree, nil, nil, str("mssp"))
		wantInvalid(t, err, "organization")
		// The dashboard widget's figures take the same roll-up.
		if _, err := f.prov.sla.SLAFigures(f.provTree, time.Now().Add(-time.Hour), time.Now().Add(time.Minute), all); err != nil {
			t.Fatal(err)
		}
	})
}

// The MSSP SLA queue: a provider user lists the incidents of its whole
// tree by SLA state, sorted by due time, each naming its organisation; a
// client organisation's user never gets it, X-Seliq-Org wins, and the
// widening needs sla_state.
func TestQueueAcrossTheTree(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newTreeFixture(t, db)
		svc := incidents.New(db.Client).WithSLA(f.prov.sla)
		all := str("all")
		bySLA := &ent.IncidentOrder{Direction: "ASC", Field: ent.IncidentOrderFieldSLADueAt}
		queue := func(ctx context.Context, org *string, states ...enum.SLAState) ([]*ent.Incident, error) {
			conn, err := svc.List(ctx, &incidents.IncidentFilter{SLAState: states, Organization: org}, paging.Page{}, bySLA)
			if err != nil {
				return nil, err
			}
			var out []*ent.Incident
			for _, e := range conn.Edges {
				out = append(out, e.Node)
			}
			return out, nil
		}
		// The client's open incident still waits for acknowledgement (ok);
		// every incident's resolve timer runs.
		got, err := queue(f.provTree, all, enum.SLAStateOk)
		if err != nil {
			t.Fatal(err)
		}
		orgs := map[uuid.UUID]int{}
		for i, inc := range got {
			orgs[inc.OrganizationID]++
			if i > 0 && inc.SLADueAt.Before(*got[i-1].SLADueAt) {
				t.Fatal("not sorted by SLA due time")
			}
		}
		if len(got) != 3 || orgs[f.prov.org.ID] != 1 || orgs[f.client.org.ID] != 2 {
			t.Fatalf("tree queue: %d incidents by organisation %v, want the provider's 1 and the client's 2", len(got), orgs)
		}
		for _, tc := range []struct {
			name string
			ctx  context.Context
			org  *string
			want int
		}{
			{"acting organisation alone", f.prov.ctx, nil, 1},
			{"X-Seliq-Org wins over all", f.clientPicked, all, 2},
			{"the client's own queue", f.client.ctx, nil, 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := queue(tc.ctx, tc.org, enum.SLAStateOk)
				if err != nil || len(got) != tc.want {
					t.Fatalf("%d incidents (%v), want %d", len(got), err, tc.want)
				}
			})
		}
		_, err = queue(f.client.ctx, all, enum.SLAStateOk)
		wantCode(t, err, apperr.Forbidden)
		// Another provider's tree-wide queue is its own tree's.
		theirs, err := queue(f.other.ctx, all, enum.SLAStateOk)
		if err != nil || len(theirs) != 1 || theirs[0].OrganizationID != f.other.org.ID {
			t.Fatalf("the other provider's queue: %d incidents (%v)", len(theirs), err)
		}
		_, err = queue(f.provTree, all)
		wantInvalid(t, err, "filter.organization")
		_, err = queue(f.provTree, str("client-a"), enum.SLAStateOk)
		wantInvalid(t, err, "filter.organization")
	})
}
