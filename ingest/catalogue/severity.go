package catalogue

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/seliq/seliq/enum"
)

// Severity translation. Each vendor scale is one table below; scale.of does the
// lookup: a label (case-insensitive) in names, an integer code in codes, or a
// number in bands (inclusive upper bounds, checked in order). Anything missing,
// unknown or outside the scale gets the scale's fallback, which is medium for
// every vendor scale: an alert whose urgency we cannot read is neither buried nor
// escalated. (The generic schema is strict instead: an unknown severity is a 422.)

const (
	sevCritical = enum.SeverityCritical
	sevHigh     = enum.SeverityHigh
	sevMedium   = enum.SeverityMedium
	sevLow      = enum.SeverityLow
	sevInfo     = enum.SeverityInfo
)

type scale struct {
	names    map[string]enum.Severity
	codes    map[int64]enum.Severity
	bands    []band
	fallback enum.Severity
}

// band: values from the previous band's max (exclusive) up to max (inclusive), from 0.
type band struct {
	max float64
	sev enum.Severity
}

// lookup translates a label or number; ok is false when v is not on the scale.
func (s scale) lookup(v any) (enum.Severity, bool) {
	switch x := v.(type) {
	case string:
		t := strings.ToLower(strings.TrimSpace(x))
		if sev, ok := s.names[t]; ok {
			return sev, true
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return s.number(f)
		}
	case json.Number:
		if f, ok := num(x); ok {
			return s.number(f)
		}
	case []any:
		if len(x) > 0 {
			return s.lookup(x[0])
		}
	}
	return "", false
}

func (s scale) number(f float64) (enum.Severity, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", false
	}
	if s.codes != nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
		if sev, ok := s.codes[int64(f)]; ok {
			return sev, true
		}
	}
	if len(s.bands) > 0 && f >= 0 {
		for _, b := range s.bands {
			if f <= b.max {
				return b.sev, true
			}
		}
	}
	return "", false
}

// of translates v, or returns the fallback.
func (s scale) of(v any) enum.Severity {
	if sev, ok := s.lookup(v); ok {
		return sev
	}
	return s.fallback
}

// firstOf translates the first value that is on the scale, or returns the fallback.
func (s scale) firstOf(vals ...any) enum.Severity {
	for _, v := range vals {
		if sev, ok := s.lookup(v); ok {
			return sev
		}
	}
	return s.fallback
}

