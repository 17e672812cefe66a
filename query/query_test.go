package query_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// fixtureNow is the instant "now" stands for in the tests.
var fixtureNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// world is one organisation's alerts and another organisation's alert.
type world struct {
	ctx      context.Context
	otherCtx context.Context
	db       *storage.DB
	alerts   []*ent.Alert // with edges loaded
}

type alertSpec struct {
	title, description, source string
	severity                   enum.Severity
	status                     enum.AlertStatus
	disposition                enum.Disposition
	tags, mitre                []string
	entities                   []schematype.Entity
	attributes                 map[string]string
	assigned, connected, inInc bool
	occurrences                int
	age                        time.Duration
}

var specs = []alertSpec{
	{title: "Mimikatz on WS-01", source: "crowdstrike", severity: enum.SeverityCritical, status: enum.AlertStatusNew,
		tags: []string{"prod", "edr"}, mitre: []string{"T1003.001"},
		entities:   []schematype.Entity{{Type: "ipv4", Value: "203.0.113.7"}, {Type: "hostname", Value: "ws-01"}, {Type: "user", Value: "alice"}},
		attributes: map[string]string{"rule": "Credential Dumping", "host": "ws-01"}, assigned: true, connected: true, inInc: true, occurrences: 3, age: time.Hour},
	{title: "NodeDown", description: "node exporter down", source: "alertmanager", severity: enum.SeverityHigh, status: enum.AlertStatusAcknowledged,
		tags: []string{"infra"}, entities: []schematype.Entity{{Type: "ipv6", Value: "2001:db8::1"}},
		attributes: map[string]string{"rule": "NodeDown"}, connected: true, occurrences: 1, age: 30 * time.Hour},
	{title: "Phishing link clicked", description: "User clicked https://evil.example/login", source: "defender", severity: enum.SeverityMedium,
		status: enum.AlertStatusClosed, disposition: enum.DispositionFalsePositive,
		entities: []schematype.Entity{{Type: "url", Value: "https://evil.example/login"}, {Type: "domain", Value: "evil.example"},
			{Type: "email", Value: "bob@example.com"}, {Type: "sha256", Value: strings.Repeat("ab", 32)}},
		assigned: true, occurrences: 12, age: 10 * 24 * time.Hour},
	{title: "Port scan", source: "suricata", severity: enum.SeverityLow, status: enum.AlertStatusInProgress,
		tags: []string{"network", "prod"}, entities: []schematype.Entity{{Type: "ipv4", Value: "198.51.100.20"}, {Type: "cve", Value: "CVE-2024-3400"}},
		attributes: map[string]string{"rule": "ET SCAN Nmap", "signature_id": "2000537"}, occurrences: 40, age: 2 * time.Hour},
	{title: "Ünïcode Título", description: "Case TEST", source: "generic", severity: enum.SeverityInfo, status: enum.AlertStatusResolved,
		disposition: enum.DispositionBenign, occurrences: 1, age: 5 * time.Minute},
}

