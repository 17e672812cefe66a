// Package catalogue knows every connector type Seliq can ingest from and maps each
// vendor's payloads to Seliq's normalised alert.
//
// Mapping is pure: no database, no HTTP. The ingest pipeline calls Map (or a Type's Map)
// with the raw request body, then extracts entities from the returned alerts,
// fingerprints them over the connector's dedup fields and deduplicates.
// A type that can be polled also has a Poller (<key>_poll.go beside its
// mapping): HTTP through the client it is given, still no database.
//
// Every mapper accepts, for its type:
//   - a single JSON object (one alert, or the vendor's native envelope),
//   - a JSON array of such objects,
//   - newline-delimited JSON (one object per line, e.g. Suricata eve.json or
//     Wazuh alerts.json, or a Falcon event stream).
//
// Errors are always *FieldError (the payload has the wrong shape: HTTP 422 naming
// the field) or *Unmappable (valid JSON that this mapper cannot turn into an
// alert: the payload goes to the dead-letter list with the reason). A payload is
// mapped as a whole: on error no alert is returned.
package catalogue

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/entities"
)

// Alert is one normalised alert produced by a mapper (before entity extraction and dedup).
type Alert struct {
	Source      string            `json:"source"`                // catalogue key, e.g. "crowdstrike"
	ExternalID  string            `json:"external_id,omitempty"` // id in the source system ("" if none)
	Title       string            `json:"title"`                 // required, non-empty, trimmed, max 1000 chars (truncated)
	Description string            `json:"description,omitempty"`
	Severity    enum.Severity     `json:"severity"` // translated from the vendor scale
	Tags        []string          `json:"tags"`
	Mitre       []string          `json:"mitre"`                // ATT&CK technique ids like "T1059.001" when the payload names them
	EventTime   *time.Time        `json:"event_time,omitempty"` // when the source saw it
	Attributes  map[string]string `json:"attributes"`           // flattened facts for dedup and entities; keys from AttributeKeys
	// Entities are indicators the mapper knows for sure beyond one per
	// attribute (every recipient and attachment of an email); ingest puts
	// them first among the alert's entities.
	Entities []entities.Entity `json:"entities,omitempty"`
	Raw      json.RawMessage   `json:"raw"` // this alert's own original JSON, byte-for-byte (for an envelope: the element)
}

// Attribute keys an Alert may carry (the only ones mappers produce).
const (
	AttrRule        = "rule"         // rule / detection name or id
	AttrHost        = "host"         // affected host name
	AttrUser        = "user"         // affected or acting user
	AttrSrcIP       = "src_ip"       // source IP address
	AttrDstIP       = "dst_ip"       // destination IP address
	AttrDomain      = "domain"       // domain name involved
	AttrURL         = "url"          // URL involved
	AttrProcess     = "process"      // process (image) name
	AttrCommandLine = "command_line" // process command line
	AttrFileHash    = "file_hash"    // file hash (SHA-256 preferred, else SHA-1, else MD5)
	AttrFileName    = "file_name"    // file name
	AttrEmailFrom   = "email_from"   // sender address
	AttrEmailTo     = "email_to"     // (first) recipient address
	AttrCategory    = "category"     // vendor category / classification
)

var attributeKeys = []string{
	AttrRule, AttrHost, AttrUser, AttrSrcIP, AttrDstIP, AttrDomain, AttrURL, AttrProcess,
	AttrCommandLine, AttrFileHash, AttrFileName, AttrEmailFrom, AttrEmailTo, AttrCategory,
}

// AttributeKeys lists the attribute keys an Alert may carry, in documentation order.
func AttributeKeys() []string { return slices.Clone(attributeKeys) }

// IsAttributeKey reports whether k is one of AttributeKeys.
func IsAttributeKey(k string) bool { return slices.Contains(attributeKeys, k) }

// Normalised field names usable in DedupFields besides the attribute keys.
var normalisedDedupFields = []string{"source", "title", "external_id", "severity"}

// IsDedupField reports whether f may appear in a Type's DedupFields: a normalised
// field name ("source", "title", "external_id", "severity") or an attribute key.
func IsDedupField(f string) bool {
	return slices.Contains(normalisedDedupFields, f) || IsAttributeKey(f)
}

// FieldError: the payload is the wrong shape for our own schema (HTTP 422 naming
// Field, a dotted JSON path like "severity" or "alerts.2.labels"; "" for the whole body).
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Unmappable: the JSON is valid but this mapper cannot produce an alert from it
// (goes to the dead-letter list with Reason).
type Unmappable struct{ Reason string }

func (e *Unmappable) Error() string { return "unmappable payload: " + e.Reason }

// ErrUnknownType is returned (wrapped) by Map for a key that is not in the catalogue.
var ErrUnknownType = errors.New("catalogue: unknown connector type")

// Type is one connector type of the catalogue.
type Type struct {
	Key           string                                `json:"key"` // "generic", "ocsf", "crowdstrike", ...
	Name          string                                `json:"name"`
	Vendor        string                                `json:"vendor"`
	Description   string                                `json:"description"`
	Modes         []enum.ConnectorMode                  `json:"modes"`          // push and/or pull
	SeverityScale string                                `json:"severity_scale"` // the vendor scale and how it maps
	DedupFields   []string                              `json:"dedup_fields"`   // normalised names or attribute keys
	Mapping       []FieldMapping                        `json:"mapping"`        // documentation of the mapping
	Settings      map[string]any                        `json:"settings"`       // JSON Schema (draft 2020-12) of the connector's settings
	Map           func(payload []byte) ([]Alert, error) `json:"-"`
	// NewPoller builds the type's poller (pull mode); nil for a type
	// that can only push.
	NewPoller func(PollConfig) (Poller, error) `json:"-"`
}

// FieldMapping documents where one normalised field comes from.
type FieldMapping struct {
	Target string `json:"target"` // normalised field, e.g. "title" or "attributes.host"
	Source string `json:"source"` // vendor field(s), in order of preference
	Note   string `json:"note,omitempty"`
}

var (
	registry = []Type{
		genericType(),
		ocsfType(),
		crowdstrikeType(),
		sentineloneType(),
		defenderType(),
		splunkType(),
		elasticType(),
		wazuhType(),
		suricataType(),
		alertmanagerType(),
		emailType(),
	}
	byKey = func() map[string]int {
		m := make(map[string]int, len(registry))
		for i, t := range registry {
			m[t.Key] = i
		}
		return m
	}()
)

// Types returns the catalogue in a stable order. The slice is a copy; the
// Settings and Mapping values are shared and must not be modified.
func Types() []Type { return slices.Clone(registry) }

// Lookup returns the type with the given key.
func Lookup(key string) (Type, bool) {
	i, ok := byKey[strings.ToLower(strings.TrimSpace(key))]
	if !ok {
		return Type{}, false
	}
	return registry[i], true
}

// Map maps payload with the mapper of the type key.
func Map(key string, payload []byte) ([]Alert, error) {
	t, ok := Lookup(key)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, key)
	}
	return t.Map(payload)
}
