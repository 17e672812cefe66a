package builtin

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func intrusionIncident() Incident {
	return Incident{
		Title: "Intrusion on finance workstation leading to ransomware", Severity: "high", Status: "in_progress",
		CreatedAt: t0.Add(10 * time.Minute),
		// Deliberately out of order: the analysis sorts by first seen.
		Alerts: []Alert{sentinelOneRansomware(), defenderMimikatz(), crowdStrikePowerShell(), alertmanagerNodeDown()},
		Timeline: []Event{
			{OccurredAt: t0.Add(10 * time.Minute), Kind: "alert_linked", Title: "Alert linked"},
			{OccurredAt: t0.Add(18 * time.Minute), Kind: "status_changed", Title: "Status changed from new to in_progress"},
			{OccurredAt: t0.Add(30 * time.Minute), Kind: "note_added", Title: "Analyst: fin-ws-042 isolated via Falcon"},
		},
	}
}

func TestAnalyzeIncident(t *testing.T) {
	in := intrusionIncident()
	ia := AnalyzeIncident(in, IncidentContext{
		History: map[string]DispositionHistory{"am:NodeDown:db-03:9100": {FalsePositive: 1, Benign: 20}},
		Related: []Related{{ID: "i-1", Title: "Earlier phishing wave", Kind: "incident", Reason: "shares ipv4 185.220.101.45"}},
	})
	if os.Getenv("BUILTIN_PRINT") != "" {
		t.Log("\n" + FormatIncidentText(ia))
	}
	checkAnalysis(t, ia.Analysis)
	if ia.Verdict != VerdictLikelyMalicious || ia.Severity != "critical" || ia.SeverityReason == "" {
		t.Errorf("verdict %s severity %s (%s), want likely_malicious critical with a reason", ia.Verdict, ia.Severity, ia.SeverityReason)
	}
	if got := []string{ia.Alerts[0].ID, ia.Alerts[1].ID, ia.Alerts[2].ID}; !slices.Equal(got, []string{"a-am-1", "a-cs-1", "a-mde-1"}) {
		t.Errorf("alerts not in time order: %v", got)
	}
	for _, id := range []string{"T1486", "T1490", "T1003.001", "T1059.001", "T1105"} {
		i := slices.IndexFunc(ia.Techniques, func(tc Technique) bool { return tc.ID == id })
		if i < 0 || ia.Techniques[i].Alerts != 1 {
			t.Errorf("technique %s missing or miscounted in %+v", id, ia.Techniques)
		}
	}
	if ia.Techniques[0].Tactic != "impact" {
		t.Errorf("most damaging technique not first: %+v", ia.Techniques[0])
	}
	wantIOC(t, ia.Analysis, "185.220.101.45")
	wantAsset(t, ia.Analysis, "fs-02")
	wantStep(t, ia.Analysis, StepContain, "Isolate fs-02")
	wantStep(t, ia.Analysis, StepRecover, "offline backups")
	if slices.ContainsFunc(ia.Assets, func(e Entity) bool { return e.Value == "db-03" }) {
		t.Error("a benign alert's host is listed among the incident's assets")
	}
	if slices.ContainsFunc(ia.NextSteps, func(s Step) bool { return strings.Contains(s.Text, "Alertmanager") }) {
		t.Error("a benign alert's tuning advice leaked into a malicious incident")
	}
	wantIn(t, ia.Narrative,
		"At 09:12 UTC on 2 March 2026 Alertmanager reported \"NodeDown\"",
		"Within the same minute CrowdStrike Falcon reported",
		"4 minutes later Microsoft Defender for Endpoint reported",
		"6 minutes later the incident was opened at high severity",
		"status changed: Status changed from new to in_progress",
		"SentinelOne reported \"Ransomware: akira.exe\" on fs-02 (3 times; Data Encrypted for Impact), rated likely malicious")
	if strings.Contains(ia.Narrative, "Alert linked") {
		t.Error("alert_linked events repeat the alerts")
	}
	if i, j := strings.Index(ia.Narrative, "note added"), strings.Index(ia.Narrative, "SentinelOne"); i < 0 || i > j {
		t.Errorf("narrative not chronological: %s", ia.Narrative)
	}
	wantIn(t, ia.Summary.WhatHappened, "groups 4 alerts", "between 2026-03-02 09:12 UTC and 2026-03-02 10:02 UTC (50 minutes)")
	wantIn(t, ia.Summary.Impact, "3 of 4 alerts rated likely malicious", `related to incident "Earlier phishing wave"`)
}