func buildWorld(t testing.TB, db *storage.DB) *world {
	t.Helper()
	org := testenv.Org(t, db)
	other := testenv.Org(t, db)
	admin := testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("ana"), testenv.Email("ana@soc.test"))
	ctx := testenv.As(admin, org)
	otherCtx, _ := testenv.UserContext(t, db, other, enum.RoleAdmin)
	conn, _ := testenv.Connector(t, db, org, "crowdstrike", func(c *ent.ConnectorCreate) { c.SetName("EDR prod") })
	inc, err := db.Client.Incident.Create().SetOrganizationID(org.ID).SetNumber(7).SetTitle("Credential theft").
		SetStatus(enum.IncidentStatusInProgress).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{ctx: ctx, otherCtx: otherCtx, db: db}
	for _, s := range specs {
		c := db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle(s.title).SetDescription(s.description).
			SetSource(s.source).SetSeverity(s.severity).SetStatus(s.status).SetTags(s.tags).SetMitre(s.mitre).
			SetEntities(s.entities).SetOccurrences(s.occurrences).
			SetCreatedAt(fixtureNow.Add(-s.age)).SetFirstSeenAt(fixtureNow.Add(-s.age)).SetLastSeenAt(fixtureNow.Add(-s.age / 2))
		if s.attributes != nil {
			c.SetAttributes(s.attributes)
		}
		if s.disposition != "" {
			c.SetDisposition(s.disposition)
		}
		if s.assigned {
			c.SetAssigneeID(admin.ID)
		}
		if s.connected {
			c.SetConnectorID(conn.ID)
		}
		if s.inInc {
			c.SetIncidentID(inc.ID)
		}
		if _, err := c.Save(ctx); err != nil {
			t.Fatalf("create %s: %v", s.title, err)
		}
	}
	// Another organisation's alert matches everything the tests ask.
	if _, err := db.Client.Alert.Create().SetOrganizationID(other.ID).SetTitle("Mimikatz on WS-01").SetSource("crowdstrike").
		SetSeverity(enum.SeverityCritical).SetTags([]string{"prod", "edr"}).
		SetEntities([]schematype.Entity{{Type: "ipv4", Value: "203.0.113.7"}}).SetAttributes(map[string]string{"rule": "Credential Dumping"}).
		Save(otherCtx); err != nil {
		t.Fatal(err)
	}
	w.alerts, err = db.Client.Alert.Query().WithConnector().WithAssignee().WithIncident().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// viaSQL is the titles the database returns for the query.
func (w *world) viaSQL(t *testing.T, q *query.Query) []string {
	t.Helper()
	got, err := w.db.Client.Alert.Query().Where(predicate.Alert(q.Where())).Select(alert.FieldTitle).Strings(w.ctx)
	if err != nil {
		t.Fatalf("%s: SQL: %v", q.Text, err)
	}
	sort.Strings(got)
	return got
}

// inMemory is the titles of the alerts the program matches.
func (w *world) inMemory(t *testing.T, q *query.Query) []string {
	t.Helper()
	got := []string{}
	for _, a := range w.alerts {
		ok, err := q.Matches(query.AlertRecord(a))
		if err != nil {
			t.Fatalf("%s: in memory on %q: %v", q.Text, a.Title, err)
		}
		if ok {
			got = append(got, a.Title)
		}
	}
	sort.Strings(got)
	return got
}

func compile(t *testing.T, text string) *query.Query {
	t.Helper()
	src, _ := query.Lookup("alerts")
	q, err := query.Compile(src, "query", text, fixtureNow)
	if err != nil {
		t.Fatalf("compile %s: %v", text, err)
	}
	return q
}

