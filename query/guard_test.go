package query_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
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
		{`attributes.host.startsWith("web-prod-") && title.contains("NodeDown")`, []string{"attributes.host^=web-prod-"}},
		{`connector.type == "wazuh" && attributes["rule"] == "5710"`, []string{"connector.type==wazuh"}},
		{`attributes.rule == "5710"`, []string{"attributes.rule==5710"}},
		// Not a conjunction of simple terms: the program decides alone.
		{`source == "a" || severity == "high"`, nil},
		{`!(source == "a")`, nil},
		{`severity >= "high"`, nil},
		{`occurrences == 3`, nil},
		{`entities.ip.exists(i, i == "198.51.100.1")`, nil},
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
	conditions := []string{
		`source == "crowdstrike" && severity == "critical"`,
		`source == "sentinelone" && severity >= "high" && !("triaged" in tags)`,
		`attributes.host.startsWith("web-prod-") && title.contains("NodeDown")`,
		`attributes.host.startsWith("") && source == ""`,
		`connector.type == "wazuh" && attributes.rule == "5710"`,
		`severity == "info" && source == "bench-noise-1"`,
		`attributes.user == "" && status == "new"`,
		`connector.name == "edr" && assignee == null`,
		`source == "crowdstrike" && attributes.missing.startsWith("x")`,
	}
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
		a := &ent.Alert{Source: pick(r, "crowdstrike", "sentinelone", "wazuh", "", "bench-noise-1"), Title: pick(r, "NodeDown on web", "x", ""),
			Severity: enum.Severity(pick(r, "critical", "high", "medium", "low", "info")), Status: enum.AlertStatus(pick(r, "new", "closed")),
			Tags: []string{pick(r, "triaged", "edr")}, CreatedAt: now, FirstSeenAt: now, LastSeenAt: now,
			Entities: []schematype.Entity{{Type: "ipv4", Value: "198.51.100.7"}}}
		attrs := map[string]string{}
		if r.IntN(3) > 0 {
			attrs["host"] = pick(r, "web-prod-1", "web-dev-1", "")
		}
		if r.IntN(2) == 0 {
			attrs["rule"] = pick(r, "5710", "1")
		}
		if r.IntN(2) == 0 {
			attrs["user"] = pick(r, "", "alice")
		}
		a.Attributes = attrs
		if r.IntN(2) == 0 {
			a.Edges.Connector = &ent.Connector{Name: pick(r, "edr", "siem"), Type: pick(r, "wazuh", "generic")}
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
		if n == 0 && j != 8 {
			t.Errorf("%s matched no alert: the data does not exercise it", conditions[j])
		}
	}
}
