package gqlserver

import (
	"github.com/seliq/seliq/automation/trigger"
	"math"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/features"
	"github.com/seliq/seliq/graph"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/query"
)

// Assumed lengths of lists that take no page size, used to score them.
const (
	// listGuess: an edge or list with no page argument (a group's members,
	// an organisation's children, a user's groups, API tokens and views, an
	// alert's entities, an incident's reports). They are small by nature
	// and the REST layer returns them whole for each item of a 500-item
	// page, which the limit must allow.
	listGuess = 10
	// facetGuess: the values of one alert facet; the open-ended ones
	// (source, tags) stop at 50 (alerts.maxFacetValues), assignee and
	// connector are assumed alike.
	facetGuess = 50
	// widgetDataCost scores one dashboard widget's data (a metric or a
	// query run): a 10-widget dashboard's data costs a tenth of the limit.
	widgetDataCost = 2000
)

// rowCost is what fetching one item of a list costs beyond the fields
// selected on it: ent reads every column of a row whatever the selection, so
// 500 alerts asking only for their id still load 500 full rows.
const rowCost = 10

type cursor = *entgql.Cursor[uuid.UUID]

// pageSize is the number of items a connection may return. Sizes above
// paging.Max are refused before execution (pageLimits); the clamp keeps the
// score finite meanwhile.
func pageSize(first, last *int) int {
	n := paging.Default
	if first != nil {
		n = *first
	} else if last != nil {
		n = *last
	}
	return min(max(n, 1), paging.Max)
}

// items scores a list of n database rows, each costing its selection and
// the row.
func items(n, child int) int { return satAdd(1, satMul(n, satAdd(rowCost, child))) }

// page scores a connection by its page size.
func page(child int, first, last *int) int { return items(pageSize(first, last), child) }

// listOf scores a list of rows with no page argument, of about n items.
func listOf(n int) func(int) int { return func(child int) int { return items(n, child) } }

// valuesOf scores a list of at most n values computed or stored in their
// parent's row (facet counts, an alert's entities): no row each.
func valuesOf(n int) func(int) int {
	return func(child int) int { return satAdd(1, satMul(n, child)) }
}

// satMul and satAdd saturate rather than overflow: gqlgen falls back to its
// default score when a custom one is not positive, which an overflow to a
// negative number would otherwise turn into a bypass.
func satMul(a, b int) int {
	if a > 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}

func satAdd(a, b int) int {
	if b > math.MaxInt-a {
		return math.MaxInt
	}
	return a + b
}

// longestMapping is the bound of ConnectorType.mapping: the catalogue is
// fixed at build time.
func longestMapping(types []catalogue.Type) int {
	n := 1
	for _, t := range types {
		n = max(n, len(t.Mapping))
	}
	return n
}

