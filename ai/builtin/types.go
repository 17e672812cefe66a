package builtin

import (
	"encoding/json"
	"time"

	"github.com/seliq/seliq/ingest/entities"
)

// Engine identifies this analyst and its rule version in stored results.
const Engine = "builtin/1"

// Verdicts, worst first.
const (
	VerdictLikelyMalicious = "likely_malicious"
	VerdictSuspicious      = "suspicious"
	VerdictNeedsReview     = "needs_review"
	VerdictLikelyBenign    = "likely_benign"
)

// Next-step categories, in the order steps are listed.
const (
	StepContain     = "contain"
	StepInvestigate = "investigate"
	StepEradicate   = "eradicate"
	StepRecover     = "recover"
	StepTune        = "tune"
)

// Entity is an indicator as extracted at ingest (type ipv4, ipv6, domain,
// url, hostname, user, email, md5, sha1, sha256 or cve).
type Entity = entities.Entity

// Alert is the normalised alert to analyse.
type Alert struct {
	ID          string
	Title       string
	Description string
	Source      string // connector or product name, e.g. "CrowdStrike Falcon"
	Severity    string // critical, high, medium, low or info
	Status      string
	Tags        []string
	Entities    []Entity
	// VendorTechniques are the ATT&CK ids the source itself gave (ingest
	// keeps them in the alert's mitre column).
	VendorTechniques []string
	Raw              json.RawMessage // vendor payload; may be nil
	Fingerprint      string
	FirstSeenAt      time.Time
	LastSeenAt       time.Time
	Occurrences      int
}

// Related is an alert or incident the caller found linked to the one under
// analysis.
type Related struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Kind   string `json:"kind"`   // "alert" or "incident"
	Reason string `json:"reason"` // "same fingerprint", "shares ipv4 10.0.0.5", ...
}

// DispositionHistory counts the closed alerts with the same fingerprint, by
// disposition, over the window the caller chose (e.g. the last 50).
type DispositionHistory struct {
	TruePositive  int `json:"true_positive"`
	FalsePositive int `json:"false_positive"`
	Benign        int `json:"benign"`
	Duplicate     int `json:"duplicate"`
}

// Context is what the caller gathered around an alert.
type Context struct {
	Related []Related
	// History counts how alerts of the same rule on the same asset were
	// closed (the fingerprint covers both).
	History DispositionHistory
	// Profile describes the organisation's own assets.
	Profile AssetProfile
}

// AssetProfile is what an organisation tells the analyst about itself:
// values matching it are its own assets, never IOCs, and activity from its
// admin hosts and accounts or its scanners is expected.
type AssetProfile struct {
	Domains       []string `json:"domains"`        // its own DNS domains (subdomains included)
	Networks      []string `json:"networks"`       // its address ranges (CIDR or single addresses), egress included
	AdminHosts    []string `json:"admin_hosts"`    // jump hosts and admin workstations (names or addresses)
	AdminAccounts []string `json:"admin_accounts"` // administrator and service accounts
	Scanners      []string `json:"scanners"`       // its vulnerability scanners (names, addresses or accounts)
}

// Summary is three short plain-text paragraphs.
type Summary struct {
	WhatHappened   string `json:"what_happened"`
	Impact         string `json:"impact"`
	Recommendation string `json:"recommendation"`
}

// Technique is a MITRE ATT&CK technique the alert matched.
type Technique struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Tactic  string `json:"tactic"`
	Matched string `json:"matched"`          // the text or vendor tag that matched
	Alerts  int    `json:"alerts,omitempty"` // incident analyses: alerts that matched it
}

// Reason is one signal's signed contribution to the verdict: positive
// towards malicious, negative towards benign, zero when noted but not
// counted.
type Reason struct {
	Signal string  `json:"signal"`
	Weight float64 `json:"weight"`
	Detail string  `json:"detail"`
}

// RankedIOC is an IOC with how much it pins the activity down (higher is
// better) and why it is one.
type RankedIOC struct {
	Type   string `json:"type"`
	Value  string `json:"value"`
	Rank   int    `json:"rank"`
	Reason string `json:"reason"`
}

// Excluded is an extracted value that is not an IOC, and why.
type Excluded struct {
	Type   string `json:"type"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Step is one recommended action.
type Step struct {
	Category string `json:"category"` // contain, investigate, eradicate, recover or tune
	Text     string `json:"text"`
}

// Analysis is the built-in analyst's result for one alert.
type Analysis struct {
	Summary        Summary     `json:"summary"`
	Verdict        string      `json:"verdict"`
	Confidence     float64     `json:"confidence"` // 0..1
	Score          float64     `json:"score"`      // sum of the reason weights
	Reasons        []Reason    `json:"reasons"`    // strongest first
	Severity       string      `json:"severity"`   // the analyst's severity
	SeverityReason string      `json:"severity_reason,omitempty"`
	IOCs           []Entity    `json:"iocs"`        // best first
	RankedIOCs     []RankedIOC `json:"ranked_iocs"` // the IOCs with rank and reason
	// Excluded are extracted values the analyst judged not to be IOCs,
	// with why (record ids, reference links, well-known services).
	Excluded   []Excluded  `json:"excluded"`
	Assets     []Entity    `json:"assets"`
	Techniques []Technique `json:"techniques"`
	Related    []Related   `json:"related"`
	NextSteps  []Step      `json:"next_steps"`
	Engine     string      `json:"engine"`
}

// Event is one incident timeline entry.
type Event struct {
	OccurredAt time.Time
	Kind       string // e.g. status_changed, note_added
	Title      string
}

// Incident is the incident to analyse, with its linked alerts.
type Incident struct {
	Title       string
	Description string
	Severity    string
	Status      string
	CreatedAt   time.Time
	Alerts      []Alert
	Timeline    []Event
}

// IncidentContext is what the caller gathered around an incident.
type IncidentContext struct {
	Related []Related
	// History holds the disposition history of each alert fingerprint.
	History map[string]DispositionHistory
	// Profile describes the organisation's own assets.
	Profile AssetProfile
}

// AlertVerdict is one linked alert's own verdict inside an incident analysis.
type AlertVerdict struct {
	ID         string  `json:"id"`
	Title      string  `json:"title"`
	Verdict    string  `json:"verdict"`
	Confidence float64 `json:"confidence"`
	Severity   string  `json:"severity"`
}

// IncidentAnalysis is the built-in analyst's result for an incident: the
// alert fields over all its alerts, each alert's verdict and a narrative of
// the timeline.
type IncidentAnalysis struct {
	Analysis
	Alerts    []AlertVerdict `json:"alerts"`
	Narrative string         `json:"narrative"`
}
