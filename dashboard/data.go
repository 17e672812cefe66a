package dashboard

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/sync/errgroup"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/query"
)

// Widget is a stored widget as GraphQL shows it: its data is computed on
// first request together with every other widget of its dashboard.
type Widget struct {
	schematype.Widget
	batch *batch
	index int
}

// batch computes the data of every widget of one dashboard once, a few at
// a time, keeping each widget's error on that widget.
type batch struct {
	once    sync.Once
	widgets []schematype.Widget
	data    []json.RawMessage
	errs    []error
}

// Widgets returns b's widgets, their data computed together when first
// asked for (by Data).
func (s *Service) Widgets(_ context.Context, b *ent.Board) ([]*Widget, error) {
	bt := &batch{widgets: b.Widgets}
	out := make([]*Widget, len(b.Widgets))
	for i, w := range b.Widgets {
		out[i] = &Widget{Widget: w, batch: bt, index: i}
	}
	return out, nil
}

// Data returns w's data (see WidgetData for its shape per kind); the first
// call computes every widget of the dashboard, concurrently.
func (s *Service) Data(ctx context.Context, w *Widget) (json.RawMessage, error) {
	bt := w.batch
	bt.once.Do(func() {
		bt.data = make([]json.RawMessage, len(bt.widgets))
		bt.errs = make([]error, len(bt.widgets))
		var g errgroup.Group
		g.SetLimit(s.parallel)
		for i := range bt.widgets {
			g.Go(func() error {
				// An error stays on its widget: the others still show.
				bt.data[i], bt.errs[i] = s.WidgetData(ctx, bt.widgets[i])
				return nil
			})
		}
		_ = g.Wait()
	})
	return bt.data[w.index], bt.errs[w.index]
}

// WidgetData computes one widget's data as the caller, over the widget's
// period ending now:
//   - metric: the metric's figures as its REST path answers them (snake_case keys);
//   - query: the query runner's result (source, rows or groups or series, total, time_zone);
//   - sla: the SLA engine's figures.
func (s *Service) WidgetData(ctx context.Context, w schematype.Widget) (json.RawMessage, error) {
	p := w.Params
	if p == nil {
		p = &schematype.WidgetParams{}
	}
	period, err := ParsePeriod(p.Period)
	if err != nil {
		return nil, err
	}
	until := metrics.PeriodEnd(s.now())
	since := until.Add(-period)
	var org *string
	if p.Organization != "" {
		org = &p.Organization
	}
	var v any
	switch w.Kind {
	case enum.WidgetKindMetric:
		v, err = s.metricData(ctx, w, p, since, until, org)
	case enum.WidgetKindQuery:
		v, err = s.queryData(ctx, w, p, since, until)
	case enum.WidgetKindSla:
		if s.sla == nil {
			return nil, errNoSLA()
		}
		return s.sla.SLAFigures(ctx, since, until, org)
	default:
		return nil, errUnknownKind(w.Kind)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(encode(reflect.ValueOf(v)))
}

func (s *Service) metricData(ctx context.Context, w schematype.Widget, p *schematype.WidgetParams, since, until time.Time, org *string) (any, error) {
	def, ok := Metrics[w.Metric]
	if !ok {
		return nil, errUnknownMetric(w.Metric)
	}
	r := &metrics.Range{Since: &since, Until: &until, Severity: p.Severity}
	if p.Query != "" {
		r.Query = &p.Query
	}
	var interval *string
	if p.Interval != "" {
		interval = &p.Interval
	}
	return def.run(ctx, s.metrics, r, interval, org)
}

func (s *Service) queryData(ctx context.Context, w schematype.Widget, p *schematype.WidgetParams, since, until time.Time) (any, error) {
	if w.SavedQueryID != nil {
		return s.query.RunSavedQuery(ctx, *w.SavedQueryID, &query.RunSavedQueryInput{Since: &since, Until: &until})
	}
	q := w.Query
	if q == nil {
		return nil, errNoQuery()
	}
	in := query.RunInput{Source: q.Source, Query: q.Query, Fields: q.Fields, Sort: q.Sort, Limit: q.Limit,
		Since: &since, Until: &until, GroupBy: q.GroupBy, Interval: q.Interval}
	if in.Interval == "" {
		in.Interval = p.Interval
	}
	return s.query.Run(ctx, in)
}

// organizationRef is how data names an organisation of a roll-up.
type organizationRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// renamed are the Go fields whose JSON key is not their snake_case name:
// durations say their unit, as the GraphQL and REST metrics do.
var renamed = map[string]string{"Mean": "mean_seconds", "Median": "median_seconds", "P90": "p90_seconds"}

// encode turns a metrics or query result into the JSON REST answers for
// it: snake_case keys, organisations as {id, name}, nil as null.
func encode(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if o, ok := v.Interface().(*ent.Organization); ok {
			return organizationRef{ID: o.ID.String(), Name: o.Name}
		}
		return encode(v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return t
		}
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if (f.Name == "Organization" || f.Name == "Organizations") && v.Field(i).IsNil() {
				continue // only a roll-up names organisations
			}
			if f.Anonymous && f.Type == reflect.TypeFor[metrics.Row]() {
				// A roll-up row's organisation, flattened as GraphQL shows
				// it; the answer itself has none.
				if row := v.Field(i).Interface().(metrics.Row); row.Organization != nil {
					out["organization"] = organizationRef{ID: row.OrganizationID.String(), Name: row.OrganizationName}
				}
				continue
			}
			key, ok := renamed[f.Name]
			if !ok {
				key = snake(f.Name)
			}
			out[key] = encode(v.Field(i))
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = encode(v.Index(i))
		}
		return out
	case reflect.Map:
		return v.Interface()
	}
	return v.Interface()
}

// snake writes a Go field name in snake_case (BySeverity → by_severity,
// MttdMedian → mttd_median).
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
