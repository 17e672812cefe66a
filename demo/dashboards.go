package demo

import (
	"context"

	"github.com/seliq/seliq/dashboard"
	"github.com/seliq/seliq/ent/board"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

func metricTile(id, title, metric string, vis enum.WidgetVisualization, x, y, w, h int, p *schematype.WidgetParams) *schematype.Widget {
	return &schematype.Widget{ID: id, Title: title, Kind: enum.WidgetKindMetric, Metric: metric, Visualization: vis, Params: p, X: x, Y: y, W: w, H: h}
}

// demoDashboards are the SOC lead's morning view and the MSSP account
// manager's roll-up over the client organisations, SLA attainment per
// client included.
func demoDashboards() []dashboard.CreateInput {
	all := &schematype.WidgetParams{Organization: metrics.AllOrganizations}
	return []dashboard.CreateInput{
		{Name: "SOC overview", Description: ptr("Alert volume, severities, the unassigned queue, time to detect and resolve, open incidents."),
			Visibility: ptr(enum.VisibilityShared), Widgets: []*schematype.Widget{
				metricTile("unassigned", "Unassigned alerts", "alerts/unassigned-count", enum.WidgetVisualizationNumber, 0, 0, 3, 2, nil),
				metricTile("open-incidents", "Open incidents", "incidents/open-count", enum.WidgetVisualizationNumber, 3, 0, 3, 2, nil),
				metricTile("mttd", "Time to detect", "alerts/mttd", enum.WidgetVisualizationNumber, 6, 0, 3, 2, nil),
				metricTile("mttr", "Time to resolve", "alerts/mttr", enum.WidgetVisualizationNumber, 9, 0, 3, 2, nil),
				metricTile("volume", "Alert volume", "alerts/volume", enum.WidgetVisualizationLine, 0, 2, 8, 4, &schematype.WidgetParams{Interval: "1d"}),
				metricTile("severity", "By severity", "alerts/by-severity", enum.WidgetVisualizationPie, 8, 2, 4, 4, nil),
				{ID: "high-open", Title: "High and critical by status", Kind: enum.WidgetKindQuery, Visualization: enum.WidgetVisualizationBar,
					Query: &schematype.WidgetQuery{Source: "alerts", Query: `severity >= "high"`, GroupBy: []string{"status"}}, X: 0, Y: 6, W: 12, H: 3},
			}},
		{Name: "MSSP SLA", Description: ptr("Every client organisation at a glance: headline figures, volume, open incidents and incident response times."),
			Visibility: ptr(enum.VisibilityShared), Widgets: []*schematype.Widget{
				metricTile("summary", "Headline figures", "summary", enum.WidgetVisualizationTable, 0, 0, 12, 3, all),
				metricTile("open-incidents", "Open incidents per client", "incidents/open-count", enum.WidgetVisualizationBar, 0, 3, 6, 3, all),
				metricTile("volume", "Alerts per client", "alerts/volume", enum.WidgetVisualizationLine, 6, 3, 6, 3, &schematype.WidgetParams{Organization: metrics.AllOrganizations, Interval: "1d"}),
				metricTile("ack", "Time to acknowledge", "incidents/time-to-acknowledge", enum.WidgetVisualizationTable, 0, 6, 6, 3, all),
				metricTile("resolve", "Time to resolve", "incidents/time-to-resolve", enum.WidgetVisualizationTable, 6, 6, 6, 3, all),
				{ID: "sla-week", Title: "SLA attainment per client, this week", Kind: enum.WidgetKindSla, Visualization: enum.WidgetVisualizationTable,
					Params: all, X: 0, Y: 9, W: 12, H: 4},
				{ID: "sla-month", Title: "SLA attainment per client, 30 days", Kind: enum.WidgetKindSla, Visualization: enum.WidgetVisualizationTable,
					Params: &schematype.WidgetParams{Organization: metrics.AllOrganizations, Period: "30d"}, X: 0, Y: 13, W: 12, H: 4},
			}},
	}
}

// ensureDashboards creates the demo dashboards that do not exist yet (by
// name), so a second run adds none; it returns how many it created.
func ensureDashboards(ctx context.Context, db *storage.DB) (int, error) {
	svc := dashboard.New(db.Client, metrics.New(db.Client, db.Dialect), query.New(db.Client, db.Dialect), sla.New(db.Client, nil, nil))
	n := 0
	for _, in := range demoDashboards() {
		exists, err := db.Client.Board.Query().Where(board.Name(in.Name)).Exist(ctx)
		if err != nil {
			return n, err
		}
		if exists {
			continue
		}
		if _, err := svc.Create(ctx, in); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
