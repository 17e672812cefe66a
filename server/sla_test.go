package server_test

// End-to-end tests of the SLA routes: settings, the incidents' timers on
// REST rows, the SLA queue's filter and sort, and the SLA metrics, on both
// surfaces.

import (
	"net/http"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestSLARoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := &suite{}
		*s = *newSuite(t, env, newCoverage())

		t.Run("settings", func(t *testing.T) {
			res := s.rest(t, s.reader, http.MethodGet, "/api/v1/settings/sla", nil, http.StatusOK)
			if res.String("clock_mode") != "24x7" {
				t.Fatalf("defaults: %s", res.Raw)
			}
			crit := obj(res.Body["targets"].([]any)[0])
			if crit["severity"] != "critical" || crit["acknowledge"] != "15m" || crit["resolve"] != "4h" {
				t.Fatalf("critical target: %s", res.Raw)
			}
			for _, bad := range []struct {
				body  map[string]any
				field string
			}{
				{map[string]any{"time_zone": "Nowhere/Land"}, "time_zone"},
				{map[string]any{"targets": []any{map[string]any{"severity": "high", "acknowledge": "-1h"}}}, "acknowledge"},
				{map[string]any{"days": []any{map[string]any{"day": "monday", "opens": "9am", "closes": "17:00"}}}, "opens"},
				{map[string]any{"holidays": []string{"25/12/2026"}}, "holidays"},
				{map[string]any{"escalation_owner_id": fakeID}, "escalation_owner_id"},
				{map[string]any{"clock_mode": "sometimes"}, "clock_mode"},
			} {
				wantLoc(t, s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/sla", bad.body, http.StatusUnprocessableEntity), bad.field)
			}
			s.rest(t, s.analyst, http.MethodPatch, "/api/v1/settings/sla", map[string]any{"time_zone": "UTC"}, http.StatusForbidden)
			s.rest(t, s.reader, http.MethodPatch, "/api/v1/settings/sla", map[string]any{"time_zone": "UTC"}, http.StatusForbidden)
			s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/settings/sla", nil, http.StatusUnauthorized)

			res = s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/sla", map[string]any{
				"clock_mode": "business_hours", "time_zone": "Europe/Paris",
				"days":                []any{map[string]any{"day": "monday", "opens": "22:00", "closes": "06:00"}},
				"holidays":            []string{"2026-12-25"},
				"escalation_owner_id": s.analystID,
				"targets":             []any{map[string]any{"severity": "info", "resolve": "2d"}, map[string]any{"severity": "low", "acknowledge": nil}},
			}, http.StatusOK)
			if res.String("clock_mode") != "business_hours" || res.String("escalation_owner_id") != s.analystID ||
				obj(res.Body["targets"].([]any)[4])["resolve"] != "2d" || obj(res.Body["targets"].([]any)[3])["acknowledge"] != nil {
				t.Fatalf("patched: %s", res.Raw)
			}
			g := s.gql(t, s.admin, `mutation { updateSLASettings(input: {clockMode: TWENTY_FOUR_SEVEN, escalationOwnerID: null, targets: [{severity: INFO, resolve: null}]}) { clockMode timeZone escalationOwnerID } }`, nil)
			if dig(g, "updateSLASettings", "clockMode") != "TWENTY_FOUR_SEVEN" || dig(g, "updateSLASettings", "escalationOwnerID") != nil {
				t.Fatalf("GraphQL update: %v", g)
			}
			g = s.gql(t, s.reader, `{ slaSettings { clockMode timeZone days { day opens closes } holidays } }`, nil)
			if dig(g, "slaSettings", "timeZone") != "Europe/Paris" {
				t.Fatalf("GraphQL read: %v", g)
			}
			s.gqlErr(t, s.analyst, `mutation { updateSLASettings(input: {timeZone: "UTC"}) { timeZone } }`, nil, "FORBIDDEN")
		})

		t.Run("queue", func(t *testing.T) {
			var ids []string
			// low's acknowledge target was cleared above: medium is the second tracked one.
			for _, sev := range []string{"medium", "critical", "info"} {
				res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": sev + " one", "severity": sev}, http.StatusCreated)
				ids = append(ids, res.String("id"))
				ack := obj(dig(res.Body, "sla", "acknowledge"))
				switch sev {
				case "info":
					if res.Body["sla"] == nil || dig(res.Body, "sla", "acknowledge") != nil || res.Body["sla_due_at"] != nil {
						t.Fatalf("info is not tracked: %s", res.Raw)
					}
				default:
					if ack["state"] != "ok" || ack["due_at"] == nil || res.Body["sla_due_at"] != ack["due_at"] {
						t.Fatalf("%s timers: %s", sev, res.Raw)
					}
				}
			}
			res := s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?sla_state=ok&sort=sla_due_at", nil, http.StatusOK)
			items := res.Items()
			if len(items) != 2 || items[0]["id"] != ids[1] || items[1]["id"] != ids[0] {
				t.Fatalf("ok queue by due time, want critical then medium: %s", res.Raw)
			}
			if items[0]["organization_id"] != s.providerOrgID {
				t.Fatalf("a queue row names its organisation: %v", items[0])
			}
			res = s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?sla_state=at_risk,breached&sort=sla_due_at", nil, http.StatusOK)
			if len(res.Items()) != 0 {
				t.Fatalf("nothing is at risk yet: %s", res.Raw)
			}
			wantLoc(t, s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?sla_state=paused", nil, http.StatusUnprocessableEntity), "query:sla_state")
			g := s.gql(t, s.reader, `{ incidents(filter: {slaState: [OK]}, orderBy: {field: SLA_DUE_AT, direction: DESC}) { edges { node { id sla { resolve { state dueAt } } } } } }`, nil)
			if edges := dig(g, "incidents", "edges").([]any); len(edges) != 2 || digS(edges[0], "node", "id") != ids[0] {
				t.Fatalf("GraphQL queue: %v", g)
			}

			// A person's note acknowledges: the timer is met.
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+ids[1]+"/notes", map[string]any{"body": "on it"}, http.StatusCreated)
			res = s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents/"+ids[1], nil, http.StatusOK)
			if digS(res.Body, "sla", "acknowledge", "state") != "met" {
				t.Fatalf("after a note: %s", res.Raw)
			}
		})

		t.Run("metrics", func(t *testing.T) {
			res := s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/sla", nil, http.StatusOK)
			rows := res.Body["rows"].([]any)
			crit := obj(rows[0])
			if len(rows) != 10 || crit["severity"] != "critical" || crit["timer"] != "acknowledge" || num(crit["tracked"]) != 1 ||
				num(crit["met"]) != 1 || num(crit["attainment_percent"]) != 100 || num(dig(crit, "time", "count")) != 1 {
				t.Fatalf("metrics: %s", res.Raw)
			}
			since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			res = s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/sla?since="+since+"&until="+until, nil, http.StatusOK)
			if num(obj(res.Body["total"].([]any)[0])["tracked"]) != 2 {
				t.Fatalf("total over every severity: %s", res.Raw)
			}
			wantLoc(t, s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/sla?since="+until+"&until="+since, nil, http.StatusUnprocessableEntity), "query:until")
			g := s.gql(t, s.reader, `{ slaMetrics { total { timer tracked met breached attainmentPercent atRiskNow time { count meanSeconds medianSeconds p90Seconds } } } }`, nil)
			if len(dig(g, "slaMetrics", "total").([]any)) != 2 {
				t.Fatalf("GraphQL metrics: %v", g)
			}
		})
		t.Run("tenancy", func(t *testing.T) {
			s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
			s.createUser(t, s.admin.As("acme"), acmeAdminEmail, "admin", acmeAdminPass)
			acme := env.Login(acmeAdminEmail, acmeAdminPass)
			if tz := s.rest(t, acme, http.MethodGet, "/api/v1/settings/sla", nil, http.StatusOK).String("time_zone"); tz == "Europe/Paris" {
				t.Fatalf("a client organisation reads the provider's settings")
			}
			s.rest(t, acme, http.MethodPatch, "/api/v1/settings/sla", map[string]any{"time_zone": "Asia/Tokyo"}, http.StatusOK)
			if tz := s.rest(t, s.reader, http.MethodGet, "/api/v1/settings/sla", nil, http.StatusOK).String("time_zone"); tz != "Europe/Paris" {
				t.Fatalf("a client's change reached the provider: %s", tz)
			}
			if tz := s.rest(t, s.admin.As("acme"), http.MethodGet, "/api/v1/settings/sla", nil, http.StatusOK).String("time_zone"); tz != "Asia/Tokyo" {
				t.Fatalf("the provider acting in acme reads %s", tz)
			}
			s.rest(t, acme.As(s.providerOrgID), http.MethodGet, "/api/v1/settings/sla", nil, http.StatusForbidden)
			s.rest(t, acme.As(s.providerOrgID), http.MethodPatch, "/api/v1/settings/sla", map[string]any{"time_zone": "UTC"}, http.StatusForbidden)
			if n := len(s.rest(t, acme, http.MethodGet, "/api/v1/incidents?sla_state=ok,met", nil, http.StatusOK).Items()); n != 0 {
				t.Fatalf("acme's queue shows %d of the provider's incidents", n)
			}
			if n := num(obj(s.rest(t, acme, http.MethodGet, "/api/v1/metrics/sla", nil, http.StatusOK).Body["total"].([]any)[0])["tracked"]); n != 0 {
				t.Fatalf("acme's metrics count %v of the provider's incidents", n)
			}

			// The provider's roll-up and MSSP queue across its tree (the
			// read-only tree viewer): acme's incident is in them, acme never
			// gets them, X-Seliq-Org wins.
			acmeInc := s.rest(t, acme, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Client phish", "severity": "critical"}, http.StatusCreated).String("id")
			acmeID := s.rest(t, acme, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK).String("organization_id")
			roll := s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/sla?organization=all", nil, http.StatusOK)
			rows, _ := roll.Body["organizations"].([]any)
			if len(rows) != 2 || obj(rows[0])["organization_id"] != s.providerOrgID || obj(rows[1])["organization_id"] != acmeID ||
				num(obj(obj(rows[1])["total"].([]any)[0])["tracked"]) != 1 {
				t.Fatalf("the provider's roll-up: %s", roll.Raw)
			}
			own := num(obj(s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/sla", nil, http.StatusOK).Body["total"].([]any)[0])["tracked"])
			if tree := num(obj(roll.Body["total"].([]any)[0])["tracked"]); tree != own+1 {
				t.Fatalf("tree total tracked %v, want the provider's %v and acme's 1", tree, own)
			}
			s.rest(t, acme, http.MethodGet, "/api/v1/metrics/sla?organization=all", nil, http.StatusForbidden)
			s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/metrics/sla?organization=all", nil, http.StatusUnauthorized)
			if named := s.rest(t, s.admin.As("acme"), http.MethodGet, "/api/v1/metrics/sla?organization=all", nil, http.StatusOK); named.Body["organizations"] != nil {
				t.Fatalf("X-Seliq-Org did not win over all: %s", named.Raw)
			}
			g := s.gql(t, s.reader, `{ slaMetrics(organization: "all") { organizations { organizationName total { tracked } } } }`, nil)
			if len(dig(g, "slaMetrics", "organizations").([]any)) != 2 {
				t.Fatalf("GraphQL roll-up: %v", g)
			}

			queue := s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?organization=all&sla_state=ok,at_risk,breached&sort=sla_due_at", nil, http.StatusOK).Items()
			found := false
			for _, it := range queue {
				if it["id"] == acmeInc {
					found = it["organization_id"] == acmeID
				}
			}
			if !found || len(queue) < 2 {
				t.Fatalf("the MSSP queue lacks acme's incident (or its organisation): %v", queue)
			}
			s.rest(t, acme, http.MethodGet, "/api/v1/incidents?organization=all&sla_state=ok", nil, http.StatusForbidden)
			if n := len(s.rest(t, s.admin.As("acme"), http.MethodGet, "/api/v1/incidents?organization=all&sla_state=ok", nil, http.StatusOK).Items()); n != 1 {
				t.Fatalf("X-Seliq-Org with all lists %d incidents, want acme's 1", n)
			}
			wantLoc(t, s.rest(t, s.reader, http.MethodGet, "/api/v1/incidents?organization=all", nil, http.StatusUnprocessableEntity), "query:organization")
		})
		t.Run("coverage", s.checkCoverage("sla"))
	})
}
