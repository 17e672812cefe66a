package alerts

import (
	"strings"
	"unicode/utf8"

	"github.com/seliq/seliq/apperr"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
)

// Limits on a filter, so that a request cannot expand into an unbounded
// query.
const (
	maxFilterValues = 100
	maxQLength      = 200
	maxEntityLength = 500
	maxValueLength  = 500
)

// Predicates turns a filter into ent predicates; dialect-aware parts use
// the selector's dialect (s.Dialect()). Values within a field are OR-ed and
// fields AND-ed (one predicate per field). Unassigned=true adds "no
// assignee" to the AssigneeID alternatives; false adds nothing. The filter
// must have passed ValidateFilter.
func Predicates(f *schematype.AlertFilter) []predicate.Alert {
	if f == nil {
		return nil
	}
	var ps []predicate.Alert
	add := func(p predicate.Alert) { ps = append(ps, p) }
	if len(f.Status) > 0 {
		add(alert.StatusIn(f.Status...))
	}
	if len(f.Severity) > 0 {
		add(alert.SeverityIn(f.Severity...))
	}
	if len(f.Source) > 0 {
		add(alert.SourceIn(f.Source...))
	}
	if len(f.ConnectorID) > 0 {
		add(alert.ConnectorIDIn(f.ConnectorID...))
	}
	if p := assigneePredicate(f); p != nil {
		add(p)
	}
	if len(f.Tag) > 0 {
		add(hasAnyTag(f.Tag))
	}
	if f.Entity != nil {
		add(hasEntityValue(*f.Entity))
	}
	if f.Since != nil {
		add(alert.LastSeenAtGTE(f.Since.UTC()))
	}
	if f.Until != nil {
		add(alert.LastSeenAtLT(f.Until.UTC()))
	}
	if f.Q != nil {
		add(containsText(*f.Q))
	}
	if f.IncidentID != nil {
		add(alert.IncidentIDEQ(*f.IncidentID))
	}
	return ps
}

// assigneePredicate combines AssigneeID and Unassigned, which are
// alternatives of one field; nil when neither constrains.
func assigneePredicate(f *schematype.AlertFilter) predicate.Alert {
	unassigned := f.Unassigned != nil && *f.Unassigned
	switch {
	case len(f.AssigneeID) > 0 && unassigned:
		return alert.Or(alert.AssigneeIDIn(f.AssigneeID...), alert.AssigneeIDIsNil())
	case len(f.AssigneeID) > 0:
		return alert.AssigneeIDIn(f.AssigneeID...)
	case unassigned:
		return alert.AssigneeIDIsNil()
	}
	return nil
}

// ValidateFilter checks a filter before it reaches SQL: bounded sizes,
// known enum values, a non-empty time range, and text PostgreSQL can store
// (valid UTF-8 without NUL, which it rejects with an error rather than
// matching nothing). Errors name the field as "filter.<snake_case>".
func ValidateFilter(f *schematype.AlertFilter) error {
	if f == nil {
		return nil
	}
	checks := []func() error{
		func() error { return checkCount("status", len(f.Status)) },
		func() error { return checkCount("severity", len(f.Severity)) },
		func() error { return checkCount("source", len(f.Source)) },
		func() error { return checkCount("connector_id", len(f.ConnectorID)) },
		func() error { return checkCount("assignee_id", len(f.AssigneeID)) },
		func() error { return checkCount("tag", len(f.Tag)) },
		func() error { return checkEnums(f) },
		func() error { return checkTexts("source", f.Source) },
		func() error { return checkTexts("tag", f.Tag) },
		func() error { return checkOptionalText("entity", f.Entity, maxEntityLength) },
		func() error { return checkOptionalText("q", f.Q, maxQLength) },
		func() error { return checkRange(f) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func filterField(name string) string { return "filter." + name }

func checkCount(field string, n int) error {
	if n > maxFilterValues {
		return apperr.Invalid(filterField(field), "lists at most %d values", maxFilterValues)
	}
	return nil
}

func checkEnums(f *schematype.AlertFilter) error {
	for _, s := range f.Status {
		if !s.Valid() {
			return apperr.Invalid(filterField("status"), "%q is not an alert status", s)
		}
	}
	for _, s := range f.Severity {
		if !s.Valid() {
			return apperr.Invalid(filterField("severity"), "%q is not a severity", s)
		}
	}
	return nil
}

func checkTexts(field string, values []string) error {
	for _, v := range values {
		if err := checkText(field, v, maxValueLength); err != nil {
			return err
		}
	}
	return nil
}

func checkOptionalText(field string, v *string, maxLen int) error {
	if v == nil {
		return nil
	}
	return checkText(field, *v, maxLen)
}

// checkText bounds a string in characters and refuses what no stored value
// can contain.
func checkText(field, v string, maxLen int) error {
	switch {
	case !utf8.ValidString(v):
		return apperr.Invalid(filterField(field), "is not valid UTF-8")
	case strings.ContainsRune(v, 0):
		return apperr.Invalid(filterField(field), "must not contain NUL characters")
	case utf8.RuneCountInString(v) > maxLen:
		return apperr.Invalid(filterField(field), "must be at most %d characters", maxLen)
	}
	return nil
}

func checkRange(f *schematype.AlertFilter) error {
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return apperr.Invalid(filterField("until"), "must be after since")
	}
	return nil
}
