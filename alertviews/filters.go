package alertviews

import (
	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent/schematype"
)

// validateFilters checks a view's filter with the queue's own rules, so a
// saved view can always be run; errors name the view's "filters" field.
func validateFilters(f *schematype.AlertFilter) error {
	return alerts.ValidateFilter("filters", f)
}

// normalizeFilter returns a copy of f with its time bounds in UTC: stored
// JSON then compares equal for equal instants, and reads back the same on
// both databases.
func normalizeFilter(f schematype.AlertFilter) schematype.AlertFilter {
	if f.Since != nil {
		t := f.Since.UTC()
		f.Since = &t
	}
	if f.Until != nil {
		t := f.Until.UTC()
		f.Until = &t
	}
	return f
}
