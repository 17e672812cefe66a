package alerts_test

import (
	"cmp"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// facetRef is one facet computed in Go: the values an alert has for the
// field (nil for none), the part of the filter the facet ignores, and the
// facet's limit.
type facetRef struct {
	name    string
	values  func(a *ent.Alert) []*string
	without func(f *schematype.AlertFilter)
	limit   int
	got     func(*alerts.AlertFacets) []*alerts.FacetValue
}

func oneValue(s string) []*string { return []*string{&s} }

var facetRefs = []facetRef{
	{"status", func(a *ent.Alert) []*string { return oneValue(string(a.Status)) },
		func(f *schematype.AlertFilter) { f.Status = nil }, 0,
		func(a *alerts.AlertFacets) []*alerts.FacetValue { return a.Status }},
	{"severity", func(a *ent.Alert) []*string { return oneValue(string(a.Severity)) },
		func(f *schematype.AlertFilter) { f.Severity = nil }, 0,
		func(a *alerts.AlertFacets) []*alerts.FacetValue { return a.Severity }},
	{"source", func(a *ent.Alert) []*string { return oneValue(a.Source) },
		func(f *schematype.AlertFilter) { f.Source = nil }, 50,
		func(a *alerts.AlertFacets) []*alerts.FacetValue { return a.Source }},
	{"connector", func(a *ent.Alert) []*string {
		if a.ConnectorID == nil {
			return []*string{nil}
		}
		return oneValue(a.ConnectorID.String())
	}, func(f *schematype.AlertFilter) { f.ConnectorID = nil }, 0,
		func(a *alerts.AlertFacets) []*alerts.FacetValue { return a.Connector }},
	{"assignee", func(a *ent.Alert) []*string {
		if a.AssigneeID == nil {
			return []*string{nil}
		}
		return oneValue(a.AssigneeID.String())
	}, func(f *schematype.AlertFilter) { f.AssigneeID, f.Unassigned = nil, nil }, 0,
		func(a *alerts.AlertFacets) []*alerts.FacetValue { return a.Assignee }},
	{"tags", func(a *ent.Alert) []*string {
		var vs []*string
		for _, t := range a.Tags {
			vs = append(vs, &t)
		}
		return vs
	}, func(f *schematype.AlertFilter) { f.Tag = nil }, 50,
		func(a *alerts.AlertFacets) []*alerts.FacetValue { return a.Tags }},
}

// bruteForce counts a facet over all alerts in Go: other filters applied,
// most frequent first, ties by value in byte order, no value last.
func bruteForce(all []*ent.Alert, f *schematype.AlertFilter, ref facetRef) []string {
	var others schematype.AlertFilter
	if f != nil {
		others = *f
	}
	ref.without(&others)
	counts := map[string]int{}
	const none = "\x00none"
	for _, a := range all {
		if !matchesFilter(a, &others) {
			continue
		}
		for _, v := range ref.values(a) {
			counts[cmp.Or(derefString(v), none)]++
		}
	}
	type kv struct {
		value string
		n     int
	}
	var list []kv
	for v, n := range counts {
		list = append(list, kv{v, n})
	}
	slices.SortFunc(list, func(a, b kv) int {
		return cmp.Or(cmp.Compare(b.n, a.n), noneLast(a.value, b.value, none))
	})
	if ref.limit > 0 && len(list) > ref.limit {
		list = list[:ref.limit]
	}
	out := make([]string, len(list))
	for i, e := range list {
		if e.value == none {
			e.value = "<null>"
		}
		out[i] = fmt.Sprintf("%s=%d", e.value, e.n)
	}
	return out
}

// noneLast orders values by bytes with the marker for "no value" last.
func noneLast(a, b, none string) int {
	switch {
	case a == b:
		return 0
	case a == none:
		return 1
	case b == none:
		return -1
	}
	return cmp.Compare(a, b)
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func flattenFacet(vs []*alerts.FacetValue) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		value := "<null>"
		if v.Value != nil {
			value = *v.Value
		}
		out[i] = fmt.Sprintf("%s=%d", value, v.Count)
	}
	return out
}

