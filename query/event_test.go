package query_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/query"
)

// Event conditions: changes is readable on updates only, in memory only;
// a condition without it is the ordinary query.
func TestCompileEvent(t *testing.T) {
	src, _ := query.Lookup("alerts")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := query.Record{"severity": "high", "status": "closed", "tags": []string{}, "attributes": map[string]string{"host": "web-1"},
		query.ChangesVar: map[string]query.Change{"status": {From: "new", To: "closed"}}}
	cases := []struct {
		name, text  string
		changes     bool
		memory, hit bool
		refused     bool
	}{
		{"status closed", `changes.status.to == "closed"`, true, true, true, false},
		{"from", `changes.status.from == "new" && severity >= "high"`, true, true, true, false},
		{"unchanged field does not hold", `changes.severity.to == "critical"`, true, true, false, false},
		{"has", `has(changes.status) && !has(changes.severity)`, true, true, true, false},
		{"attributes read as in queries", `has(changes.status) && attributes.rule == ""`, true, true, true, false},
		{"no changes: the ordinary query", `severity == "high"`, true, false, true, false},
		{"changes on a created event", `changes.status.to == "closed"`, false, false, false, true},
		{"not a condition", `changes.status`, true, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := query.CompileEvent(src, "condition", tc.text, now, tc.changes)
			if tc.refused {
				if e, ok := apperr.As(err); !ok || e.Field != "condition" {
					t.Fatalf("want a refusal naming condition, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.InMemoryOnly() != tc.memory {
				t.Fatalf("in memory only %v, want %v", q.InMemoryOnly(), tc.memory)
			}
			if got, _ := q.Matches(rec); got != tc.hit {
				t.Fatalf("matches %v, want %v", got, tc.hit)
			}
			// Prepared once for many conditions, the same answer.
			if got, _ := q.MatchesPrepared(src.Prepare(rec, now)); got != tc.hit {
				t.Fatalf("prepared: matches %v, want %v", got, tc.hit)
			}
		})
	}
}

// FuzzCompileEvent: an event condition compiles or is refused naming the
// field, and evaluating it never panics.
func FuzzCompileEvent(f *testing.F) {
	for _, seed := range []string{`changes.status.to == "closed"`, `has(changes.x)`, `changes["a"]["b"] == 1`, `severity == "low"`} {
		f.Add(seed)
	}
	src, _ := query.Lookup("incidents")
	f.Fuzz(func(t *testing.T, text string) {
		q, err := query.CompileEvent(src, "condition", text, time.Unix(0, 0), true)
		if err != nil {
			if e, ok := apperr.As(err); !ok || e.Field != "condition" {
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		_, _ = q.Matches(query.Record{"tags": []string{}, query.ChangesVar: map[string]query.Change{"status": {From: "new", To: "closed"}}})
	})
}

// The runtime cost limit: a condition the static estimate admits runs
// untracked on records within the size hints, and is still stopped on a
// record beyond them (a list far longer than the estimate assumed).
func TestCostLimitBeyondSizeHints(t *testing.T) {
	src, _ := query.Lookup("alerts")
	now := time.Now()
	q, err := query.CompileEvent(src, "condition", `tags.exists(t, t.startsWith("x") || t.endsWith("y") || t.contains("z"))`, now, false)
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, 300_000)
	for i := range many {
		many[i] = "bench-tag"
	}
	cases := []struct {
		name    string
		tags    []string
		match   bool
		stopped bool
	}{
		{"within the hints, untracked", []string{"a", "xa"}, true, false},
		{"within the hints, no match", []string{"a", "b"}, false, false},
		{"beyond the hints, over the limit", many, false, true},
		{"beyond the hints, an early match", append([]string{"xa"}, many...), true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := benchAlert()
			rec["tags"] = tc.tags
			for how, match := range map[string]func() (bool, error){
				"matches":  func() (bool, error) { return q.Matches(rec) },
				"prepared": func() (bool, error) { return q.MatchesPrepared(src.Prepare(rec, now)) },
			} {
				got, err := match()
				if tc.stopped != (err != nil && strings.Contains(err.Error(), "cost limit")) {
					t.Fatalf("%s: stopped %v, want %v (%v)", how, err != nil, tc.stopped, err)
				}
				if got != tc.match {
					t.Fatalf("%s: match %v, want %v", how, got, tc.match)
				}
			}
		})
	}
}
