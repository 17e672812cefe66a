package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// queueIndex is the index the queue's page by severity walks.
const queueIndex = "alert_organization_id_severity_rank_id"

// planRuns is how often the page runs before its plan is checked: past the
// five executions after which PostgreSQL may settle on a generic plan.
const planRuns = 10

// The queue's page by severity, run many times through the real path (the
// service over storage's driver, one connection), is still planned with its
// values: PostgreSQL walks the (organization_id, severity_rank, id) index
// backwards and stops after the page (Limit over Index Scan Backward, no
// Sort of every match), and no prepared statement over alerts on that
// connection ran a generic plan. The data makes the plans differ: many
// small organisations make the generic plan, which cannot know the
// organisation is the big one, sort its matches (checked, so the test can
// fail). On SQLite, which plans every statement with its values, the page
// uses the index for its order (no temporary B-tree).
func TestQueuePageKeepsTheIndexWalk(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		big := newQueueOrg(t, db, "big")
		specs := make([]alertSpec, 20_000)
		sevs := []enum.Severity{enum.SeverityCritical, enum.SeverityHigh, enum.SeverityMedium, enum.SeverityLow, enum.SeverityInfo}
		stats := []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged, enum.AlertStatusResolved}
		for i := range specs {
			specs[i] = alertSpec{severity: sevs[i%len(sevs)], status: stats[i%len(stats)], tags: []string{"phishing"}}
		}
		big.insert(t, db, specs)
		seedSmallOrgs(t, db, 150, 10)
		if db.Dialect == dialect.Postgres {
			if _, err := db.SQL.ExecContext(ctx, `ANALYZE alerts`); err != nil {
				t.Fatal(err)
			}
		}
		one := db
		if db.Pool != nil {
			// One connection: the prepared statements checked below are
			// the ones the page ran on.
			one = testenv.OnePooled(t, db)
		}
		var (
			mu   sync.Mutex
			page *storage.Statement
		)
		stop := one.Observe(func(s storage.Statement) {
			if strings.Contains(s.Query, "ORDER BY") && strings.Contains(s.Query, "severity_rank` DESC") || strings.Contains(s.Query, `severity_rank" DESC`) {
				mu.Lock()
				page = &s
				mu.Unlock()
			}
		})
		defer stop()
		svc := alerts.New(one.Client, one.Dialect)
		filter := &schematype.AlertFilter{
			Status:   []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged},
			Severity: []enum.Severity{enum.SeverityCritical, enum.SeverityHigh},
			Tag:      []string{"phishing"},
		}
		order := &ent.AlertOrder{Direction: paging.Desc, Field: ent.AlertOrderFieldSeverityRank}
		for range planRuns {
			conn, err := svc.List(big.ctx, filter, paging.Page{First: pointer(50)}, order, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(conn.Edges) != 50 {
				t.Fatalf("page of %d alerts, want 50", len(conn.Edges))
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if page == nil {
			t.Fatal("the page's statement was not seen")
		}
		if db.Dialect == dialect.Postgres {
			checkPostgresPlans(t, one, page)
			return
		}
		checkSQLitePlan(t, one, page)
	})
}

// seedSmallOrgs adds n organisations of per alerts each.
func seedSmallOrgs(t *testing.T, db *storage.DB, n, per int) {
	t.Helper()
	sys := privacy.DecisionContext(context.Background(), privacy.Allow)
	for i := range n {
		org := testenv.Org(t, db, testenv.Slug(fmt.Sprintf("small-%d", i)))
		builders := make([]*ent.AlertCreate, per)
		for j := range builders {
			builders[j] = db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle("a").SetSource("generic").
				SetSeverity(enum.SeverityCritical).SetStatus(enum.AlertStatusNew).SetTags([]string{"phishing"})
		}
		if err := db.Client.Alert.CreateBulk(builders...).Exec(sys); err != nil {
			t.Fatal(err)
		}
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Direction string     `json:"Scan Direction"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

func (n planNode) has(nodeType string) bool {
	if n.NodeType == nodeType {
		return true
	}
	for _, c := range n.Plans {
		if c.has(nodeType) {
			return true
		}
	}
	return false
}

func (n planNode) String() string {
	b, _ := json.Marshal(n)
	return string(b)
}

// explain returns the plan of query with args as planned by run.
func explain(t *testing.T, raw []byte) planNode {
	t.Helper()
	var out []struct{ Plan planNode }
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		t.Fatalf("explain output %s: %v", raw, err)
	}
	return out[0].Plan
}

func checkPostgresPlans(t *testing.T, one *storage.DB, page *storage.Statement) {
	t.Helper()
	ctx := context.Background()
	conn, err := one.SQL.Conn(ctx) // the pool's one connection
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if generic := testenv.GenericAlertPlans(t, conn); generic != 0 {
		t.Errorf("%d prepared statements over alerts ran a generic plan after %d pages", generic, planRuns)
	}
	var plan planNode
	if err := json.Unmarshal(testenv.Explain(t, conn, page), &plan); err != nil {
		t.Fatal(err)
	}
	scan := plan
	if len(plan.Plans) == 1 {
		scan = plan.Plans[0]
	}
	if plan.NodeType != "Limit" || scan.NodeType != "Index Scan" || scan.Direction != "Backward" || scan.IndexName != queueIndex || plan.has("Sort") {
		t.Errorf("the page is not a Limit over a backward Index Scan of %s:\n%s", queueIndex, plan)
	}

	// The control: PostgreSQL's generic plan of the same statement sorts
	// every match, so the data tells the plans apart.
	if _, err := conn.ExecContext(ctx, "PREPARE queue_page AS "+page.Query); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "RESET plan_cache_mode; DEALLOCATE queue_page") //nolint:errcheck // the connection closes with the test
	params := make([]string, len(page.Args))
	for i := range params {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	// EXECUTE's parameters are not described to the client: pgx writes
	// them into the statement (the simple protocol).
	args := append([]any{pgx.QueryExecModeSimpleProtocol}, page.Args...)
	var raw []byte
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) EXECUTE queue_page("+strings.Join(params, ", ")+")", args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if generic := explain(t, raw); !generic.has("Sort") {
		t.Errorf("the generic plan does not sort, so this data cannot tell the plans apart:\n%s", generic)
	}
}

func checkSQLitePlan(t *testing.T, one *storage.DB, page *storage.Statement) {
	t.Helper()
	plan := testenv.ExplainSQLite(t, one, page)
	if !strings.Contains(plan, queueIndex) || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("the page does not walk %s in order: %s", queueIndex, plan)
	}
}
