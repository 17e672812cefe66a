package alerts_test

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
)

// PostgreSQL's one-pass facets (GROUPING SETS with a FILTER per facet) give
// exactly what the former query per facet gives, for every kind of filter:
// each facet field alone, several together (the FILTER clauses then differ
// per facet), the fields no facet ignores, and random mixes. SQLite has
// only the per-facet path, which TestFacetsMatchBruteForce checks on both.
func TestFacetsOnePassMatchesPerField(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	o := newQueueOrg(t, db, "onepass")
	r := mrand.New(mrand.NewPCG(21, 22))
	o.seed(t, db, randomSpecs(r, o, 500))
	other := newQueueOrg(t, db, "onepass-other")
	other.seed(t, db, randomSpecs(r, other, 150))
	svc := alerts.New(db.Client, db.Dialect)
	since := time.Now().Add(-48 * time.Hour)
	tests := []struct {
		name   string
		filter *schematype.AlertFilter
	}{
		{"none", nil},
		{"empty", &schematype.AlertFilter{}},
		{"status", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew}}},
		{"severity", &schematype.AlertFilter{Severity: []enum.Severity{enum.SeverityCritical, enum.SeverityHigh}}},
		{"unassigned", &schematype.AlertFilter{Unassigned: pointer(true)}},
		{"tag", &schematype.AlertFilter{Tag: []string{"tag00", "tag01"}}},
		{"status and severity", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged},
			Severity: []enum.Severity{enum.SeverityCritical, enum.SeverityHigh}}},
		{"triage queue", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged},
			Severity: []enum.Severity{enum.SeverityCritical, enum.SeverityHigh}, Tag: []string{"tag00"}}},
		{"since only", &schematype.AlertFilter{Since: &since}},
		{"text and status", &schematype.AlertFilter{Q: pointer("a"), Status: []enum.AlertStatus{enum.AlertStatusNew}}},
		{"matches nothing", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusClosed}, Severity: []enum.Severity{enum.SeverityInfo}, Q: pointer("no such text")}},
	}
	for i := range 12 {
		tests = append(tests, struct {
			name   string
			filter *schematype.AlertFilter
		}{fmt.Sprintf("random %d", i), randomFilter(r, o)})
	}
	nonEmpty := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := svc.FacetsOnePass(o.ctx, tt.filter)
			if err != nil {
				t.Fatalf("one pass: %v", err)
			}
			want, err := svc.FacetsPerField(o.ctx, tt.filter)
			if err != nil {
				t.Fatalf("per field: %v", err)
			}
			for _, ref := range facetRefs {
				g, w := flattenFacet(ref.got(got)), flattenFacet(ref.got(want))
				if !slices.Equal(g, w) {
					t.Errorf("filter %s, facet %s:\n one pass  %v\n per field %v", describeFilter(tt.filter), ref.name, g, w)
				}
				if len(w) > 0 {
					nonEmpty++
				}
			}
		})
	}
	if nonEmpty < len(tests) {
		t.Errorf("only %d non-empty facets over %d filters; the data does not exercise the comparison", nonEmpty, len(tests))
	}
}
