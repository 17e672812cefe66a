package schematype

import (
	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
)

// Widget is one tile of a dashboard's grid: what it shows (a metric with
// its parameters, a saved or inline query, or the SLA figures), how it is
// drawn, and where it sits. It is GraphQL's DashboardWidgetInput, the
// stored form and the export document's, so the three cannot drift apart.
type Widget struct {
	// ID identifies the widget within its dashboard (1 to 64 characters).
	ID            string                   `json:"id"`
	Title         string                   `json:"title"`
	Kind          enum.WidgetKind          `json:"kind"`
	Visualization enum.WidgetVisualization `json:"visualization"`
	// Metric names the figure of a metric widget (alerts.volume…).
	Metric string `json:"metric,omitempty"`
	// Params narrow a metric, query or SLA widget.
	Params *WidgetParams `json:"params,omitempty"`
	// SavedQueryID is the saved query a query widget runs…
	SavedQueryID *uuid.UUID `json:"saved_query_id,omitempty"`
	// …or Query the inline one.
	Query *WidgetQuery `json:"query,omitempty"`
	// The grid position and size, in cells.
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// WidgetParams narrow a widget's figures.
type WidgetParams struct {
	// Period is how far back from now the widget looks: 1h, 24h, 7d, 30d,
	// 90d (default 7d).
	Period string `json:"period,omitempty"`
	// Interval is the bucket width of a series (alerts.volume, a query's
	// time series); empty for the automatic one.
	Interval string `json:"interval,omitempty"`
	// Severity keeps these severities (metric widgets).
	Severity []enum.Severity `json:"severity,omitempty"`
	// Query narrows a metric by an expression of the query language.
	Query string `json:"query,omitempty"`
	// Organization "all" asks a provider's roll-up over its tree.
	Organization string `json:"organization,omitempty"`
}

// WidgetQuery is an inline query of a query widget.
type WidgetQuery struct {
	Source   string   `json:"source"`
	Query    string   `json:"query"`
	GroupBy  []string `json:"group_by,omitempty"`
	Interval string   `json:"interval,omitempty"`
	Sort     string   `json:"sort,omitempty"`
	Fields   []string `json:"fields,omitempty"`
	Limit    *int     `json:"limit,omitempty"`
}
