package report

import (
	"time"

	"github.com/seliq/seliq/enum"
)

// Sections are the parts of an incident a report shows.
type Sections struct {
	Summary     bool `json:"summary"`
	Timeline    bool `json:"timeline"`
	Alerts      bool `json:"alerts"`
	Entities    bool `json:"entities"`
	Notes       bool `json:"notes"`
	Disposition bool `json:"disposition"`
	Timings     bool `json:"timings"`
}

// Settings is how an organisation's reports look.
type Settings struct {
	CompanyName     string            `json:"companyName"`
	AccentColor     string            `json:"accentColor"`
	Footer          string            `json:"footer"`
	Confidentiality string            `json:"confidentiality"`
	DefaultKind     enum.ReportKind   `json:"defaultKind"`
	DefaultFormat   enum.ReportFormat `json:"defaultFormat"`
	Sections        Sections          `json:"sections"`
	CustomTemplate  bool              `json:"customTemplate"`
}

// SectionsInput turns sections on or off; nil keeps them.
type SectionsInput struct {
	Summary     *bool `json:"summary,omitempty"`
	Timeline    *bool `json:"timeline,omitempty"`
	Alerts      *bool `json:"alerts,omitempty"`
	Entities    *bool `json:"entities,omitempty"`
	Notes       *bool `json:"notes,omitempty"`
	Disposition *bool `json:"disposition,omitempty"`
	Timings     *bool `json:"timings,omitempty"`
}

// UpdateSettingsInput patches the settings; nil keeps a value.
type UpdateSettingsInput struct {
	CompanyName     *string            `json:"companyName,omitempty"`
	AccentColor     *string            `json:"accentColor,omitempty"`
	Footer          *string            `json:"footer,omitempty"`
	Confidentiality *string            `json:"confidentiality,omitempty"`
	DefaultKind     *enum.ReportKind   `json:"defaultKind,omitempty"`
	DefaultFormat   *enum.ReportFormat `json:"defaultFormat,omitempty"`
	Sections        *SectionsInput     `json:"sections,omitempty"`
}

// Template is the template in effect.
type Template struct {
	Source    string     `json:"source"`
	Custom    bool       `json:"custom"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

// CreateInput picks a report's audience and format; nil takes the
// organisation's defaults.
type CreateInput struct {
	Kind   *enum.ReportKind   `json:"kind,omitempty"`
	Format *enum.ReportFormat `json:"format,omitempty"`
}
