package builtin

import "testing"

func TestLookupTechnique(t *testing.T) {
	cases := []struct {
		id     string
		found  bool
		tactic string
	}{
		{"T1059.001", true, "execution"},
		{"T1003.001", true, "credential-access"},
		{"T9999", false, ""},
		{"t1059.001", false, ""},
		{"", false, ""},
	}
	for _, c := range cases {
		got, ok := LookupTechnique(c.id)
		if ok != c.found || got.Tactic != c.tactic || (ok && (got.ID != c.id || got.Name == "")) {
			t.Errorf("LookupTechnique(%q) = %+v, %v", c.id, got, ok)
		}
	}
}