// TestFieldsAndOperators runs every field and operator through both
// back-ends on both databases and checks each against the expected titles.
func TestFieldsAndOperators(t *testing.T) {
	const (
		mimi  = "Mimikatz on WS-01"
		node  = "NodeDown"
		phish = "Phishing link clicked"
		scan  = "Port scan"
		uni   = "Ünïcode Título"
	)
	cases := []struct {
		query string
		want  []string
	}{
		{`severity == "critical"`, []string{mimi}},
		{`severity >= "high"`, []string{mimi, node}},
		{`severity < "medium"`, []string{scan, uni}},
		{`"medium" <= severity`, []string{mimi, node, phish}},
		{`severity in ["low", "info"]`, []string{scan, uni}},
		{`severity != "info"`, []string{mimi, node, phish, scan}},
		{`status == "new" || status == "acknowledged"`, []string{mimi, node}},
		{`status in ["closed", "resolved"]`, []string{phish, uni}},
		{`disposition == "false_positive"`, []string{phish}},
		{`disposition == ""`, []string{mimi, node, scan}},
		{`disposition != ""`, []string{phish, uni}},
		{`source == "crowdstrike"`, []string{mimi}},
		{`source.startsWith("crowd") || source.endsWith("ata")`, []string{mimi, scan}},
		{`source < "d"`, []string{mimi, node}},
		{`connector.name == "EDR prod"`, []string{mimi, node}},
		{`connector.type != "crowdstrike"`, []string{phish, scan, uni}},
		{`connector == null`, []string{phish, scan, uni}},
		{`connector != null && connector.name.contains("EDR")`, []string{mimi, node}},
		{`assignee == null`, []string{node, scan, uni}},
		{`assignee.email == "ana@soc.test"`, []string{mimi, phish}},
		{`assignee.handle == ""`, []string{node, scan, uni}},
		{`!(assignee.handle == "ana")`, []string{node, scan, uni}},
		{`"prod" in tags`, []string{mimi, scan}},
		{`!("prod" in tags)`, []string{node, phish, uni}},
		{`tags.exists(t, t.startsWith("inf"))`, []string{node}},
		{`tags.all(t, t != "edr")`, []string{node, phish, scan, uni}},
		{`size(tags) >= 2`, []string{mimi, scan}},
		{`size(tags) == 0`, []string{phish, uni}},
		{`"T1003.001" in techniques`, []string{mimi}},
		{`"203.0.113.7" in entities.ip`, []string{mimi}},
		{`"2001:db8::1" in entities.ip`, []string{node}},
		{`entities.ip.exists(i, i.startsWith("203.0.113."))`, []string{mimi}},
		{`entities.ip.exists(i, i.matches("^(198|203)\\."))`, []string{mimi, scan}},
		{`"ws-01" in entities.host && "alice" in entities.user`, []string{mimi}},
		{`entities.domain.exists(d, d.endsWith(".example"))`, []string{phish}},
		{`size(entities.hash) > 0`, []string{phish}},
		{`"bob@example.com" in entities.email`, []string{phish}},
		{`entities.url.exists(u, u.contains("evil"))`, []string{phish}},
		{`"CVE-2024-3400" in entities.cve`, []string{scan}},
		{`title.contains("scan")`, []string{scan}},
		{`title.contains("SCAN")`, nil},
		{`title.matches("(?i)port")`, []string{scan}},
		{`title.matches("^Ü")`, []string{uni}},
		{`title.matches("t[íi]tulo$") `, nil},
		{`title.matches("T.tulo$")`, []string{uni}},
		{`description.contains("TEST")`, []string{uni}},
		{`description == ""`, []string{mimi, scan}},
		{`title > "P"`, []string{phish, scan, uni}},
		{`occurrences > 2`, []string{mimi, phish, scan}},
		{`occurrences >= 12 && occurrences < 40`, []string{phish}},
		{`occurrences > 2.5`, []string{mimi, phish, scan}},
		{`occurrences in [1, 40]`, []string{node, scan, uni}},
		{`created_at > now - duration("24h")`, []string{mimi, scan, uni}},
		{`last_seen_at < timestamp("2026-11-30T00:00:00Z")`, []string{node, phish}},
		{`first_seen_at >= now - duration("3h") && first_seen_at < now - duration("1h")`, []string{scan}},
		{`incident != null`, []string{mimi}},
		{`incident.number == 7`, []string{mimi}},
		{`incident.status == "in_progress"`, []string{mimi}},
		{`incident.status == ""`, []string{node, phish, scan, uni}},
		{`incident.number < 1`, []string{node, phish, scan, uni}},
		{`attributes.rule == "NodeDown"`, []string{node}},
		{`attributes["rule"].startsWith("ET ")`, []string{scan}},
		{`attributes.rule == ""`, []string{phish, uni}},
		{`attributes.rule != ""`, []string{mimi, node, scan}},
		{`attributes.signature_id == "2000537" && attributes.host == ""`, []string{scan}},
		{`true`, []string{mimi, node, phish, scan, uni}},
		{`false || 1 > 2`, nil},
		{`severity == "critical" && !(status in ["closed"]) && "prod" in tags`, []string{mimi}},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := buildWorld(t, db)
		for _, c := range cases {
			q := compile(t, c.query)
			want := slices.Clone(c.want)
			if want == nil {
				want = []string{}
			}
			sort.Strings(want)
			if got := w.viaSQL(t, q); !slices.Equal(got, want) {
				t.Errorf("%s: SQL gave %q, want %q", c.query, got, want)
			}
			if got := w.inMemory(t, q); !slices.Equal(got, want) {
				t.Errorf("%s: in memory gave %q, want %q", c.query, got, want)
			}
		}
	})
}

