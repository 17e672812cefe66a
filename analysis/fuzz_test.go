package analysis

import (
	"encoding/json"
	"testing"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
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

// FuzzApplyProfile: any asset profile input is accepted in canonical form
// or refused naming a field, and what is accepted is accepted again
// unchanged.
func FuzzApplyProfile(f *testing.F) {
	f.Add("example.com", "10.0.0.0/8", "jump-01", "svc_backup")
	f.Add("EXAMPLE.com.", "::ffff:10.1.2.3", "", "a b")
	f.Add("*.x", "10.0.0.300/8", "x\x00", "")
	f.Fuzz(func(t *testing.T, domain, network, host, account string) {
		in := UpdateAssetProfileInput{Domains: []string{domain}, Networks: []string{network}, AdminHosts: []string{host}, AdminAccounts: []string{account}, Scanners: []string{network, host}}
		p, err := applyProfile(nonNilProfile(builtin.AssetProfile{}), in)
		if err != nil {
			if ae, ok := apperr.As(err); !ok || ae.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		again, err := applyProfile(p, UpdateAssetProfileInput{Domains: p.Domains, Networks: p.Networks, AdminHosts: p.AdminHosts, AdminAccounts: p.AdminAccounts, Scanners: p.Scanners})
		if err != nil || !equalProfile(again, p) {
			t.Fatalf("canonical profile %+v not stable: %+v, %v", p, again, err)
		}
	})
}
