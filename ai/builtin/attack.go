package builtin

import (
	_ "embed"
	"slices"
	"strings"
)

// attackMatrix lists every ATT&CK Enterprise technique id with its name
// (attack_matrix.tsv says where it comes from). Vendor-given ids are kept
// only when they are in it.
//
//go:embed attack_matrix.tsv
var attackMatrixTSV string

var attackMatrix = parseMatrix(attackMatrixTSV)

func parseMatrix(tsv string) map[string]string {
	m := make(map[string]string, 700)
	for _, line := range strings.Split(tsv, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		id, name, ok := strings.Cut(line, "\t")
		if ok {
			m[id] = name
		}
	}
	return m
}

// tacticUnknown is the tactic of a matrix technique outside the technique
// table (mitre_data.go), whose tactic the analyst does not know.
const tacticUnknown = "unknown"

// normTechniqueID upper-cases and trims an ATT&CK id and reports whether
// the matrix knows it.
func normTechniqueID(s string) (string, bool) {
	id := strings.ToUpper(strings.TrimSpace(s))
	_, ok := attackMatrix[id]
	return id, ok
}

// techniqueByID describes a matrix technique: from the technique table when
// it is there, else the matrix's name with its parent's tactic.
func techniqueByID(id, matched string) (Technique, bool) {
	if i, ok := techniques.byID[id]; ok {
		return techniques.techniques[i].technique(matched), true
	}
	name, ok := attackMatrix[id]
	if !ok {
		return Technique{}, false
	}
	tactic := tacticUnknown
	if parent, _, sub := strings.Cut(id, "."); sub {
		if i, ok := techniques.byID[parent]; ok {
			tactic = techniques.techniques[i].tactic
		}
	}
	return Technique{ID: id, Name: name, Tactic: tactic, Matched: matched}, true
}

// vendorTechniques normalises and validates the ids the source gave;
// unknown ids are dropped and a parent gives way to its sub-technique.
func vendorTechniques(ids []string) []Technique {
	var out []Technique
	seen := map[string]bool{}
	for _, raw := range ids[:min(len(ids), maxTags)] {
		id, ok := normTechniqueID(raw)
		if !ok || seen[id] {
			continue
		}
		if t, ok := techniqueByID(id, "given by the source"); ok {
			seen[id] = true
			out = append(out, t)
		}
	}
	return dropParents(out)
}

// dropParents removes techniques whose sub-technique is also listed.
func dropParents(ts []Technique) []Technique {
	seen := make(map[string]bool, len(ts))
	for _, t := range ts {
		seen[t.ID] = true
	}
	return slices.DeleteFunc(ts, func(t Technique) bool { return hasSubTechnique(t.ID, seen) })
}

// LookupMatrix returns the name of an ATT&CK Enterprise technique of the
// bundled matrix.
func LookupMatrix(id string) (string, bool) {
	name, ok := attackMatrix[strings.ToUpper(strings.TrimSpace(id))]
	return name, ok
}
