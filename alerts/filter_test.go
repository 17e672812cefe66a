package alerts_test

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// semanticsSpecs is a small queue in which every filter field separates
// some alerts from others; titles name the alerts.
func semanticsSpecs(o *queueOrg) []alertSpec {
	u0, u1 := &o.users[0].ID, &o.users[1].ID
	c0, c1 := &o.connectors[0].ID, &o.connectors[1].ID
	hour := func(h int) time.Time { return queueBase.Add(time.Duration(h) * time.Hour) }
	return []alertSpec{
		{title: "a1 Suspicious login", description: "from 10.0.0.1", status: enum.AlertStatusNew, severity: enum.SeverityCritical,
			source: "crowdstrike", connector: c0, assignee: u0, tags: []string{"phishing", "vip"},
			entities: []schematype.Entity{{Type: "ipv4", Value: "10.0.0.1"}}, lastSeen: hour(1)},
		{title: "a2 Malware 100% detected", status: enum.AlertStatusAcknowledged, severity: enum.SeverityHigh,
			source: "wazuh", connector: c1, assignee: u1, tags: []string{"malware"},
			entities: []schematype.Entity{{Type: "hostname", Value: "web-01"}}, lastSeen: hour(2)},
		{title: "a3 file_name changed", description: `Path C:\temp\x`, status: enum.AlertStatusInProgress, severity: enum.SeverityMedium,
			source: "crowdstrike", entities: []schematype.Entity{{Type: "user", Value: "alice"}}, lastSeen: hour(3),
			incident: &o.incident.ID},
		{title: "a4 Ünïcode Straße", description: "mentions PHISHING kit", status: enum.AlertStatusResolved, severity: enum.SeverityLow,
			source: "splunk", connector: c0, assignee: u0, tags: []string{"vip"},
			entities: []schematype.Entity{{Type: "ipv4", Value: "10.0.0.10"}}, lastSeen: hour(4)},
		{title: "a5 filexname changed", description: "nothing 1000 here", status: enum.AlertStatusClosed, severity: enum.SeverityInfo,
			source: "generic", tags: []string{}, lastSeen: hour(5), incident: &o.incident.ID},
		{title: `a6 quote's "here"`, status: enum.AlertStatusNew, severity: enum.SeverityHigh, source: "it's",
			connector: c1, assignee: u1, tags: []string{`it's "x"`, `back\slash`, "<b>&amp;"},
			entities: []schematype.Entity{{Type: "user", Value: `o"brien's`}, {Type: "domain", Value: "%"}}, lastSeen: hour(6)},
	}
}

