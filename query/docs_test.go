package query_test

import (
	"os"
	"strings"
	"testing"

	"github.com/seliq/seliq/query"
)

// TestReferenceMatchesTheCode: docs/QUERY.md names every field of every
// source, and the README's ten example queries compile.
func TestReferenceMatchesTheCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/QUERY.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, s := range query.Sources() {
		for _, f := range s.Fields {
			if !strings.Contains(text, "`"+f.Name+"`") {
				t.Errorf("docs/QUERY.md does not name %s.%s", s.Name, f.Name)
			}
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, examples, ok := strings.Cut(string(readme), "Ten queries a SOC lead writes:")
	if !ok {
		t.Fatal("no examples section")
	}
	_, block, _ := strings.Cut(examples, "```\n")
	block, _, _ = strings.Cut(block, "```")
	src, _ := query.Lookup("alerts")
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		n++
		if _, err := query.Compile(src, "query", line, fixtureNow); err != nil {
			t.Errorf("example %q: %v", line, err)
		}
	}
	if n != 10 {
		t.Errorf("%d examples, want 10", n)
	}
}