// complexity scores every list of the schema by the items it may return,
// so that nested lists multiply and the limit bounds the rows one
// operation can pull rather than the number of fields named.
// TestEveryListIsScored fails for a list field added without a score here.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	severities := len(enum.Severity("").Values())

	// Connections, by their page size.
	c.Query.Alerts = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.AlertOrder, _ *schematype.AlertFilter) int {
		return page(child, first, last)
	}
	c.Incident.Alerts = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.AlertOrder) int {
		return page(child, first, last)
	}
	c.Query.Incidents = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.IncidentOrder, _ *incidents.IncidentFilter) int {
		return page(child, first, last)
	}
	c.Query.Users = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.UserOrder) int {
		return page(child, first, last)
	}
	c.Query.Groups = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.GroupOrder) int {
		return page(child, first, last)
	}
	c.Query.Organizations = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.OrganizationOrder) int {
		return page(child, first, last)
	}
	c.Query.Contacts = func(child int, _ uuid.UUID, _ cursor, first *int, _ cursor, last *int, _ *ent.ContactOrder) int {
		return page(child, first, last)
	}
	c.Query.Connectors = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.ConnectorOrder) int {
		return page(child, first, last)
	}
	c.Query.SearchActivity = func(child int, _ *audit.ActivitySearchInput, _ cursor, first *int, _ cursor, last *int, _ *ent.ActivityOrder) int {
		return page(child, first, last)
	}
	c.Query.NotificationHistory = func(child int, _, _ *time.Time, _ cursor, first *int, _ cursor, last *int) int {
		return page(child, first, last)
	}
	c.Query.Notifications = func(child int, _ *bool, _ cursor, first *int, _ cursor, last *int) int {
		return page(child, first, last)
	}
	// Connections below one object (an alert, an incident, a connector).
	below := func(child int, _ uuid.UUID, _ cursor, first *int, _ cursor, last *int) int {
		return page(child, first, last)
	}
	c.Query.AlertActivity = below
	c.Query.AlertChatHistory = below
	c.Query.AlertNotes = below
	c.Query.IncidentActivity = below
	c.Query.IncidentChatHistory = below
	c.Query.IncidentNotes = below
	c.Query.IncidentTimeline = below
	c.Query.DeadLetters = below

	// nodes fetches every id it is given.
	c.Query.Nodes = func(child int, ids []uuid.UUID) int { return items(max(len(ids), 1), child) }

	// Plain lists, by their bound or a guess.
	c.Group.Members = listOf(listGuess)
	c.User.Groups = listOf(listGuess)
	c.Organization.Children = listOf(listGuess)
	c.Query.AlertViews = listOf(listGuess)
	c.Query.APITokens = listOf(listGuess)
	c.Query.IncidentReports = func(child int, _ uuid.UUID) int { return items(listGuess, child) }
	c.Alert.Entities = valuesOf(listGuess)
	types := catalogue.Types()
	c.Query.ConnectorCatalogue = valuesOf(len(types))
	c.ConnectorType.Mapping = valuesOf(longestMapping(types))
	c.AlertFacets.Assignee = valuesOf(facetGuess)
	c.AlertFacets.Connector = valuesOf(facetGuess)
	c.AlertFacets.Source = valuesOf(facetGuess)
	c.AlertFacets.Tags = valuesOf(facetGuess)
	c.AlertFacets.Severity = valuesOf(severities)
	c.AlertFacets.Status = valuesOf(len(enum.AlertStatus("").Values()))
	c.Incident.AlertSeverities = valuesOf(severities)
	c.MetricsTick.OpenAlertsBySeverity = valuesOf(severities)
	c.AnalysisQueue.BySeverity = valuesOf(severities)
	// The query language: a run's groups and buckets are bounded by the query
	// service itself (query.MaxTop, its bucket limit); these score a typical
	// answer so a document asking for several runs still adds up.
	sources := query.Sources()
	c.Query.QuerySources = valuesOf(len(sources))
	c.QuerySource.Fields = valuesOf(mostFields(sources))
	c.Query.QueryLookups = func(child int, _, _ string, _ *string, limit *int) int {
		n := query.DefaultLookups
		if limit != nil {
			n = min(max(*limit, 1), query.MaxLookups)
		}
		return items(n, child)
	}
	c.Query.SavedQueries = func(child int, _ cursor, first *int, _ cursor, last *int) int { return page(child, first, last) }
	c.Query.Dashboards = func(child int, _ cursor, first *int, _ cursor, last *int) int { return page(child, first, last) }
	c.Query.Triggers = func(child int, _ *enum.TriggerEvent, _ cursor, first *int, _ cursor, last *int) int {
		return page(child, first, last)
	}
	// A test run answers at most the objects it examines.
	c.TriggerTestResult.Matches = valuesOf(trigger.MaxTestLimit)
	c.Query.Macros = func(child int, _ *enum.AutomationTarget, _ cursor, first *int, _ cursor, last *int) int {
		return page(child, first, last)
	}
	// A macro's results are values the apply computed (bounded by
	// automation.MaxApply in the service), not rows read for the answer:
	// scored as a typical list so selecting them is not refused.
	c.ApplyMacroPayload.Results = valuesOf(listGuess)
	c.MacroResult.Changes = valuesOf(listGuess)
	// A dashboard's widgets are values of its row; each one's data runs a
	// metric or a query, scored like a page of rows so that asking the data
	// of a list of dashboards is refused beyond a few of them.
	c.Dashboard.Widgets = valuesOf(listGuess)
	c.DashboardWidget.Data = func(int) int { return widgetDataCost }
	// Metrics: the service bounds buckets and tree rows itself
	// (metrics.MaxBuckets, metrics.MaxTreeOrgs); these score a typical
	// answer (the automatic interval aims at about 200 buckets), as the
	// query runner's are, so a dashboard's one request still adds up.
	const typicalBuckets = 200
	c.AlertVolume.Buckets = valuesOf(typicalBuckets)
	c.OrganizationAlertVolume.Buckets = valuesOf(typicalBuckets)
	c.AlertVolumeBucket.BySeverity = valuesOf(severities)
	c.MetricBreakdown.Values = valuesOf(facetGuess)
	c.OrganizationMetricBreakdown.Values = valuesOf(facetGuess)
	c.DurationMetric.BySeverity = valuesOf(severities)
	c.OrganizationDurationMetric.BySeverity = valuesOf(severities)
	c.AlertVolume.Organizations = valuesOf(listGuess)
	c.MetricBreakdown.Organizations = valuesOf(listGuess)
	c.MetricCount.Organizations = valuesOf(listGuess)
	c.DurationMetric.Organizations = valuesOf(listGuess)
	c.MetricsSummary.Organizations = valuesOf(listGuess)
	// SLA: a target per severity, at most seven opening days, a row per
	// severity and timer.
	timers := len(enum.SLATimer("").Values())
	c.SLASettings.Targets = valuesOf(severities)
	c.SLASettings.Days = valuesOf(7)
	c.SLAMetrics.Rows = valuesOf(severities * timers)
	c.SLAMetrics.Total = valuesOf(timers)
	c.SLAMetrics.Organizations = valuesOf(listGuess)
	c.OrganizationSLAMetrics.Rows = valuesOf(severities * timers)
	c.OrganizationSLAMetrics.Total = valuesOf(timers)
	c.Query.Features = valuesOf(len(features.Keys()))
	c.QueryResult.Groups = valuesOf(query.MaxTop + 1)
	c.QueryResult.Series = valuesOf(listGuess)
	c.QueryBucket.Groups = valuesOf(query.DefaultTop + 1)
	return c
}

// mostFields is the field count of the largest source.
func mostFields(sources []*query.Source) int {
	n := 0
	for _, s := range sources {
		n = max(n, len(s.Fields))
	}
	return n
}