func TestFilterSemantics(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "semantics")
		all := o.seed(t, db, semanticsSpecs(o))
		other := newQueueOrg(t, db, "other")
		other.seed(t, db, semanticsSpecs(other)) // identical alerts elsewhere must never match
		svc := alerts.New(db.Client, db.Dialect)
		u0, u1 := o.users[0].ID, o.users[1].ID
		c0 := o.connectors[0].ID
		hour := func(h int) *time.Time { return pointer(queueBase.Add(time.Duration(h) * time.Hour)) }
		for _, tc := range []struct {
			name string
			f    *schematype.AlertFilter
			want []string
		}{
			{"nil filter", nil, []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
			{"empty filter", &schematype.AlertFilter{}, []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
			{"status", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew}}, []string{"a1", "a6"}},
			{"status any of", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusClosed, enum.AlertStatusResolved}}, []string{"a4", "a5"}},
			{"severity", &schematype.AlertFilter{Severity: []enum.Severity{enum.SeverityHigh}}, []string{"a2", "a6"}},
			{"source", &schematype.AlertFilter{Source: []string{"crowdstrike"}}, []string{"a1", "a3"}},
			{"source with quote", &schematype.AlertFilter{Source: []string{"it's"}}, []string{"a6"}},
			{"source is case-sensitive", &schematype.AlertFilter{Source: []string{"CrowdStrike"}}, nil},
			{"connector", &schematype.AlertFilter{ConnectorID: []uuid.UUID{c0}}, []string{"a1", "a4"}},
			{"assignee", &schematype.AlertFilter{AssigneeID: []uuid.UUID{u0}}, []string{"a1", "a4"}},
			{"assignees", &schematype.AlertFilter{AssigneeID: []uuid.UUID{u0, u1}}, []string{"a1", "a2", "a4", "a6"}},
			{"unassigned", &schematype.AlertFilter{Unassigned: pointer(true)}, []string{"a3", "a5"}},
			{"unassigned or assignee", &schematype.AlertFilter{Unassigned: pointer(true), AssigneeID: []uuid.UUID{u1}}, []string{"a2", "a3", "a5", "a6"}},
			{"unassigned false adds nothing", &schematype.AlertFilter{Unassigned: pointer(false)}, []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
			{"unassigned false with assignee", &schematype.AlertFilter{Unassigned: pointer(false), AssigneeID: []uuid.UUID{u1}}, []string{"a2", "a6"}},
			{"tag", &schematype.AlertFilter{Tag: []string{"vip"}}, []string{"a1", "a4"}},
			{"tags any of", &schematype.AlertFilter{Tag: []string{"vip", "malware"}}, []string{"a1", "a2", "a4"}},
			{"tag with quotes", &schematype.AlertFilter{Tag: []string{`it's "x"`}}, []string{"a6"}},
			{"tag with backslash", &schematype.AlertFilter{Tag: []string{`back\slash`}}, []string{"a6"}},
			{"tag with markup", &schematype.AlertFilter{Tag: []string{"<b>&amp;"}}, []string{"a6"}},
			{"tag is exact", &schematype.AlertFilter{Tag: []string{"vi"}}, nil},
			{"unknown tag", &schematype.AlertFilter{Tag: []string{"nope"}}, nil},
			{"entity exact", &schematype.AlertFilter{Entity: pointer("10.0.0.1")}, []string{"a1"}},
			{"entity other type", &schematype.AlertFilter{Entity: pointer("alice")}, []string{"a3"}},
			{"entity with quotes", &schematype.AlertFilter{Entity: pointer(`o"brien's`)}, []string{"a6"}},
			{"entity percent is literal", &schematype.AlertFilter{Entity: pointer("%")}, []string{"a6"}},
			{"entity type is not a value", &schematype.AlertFilter{Entity: pointer("ipv4")}, nil},
			{"since inclusive", &schematype.AlertFilter{Since: hour(4)}, []string{"a4", "a5", "a6"}},
			{"until exclusive", &schematype.AlertFilter{Until: hour(2)}, []string{"a1"}},
			{"since and until", &schematype.AlertFilter{Since: hour(2), Until: hour(4)}, []string{"a2", "a3"}},
			{"since in another zone", &schematype.AlertFilter{Since: pointer(hour(4).In(time.FixedZone("x", -5*3600)))}, []string{"a4", "a5", "a6"}},
			{"q in title, any case", &schematype.AlertFilter{Q: pointer("suspicious LOGIN")}, []string{"a1"}},
			{"q in description", &schematype.AlertFilter{Q: pointer("phishing")}, []string{"a4"}},
			{"q percent is literal", &schematype.AlertFilter{Q: pointer("100%")}, []string{"a2"}},
			{"q underscore is literal", &schematype.AlertFilter{Q: pointer("file_name")}, []string{"a3"}},
			{"q backslash is literal", &schematype.AlertFilter{Q: pointer(`C:\temp`)}, []string{"a3"}},
			{"q quote", &schematype.AlertFilter{Q: pointer(`quote's "here"`)}, []string{"a6"}},
			{"q unicode", &schematype.AlertFilter{Q: pointer("Straße")}, []string{"a4"}},
			{"incident", &schematype.AlertFilter{IncidentID: &o.incident.ID}, []string{"a3", "a5"}},
			{"fields AND", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusResolved}, Tag: []string{"vip"}}, []string{"a1", "a4"}},
			{"three fields", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusResolved}, Tag: []string{"vip"}, Source: []string{"splunk"}}, []string{"a4"}},
			{"contradiction", &schematype.AlertFilter{Severity: []enum.Severity{enum.SeverityInfo}, Unassigned: pointer(false), AssigneeID: []uuid.UUID{u0}}, nil},
			{"everything", &schematype.AlertFilter{
				Status: []enum.AlertStatus{enum.AlertStatusNew}, Severity: []enum.Severity{enum.SeverityHigh}, Source: []string{"it's"},
				ConnectorID: []uuid.UUID{o.connectors[1].ID}, AssigneeID: []uuid.UUID{u1}, Tag: []string{`back\slash`},
				Entity: pointer("%"), Since: hour(6), Until: hour(7), Q: pointer(`"HERE"`),
			}, []string{"a6"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := alerts.ValidateFilter("filter", tc.f); err != nil {
					t.Fatalf("valid filter refused: %v", err)
				}
				conn, err := svc.List(o.ctx, tc.f, paging.Page{First: pointer(100)}, nil, nil)
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				got := namesOf(conn)
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				if conn.TotalCount != len(tc.want) {
					t.Errorf("totalCount = %d, want %d", conn.TotalCount, len(tc.want))
				}
				var brute []string
				for _, a := range all {
					if matchesFilter(a, tc.f) {
						brute = append(brute, strings.Fields(a.Title)[0])
					}
				}
				slices.Sort(brute)
				if !slices.Equal(brute, tc.want) {
					t.Errorf("the test's own matcher says %v; it must agree with the table", brute)
				}
			})
		}
	})
}

