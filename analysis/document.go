package analysis

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ent"
)

// Bounds on an alert's document, so a hostile or huge alert cannot blow
// the context window (or the token quota).
const (
	maxTitle    = 500  // title, source, in bytes
	maxText     = 4000 // description, in bytes
	maxRaw      = 6000 // the vendor payload, as an excerpt, in bytes
	maxEntities = 50
	maxEntity   = 500 // an entity value, in bytes
	maxTags     = 30  // tags, and MITRE tags
	maxTag      = 100 // one tag, in bytes
)

// AlertDocument is an alert as a model sees it: in the analysis prompt's
// data document and in the chat's context document and alert_details tool
// alike. It is only ever sent as JSON data (encoding/json escapes '<' and
// '>', so no field can close the tags around a document), never
// concatenated into instructions, and each free-text field is bounded.
type AlertDocument struct {
	ID           uuid.UUID        `json:"id"`
	Title        string           `json:"title"`
	Description  string           `json:"description,omitempty"`
	Source       string           `json:"source,omitempty"`
	Severity     string           `json:"severity"`
	Status       string           `json:"status,omitempty"`
	Disposition  string           `json:"disposition,omitempty"`
	IncidentID   *uuid.UUID       `json:"incident_id,omitempty"`
	Tags         []string         `json:"tags,omitempty"`
	Mitre        []string         `json:"mitre,omitempty"`
	Entities     []builtin.Entity `json:"entities,omitempty"`
	Fingerprint  string           `json:"fingerprint,omitempty"`
	FirstSeenAt  *time.Time       `json:"first_seen_at,omitempty"`
	LastSeenAt   *time.Time       `json:"last_seen_at,omitempty"`
	Occurrences  int              `json:"occurrences,omitempty"`
	RawExcerpt   string           `json:"raw_excerpt,omitempty"`
	RawTruncated bool             `json:"raw_truncated,omitempty"`
	// Verdict is the built-in analyst's, on the alerts of an incident.
	Verdict string `json:"builtin_verdict,omitempty"`
}

// NewAlertDocument builds a's document; withRaw adds an excerpt of the
// vendor payload (the alert under discussion has one, an incident's alerts
// do not).
func NewAlertDocument(a *ent.Alert, withRaw bool) AlertDocument {
	d := AlertDocument{ID: a.ID, Title: clip(a.Title, maxTitle), Description: clip(a.Description, maxText),
		Source: clip(builtin.SourceName(a.Source), maxTitle), Severity: string(a.Severity), Status: string(a.Status),
		IncidentID: a.IncidentID, Tags: clipAll(a.Tags), Mitre: clipAll(a.Mitre),
		Fingerprint: clip(a.Fingerprint, maxTitle), Occurrences: a.Occurrences}
	if a.Disposition != nil {
		d.Disposition = string(*a.Disposition)
	}
	for _, e := range head(a.Entities, maxEntities) {
		d.Entities = append(d.Entities, builtin.Entity{Type: e.Type, Value: clip(e.Value, maxEntity)})
	}
	if !a.FirstSeenAt.IsZero() {
		first, last := a.FirstSeenAt, a.LastSeenAt
		d.FirstSeenAt, d.LastSeenAt = &first, &last
	}
	if withRaw && len(a.Raw) > 0 && string(a.Raw) != "null" {
		raw := compactJSON(a.Raw)
		d.RawExcerpt = clip(raw, maxRaw)
		d.RawTruncated = len(d.RawExcerpt) < len(raw)
	}
	return d
}

// DropRaw removes the payload excerpt, the bulkiest part, from a document
// that has to shrink.
func (d *AlertDocument) DropRaw() { d.RawExcerpt, d.RawTruncated = "", false }

func clipAll(list []string) []string {
	var out []string
	for _, s := range head(list, maxTags) {
		out = append(out, clip(s, maxTag))
	}
	return out
}

// compactJSON is the payload without insignificant white space (more of it
// fits the bound); a payload that is not JSON is kept as it is.
func compactJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func head[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
