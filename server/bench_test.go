package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
)

// BenchmarkReads measures authenticated reads end to end over HTTP on both
// databases, and the cost of the REST projection over the same GraphQL
// operation (compare the rest and graphql rows).
func BenchmarkReads(b *testing.B) {
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			env := apitest.Start(b, testenv.Open(b, d))
			admin := env.Admin()
			for i := range 49 {
				res := admin.Do(http.MethodPost, "/api/v1/groups", map[string]any{"name": fmt.Sprintf("team-%02d", i)})
				if res.Status != http.StatusCreated {
					b.Fatalf("seed: %d %s", res.Status, res.Raw)
				}
			}
			key := admin.Do(http.MethodPost, "/api/v1/connectors", map[string]any{"name": "EDR", "type": "generic"}).String("api_key")
			batch := make([]map[string]any, 60)
			for i := range batch {
				batch[i] = map[string]any{"title": fmt.Sprintf("alert %d", i), "severity": "high", "tags": []string{"edr"},
					"raw": map[string]any{"host": fmt.Sprintf("ws-%d", i), "process": "powershell.exe -enc …"}}
			}
			if res := env.Connector(key).Do(http.MethodPost, "/api/v1/alerts/ingest", batch); res.Status != http.StatusAccepted {
				b.Fatalf("seed alerts: %d %s", res.Status, res.Raw)
			}
			cases := []struct {
				name string
				run  func() int
			}{
				{"me/rest", func() int { return admin.Do(http.MethodGet, "/api/v1/users/me", nil).Status }},
				{"me/graphql", func() int { return admin.GraphQL(`{ me { id email role } }`, nil).Status }},
				{"groups50/rest", func() int { return admin.Do(http.MethodGet, "/api/v1/groups?limit=50", nil).Status }},
				{"groups50/graphql", func() int {
					return admin.GraphQL(`{ groups(first: 50) { totalCount pageInfo { endCursor hasNextPage } edges { node { id name description createdAt updatedAt organizationID members { id email } } } } }`, nil).Status
				}},
				// The queue's page as REST answers it, and the same selection
				// (scalars and the three nested objects) asked over GraphQL.
				{"alerts50/rest", func() int {
					return admin.Do(http.MethodGet, "/api/v1/alerts?tag=edr&sort=-severity&limit=50", nil).Status
				}},
				{"alerts50/graphql", func() int {
					return admin.GraphQL(`{ alerts(first: 50, filter: {tag: ["edr"]}, orderBy: {field: SEVERITY, direction: DESC}) { totalCount totalCountIsEstimate pageInfo { endCursor hasNextPage } edges { node { id createdAt updatedAt organizationID connectorID source externalID title description severity status disposition assigneeID tags entities { type value } mitre raw fingerprint occurrences firstSeenAt lastSeenAt eventTime ingestedAt acknowledgedAt resolvedAt incidentID connector { id name } assignee { id email } incident { id title } } } } }`, nil).Status
				}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						if s := c.run(); s != http.StatusOK {
							b.Fatalf("status %d", s)
						}
					}
				})
			}
		})
	}
}
