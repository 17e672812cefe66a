package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// The queue's count is exact under filters an index answers, and under a
// tag, entity or text filter exact below alerts.CountCap and a labelled
// lower bound at it, on both surfaces, whatever the GraphQL query selects.
func TestAlertCountCap(t *testing.T) {
	t.Parallel()     // independent: its own servers and databases
	const extra = 25 // alerts past the cap
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		me := admin.Do(http.MethodGet, "/api/v1/users/me", nil)
		org := uuid.MustParse(me.String("organization_id"))
		seedAlerts(t, db, org, alerts.CountCap+extra)

		all := alerts.CountCap + extra
		rest := []struct {
			query    string
			total    int
			estimate bool
		}{
			{"?limit=5", all, false}, // indexed filters only: exact
			{"?severity=critical,high&limit=5", all, false},
			{"?severity=critical&limit=5", extra, false},
			{"?tag=edr&limit=5", alerts.CountCap, true}, // read from the rows: bounded
			{"?tag=edr&severity=critical&limit=5", extra, false},
			{"?q=seed&limit=5", alerts.CountCap, true},
			{"?status=closed", 0, false},
			{"?tag=none", 0, false},
		}
		for _, tc := range rest {
			t.Run("rest"+tc.query, func(t *testing.T) {
				res := admin.Do(http.MethodGet, "/api/v1/alerts"+tc.query, nil)
				if res.Status != http.StatusOK || int(num(res.Body["total"])) != tc.total || res.Body["total_is_estimate"] != tc.estimate {
					t.Fatalf("%d total %v estimate %v, want %d and %v", res.Status, res.Body["total"], res.Body["total_is_estimate"], tc.total, tc.estimate)
				}
				if tc.total > 0 && (len(res.Items()) == 0 || res.Body["next_cursor"] == nil) != (tc.total <= 5) {
					t.Errorf("%d items, next_cursor %v", len(res.Items()), res.Body["next_cursor"])
				}
			})
		}

		gql := []struct {
			name, query string
			total       int
			estimate    bool
			hasNext     bool
		}{
			{"exact", `{ alerts(first: 3) { totalCount totalCountIsEstimate pageInfo { hasNextPage } edges { node { id } } } }`, all, false, true},
			{"count and page", `{ alerts(first: 3, filter: {tag: ["edr"]}) { totalCount totalCountIsEstimate pageInfo { hasNextPage } edges { node { id } } } }`, alerts.CountCap, true, true},
			{"count only", `{ alerts(first: 3, filter: {tag: ["edr"]}) { totalCount totalCountIsEstimate pageInfo { hasNextPage } } }`, alerts.CountCap, true, true},
			{"selective", `{ alerts(first: 30, filter: {tag: ["edr"], severity: [CRITICAL]}) { totalCount totalCountIsEstimate pageInfo { hasNextPage } edges { node { id } } } }`, extra, false, false},
			{"fragment", `{ alerts(first: 3, filter: {tag: ["edr"], severity: [CRITICAL]}) { ...c edges { node { id } } } } fragment c on AlertConnection { totalCount totalCountIsEstimate pageInfo { hasNextPage } }`, extra, false, true},
			{"aliased", `{ alerts(first: 3, filter: {tag: ["edr"], severity: [CRITICAL]}) { n: totalCount e: totalCountIsEstimate p: pageInfo { hasNextPage } edges { node { id } } } }`, extra, false, true},
		}
		for _, tc := range gql {
			t.Run("graphql/"+tc.name, func(t *testing.T) {
				g := admin.GraphQL(tc.query, nil)
				if len(g.Errors) > 0 {
					t.Fatalf("errors: %v", g.Errors)
				}
				conn := obj(g.Data["alerts"])
				count, est, page := conn["totalCount"], conn["totalCountIsEstimate"], obj(conn["pageInfo"])
				if _, aliased := conn["n"]; aliased {
					count, est, page = conn["n"], conn["e"], obj(conn["p"])
				}
				if int(num(count)) != tc.total || est != tc.estimate || page["hasNextPage"] != tc.hasNext {
					t.Errorf("totalCount %v estimate %v hasNextPage %v, want %d, %v, %v", count, est, page["hasNextPage"], tc.total, tc.estimate, tc.hasNext)
				}
			})
		}
	})
}

// seedAlerts writes n alerts into org directly (the ingest path would take
// minutes), all tagged edr: every one high, but for the last 25 (critical).
func seedAlerts(t *testing.T, db *storage.DB, org uuid.UUID, n int) {
	t.Helper()
	ctx := auth.System(context.Background())
	now := time.Now().UTC()
	for start := 0; start < n; start += 500 {
		var builders []*ent.AlertCreate
		for i := start; i < min(start+500, n); i++ {
			sev := enum.SeverityHigh
			if i >= n-25 {
				sev = enum.SeverityCritical
			}
			fp := fmt.Sprintf("seed-%d", i)
			builders = append(builders, db.Client.Alert.Create().SetOrganizationID(org).SetSource("seed").
				SetTitle(fp).SetSeverity(sev).SetTags([]string{"edr"}).SetFingerprint(fp).SetDedupKey(fp).
				SetFirstSeenAt(now).SetLastSeenAt(now.Add(-time.Duration(i)*time.Second)).SetIngestedAt(now))
		}
		if err := db.Client.Alert.CreateBulk(builders...).Exec(ctx); err != nil {
			t.Fatalf("seed alerts: %v", err)
		}
	}
}
