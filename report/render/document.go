package render

import (
	"errors"
	"fmt"
	"time"
)

// Format is an output format of Render.
type Format string

// Output formats.
const (
	FormatPDF      Format = "pdf"
	FormatHTML     Format = "html"
	FormatMarkdown Format = "markdown"
)

// Kind says who a report is written for.
type Kind string

// Report kinds. Client reports never contain internal notes.
const (
	KindInternal Kind = "internal"
	KindClient   Kind = "client"
)

// Label is the human name of the kind, for titles ("Internal", "Client").
func (k Kind) Label() string {
	switch k {
	case KindInternal:
		return "Internal"
	case KindClient:
		return "Client"
	}
	return string(k)
}

// DefaultAccentColor is used when Branding.AccentColor is empty.
const DefaultAccentColor = "#1F4E79"

// DefaultConfidentiality is used when Branding.Confidentiality is empty.
const DefaultConfidentiality = "Confidential"

// Document is everything a report shows. Callers fill it from the database;
// this package never queries anything itself.
type Document struct {
	Kind         Kind
	GeneratedAt  time.Time
	Organization string
	Branding     Branding
	Sections     Sections
	Incident     Incident
	Timings      Timings
	Timeline     []Event
	Alerts       []Alert
	Entities     []Entity
	// Notes are internal analyst notes. They are dropped from client reports
	// even when passed.
	Notes []Note
}

// Branding is the organisation's look of its reports.
type Branding struct {
	// CompanyName defaults to Document.Organization.
	CompanyName string
	// AccentColor is "#RRGGBB"; empty means DefaultAccentColor.
	AccentColor string
	// Footer is free text the template may print (the default prints it last).
	Footer string
	// Confidentiality is printed in the page footer; empty means
	// DefaultConfidentiality.
	Confidentiality string
}

// Validate reports whether the branding can be used, so that settings can be
// checked when saved rather than when a report is first rendered.
func (b Branding) Validate() error {
	if b.AccentColor == "" {
		return nil
	}
	if _, err := parseColor(b.AccentColor); err != nil {
		return fmt.Errorf("accent colour: %w", err)
	}
	return nil
}

// Sections selects which optional parts of the report are shown.
type Sections struct {
	Summary     bool
	Timeline    bool
	Alerts      bool
	Entities    bool
	Notes       bool
	Disposition bool
	Timings     bool
}

// AllSections turns every section on.
func AllSections() Sections {
	return Sections{Summary: true, Timeline: true, Alerts: true, Entities: true, Notes: true, Disposition: true, Timings: true}
}

// Incident is the incident a report is about.
type Incident struct {
	Number      int
	Title       string
	Description string
	// Summary is the manual summary, or an AI one: the caller decides.
	Summary        string
	Severity       string
	Status         string
	Disposition    string
	Assignee       string
	Group          string
	Tags           []string
	CreatedAt      time.Time
	AcknowledgedAt *time.Time
	ClosedAt       *time.Time
}

// Timings are the incident's response durations; nil means "not yet".
type Timings struct {
	TimeToAcknowledge *time.Duration
	TimeToClose       *time.Duration
}

// Event is one timeline entry.
type Event struct {
	OccurredAt  time.Time
	Kind        string
	Title       string
	Description string
	Actor       string
}

// Alert is one alert linked to the incident.
type Alert struct {
	Title       string
	Severity    string
	Status      string
	Source      string
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	Occurrences int
}

// Entity is an observable (IP, host, user, hash…) seen in the alerts.
type Entity struct {
	Type  string
	Value string
	// Count is the number of alerts mentioning the entity.
	Count int
}

// Note is an internal analyst note.
type Note struct {
	Author    string
	CreatedAt time.Time
	Body      string
}

var errUnknownKind = errors.New("unknown report kind")

// prepare checks doc and returns the copy that templates see: defaults
// filled in and, for client reports, notes removed whatever the caller
// passed, so that a caller's mistake cannot leak internal notes.
func prepare(doc Document) (Document, error) {
	if doc.Kind != KindInternal && doc.Kind != KindClient {
		return Document{}, fmt.Errorf("%w %q", errUnknownKind, doc.Kind)
	}
	if err := doc.Branding.Validate(); err != nil {
		return Document{}, err
	}
	if doc.Branding.AccentColor == "" {
		doc.Branding.AccentColor = DefaultAccentColor
	}
	if doc.Branding.CompanyName == "" {
		doc.Branding.CompanyName = doc.Organization
	}
	if doc.Branding.Confidentiality == "" {
		doc.Branding.Confidentiality = DefaultConfidentiality
	}
	if doc.Kind == KindClient {
		doc.Notes = nil
		doc.Sections.Notes = false
	}
	return doc, nil
}
