package metrics

import (
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
)

// Range narrows a metric: the period and optional connector, severities and
// query (CEL, compiled by the query package against the metric's source).
type Range struct {
	// Since and Until bound the period [Since, Until); default the last 7 days.
	Since, Until *time.Time
	// Connector keeps the alerts one connector delivered.
	Connector *uuid.UUID
	// Severity keeps these severities.
	Severity []enum.Severity
	// Query is a query-language expression the records must match.
	Query *string
}

// Request is the metrics object of GraphQL: a range and an organisation
// scope whose fields each resolve one metric.
type Request struct {
	Range        *Range
	Organization *string
}

// Row names the organisation of a roll-up's row per organisation; it is
// empty on the answer itself.
type Row struct {
	Organization     *ent.Organization
	OrganizationID   uuid.UUID
	OrganizationName string
}

func rowOf(o *ent.Organization) Row {
	return Row{Organization: o, OrganizationID: o.ID, OrganizationName: o.Name}
}

// Value is one row of a breakdown.
type Value struct {
	// Key is the grouped value: a status or severity (lower-case), a
	// connector or user id, "" for none.
	Key string
	// Name is the connector's or user's name, the key otherwise.
	Name  string
	Count int
}

// Breakdown counts records per value of one field.
type Breakdown struct {
	// Row names the organisation of a roll-up's row.
	Row
	Values []*Value
	Total  int
	// Organizations is a roll-up's row per organisation (organization=all).
	Organizations []*Breakdown
}

// Count is one number, now.
type Count struct {
	Row
	Count         int
	Organizations []*Count
}

// SeverityCount is a count of one severity.
type SeverityCount struct {
	Severity enum.Severity
	Count    int
}

// VolumeBucket is one bucket of the volume series.
type VolumeBucket struct {
	Start      time.Time
	Count      int
	BySeverity []*SeverityCount
}

// Volume is the alerts created per bucket, split by severity.
type Volume struct {
	Row
	Interval      string
	TimeZone      string
	Buckets       []*VolumeBucket
	Total         int
	Organizations []*Volume
}

// Stats summarises durations in seconds; the figures are nil when Count is 0.
type Stats struct {
	Count             int
	Mean, Median, P90 *float64
}

// SeverityStats is Stats of one severity.
type SeverityStats struct {
	Severity enum.Severity
	Stats    *Stats
}

// Durations is a duration metric overall and per severity.
type Durations struct {
	Row
	Overall       *Stats
	BySeverity    []*SeverityStats
	Organizations []*Durations
}

// Comparison is a figure over the period and over the period before it.
type Comparison struct {
	Current, Previous *float64
}

// Summary is the headline figures.
type Summary struct {
	Row
	Since, Until, PreviousSince                 time.Time
	AlertsCreated, AlertsResolved               *Comparison
	IncidentsCreated, IncidentsClosed           *Comparison
	MttdMedian, MttrMedian                      *Comparison
	IncidentAckMedian, IncidentResolveMedian    *Comparison
	OpenAlerts, UnassignedAlerts, OpenIncidents int
	Organizations                               []*Summary
}
