package dashboard

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/query"
)

// The grid: 12 columns, as most dashboard layouts use (halves, thirds and
// quarters divide it), and at most 100 rows; x and y count cells from the
// top left corner, from 0.
const (
	GridColumns = 12
	GridRows    = 100
	// MaxWidgets bounds a dashboard, and so the queries one view of it runs.
	MaxWidgets = 50
	maxTitle   = 200
	// DefaultPeriod is how far back a widget looks without params.period.
	DefaultPeriod = "7d"
	// maxQueryRows bounds a row-returning query widget.
	maxQueryRows = 100
)

var widgetID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// metricDef is one metric a widget may show: which source its query
// narrowing reads, and whether it takes an interval.
type metricDef struct {
	source   string
	interval bool
	run      func(ctx context.Context, m *metrics.Service, r *metrics.Range, interval, org *string) (any, error)
}

// Metrics are the metric widgets' names: the metrics REST paths under
// /api/v1/metrics, each answered by the same metrics.Service method.
var Metrics = map[string]metricDef{
	"alerts/volume": {"alerts", true, func(ctx context.Context, m *metrics.Service, r *metrics.Range, i, o *string) (any, error) {
		return m.AlertVolume(ctx, r, i, o)
	}},
	"alerts/by-severity":  alertsBy("severity"),
	"alerts/by-status":    alertsBy("status"),
	"alerts/by-connector": alertsBy("connector"),
	"alerts/by-assignee":  alertsBy("assignee"),
	"alerts/unassigned-count": {"alerts", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.UnassignedAlertCount(ctx, r, o)
	}},
	"alerts/mttd": {"alerts", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.AlertMTTD(ctx, r, o)
	}},
	"alerts/mttr": {"alerts", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.AlertMTTR(ctx, r, o)
	}},
	"incidents/by-status":   incidentsBy("status"),
	"incidents/by-assignee": incidentsBy("assignee"),
	"incidents/open-count": {"incidents", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.OpenIncidentCount(ctx, r, o)
	}},
	"incidents/time-to-acknowledge": {"incidents", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.IncidentTimeToAcknowledge(ctx, r, o)
	}},
	"incidents/time-to-resolve": {"incidents", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.IncidentTimeToResolve(ctx, r, o)
	}},
	"summary": {"alerts", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.Summary(ctx, r, o)
	}},
}

func alertsBy(field string) metricDef {
	return metricDef{"alerts", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.AlertsBy(ctx, field, r, o)
	}}
}

func incidentsBy(field string) metricDef {
	return metricDef{"incidents", false, func(ctx context.Context, m *metrics.Service, r *metrics.Range, _, o *string) (any, error) {
		return m.IncidentsBy(ctx, field, r, o)
	}}
}