func TestAnalyzeIncidentRankedIOCs(t *testing.T) {
	ia := AnalyzeIncident(intrusionIncident(), IncidentContext{})
	if len(ia.RankedIOCs) != len(ia.IOCs) || ia.Excluded == nil {
		t.Fatalf("ranked %d of %d IOCs, excluded %v", len(ia.RankedIOCs), len(ia.IOCs), ia.Excluded)
	}
	for i, r := range ia.RankedIOCs {
		if r.Value != ia.IOCs[i].Value || r.Reason == "" {
			t.Errorf("ranked IOC %d: %+v for %+v", i, r, ia.IOCs[i])
		}
	}
}

func TestAnalyzeIncidentVerdicts(t *testing.T) {
	travel, brute, scan := impossibleTravel(), wazuhBruteForce(), suricataScan()
	// A sign-in an expert would only call suspicious (initial access).
	travel.Title, travel.Description = "Sign-in from an anonymous IP address", "bob@contoso.com signed in from an anonymising proxy."
	scan.Occurrences = 1
	tests := []struct {
		name   string
		alerts []Alert
		want   string
		signal string
	}{
		{"no alerts", nil, VerdictNeedsReview, SignalAlert},
		{"all benign", []Alert{alertmanagerNodeDown()}, VerdictLikelyBenign, SignalAlert},
		{"suspicious alerts across three tactics", []Alert{travel, brute, scan}, VerdictLikelyMalicious, SignalKillChain},
		{"suspicious alerts in two tactics", []Alert{travel, brute}, VerdictSuspicious, SignalAlert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ia := AnalyzeIncident(Incident{Title: tt.name, Severity: "medium", Alerts: tt.alerts}, IncidentContext{})
			checkAnalysis(t, ia.Analysis)
			if ia.Verdict != tt.want {
				t.Errorf("verdict = %s, want %s; reasons:\n%s", ia.Verdict, tt.want, reasonLines(ia.Reasons))
			}
			if !slices.ContainsFunc(ia.Reasons, func(r Reason) bool { return r.Signal == tt.signal }) {
				t.Errorf("no %s reason in:\n%s", tt.signal, reasonLines(ia.Reasons))
			}
		})
	}
}

func TestNarrativeBounded(t *testing.T) {
	in := Incident{Title: "noisy", CreatedAt: t0}
	for i := range 40 {
		in.Timeline = append(in.Timeline, Event{OccurredAt: t0.Add(time.Duration(i) * 2 * time.Hour), Kind: "note_added", Title: strings.Repeat("long note ", 30)})
	}
	n := AnalyzeIncident(in, IncidentContext{}).Narrative
	if len(n) > maxNarrative+len("…") {
		t.Errorf("narrative is %d bytes", len(n))
	}
	wantIn(t, n, "At 09:12 UTC on 2 March 2026 the incident was opened", "further events, at 15:12 UTC on 5 March note added")
}

func TestAnalyzeIncidentDeterministic(t *testing.T) {
	first, _ := json.Marshal(AnalyzeIncident(intrusionIncident(), IncidentContext{}))
	for range 5 {
		again, _ := json.Marshal(AnalyzeIncident(intrusionIncident(), IncidentContext{}))
		if string(again) != string(first) {
			t.Fatalf("not deterministic:\n%s\n%s", first, again)
		}
	}
}