func namesOf(conn *ent.AlertConnection) []string {
	var names []string
	for _, e := range conn.Edges {
		names = append(names, strings.Fields(e.Node.Title)[0])
	}
	return names
}

func TestValidateFilter(t *testing.T) {
	long := func(n int) *string { return pointer(strings.Repeat("é", n)) }
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	now := time.Now().UTC()
	for _, tc := range []struct {
		name  string
		f     *schematype.AlertFilter
		field string // empty when valid
	}{
		{"nil", nil, ""},
		{"limits reached", &schematype.AlertFilter{Q: long(200), Entity: long(500), Tag: many[:100]}, ""},
		{"since before until", &schematype.AlertFilter{Since: &now, Until: pointer(now.Add(time.Second))}, ""},
		{"since alone", &schematype.AlertFilter{Since: &now}, ""},
		{"q too long", &schematype.AlertFilter{Q: long(201)}, "filter.q"},
		{"entity too long", &schematype.AlertFilter{Entity: long(501)}, "filter.entity"},
		{"too many tags", &schematype.AlertFilter{Tag: many}, "filter.tag"},
		{"too many sources", &schematype.AlertFilter{Source: many}, "filter.source"},
		{"too many assignees", &schematype.AlertFilter{AssigneeID: make([]uuid.UUID, 101)}, "filter.assignee_id"},
		{"too many connectors", &schematype.AlertFilter{ConnectorID: make([]uuid.UUID, 101)}, "filter.connector_id"},
		{"unknown status", &schematype.AlertFilter{Status: []enum.AlertStatus{"NEW"}}, "filter.status"},
		{"unknown severity", &schematype.AlertFilter{Severity: []enum.Severity{"urgent"}}, "filter.severity"},
		{"since equals until", &schematype.AlertFilter{Since: &now, Until: &now}, "filter.until"},
		{"since after until", &schematype.AlertFilter{Since: pointer(now.Add(time.Hour)), Until: &now}, "filter.until"},
		{"since beyond year 9999", &schematype.AlertFilter{Since: pointer(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}, "filter.since"},
		{"until before year 1", &schematype.AlertFilter{Until: pointer(time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC))}, "filter.until"},
		{"NUL in q", &schematype.AlertFilter{Q: pointer("a\x00b")}, "filter.q"},
		{"NUL in tag", &schematype.AlertFilter{Tag: []string{"\x00"}}, "filter.tag"},
		{"NUL in entity", &schematype.AlertFilter{Entity: pointer("\x00")}, "filter.entity"},
		{"invalid UTF-8 in source", &schematype.AlertFilter{Source: []string{"\xff"}}, "filter.source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := alerts.ValidateFilter("filter", tc.f)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid filter refused: %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.BadInput || e.Field != tc.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}

// matches is the filter's meaning written in Go, the reference the
// database queries are checked against.
func matchesFilter(a *ent.Alert, f *schematype.AlertFilter) bool {
	if f == nil {
		return true
	}
	unassigned := f.Unassigned != nil && *f.Unassigned
	assigneeOK := (len(f.AssigneeID) == 0 && !unassigned) ||
		(a.AssigneeID != nil && slices.Contains(f.AssigneeID, *a.AssigneeID)) ||
		(unassigned && a.AssigneeID == nil)
	return (len(f.Status) == 0 || slices.Contains(f.Status, a.Status)) &&
		(len(f.Severity) == 0 || slices.Contains(f.Severity, a.Severity)) &&
		(len(f.Source) == 0 || slices.Contains(f.Source, a.Source)) &&
		(len(f.ConnectorID) == 0 || a.ConnectorID != nil && slices.Contains(f.ConnectorID, *a.ConnectorID)) &&
		assigneeOK &&
		(len(f.Tag) == 0 || slices.ContainsFunc(a.Tags, func(t string) bool { return slices.Contains(f.Tag, t) })) &&
		(f.Entity == nil || slices.ContainsFunc(a.Entities, func(e schematype.Entity) bool { return e.Value == *f.Entity })) &&
		(f.Since == nil || !a.LastSeenAt.Before(*f.Since)) &&
		(f.Until == nil || a.LastSeenAt.Before(*f.Until)) &&
		(f.Q == nil || containsFold(a.Title, *f.Q) || containsFold(a.Description, *f.Q)) &&
		(f.IncidentID == nil || a.IncidentID != nil && *a.IncidentID == *f.IncidentID)
}

// containsFold is case-insensitive containment for the ASCII test data
// (SQLite folds ASCII only).
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

var (
	randomWords    = []string{"login", "malware", "beacon", "Phish", "exfil", "scan", "dns", "ransom", "lateral", "PowerShell"}
	randomEntities = []string{"10.0.0.1", "10.0.0.2", "evil.example", "alice", "bob", "d41d8cd98f00b204e9800998ecf8427e", "CVE-2024-1", "web-01"}
)

// randomSpecs makes n alerts spread over every filterable value, skewed so
// that counts differ and tie at the facet limit.
func randomSpecs(r *mrand.Rand, o *queueOrg, n int) []alertSpec {
	statuses, severities := enum.AlertStatus("").Values(), enum.Severity("").Values()
	pick := func(k int) int { return r.IntN(r.IntN(k) + 1) } // small values more often
	specs := make([]alertSpec, n)
	for i := range specs {
		s := alertSpec{
			title:       randomWords[r.IntN(len(randomWords))] + " " + randomWords[r.IntN(len(randomWords))],
			description: strings.Repeat(randomWords[r.IntN(len(randomWords))]+" ", r.IntN(3)),
			status:      enum.AlertStatus(statuses[r.IntN(len(statuses))]),
			severity:    enum.Severity(severities[r.IntN(len(severities))]),
			source:      fmt.Sprintf("src%02d", pick(60)),
			lastSeen:    queueBase.Add(time.Duration(r.IntN(30*24*60)) * time.Minute),
		}
		if k := r.IntN(len(o.connectors) + 1); k < len(o.connectors) {
			s.connector = &o.connectors[k].ID
		}
		if k := r.IntN(len(o.users) + 1); k < len(o.users) {
			s.assignee = &o.users[k].ID
		}
		if r.IntN(5) == 0 {
			s.incident = &o.incident.ID
		}
		switch k := r.IntN(7); k {
		case 0: // no tags at all
		case 1:
			s.tags = []string{}
		case 2:
			s.nullTags = true
		default:
			for range k {
				if tag := fmt.Sprintf("tag%02d", pick(70)); !slices.Contains(s.tags, tag) {
					s.tags = append(s.tags, tag)
				}
			}
		}
		for range r.IntN(3) {
			s.entities = append(s.entities, schematype.Entity{Type: "x", Value: randomEntities[r.IntN(len(randomEntities))]})
		}
		specs[i] = s
	}
	return specs
}

// randomFilter sets each field of a filter with some probability, drawing
// values mostly from those the random alerts use.
func randomFilter(r *mrand.Rand, o *queueOrg) *schematype.AlertFilter {
	f := &schematype.AlertFilter{}
	maybe := func() bool { return r.IntN(3) == 0 }
	some := func(values []string) []string {
		var out []string
		for range 1 + r.IntN(3) {
			out = append(out, values[r.IntN(len(values))])
		}
		return out
	}
	if maybe() {
		for _, v := range some(enum.AlertStatus("").Values()) {
			f.Status = append(f.Status, enum.AlertStatus(v))
		}
	}
	if maybe() {
		for _, v := range some(enum.Severity("").Values()) {
			f.Severity = append(f.Severity, enum.Severity(v))
		}
	}
	if maybe() {
		f.Source = some([]string{"src00", "src01", "src02", "src03", "src10", "nope"})
	}
	if maybe() {
		f.ConnectorID = []uuid.UUID{o.connectors[r.IntN(len(o.connectors))].ID}
	}
	if maybe() {
		f.AssigneeID = []uuid.UUID{o.users[r.IntN(len(o.users))].ID}
	}
	if maybe() {
		f.Unassigned = pointer(r.IntN(2) == 0)
	}
	if maybe() {
		f.Tag = some([]string{"tag00", "tag01", "tag02", "tag05", "tag30", "nope"})
	}
	if r.IntN(6) == 0 {
		f.Entity = pointer(randomEntities[r.IntN(len(randomEntities))])
	}
	if maybe() {
		since := queueBase.Add(time.Duration(r.IntN(20*24)) * time.Hour)
		f.Since = &since
		if maybe() {
			f.Until = pointer(since.Add(time.Duration(1+r.IntN(10*24)) * time.Hour))
		}
	}
	if maybe() {
		w := randomWords[r.IntN(len(randomWords))]
		if r.IntN(2) == 0 {
			w = strings.ToUpper(w[:3])
		}
		f.Q = &w
	}
	if r.IntN(8) == 0 {
		f.IncidentID = &o.incident.ID
	}
	return f
}

// hostileFilter builds a filter from arbitrary text and offsets (seconds
// from queueBase; zero leaves a bound unset).
func hostileFilter(tag, entity, q, status string, since, until int64) *schematype.AlertFilter {
	f := &schematype.AlertFilter{
		Source: []string{tag, q},
		Tag:    []string{tag, entity},
		Entity: &entity,
		Q:      &q,
	}
	if status != "" {
		f.Status = []enum.AlertStatus{enum.AlertStatus(status)}
	}
	if since != 0 {
		f.Since = pointer(queueBase.Add(time.Duration(since) * time.Second))
	}
	if until != 0 {
		f.Until = pointer(queueBase.Add(time.Duration(until) * time.Second))
	}
	return f
}

type hostileInput struct {
	tag, entity, q, status string
	since, until           int64
}

var hostileInputs = []hostileInput{
	{"vip", `it's "x"`, "100%", "new", 0, 3600},
	{`'; DROP TABLE alerts; --`, `\`, "_%\\", "closed", -1, -2},
	{"\x00", "é\u202e", "\xff\xfe", "NEW", 1 << 40, 0},
	{`"]`, `[{"value":"x"}]`, `$.value`, "", 5, 5},
	{"\u0000", `\u0000`, "😀", "", 1 << 62, -(1 << 62)},
	{"", "", "", "", 365 * 24 * 3600 * 8000, 0},
}

// Hostile text must give results or a validation error on both databases,
// never a database error.
func TestHostileFilters(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "hostile")
		o.seed(t, db, semanticsSpecs(o))
		svc := alerts.New(db.Client, db.Dialect)
		for i, in := range hostileInputs {
			filter := hostileFilter(in.tag, in.entity, in.q, in.status, in.since, in.until)
			_, err := svc.List(o.ctx, filter, paging.Page{First: pointer(5)}, nil, nil)
			checkOnlyInvalid(t, fmt.Sprintf("list %d", i), err)
			_, err = svc.Facets(o.ctx, filter)
			checkOnlyInvalid(t, fmt.Sprintf("facets %d", i), err)
		}
	})
}

// FuzzPredicates runs the list and facet queries for arbitrary filter text
// on SQLite: the only acceptable errors are validation errors.
func FuzzPredicates(f *testing.F) {
	db := testenv.Open(f, testenv.SQLite)
	o := newQueueOrg(f, db, "fuzz")
	o.seed(f, db, semanticsSpecs(o))
	svc := alerts.New(db.Client, db.Dialect)
	for _, in := range hostileInputs {
		f.Add(in.tag, in.entity, in.q, in.status, in.since, in.until)
	}
	f.Fuzz(func(t *testing.T, tag, entity, q, status string, since, until int64) {
		filter := hostileFilter(tag, entity, q, status, since, until)
		_, err := svc.List(o.ctx, filter, paging.Page{First: pointer(5)}, nil, nil)
		checkOnlyInvalid(t, "list", err)
		_, err = svc.Facets(o.ctx, filter)
		checkOnlyInvalid(t, "facets", err)
	})
}

func checkOnlyInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput {
		t.Errorf("%s: unexpected error %v", what, err)
	}
}
