package analysis

import (
	"encoding/json"
	"testing"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/enum"
)

// FuzzParseAnswer checks that no answer crashes the validator and that every
// accepted answer keeps the contract the stored result relies on.
func FuzzParseAnswer(f *testing.F) {
	valid, _ := json.Marshal(validAnswer())
	for _, s := range []string{string(valid), `{}`, `null`, `[]`, `{"summary":{}}`, `{"confidence":1e400}`,
		`{"summary":{"what_happened":"a","impact":"b","recommendation":"c"},"verdict":"suspicious","confidence":0.5}`,
		`{"summary":{"what_happened":"a","impact":"b","recommendation":"c"},"verdict":"suspicious","confidence":0.5,"techniques":["T1059.001"],"severity":"low"} `} {
		f.Add(s)
	}
	b := builtin.Analysis{Verdict: builtin.VerdictNeedsReview, Severity: "medium", Engine: builtin.Engine}
	f.Fuzz(func(t *testing.T, content string) {
		a, err := parseAnswer(content)
		if err != nil {
			if a != nil {
				t.Fatal("an answer with an error")
			}
			return
		}
		out := merge(b, a)
		if !verdicts[out.Verdict] || out.Confidence < 0 || out.Confidence > 1 || !enum.Severity(out.Severity).Valid() ||
			out.Summary.WhatHappened == "" || out.Summary.Impact == "" || out.Summary.Recommendation == "" {
			t.Fatalf("accepted answer breaks the contract: %+v", out)
		}
		for _, tech := range out.Techniques {
			if !techniqueID.MatchString(tech.ID) {
				t.Fatalf("technique %q", tech.ID)
			}
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("merged result does not encode: %v", err)
		}
	})
}
