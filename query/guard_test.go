package query_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
)

func TestGuards(t *testing.T) {
	src, _ := query.Lookup("alerts")
	for _, c := range []struct {
		text string
		want []string
	}{
		{`source == "crowdstrike" && severity == "critical"`, []string{"source==crowdstrike", "severity==critical"}},
		{`"edr" == source`, []string{"source==edr"}},
		{`attributes.host.startsWith("web-prod-") && title.contains("NodeDown")`, []string{"attributes.host^=web-prod-", "title*=NodeDown"}},
		{`connector.type == "wazuh" && attributes["rule"] == "5710"`, []string{"connector.type==wazuh"}},
		{`attributes.rule == "5710"`, []string{"attributes.rule==5710"}},
		{`title.matches("(?i)ransom|encrypt") && severity >= "medium"`, []string{"title~=(?i)ransom|encrypt"}},
		{`"vip" in tags || attributes.user.endsWith("@board.example")`, []string{"(vip in tags || attributes.user$=@board.example)"}},
		{`entities.ip.exists(i, i.startsWith("198.51.100."))`, []string{"entities.ip.exists(^=198.51.100.)"}},
		{`title.contains("Impossible travel") && assignee == null`, []string{"title*=Impossible travel", "assignee==null"}},
		{`null == incident`, []string{"incident==null"}},
		{`source == "a" || (severity == "high" && title.contains("x"))`, []string{"(source==a || (severity==high && title*=x))"}},
		{`source == "a" || (severity >= "high" && title.contains("x"))`, []string{"(source==a || title*=x)"}},
		// Not a term a guard can check: the program decides alone.
		{`source == "a" || severity >= "high"`, nil},
		{`!(source == "a")`, nil},
		{`severity >= "high"`, nil},
		{`occurrences == 3`, nil},
		{`entities.ip.exists(i, !i.startsWith("10."))`, nil},
		{`entities.ip.all(i, i.startsWith("10."))`, nil},
		{`entities.ip.exists(i, source == "x")`, nil},
		{`attributes.host != "" && !tags.exists(t, t == "a")`, nil},
		{``, nil},
	} {
		q, err := query.CompileEvent(src, "condition", c.text, time.Now(), false)
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if got := query.Guards(q); !slices.Equal(got, c.want) {
			t.Errorf("%s: guards %q, want %q", c.text, got, c.want)
		}
	}
}

// TestGuardsNeverChangeAResult: on random alerts, every condition with its
// guards gives what its program alone gives, so a guard only skips work.
func TestGuardsNeverChangeAResult(t *testing.T) {
	src, _ := query.Lookup("alerts")
	conditions := append(testenv.TriggerConditions(10),
		`attributes.host.startsWith("") && source == ""`,
		`attributes.user == "" && status == "new"`,
		`connector.name == "edr" && assignee == null`,
		`source == "crowdstrike" && attributes.missing.startsWith("x")`,
		`"edr" in tags || (title.matches("^NodeDown") && attributes.host.endsWith("-1"))`,
		`entities.ip.exists(i, i.contains("100.7")) && incident == null`,
		`attributes.missing.endsWith("") && "edr" in tags`,
	)
	pick := func(r *rand.Rand, vs ...string) string { return vs[r.IntN(len(vs))] }
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	var compiled []*query.Query
	for _, c := range conditions {
		q, err := query.CompileEvent(src, "condition", c, now, false)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		compiled = append(compiled, q)
	}
	matched := make([]int, len(conditions))
	for i := range 3000 {
		a := &ent.Alert{Source: pick(r, "crowdstrike", "sentinelone", "wazuh", "", "bench-noise-8"),
			Title:    pick(r, "NodeDown on web", "x", "", "Ransomware note", "Impossible travel for bob"),
			Severity: enum.Severity(pick(r, "critical", "high", "medium", "low", "info")), Status: enum.AlertStatus(pick(r, "new", "closed")),
			Tags: []string{pick(r, "triaged", "edr", "vip")}, CreatedAt: now, FirstSeenAt: now, LastSeenAt: now,
			Entities: []schematype.Entity{{Type: "ipv4", Value: pick(r, "198.51.100.7", "10.0.0.1")}}}
		attrs := map[string]string{}
		if r.IntN(3) > 0 {
			attrs["host"] = pick(r, "web-prod-1", "web-dev-1", "", "ingest-24-0012")
		}
		if r.IntN(2) == 0 {
			attrs["rule"] = pick(r, "5710", "1")
		}
		if r.IntN(2) == 0 {
			attrs["user"] = pick(r, "", "alice", "ceo@board.example")
		}
		a.Attributes = attrs
		if r.IntN(2) == 0 {
			a.Edges.Connector = &ent.Connector{Name: pick(r, "edr", "siem"), Type: pick(r, "wazuh", "generic")}
		}
		if r.IntN(2) == 0 {
			a.Edges.Assignee = &ent.User{Email: "a@example.com", Handle: "a"}
		}
		if r.IntN(2) == 0 {
			a.Edges.Incident = &ent.Incident{Number: 7, Status: "open"}
		}
		p := src.Prepare(query.AlertRecord(a), now)
		for j, q := range compiled {
			// An error is a condition that does not hold, as the engine reads it.
			got, _ := q.MatchesPrepared(p)
			want, _ := query.Unguarded(q).MatchesPrepared(p)
			if got != want {
				t.Fatalf("alert %d, %s: guarded %v, program alone %v", i, conditions[j], got, want)
			}
			if want {
				matched[j]++
			}
		}
	}
	for j, n := range matched {
		if n == 0 && !strings.Contains(conditions[j], "attributes.missing.startsWith") {
			t.Errorf("%s matched no alert: the data does not exercise it", conditions[j])
		}
	}
}