func TestFacetsMatchBruteForce(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "facets")
		r := mrand.New(mrand.NewPCG(11, 12))
		all := o.seed(t, db, randomSpecs(r, o, 600))
		// Another organisation's alerts must not count.
		other := newQueueOrg(t, db, "elsewhere")
		other.seed(t, db, randomSpecs(r, other, 200))
		svc := alerts.New(db.Client, db.Dialect)

		filters := []*schematype.AlertFilter{nil, {}, {Unassigned: pointer(true)}, {Tag: []string{"tag00"}, Status: []enum.AlertStatus{enum.AlertStatusNew}}}
		for range 16 {
			filters = append(filters, randomFilter(r, o))
		}
		sawLimit := map[string]bool{}
		for i, f := range filters {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				got, err := svc.Facets(o.ctx, f)
				if err != nil {
					t.Fatalf("facets %s: %v", describeFilter(f), err)
				}
				for _, ref := range facetRefs {
					want := bruteForce(all, f, ref)
					if g := flattenFacet(ref.got(got)); !slices.Equal(g, want) {
						t.Errorf("filter %s, facet %s:\n got %v\nwant %v", describeFilter(f), ref.name, g, want)
					}
					if ref.limit > 0 && len(want) == ref.limit {
						sawLimit[ref.name] = true
					}
				}
			})
		}
		for _, name := range []string{"source", "tags"} {
			if !sawLimit[name] {
				t.Errorf("no filter reached the %s facet's limit; the data does not test it", name)
			}
		}
	})
}

func TestFacetsRefuseInvalidFilter(t *testing.T) {
	db := testenv.Open(t, testenv.SQLite)
	o := newQueueOrg(t, db, "invalid")
	_, err := alerts.New(db.Client, db.Dialect).Facets(o.ctx, &schematype.AlertFilter{Severity: []enum.Severity{"urgent"}})
	if err == nil {
		t.Fatal("an unknown severity must be refused")
	}
}

// SeveritiesByIncident, the incident lists' batched severity counts, gives
// each incident what Severities gives it alone (another organisation's
// incident nothing), in one query.
func TestSeveritiesByIncidentMatchesSeverities(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o, other := newQueueOrg(t, db, "batched"), newQueueOrg(t, db, "batched-other")
		second, err := db.Client.Incident.Create().SetNumber(2).SetTitle("second").Save(o.ctx)
		if err != nil {
			t.Fatal(err)
		}
		empty, err := db.Client.Incident.Create().SetNumber(3).SetTitle("empty").Save(o.ctx)
		if err != nil {
			t.Fatal(err)
		}
		sev := []enum.Severity{enum.SeverityHigh, enum.SeverityLow, enum.SeverityHigh, enum.SeverityCritical, enum.SeverityLow, enum.SeverityHigh}
		var specs []alertSpec
		for i, s := range sev {
			inc := &o.incident.ID
			if i%3 == 2 {
				inc = &second.ID
			}
			specs = append(specs, alertSpec{severity: s, incident: inc})
		}
		o.seed(t, db, specs)
		other.seed(t, db, []alertSpec{{severity: enum.SeverityCritical, incident: &other.incident.ID}})
		svc := alerts.New(db.Client, db.Dialect)
		ids := []uuid.UUID{o.incident.ID, second.ID, empty.ID, other.incident.ID}
		got, err := svc.SeveritiesByIncident(o.ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids[:3] {
			want, err := svc.Severities(o.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := flattenFacet(got[id]), flattenFacet(want); !slices.Equal(g, w) {
				t.Errorf("incident %s: batched %v, alone %v", id, g, w)
			}
		}
		if len(got[o.incident.ID]) != 3 || len(got[empty.ID]) != 0 || len(got[other.incident.ID]) != 0 {
			t.Errorf("batched counts %v", got)
		}
	})
}
