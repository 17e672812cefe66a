package analysis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/seliq/seliq/ai/builtin"
)

// validAnswer is a well-formed answer; cases below break one thing each.
func validAnswer() map[string]any {
	return map[string]any{
		"summary": map[string]any{"what_happened": "PowerShell ran an encoded command from Word.", "impact": "Credential theft on fin-ws-042.",
			"recommendation": "Isolate the host."},
		"verdict": "likely_malicious", "confidence": 0.91, "severity": "critical",
		"reasons":    []any{"encoded PowerShell launched by winword.exe", "mimikatz against lsass"},
		"techniques": []any{"T1059.001", "T1003.001", "T9999"},
		"iocs":       []any{map[string]any{"type": "ipv4", "value": "185.220.101.45"}},
		"next_steps": []any{map[string]any{"category": "contain", "text": "Isolate fin-ws-042."}},
		"extra_key":  "ignored",
	}
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseAnswer(t *testing.T) {
	with := func(edit func(m map[string]any)) func(*testing.T) string {
		return func(t *testing.T) string {
			m := validAnswer()
			edit(m)
			return encode(t, m)
		}
	}
	raw := func(s string) func(*testing.T) string { return func(*testing.T) string { return s } }
	cases := []struct {
		name    string
		content func(*testing.T) string
		wantErr string // "" accepts
	}{
		{"valid", with(func(map[string]any) {}), ""},
		{"no severity keeps the analyst's", with(func(m map[string]any) { delete(m, "severity") }), ""},
		{"no optional lists", with(func(m map[string]any) {
			delete(m, "reasons")
			delete(m, "techniques")
			delete(m, "iocs")
			delete(m, "next_steps")
		}), ""},
		{"confidence 0", with(func(m map[string]any) { m["confidence"] = 0 }), ""},
		{"confidence 1", with(func(m map[string]any) { m["confidence"] = 1 }), ""},
		{"surrounding white space", func(t *testing.T) string { return "\n  " + encode(t, validAnswer()) + "\n" }, ""},
		{"malformed JSON", raw(`{"summary": {"what_happened": "x"`), "not the JSON object"},
		{"prose", raw(`The alert is malicious.`), "not the JSON object"},
		{"empty", raw(``), "not the JSON object"},
		{"array", raw(`[1, 2]`), "not the JSON object"},
		{"null", raw(`null`), "not a JSON object"},
		{"two objects", func(t *testing.T) string { return encode(t, validAnswer()) + encode(t, validAnswer()) }, "content after"},
		{"trailing prose", func(t *testing.T) string { return encode(t, validAnswer()) + " hope this helps" }, "content after"},
		{"missing summary", with(func(m map[string]any) { delete(m, "summary") }), "summary is missing"},
		{"summary as text", with(func(m map[string]any) { m["summary"] = "bad" }), "not the JSON object"},
		{"empty summary part", with(func(m map[string]any) { m["summary"].(map[string]any)["impact"] = "  " }), "summary.impact is empty"},
		{"missing summary part", with(func(m map[string]any) { delete(m["summary"].(map[string]any), "recommendation") }), "summary.recommendation is empty"},
		{"unknown verdict", with(func(m map[string]any) { m["verdict"] = "malicious" }), "verdict"},
		{"verdict upper case", with(func(m map[string]any) { m["verdict"] = "LIKELY_MALICIOUS" }), "verdict"},
		{"missing verdict", with(func(m map[string]any) { delete(m, "verdict") }), "verdict"},
		{"confidence above 1", with(func(m map[string]any) { m["confidence"] = 1.5 }), "outside 0..1"},
		{"confidence negative", with(func(m map[string]any) { m["confidence"] = -0.1 }), "outside 0..1"},
		{"confidence as percent", with(func(m map[string]any) { m["confidence"] = 91 }), "outside 0..1"},
		{"confidence as text", with(func(m map[string]any) { m["confidence"] = "0.9" }), "not the JSON object"},
		{"missing confidence", with(func(m map[string]any) { delete(m, "confidence") }), "confidence is missing"},
		{"unknown severity", with(func(m map[string]any) { m["severity"] = "severe" }), "severity"},
		{"technique without T", with(func(m map[string]any) { m["techniques"] = []any{"1059"} }), "technique"},
		{"technique lower case", with(func(m map[string]any) { m["techniques"] = []any{"t1059"} }), "technique"},
		{"technique short sub-id", with(func(m map[string]any) { m["techniques"] = []any{"T1059.01"} }), "technique"},
		{"technique with name", with(func(m map[string]any) { m["techniques"] = []any{"T1059 Command and Scripting"} }), "technique"},
		{"technique as object", with(func(m map[string]any) { m["techniques"] = []any{map[string]any{"id": "T1059"}} }), "not the JSON object"},
		{"techniques as text", with(func(m map[string]any) { m["techniques"] = "T1059" }), "not the JSON object"},
		{"unknown IOC type", with(func(m map[string]any) { m["iocs"] = []any{map[string]any{"type": "ip", "value": "1.2.3.4"}} }), "indicator type"},
		{"empty IOC value", with(func(m map[string]any) { m["iocs"] = []any{map[string]any{"type": "ipv4", "value": ""}} }), "value is empty"},
		{"unknown step category", with(func(m map[string]any) {
			m["next_steps"] = []any{map[string]any{"category": "panic", "text": "x"}}
		}), "category"},
		{"empty reason", with(func(m map[string]any) { m["reasons"] = []any{""} }), "reasons[0] is empty"},
		{"too many reasons", with(func(m map[string]any) {
			r := make([]any, maxReasons+1)
			for i := range r {
				r[i] = "r"
			}
			m["reasons"] = r
		}), "more than"},
		{"overlong summary", with(func(m map[string]any) {
			m["summary"].(map[string]any)["impact"] = strings.Repeat("x", maxAnswerText+1)
		}), "longer than"},
		{"NUL in text", with(func(m map[string]any) { m["reasons"] = []any{"a\x00b"} }), "NUL"},
		{"invalid UTF-8", raw("{\"summary\": \"\xff\"}"), "UTF-8"},
		{"oversized", raw(`{"x": "` + strings.Repeat("a", maxAnswerBytes) + `"}`), "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := parseAnswer(c.content(t))
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("refused a valid answer: %v", err)
			case c.wantErr == "" && (a == nil || a.Summary == nil || !verdicts[a.Verdict]):
				t.Fatalf("accepted answer incomplete: %+v", a)
			case c.wantErr != "" && err == nil:
				t.Fatalf("accepted an invalid answer: %+v", a)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("error %q does not mention %q", err, c.wantErr)
			}
		})
	}
}

