package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// asUser keeps the statements the ent client sends as one user (what a
// request runs once it is authenticated; background jobs act as other
// principals).
func asUser(user *atomic.Pointer[uuid.UUID]) func(storage.Statement) bool {
	return func(s storage.Statement) bool {
		v, id := viewer.FromContext(s.Ctx), user.Load()
		return v != nil && id != nil && v.Kind == viewer.KindUser && v.UserID == *id
	}
}

// listFixture is 50 alerts, each from a connector, assigned, linked to its
// own incident, with a 3 KB raw payload; and the 50 incidents, each with
// an assignee and a group.
type listFixture struct {
	connector *ent.Connector
	users     []*ent.User
	group     *ent.Group
}

const listFixtureSize = 50

func seedNested(t *testing.T, db *storage.DB, orgID uuid.UUID) listFixture {
	t.Helper()
	ctx := auth.System(context.Background())
	org, err := db.Client.Organization.Get(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	var f listFixture
	f.connector, _ = testenv.Connector(t, db, org, "generic")
	f.users = []*ent.User{testenv.User(t, db, org, enum.RoleAnalyst), testenv.User(t, db, org, enum.RoleAnalyst)}
	if f.group, err = db.Client.Group.Create().SetOrganizationID(orgID).SetName("Tier 2").Save(ctx); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]string{"blob": strings.Repeat("x", 3000)})
	now := time.Now().UTC()
	for i := range listFixtureSize {
		u := f.users[i%2]
		inc, err := db.Client.Incident.Create().SetOrganizationID(orgID).SetNumber(i + 1).SetTitle(fmt.Sprint("incident ", i)).
			SetAssigneeID(u.ID).SetGroupID(f.group.ID).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fp := fmt.Sprintf("nested-%d", i)
		err = db.Client.Alert.Create().SetOrganizationID(orgID).SetSource("generic").SetTitle(fp).SetSeverity(enum.SeverityHigh).
			SetFingerprint(fp).SetDedupKey(fp).SetFirstSeenAt(now).SetLastSeenAt(now.Add(-time.Duration(i) * time.Second)).SetIngestedAt(now).
			SetConnectorID(f.connector.ID).SetAssigneeID(u.ID).SetIncidentID(inc.ID).SetRaw(raw).Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// No list costs a query per row or per nested object: a page of 50 alerts
// or incidents, nested connector, assignee, incident, group and severity
// counts included, runs as many statements as a page of 1, over GraphQL
// and over REST, on both databases; and the nested objects are the right
// ones.
func TestListsNoNPlusOne(t *testing.T) {
	t.Parallel()
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		var user atomic.Pointer[uuid.UUID]
		counter := countStatements(t, db, asUser(&user))
		env := apitest.Start(t, db)
		admin := env.Admin()
		me := admin.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		id := uuid.MustParse(me.String("id"))
		user.Store(&id)
		f := seedNested(t, db, uuid.MustParse(me.String("organization_id")))

		const alertsQuery = `query($n: Int) { alerts(first: $n) { totalCount edges { node { id title
			connector { id name } assignee { id handle }
			incident { id title assignee { id } group { id name } alertSeverities { value count } } } } } }`
		const incidentsQuery = `query($n: Int) { incidents(first: $n) { totalCount edges { node { id
			assignee { id handle } group { id name } alertSeverities { value count } } } } }`
		users := map[string]bool{f.users[0].ID.String(): true, f.users[1].ID.String(): true}
		// incidentOK checks an incident's nested objects; REST gives an
		// alert's incident as a reference: the incident's id and its naming
		// fields, never its own nested objects or SLA state.
		incidentOK := func(inc map[string]any, deep bool) bool {
			sev := len(listOf(inc["alertSeverities"])) + len(listOf(inc["alert_severities"]))
			if !deep {
				_, sla := inc["sla"]
				return sev == 0 && !sla && inc["assignee_id"] == nil && digS(inc, "title") != "" && inc["number"] != nil && digS(inc, "status") == "new"
			}
			return sev == 1 && users[digS(inc, "assignee", "id")] && digS(inc, "group", "id") == f.group.ID.String()
		}
		alertOK := func(deep bool) func(map[string]any) bool {
			return func(it map[string]any) bool {
				ok := digS(it, "connector", "id") == f.connector.ID.String() && users[digS(it, "assignee", "id")] && incidentOK(obj(it["incident"]), deep)
				if !deep { // references: a connector's name and type, not its settings
					_, settings := obj(it["connector"])["settings"]
					ok = ok && digS(it, "connector", "name") == f.connector.Name && digS(it, "connector", "type") == f.connector.Type && !settings &&
						digS(it, "incident_id") == digS(it, "incident", "id")
				}
				return ok
			}
		}
		// coldRefs empties the server's reference cache (loaders.RefCache:
		// any write to a connector, user or incident does), so that REST's
		// alert pages read their references, and are compared, cold.
		coldRefs := func(t *testing.T) {
			if err := db.Client.Connector.UpdateOneID(f.connector.ID).SetName(f.connector.Name).Exec(auth.System(context.Background())); err != nil {
				t.Fatal(err)
			}
		}
		surfaces := []struct {
			name  string
			fetch func(t *testing.T, n int) []map[string]any
			ok    func(map[string]any) bool
			refs  bool // the page's references are cached across requests
		}{
			{"graphql alerts", func(t *testing.T, n int) []map[string]any {
				g := admin.GraphQL(alertsQuery, map[string]any{"n": n})
				if len(g.Errors) > 0 {
					t.Fatalf("errors: %v", g.Errors)
				}
				return nodes(g.Data["alerts"])
			}, alertOK(true), false},
			{"graphql incidents", func(t *testing.T, n int) []map[string]any {
				g := admin.GraphQL(incidentsQuery, map[string]any{"n": n})
				if len(g.Errors) > 0 {
					t.Fatalf("errors: %v", g.Errors)
				}
				return nodes(g.Data["incidents"])
			}, func(it map[string]any) bool { return incidentOK(it, true) }, false},
			{"rest alerts", func(t *testing.T, n int) []map[string]any {
				return admin.Must(t, http.MethodGet, fmt.Sprint("/api/v1/alerts?limit=", n), nil, http.StatusOK).Items()
			}, alertOK(false), true},
			{"rest alerts include=raw", func(t *testing.T, n int) []map[string]any {
				return admin.Must(t, http.MethodGet, fmt.Sprint("/api/v1/alerts?include=raw&limit=", n), nil, http.StatusOK).Items()
			}, alertOK(false), true},
			{"rest incidents", func(t *testing.T, n int) []map[string]any {
				return admin.Must(t, http.MethodGet, fmt.Sprint("/api/v1/incidents?limit=", n), nil, http.StatusOK).Items()
			}, func(it map[string]any) bool { return incidentOK(it, true) }, false},
		}
		for _, s := range surfaces {
			t.Run(s.name, func(t *testing.T) {
				s.fetch(t, 1) // warm: per-organisation caches (SLA settings) fill on first use
				counts := map[int]int{}
				for _, n := range []int{1, listFixtureSize} {
					if s.refs {
						coldRefs(t)
					}
					var items []map[string]any
					seen := counter.during(func() { items = s.fetch(t, n) })
					got := len(seen)
					counts[n] = got
					t.Logf("page of %d: %d statements", n, got)
					if len(items) != n {
						t.Fatalf("page of %d: %d items", n, len(items))
					}
					for _, it := range items {
						if !s.ok(it) {
							t.Fatalf("nested objects wrong: %v", it)
						}
					}
					if got == 0 {
						t.Fatalf("no statement counted: %v", seen)
					}
					if n == listFixtureSize && got != counts[1] {
						t.Fatalf("a page of %d ran %d statements, a page of 1 ran %d: %s", n, got, counts[1], strings.Join(seen, "\n"))
					}
				}
				if s.refs { // warm, the references cost nothing
					var items []map[string]any
					seen := counter.during(func() { items = s.fetch(t, listFixtureSize) })
					t.Logf("warm page of %d: %d statements", listFixtureSize, len(seen))
					if len(seen) >= counts[listFixtureSize] || len(items) != listFixtureSize {
						t.Fatalf("a warm page of %d ran %d statements, a cold one %d: %s", listFixtureSize, len(seen), counts[listFixtureSize], strings.Join(seen, "\n"))
					}
					for _, it := range items {
						if !s.ok(it) {
							t.Fatalf("nested objects wrong from the cache: %v", it)
						}
					}
				}
			})
		}

		// REST's page of 50 leaves the 3 KB payloads out unless asked.
		t.Run("rest raw", func(t *testing.T) {
			light := admin.Must(t, http.MethodGet, "/api/v1/alerts?limit=50", nil, http.StatusOK)
			full := admin.Must(t, http.MethodGet, "/api/v1/alerts?limit=50&include=raw", nil, http.StatusOK)
			t.Logf("page of 50: %d bytes, %d with include=raw", len(light.Raw), len(full.Raw))
			for _, it := range light.Items() {
				if _, ok := it["raw"]; ok {
					t.Fatalf("raw in a list item without include: %s", clip(light.Raw))
				}
			}
			for _, it := range full.Items() {
				if !strings.Contains(digS(it, "raw", "blob"), "xxx") {
					t.Fatalf("include=raw item without its payload: %v", it)
				}
			}
			// Every payload's bytes are saved; what is left is the alerts
			// with their nested connector, assignee and incident.
			if len(full.Raw)-len(light.Raw) < listFixtureSize*3000 || len(light.Raw) > len(full.Raw)/2 {
				t.Fatalf("page of 50: %d bytes, %d with include=raw", len(light.Raw), len(full.Raw))
			}
			one := admin.Must(t, http.MethodGet, "/api/v1/alerts/"+digS(light.Items()[0], "id"), nil, http.StatusOK)
			if !strings.Contains(digS(one.Body, "raw", "blob"), "xxx") {
				t.Fatalf("single GET without raw: %s", clip(one.Raw))
			}
			bad := admin.Must(t, http.MethodGet, "/api/v1/alerts?include=payload", nil, http.StatusUnprocessableEntity)
			if !strings.Contains(string(bad.Raw), `"include"`) {
				t.Fatalf("422 does not name include: %s", bad.Raw)
			}
		})
	})
}
func listOf(v any) []any { l, _ := v.([]any); return l }

func clip(b []byte) string { return string(b[:min(len(b), 500)]) }