// TestTenancy: whatever a query says, it reads the acting organisation's
// rows only.
func TestTenancy(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := buildWorld(t, db)
		q := compile(t, `true || severity == "critical"`)
		mine, err := db.Client.Alert.Query().Where(predicate.Alert(q.Where())).Count(w.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if mine != len(specs) {
			t.Errorf("acting organisation sees %d alerts, want %d", mine, len(specs))
		}
		theirs, err := db.Client.Alert.Query().Where(predicate.Alert(compile(t, `source == "crowdstrike"`).Where())).Count(w.otherCtx)
		if err != nil {
			t.Fatal(err)
		}
		if theirs != 1 {
			t.Errorf("other organisation sees %d crowdstrike alerts, want its own 1", theirs)
		}
		if _, err := db.Client.Alert.Query().Where(predicate.Alert(q.Where())).Count(context.Background()); err == nil {
			t.Error("a query without a viewer ran")
		}
	})
}

// TestErrors: a query that cannot run is a 422 naming where and why, before
// anything reaches the database.
func TestErrors(t *testing.T) {
	src, _ := query.Lookup("alerts")
	cases := []struct {
		query, code, contains, suggestion string
		line, column                      int
	}{
		{query: `severity >= "high" &&`, contains: "mismatched input", line: 1, column: 22},
		{query: `sevrity == "high"`, contains: "unknown field", suggestion: "severity", line: 1, column: 1},
		{query: "status == \"new\" &&\n  severity == \"hgh\"", contains: `"hgh" is not a valid severity`, suggestion: "high", line: 2, column: 12},
		{query: `assignee.emial == "x"`, contains: "unknown field assignee.emial", suggestion: "assignee.email"},
		{query: `severity == 3`, contains: "no matching overload"},
		{query: `title`, contains: "must be a condition"},
		{query: `title == source`, contains: "not with another field"},
		{query: `tags == ["a"]`, contains: "is a list"},
		{query: `assignee == "ana"`, contains: "can only be compared with null"},
		{query: `title.matches("[")`, contains: "invalid regular expression"},
		{query: `title.matches("\\bword")`, contains: "word boundaries"},
		{query: `has(attributes.rule)`, contains: "has() is not supported"},
		{query: `tags.exists(t, entities.ip.exists(i, i == t))`, contains: "cannot be nested"},
		{query: `tags.exists_one(t, t == "a")`, contains: "only exists and all"},
		{query: `severity > "high" ? true : false`, contains: "conditional"},
		{query: `created_at > now - duration("banana")`, contains: "duration"},
		{query: strings.Repeat(`title == "a" || `, 300) + "true", code: string(apperr.QueryTooExpensive)},
		{query: strings.Repeat("x", query.MaxQueryLength+1), code: string(apperr.QueryTooExpensive)},
	}
	for _, c := range cases {
		_, err := query.Compile(src, "query", c.query, fixtureNow)
		e, ok := apperr.As(err)
		if !ok {
			t.Errorf("%s: got %v, want an apperr", c.query, err)
			continue
		}
		want := c.code
		if want == "" {
			want = string(apperr.BadInput)
		}
		if string(e.Code) != want || e.Field != "query" {
			t.Errorf("%s: code %s field %q, want %s on query", c.query, e.Code, e.Field, want)
		}
		if !strings.Contains(e.Message, c.contains) {
			t.Errorf("%s: message %q lacks %q", c.query, e.Message, c.contains)
		}
		if c.suggestion != "" && e.Details["suggestion"] != c.suggestion {
			t.Errorf("%s: suggestion %v, want %q (%s)", c.query, e.Details["suggestion"], c.suggestion, e.Message)
		}
		if c.line != 0 && (e.Details["line"] != c.line || e.Details["column"] != c.column) {
			t.Errorf("%s: at %v:%v, want %d:%d (%s)", c.query, e.Details["line"], e.Details["column"], c.line, c.column, e.Message)
		}
	}
}

func TestSourcesDescribeEveryField(t *testing.T) {
	for _, s := range query.Sources() {
		for _, f := range s.Fields {
			if f.Description == "" || len(f.Operators) == 0 {
				t.Errorf("%s.%s lacks a description or operators", s.Name, f.Name)
			}
		}
	}
	if _, ok := query.Lookup("alerts"); !ok {
		t.Fatal("no alerts source")
	}
	_ = fmt.Sprint
}