func TestMergeKeepsTheDataAndNamesTechniques(t *testing.T) {
	b := builtin.Analysis{Verdict: builtin.VerdictSuspicious, Confidence: 0.6, Severity: "high", Score: 1.2,
		Reasons:    []builtin.Reason{{Signal: "technique", Weight: 0.3, Detail: "credential access"}},
		Assets:     []builtin.Entity{{Type: "hostname", Value: "fin-ws-042"}},
		Related:    []builtin.Related{{ID: "r1", Kind: "alert", Reason: "same fingerprint"}},
		IOCs:       []builtin.Entity{{Type: "ipv4", Value: "10.0.0.1"}},
		NextSteps:  []builtin.Step{{Category: "investigate", Text: "Look."}},
		Techniques: []builtin.Technique{{ID: "T1003.001", Name: "LSASS Memory"}},
		Engine:     builtin.Engine}
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		check func(t *testing.T, out builtin.Analysis)
	}{
		{"model's judgement, data's context", func(map[string]any) {}, func(t *testing.T, out builtin.Analysis) {
			if out.Verdict != builtin.VerdictLikelyMalicious || out.Confidence != 0.91 || out.Severity != "critical" ||
				out.Summary.Impact == "" || len(out.Reasons) != 2 || out.Reasons[0].Signal != "model" {
				t.Fatalf("judgement not the model's: %+v", out)
			}
			if len(out.Related) != 1 || len(out.Assets) != 1 || out.Score != 1.2 || out.Engine != PromptVersion {
				t.Fatalf("context lost: %+v", out)
			}
			if len(out.Techniques) != 3 || out.Techniques[0].Name == "" || out.Techniques[0].Tactic == "" ||
				out.Techniques[2].ID != "T9999" || out.Techniques[2].Name != "" {
				t.Fatalf("techniques: %+v", out.Techniques)
			}
			if len(out.IOCs) != 1 || out.IOCs[0].Value != "185.220.101.45" || out.NextSteps[0].Category != "contain" {
				t.Fatalf("iocs/steps: %+v %+v", out.IOCs, out.NextSteps)
			}
		}},
		{"empty lists keep the analyst's", func(m map[string]any) {
			delete(m, "reasons")
			delete(m, "techniques")
			delete(m, "iocs")
			delete(m, "next_steps")
			delete(m, "severity")
		}, func(t *testing.T, out builtin.Analysis) {
			if out.Severity != "high" || out.Reasons[0].Detail != "credential access" || out.Techniques[0].ID != "T1003.001" ||
				out.IOCs[0].Value != "10.0.0.1" || out.NextSteps[0].Text != "Look." {
				t.Fatalf("analyst's lists lost: %+v", out)
			}
		}},
		{"repeated technique once", func(m map[string]any) { m["techniques"] = []any{"T1059.001", "T1059.001"} }, func(t *testing.T, out builtin.Analysis) {
			if len(out.Techniques) != 1 {
				t.Fatalf("techniques: %+v", out.Techniques)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := validAnswer()
			c.edit(m)
			a, err := parseAnswer(encode(t, m))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, merge(b, a))
		})
	}
}