func metricNames() string {
	names := make([]string, 0, len(Metrics))
	for n := range Metrics {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// ParsePeriod reads a widget's period: a whole number of hours (h) or
// days (d), from 1h to 366d.
func ParsePeriod(p string) (time.Duration, error) {
	if p == "" {
		p = DefaultPeriod
	}
	if len(p) < 2 {
		return 0, fmt.Errorf("must be a number of hours or days, such as 24h or 7d")
	}
	n, err := strconv.Atoi(p[:len(p)-1])
	unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour}[p[len(p)-1]]
	if err != nil || unit == 0 || n < 1 {
		return 0, fmt.Errorf("must be a number of hours or days, such as 24h or 7d")
	}
	if d := time.Duration(n) * unit; d <= metrics.MaxPeriod {
		return d, nil
	}
	return 0, fmt.Errorf("must be at most %dd", int(metrics.MaxPeriod/(24*time.Hour)))
}

// validateWidgets checks a whole grid for a dashboard of visibility vis,
// reading saved queries through c (the transaction's client): every error
// names the widget as the client sent it (widgets[3].metric).
func (s *Service) validateWidgets(ctx context.Context, c *ent.Client, in []*schematype.Widget, vis enum.Visibility) ([]schematype.Widget, error) {
	if len(in) > MaxWidgets {
		return nil, apperr.Invalid("widgets", "a dashboard has at most %d widgets, not %d", MaxWidgets, len(in))
	}
	out := make([]schematype.Widget, 0, len(in))
	ids := map[string]int{}
	for i, w := range in {
		f := func(name string) string { return fmt.Sprintf("widgets[%d]%s", i, name) }
		if w == nil {
			return nil, apperr.Invalid(f(""), "must be an object")
		}
		cw, err := s.validateWidget(ctx, c, *w, vis, f)
		if err != nil {
			return nil, err
		}
		if j, dup := ids[cw.ID]; dup {
			return nil, apperr.Invalid(f(".id"), "widgets[%d] has the same id %q", j, cw.ID)
		}
		ids[cw.ID] = i
		for j := range out {
			if overlap(out[j], cw) {
				return nil, apperr.Invalid(f(""), "overlaps widgets[%d] (%q) on the grid", j, out[j].ID)
			}
		}
		out = append(out, cw)
	}
	return out, nil
}

func overlap(a, b schematype.Widget) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

func (s *Service) validateWidget(ctx context.Context, c *ent.Client, w schematype.Widget, vis enum.Visibility, f func(string) string) (schematype.Widget, error) {
	if !widgetID.MatchString(w.ID) {
		return w, apperr.Invalid(f(".id"), "must be 1 to 64 letters, digits, - or _")
	}
	title, err := textfield.Optional(f(".title"), w.Title, maxTitle)
	if err != nil {
		return w, err
	}
	w.Title = title
	if !w.Visualization.Valid() {
		return w, apperr.Invalid(f(".visualization"), "must be one of %s", strings.Join(enum.WidgetVisualization("").Values(), ", "))
	}
	switch {
	case w.W < 1 || w.W > GridColumns:
		return w, apperr.Invalid(f(".w"), "must be 1 to %d columns", GridColumns)
	case w.H < 1 || w.H > GridRows:
		return w, apperr.Invalid(f(".h"), "must be 1 to %d rows", GridRows)
	case w.X < 0 || w.X+w.W > GridColumns:
		return w, apperr.Invalid(f(".x"), "the widget must fit the %d columns: x from 0 to %d for a width of %d", GridColumns, GridColumns-w.W, w.W)
	case w.Y < 0 || w.Y+w.H > GridRows:
		return w, apperr.Invalid(f(".y"), "the widget must fit the %d rows: y from 0 to %d for a height of %d", GridRows, GridRows-w.H, w.H)
	}
	if w.Params == nil {
		w.Params = &schematype.WidgetParams{}
	}
	if err := validateParams(w, f); err != nil {
		return w, err
	}
	switch w.Kind {
	case enum.WidgetKindMetric:
		return w, s.validateMetric(w, f)
	case enum.WidgetKindQuery:
		return w, s.validateQuery(ctx, c, w, vis, f)
	case enum.WidgetKindSla:
		if s.sla == nil {
			return w, apperr.Invalid(f(".kind"), "sla widgets are not available on this server yet: the SLA engine is not enabled")
		}
		if w.Metric != "" || w.SavedQueryID != nil || w.Query != nil {
			return w, apperr.Invalid(f(".kind"), "an sla widget takes params only (period, organization), not metric, saved_query_id or query")
		}
		if w.Params.Interval != "" || w.Params.Query != "" || len(w.Params.Severity) > 0 {
			return w, apperr.Invalid(f(".params"), "an sla widget takes period and organization only")
		}
		return w, nil
	}
	return w, apperr.Invalid(f(".kind"), "must be one of %s", strings.Join(enum.WidgetKind("").Values(), ", "))
}

func validateParams(w schematype.Widget, f func(string) string) error {
	p := w.Params
	if _, err := ParsePeriod(p.Period); err != nil {
		return apperr.Invalid(f(".params.period"), "%s", err.Error())
	}
	if p.Interval != "" {
		if _, err := metrics.ParseInterval(p.Interval); err != nil {
			return apperr.Invalid(f(".params.interval"), "must be one of 5m, 15m, 30m, 1h, 3h, 6h, 12h or 1d")
		}
	}
	if len(p.Severity) > len(enum.Severity("").Values()) {
		return apperr.Invalid(f(".params.severity"), "lists each severity at most once")
	}
	for _, sev := range p.Severity {
		if !sev.Valid() {
			return apperr.Invalid(f(".params.severity"), "unknown severity %q; the severities are %s", sev, strings.Join(enum.Severity("").Values(), ", "))
		}
	}
	if p.Organization != "" && p.Organization != metrics.AllOrganizations {
		return apperr.Invalid(f(".params.organization"), "must be %q (a provider's whole tree) or left out", metrics.AllOrganizations)
	}
	if utf8.RuneCountInString(p.Query) > query.MaxQueryLength {
		return apperr.Invalid(f(".params.query"), "must be at most %d characters", query.MaxQueryLength)
	}
	return nil
}

func (s *Service) validateMetric(w schematype.Widget, f func(string) string) error {
	if w.SavedQueryID != nil || w.Query != nil {
		return apperr.Invalid(f(".kind"), "a metric widget takes metric and params, not saved_query_id or query")
	}
	def, ok := Metrics[w.Metric]
	if !ok {
		return apperr.Invalid(f(".metric"), "unknown metric %q; the metrics are %s", w.Metric, metricNames())
	}
	if w.Params.Interval != "" && !def.interval {
		return apperr.Invalid(f(".params.interval"), "only alerts/volume takes an interval")
	}
	if strings.TrimSpace(w.Params.Query) != "" {
		src, _ := query.Lookup(def.source)
		if _, err := query.Compile(src, f(".params.query"), w.Params.Query, s.now()); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) validateQuery(ctx context.Context, c *ent.Client, w schematype.Widget, vis enum.Visibility, f func(string) string) error {
	if w.Metric != "" {
		return apperr.Invalid(f(".metric"), "a query widget takes saved_query_id or query, not metric")
	}
	if w.Params.Query != "" || len(w.Params.Severity) > 0 || w.Params.Organization != "" {
		return apperr.Invalid(f(".params"), "a query widget takes period and interval only; narrow it in its query")
	}
	switch {
	case (w.SavedQueryID == nil) == (w.Query == nil):
		return apperr.Invalid(f(".saved_query_id"), "a query widget takes either saved_query_id or an inline query")
	case w.SavedQueryID != nil:
		// The tenant rule hides other organisations' queries: they are
		// reported as not found, like a deleted one.
		sq, err := c.StoredQuery.Get(ctx, *w.SavedQueryID)
		if ent.IsNotFound(err) {
			return apperr.Invalid(f(".saved_query_id"), "no saved query %s in this organisation", *w.SavedQueryID)
		}
		if err != nil {
			return err
		}
		v, _ := viewer.User(ctx)
		if sq.Visibility != enum.VisibilityShared && (sq.AuthorID == nil || *sq.AuthorID != v.UserID) {
			return apperr.Invalid(f(".saved_query_id"), "no saved query %s in this organisation", *w.SavedQueryID)
		}
		if vis == enum.VisibilityShared && sq.Visibility != enum.VisibilityShared {
			return apperr.Invalid(f(".saved_query_id"), "saved query %q is private: share it before showing it on a shared dashboard", sq.Name)
		}
		return nil
	}
	return s.validateInline(w.Query, f)
}

// validateInline checks an inline query by the saved queries' rules,
// naming the fields under the widget (widgets[2].query.sort).
func (s *Service) validateInline(q *schematype.WidgetQuery, f func(string) string) error {
	if err := s.query.CheckDefinition(q.Source, q.Query, q.Sort, q.GroupBy, q.Interval); err != nil {
		return renamedField(err, f(".query"))
	}
	if q.Limit != nil && (*q.Limit < 1 || *q.Limit > maxQueryRows) {
		return apperr.Invalid(f(".query.limit"), "must be 1 to %d", maxQueryRows)
	}
	src, _ := query.Lookup(q.Source)
	for _, name := range q.Fields {
		if _, ok := src.Field(name); !ok {
			return apperr.Invalid(f(".query.fields"), "unknown field %q of %s", name, q.Source)
		}
	}
	if len(q.Fields) > maxQueryRows {
		return apperr.Invalid(f(".query.fields"), "at most %d fields", maxQueryRows)
	}
	return nil
}

// Errors of stored widgets that no longer make sense (validation refuses
// them on write; a server without the SLA engine can still read an sla
// widget written when it had one).
func errNoSLA() error {
	return apperr.New(apperr.BadInput, "sla widgets are not available on this server: the SLA engine is not enabled")
}

func errUnknownKind(k enum.WidgetKind) error {
	return apperr.New(apperr.BadInput, "unknown widget kind %q", k)
}

func errUnknownMetric(m string) error {
	return apperr.New(apperr.BadInput, "unknown metric %q", m)
}

func errNoQuery() error {
	return apperr.New(apperr.BadInput, "the query widget has neither saved_query_id nor query")
}
