package server_test

// End-to-end tests of the metrics routes on both surfaces: every path
// answers within the served OpenAPI document, the provider roll-up and its
// refusals, validation errors, and the metrics object of GraphQL.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestMetricsRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := newSuite(t, env, newCoverage())
		key := s.admin.ConnectorKey(t, "Relay")
		for _, sev := range []string{"critical", "high", "low"} {
			env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest",
				map[string]any{"title": "alert " + sev, "severity": sev, "source": "test"}, http.StatusAccepted)
		}
		s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}, http.StatusCreated)
		s.admin.As("acme").CreateUser(t, acmeAdminEmail, "admin", acmeAdminPass)
		acme := env.Login(acmeAdminEmail, acmeAdminPass)
		env.Connector(acme.ConnectorKey(t, "Acme relay")).Must(t, http.MethodPost, "/api/v1/alerts/ingest",
			map[string]any{"title": "acme alert", "severity": "critical", "source": "test"}, http.StatusAccepted)

		t.Run("every path", func(t *testing.T) {
			for _, p := range []string{"alerts/volume", "alerts/by-severity", "alerts/by-status", "alerts/by-connector",
				"alerts/by-assignee", "alerts/unassigned-count", "alerts/mttd", "alerts/mttr", "incidents/by-status",
				"incidents/by-assignee", "incidents/open-count", "summary"} {
				s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/"+p, nil, http.StatusOK)
			}
		})
		t.Run("figures", func(t *testing.T) {
			res := s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/alerts/by-severity?severity=critical,high", nil, http.StatusOK)
			if res.Body["total"] != float64(2) || len(res.Body["values"].([]any)) != 2 || res.Body["organizations"] != nil {
				t.Fatalf("by severity: %s", res.Raw)
			}
			res = s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/alerts/volume?interval=1h", nil, http.StatusOK)
			if res.Body["total"] != float64(3) || len(res.Body["buckets"].([]any)) < 7*24 || res.Body["interval"] != "1h" {
				t.Fatalf("volume: total %v, %d buckets", res.Body["total"], len(res.Body["buckets"].([]any)))
			}
			b := obj(res.Body["buckets"].([]any)[0])
			if sev := obj(b["by_severity"].([]any)[0]); sev["severity"] != "critical" {
				t.Fatalf("REST shows severities lower-case: %v", sev)
			}
			res = s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/alerts/unassigned-count?query="+
				strings.ReplaceAll(`severity == "low"`, " ", "%20"), nil, http.StatusOK)
			if res.Body["count"] != float64(1) {
				t.Fatalf("unassigned low: %s", res.Raw)
			}
			res = s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/summary", nil, http.StatusOK)
			if obj(res.Body["alerts_created"])["current"] != float64(3) || res.Body["open_alerts"] != float64(3) {
				t.Fatalf("summary: %s", res.Raw)
			}
		})
		t.Run("roll-up", func(t *testing.T) {
			res := s.rest(t, s.reader, http.MethodGet, "/api/v1/metrics/alerts/by-severity?organization=all", nil, http.StatusOK)
			rows, _ := res.Body["organizations"].([]any)
			if res.Body["total"] != float64(4) || len(rows) != 2 || obj(rows[1])["organization_name"] != "Acme" ||
				obj(rows[1])["total"] != float64(1) {
				t.Fatalf("provider roll-up: %s", res.Raw)
			}
			// The client's admin may not roll up; naming an organisation wins.
			s.rest(t, acme, http.MethodGet, "/api/v1/metrics/alerts/by-severity?organization=all", nil, http.StatusForbidden)
			res = s.rest(t, s.admin.As("acme"), http.MethodGet, "/api/v1/metrics/alerts/by-severity?organization=all", nil, http.StatusOK)
			if res.Body["total"] != float64(1) || res.Body["organizations"] != nil {
				t.Fatalf("X-Seliq-Org with all: %s", res.Raw)
			}
			res = s.rest(t, acme, http.MethodGet, "/api/v1/metrics/summary", nil, http.StatusOK)
			if obj(res.Body["alerts_created"])["current"] != float64(1) {
				t.Fatalf("the client sees its own alerts only: %s", res.Raw)
			}
		})
		t.Run("refusals", func(t *testing.T) {
			for _, q := range []string{"interval=7m", "since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z",
				"since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", "organization=everyone", "query=nope%20==", "severity=urgent"} {
				res := s.reader.Do(http.MethodGet, "/api/v1/metrics/alerts/volume?"+q, nil)
				if res.Status != http.StatusUnprocessableEntity {
					t.Errorf("%s: status %d: %s", q, res.Status, res.Raw)
				}
			}
			s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/metrics/summary", nil, http.StatusUnauthorized)
			bad := env.Anonymous()
			bad.Authorization = "Bearer not-a-token"
			s.rest(t, bad, http.MethodGet, "/api/v1/metrics/summary", nil, http.StatusUnauthorized)
		})
		t.Run("graphql", func(t *testing.T) {
			d := s.gql(t, s.reader, `query($r: MetricRange) {
				alertVolume(range: $r, interval: "1d") { total }
				alertsBySeverity(range: $r) { total }
				alertsByStatus(range: $r) { total }
				alertsByConnector(range: $r) { values { name count } }
				alertsByAssignee(range: $r) { total }
				unassignedAlertCount(range: $r) { count }
				alertMttd(range: $r) { overall { count } }
				alertMttr(range: $r) { overall { count } }
				incidentsByStatus(range: $r) { total }
				incidentsByAssignee(range: $r) { total }
				openIncidentCount(range: $r) { count }
				metricsSummary(range: $r) { alertsCreated { current previous } }
				metrics(range: $r, organization: "all") {
					alertsBySeverity { total organizations { organization { slug } total } }
					alertVolume(interval: "1d") { total bySeverity: buckets { bySeverity { severity count } } }
					incidentTimeToAcknowledge { overall { count medianSeconds } }
					summary { alertsCreated { current } organizations { organization { slug } openAlerts } }
				}
			}`, map[string]any{"r": map[string]any{"severity": []string{"CRITICAL", "HIGH", "LOW"}}})
			m := obj(d["metrics"])
			if obj(m["alertsBySeverity"])["total"] != float64(4) || obj(obj(m["summary"])["alertsCreated"])["current"] != float64(4) {
				t.Fatalf("metrics object: %v", m)
			}
			if v := obj(d["alertsByConnector"])["values"].([]any); len(v) != 1 || obj(v[0])["name"] != "Relay" {
				t.Fatalf("by connector names the connector: %v", v)
			}
			s.gqlErr(t, acme, `{ metrics(organization: "all") { summary { openAlerts } } }`, nil, "FORBIDDEN")
		})
		t.Run("coverage", s.checkCoverage("metrics"))
	})
}
