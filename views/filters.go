package views

import (
	"strings"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/apperr"
	"github.com/seliq/seliq/ent/schematype"
)

// validateFilters checks a view's filter with the queue's own rules, so a
// saved view can always be run. The queue names its argument "filter"; a
// view's field is "filters", and the error must name what the caller sent.
func validateFilters(f *schematype.AlertFilter) error {
	err := alerts.ValidateFilter(f)
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadInput {
		return err
	}
	renamed := *e
	if rest, found := strings.CutPrefix(e.Field, "filter."); found {
		renamed.Field = "filters." + rest
	}
	return &renamed
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
