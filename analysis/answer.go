package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/entities"
)

// Bounds on a model's answer.
const (
	maxAnswerBytes = 64 << 10
	maxReasons     = 8
	maxTechniques  = 10
	maxIOCs        = 20
	maxSteps       = 8
	maxAnswerText  = 2000 // one summary part, reason or step
)

// answer is the JSON object the model is asked for (see systemPrompt).
// Unknown keys are ignored; every known key is checked by parseAnswer.
type answer struct {
	Summary    *builtin.Summary `json:"summary"`
	Verdict    string           `json:"verdict"`
	Confidence *float64         `json:"confidence"`
	Severity   string           `json:"severity"`
	Reasons    []string         `json:"reasons"`
	Techniques []string         `json:"techniques"`
	IOCs       []builtin.Entity `json:"iocs"`
	NextSteps  []builtin.Step   `json:"next_steps"`
}

// techniqueID is the ATT&CK technique id form, T1234 or T1234.567.
var techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

var (
	verdicts = map[string]bool{builtin.VerdictLikelyMalicious: true, builtin.VerdictSuspicious: true,
		builtin.VerdictNeedsReview: true, builtin.VerdictLikelyBenign: true}
	stepCategories = map[string]bool{builtin.StepContain: true, builtin.StepInvestigate: true,
		builtin.StepEradicate: true, builtin.StepRecover: true, builtin.StepTune: true}
	iocTypes = map[string]bool{entities.IPv4: true, entities.IPv6: true, entities.Domain: true, entities.URL: true,
		entities.Hostname: true, entities.User: true, entities.Email: true, entities.MD5: true, entities.SHA1: true,
		entities.SHA256: true, entities.CVE: true}
)

// parseAnswer decodes and validates a model's answer. Any deviation from the
// contract (not one JSON object, a wrong type, an unknown verdict, severity,
// category or IOC type, a confidence outside 0..1, an empty summary part, a
// malformed technique id, a list over its bound) is an error: the caller then
// keeps the built-in result.
func parseAnswer(content string) (*answer, error) {
	if len(content) > maxAnswerBytes {
		return nil, fmt.Errorf("answer of %d bytes exceeds %d", len(content), maxAnswerBytes)
	}
	if !utf8.ValidString(content) {
		return nil, errors.New("answer is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(content))
	var a answer
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("answer is not the JSON object asked for: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("answer has content after the JSON object")
	}
	if t := bytes.TrimSpace([]byte(content)); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("answer is not a JSON object")
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return &a, nil
}

func (a *answer) validate() error {
	if a.Summary == nil {
		return errors.New("summary is missing")
	}
	for _, p := range []struct{ name, text string }{{"what_happened", a.Summary.WhatHappened},
		{"impact", a.Summary.Impact}, {"recommendation", a.Summary.Recommendation}} {
		if err := checkText("summary."+p.name, p.text); err != nil {
			return err
		}
	}
	if !verdicts[a.Verdict] {
		return fmt.Errorf("verdict %q is not one of likely_malicious, suspicious, needs_review, likely_benign", clip(a.Verdict, 40))
	}
	if a.Confidence == nil {
		return errors.New("confidence is missing")
	}
	if c := *a.Confidence; !(c >= 0 && c <= 1) {
		return fmt.Errorf("confidence %v is outside 0..1", c)
	}
	if a.Severity != "" && !enum.Severity(a.Severity).Valid() {
		return fmt.Errorf("severity %q is not one of critical, high, medium, low, info", clip(a.Severity, 40))
	}
	if err := bound("reasons", len(a.Reasons), maxReasons); err != nil {
		return err
	}
	for i, r := range a.Reasons {
		if err := checkText(fmt.Sprintf("reasons[%d]", i), r); err != nil {
			return err
		}
	}
	if err := bound("techniques", len(a.Techniques), maxTechniques); err != nil {
		return err
	}
	for _, t := range a.Techniques {
		if !techniqueID.MatchString(t) {
			return fmt.Errorf("technique %q is not an ATT&CK technique id (T1234 or T1234.567)", clip(t, 40))
		}
	}
	if err := bound("iocs", len(a.IOCs), maxIOCs); err != nil {
		return err
	}
	for i, e := range a.IOCs {
		if !iocTypes[e.Type] {
			return fmt.Errorf("iocs[%d]: type %q is not a known indicator type", i, clip(e.Type, 40))
		}
		if err := checkText(fmt.Sprintf("iocs[%d].value", i), e.Value); err != nil {
			return err
		}
	}
	if err := bound("next_steps", len(a.NextSteps), maxSteps); err != nil {
		return err
	}
	for i, s := range a.NextSteps {
		if !stepCategories[s.Category] {
			return fmt.Errorf("next_steps[%d]: category %q is not one of contain, investigate, eradicate, recover, tune", i, clip(s.Category, 40))
		}
		if err := checkText(fmt.Sprintf("next_steps[%d].text", i), s.Text); err != nil {
			return err
		}
	}
	return nil
}

func checkText(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%s is empty", field)
	case len(s) > maxAnswerText:
		return fmt.Errorf("%s is longer than %d bytes", field, maxAnswerText)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("%s contains a NUL character", field)
	}
	return nil
}

func bound(field string, n, limit int) error {
	if n > limit {
		return fmt.Errorf("%s has %d entries, more than %d", field, n, limit)
	}
	return nil
}

// merge lays a valid answer over the built-in result: the model's summary,
// verdict, confidence and reasons replace the analyst's, its techniques,
// IOCs and next steps replace them when it gave any; what comes from the data
// (assets, related items, severity when the model gave none) stays.
func merge(b builtin.Analysis, a *answer) builtin.Analysis {
	out := b
	out.Summary = *a.Summary
	out.Verdict, out.Confidence = a.Verdict, *a.Confidence
	if a.Severity != "" && a.Severity != b.Severity {
		out.Severity = a.Severity
		out.SeverityReason = "reassessed by the model"
	}
	if len(a.Reasons) > 0 {
		out.Reasons = make([]builtin.Reason, len(a.Reasons))
		for i, r := range a.Reasons {
			out.Reasons[i] = builtin.Reason{Signal: "model", Detail: r}
		}
	}
	if len(a.Techniques) > 0 {
		out.Techniques = nil
		seen := map[string]bool{}
		for _, id := range a.Techniques {
			if seen[id] {
				continue
			}
			seen[id] = true
			t, ok := builtin.LookupTechnique(id)
			if !ok {
				t = builtin.Technique{ID: id}
			}
			t.Matched = "named by the model"
			out.Techniques = append(out.Techniques, t)
		}
	}
	if len(a.IOCs) > 0 {
		out.IOCs = a.IOCs
	}
	if len(a.NextSteps) > 0 {
		out.NextSteps = a.NextSteps
	}
	out.Engine = PromptVersion
	return out
}