var (
	// Seliq's own labels, plus numeric 1–5 (5 critical … 1 info).
	genericScale = scale{
		names: map[string]enum.Severity{
			"critical": sevCritical, "high": sevHigh, "medium": sevMedium, "low": sevLow,
			"info": sevInfo, "informational": sevInfo,
		},
		codes:    map[int64]enum.Severity{5: sevCritical, 4: sevHigh, 3: sevMedium, 2: sevLow, 1: sevInfo},
		fallback: sevMedium,
	}

	// OCSF severity_id: 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High,
	// 5 Critical, 6 Fatal, 99 Other; or the severity caption.
	ocsfScale = scale{
		codes: map[int64]enum.Severity{
			0: sevMedium, 1: sevInfo, 2: sevLow, 3: sevMedium, 4: sevHigh, 5: sevCritical, 6: sevCritical, 99: sevMedium,
		},
		names: map[string]enum.Severity{
			"unknown": sevMedium, "informational": sevInfo, "low": sevLow, "medium": sevMedium,
			"high": sevHigh, "critical": sevCritical, "fatal": sevCritical, "other": sevMedium,
		},
		fallback: sevMedium,
	}

	// CrowdStrike severity names (SeverityName, max_severity_displayname, severity_name).
	crowdstrikeNames = scale{
		names: map[string]enum.Severity{
			"informational": sevInfo, "info": sevInfo, "low": sevLow, "medium": sevMedium,
			"high": sevHigh, "critical": sevCritical,
		},
		fallback: sevMedium,
	}
	// CrowdStrike streaming Severity 1–5.
	crowdstrikeLevel = scale{
		codes:    map[int64]enum.Severity{1: sevInfo, 2: sevLow, 3: sevMedium, 4: sevHigh, 5: sevCritical},
		fallback: sevMedium,
	}
	// CrowdStrike API max_severity / severity 0–100 (Falcon uses 10/30/50/70/90).
	crowdstrikeScore = scale{
		bands:    []band{{19, sevInfo}, {39, sevLow}, {59, sevMedium}, {79, sevHigh}, {100, sevCritical}},
		fallback: sevMedium,
	}

	// SentinelOne threatInfo.confidenceLevel.
	sentineloneScale = scale{
		names:    map[string]enum.Severity{"malicious": sevHigh, "suspicious": sevMedium},
		fallback: sevMedium,
	}

	// Microsoft Graph / Defender severity (no critical on this scale).
	defenderScale = scale{
		names: map[string]enum.Severity{
			"informational": sevInfo, "low": sevLow, "medium": sevMedium, "high": sevHigh,
			"unknown": sevMedium, "unspecified": sevMedium,
		},
		fallback: sevMedium,
	}

	// Splunk ES urgency/severity labels and the numeric 0–10 scale.
	splunkScale = scale{
		names: map[string]enum.Severity{
			"informational": sevInfo, "info": sevInfo, "low": sevLow, "medium": sevMedium,
			"high": sevHigh, "critical": sevCritical,
		},
		bands:    []band{{1, sevInfo}, {3, sevLow}, {5, sevMedium}, {7, sevHigh}, {10, sevCritical}},
		fallback: sevMedium,
	}

	// Elastic Security kibana.alert.severity (no info on this scale).
	elasticScale = scale{
		names: map[string]enum.Severity{
			"low": sevLow, "medium": sevMedium, "high": sevHigh, "critical": sevCritical,
		},
		fallback: sevMedium,
	}
	// Elastic risk score 0–100 (Elastic's own bands: 0–21 low, 22–47 medium, 48–73 high, 74–100 critical).
	elasticRisk = scale{
		bands:    []band{{21, sevLow}, {47, sevMedium}, {73, sevHigh}, {100, sevCritical}},
		fallback: sevMedium,
	}

	// Wazuh rule.level 0–15.
	wazuhScale = scale{
		bands:    []band{{3, sevInfo}, {7, sevLow}, {11, sevMedium}, {14, sevHigh}, {15, sevCritical}},
		fallback: sevMedium,
	}

	// Suricata alert.severity (classification priority): 1 is the most severe.
	suricataScale = scale{
		codes:    map[int64]enum.Severity{1: sevHigh, 2: sevMedium, 3: sevLow, 4: sevInfo},
		fallback: sevMedium,
	}

	// Alertmanager labels.severity: free-form by convention; the usual spellings.
	alertmanagerScale = scale{
		names: map[string]enum.Severity{
			"critical": sevCritical, "crit": sevCritical, "page": sevCritical, "emergency": sevCritical,
			"fatal": sevCritical, "disaster": sevCritical, "p1": sevCritical,
			"error": sevHigh, "err": sevHigh, "high": sevHigh, "major": sevHigh, "p2": sevHigh,
			"warning": sevMedium, "warn": sevMedium, "medium": sevMedium, "minor": sevMedium, "average": sevMedium, "p3": sevMedium,
			"low": sevLow, "p4": sevLow,
			"info": sevInfo, "informational": sevInfo, "notice": sevInfo, "none": sevInfo, "debug": sevInfo, "ok": sevInfo, "p5": sevInfo,
		},
		fallback: sevMedium,
	}

	// Email subject tags like "[CRITICAL]", "(high)" or a leading "WARNING:".
	emailScale = scale{
		names: map[string]enum.Severity{
			"critical": sevCritical, "crit": sevCritical, "sev1": sevCritical, "p1": sevCritical, "emergency": sevCritical,
			"high": sevHigh, "urgent": sevHigh, "sev2": sevHigh, "p2": sevHigh,
			"medium": sevMedium, "med": sevMedium, "warning": sevMedium, "warn": sevMedium, "sev3": sevMedium, "p3": sevMedium,
			"low": sevLow, "sev4": sevLow, "p4": sevLow,
			"info": sevInfo, "informational": sevInfo, "notice": sevInfo, "sev5": sevInfo, "p5": sevInfo,
		},
		fallback: sevMedium,
	}
)
