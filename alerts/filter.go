package alerts

import (
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/query"
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
	if f.Query != nil {
		// ValidateFilter compiled it already; a query that stopped compiling
		// since (a saved view) matches nothing rather than everything.
		q, err := compileQuery("query", *f.Query)
		if err != nil {
			add(predicate.Alert(func(s *sql.Selector) { s.Where(sql.False()) }))
		} else {
			add(predicate.Alert(q.Where()))
		}
	}
	return ps
}

// compileQuery compiles an alert filter's query expression, field naming it
// in errors.
func compileQuery(field, text string) (*query.Query, error) {
	src, _ := query.Lookup("alerts")
	return query.Compile(src, field, text, time.Now())
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
// matching nothing). Errors name the field as "<arg>.<snake_case>", arg
// being the name the caller gave the filter ("filter", a view's "filters").
func ValidateFilter(arg string, f *schematype.AlertFilter) error {
	if f == nil {
		return nil
	}
	checks := []func() *apperr.Error{
		func() *apperr.Error { return checkListSize("status", len(f.Status)) },
		func() *apperr.Error { return checkListSize("severity", len(f.Severity)) },
		func() *apperr.Error { return checkListSize("source", len(f.Source)) },
		func() *apperr.Error { return checkListSize("connector_id", len(f.ConnectorID)) },
		func() *apperr.Error { return checkListSize("assignee_id", len(f.AssigneeID)) },
		func() *apperr.Error { return checkListSize("tag", len(f.Tag)) },
		func() *apperr.Error { return checkFilterEnums(f) },
		func() *apperr.Error { return checkFilterTexts("source", f.Source) },
		func() *apperr.Error { return checkFilterTexts("tag", f.Tag) },
		func() *apperr.Error { return checkOptionalFilterText("entity", f.Entity, maxEntityLength) },
		func() *apperr.Error { return checkOptionalFilterText("q", f.Q, maxQLength) },
		func() *apperr.Error { return checkTimeRange(f) },
		func() *apperr.Error { return checkQuery(f.Query) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			e := *err
			e.Field = arg + "." + e.Field
			return &e
		}
	}
	return nil
}

// checkQuery compiles the filter's expression: nothing reaches the database
// before it does.
func checkQuery(text *string) *apperr.Error {
	if text == nil {
		return nil
	}
	if _, err := compileQuery("query", *text); err != nil {
		if e, ok := apperr.As(err); ok {
			return e
		}
		return apperr.Invalid("query", "%v", err)
	}
	return nil
}

func checkListSize(field string, n int) *apperr.Error {
	if n > maxFilterValues {
		return apperr.Invalid(field, "lists at most %d values", maxFilterValues)
	}
	return nil
}

func checkFilterEnums(f *schematype.AlertFilter) *apperr.Error {
	for _, s := range f.Status {
		if !s.Valid() {
			return apperr.Invalid("status", "%q is not an alert status", s)
		}
	}
	for _, s := range f.Severity {
		if !s.Valid() {
			return apperr.Invalid("severity", "%q is not a severity", s)
		}
	}
	return nil
}

func checkFilterTexts(field string, values []string) *apperr.Error {
	for _, v := range values {
		if err := checkFilterText(field, v, maxValueLength); err != nil {
			return err
		}
	}
	return nil
}

func checkOptionalFilterText(field string, v *string, maxLen int) *apperr.Error {
	if v == nil {
		return nil
	}
	return checkFilterText(field, *v, maxLen)
}

// checkText bounds a string in characters and refuses what no stored value
// can contain.
func checkFilterText(field, v string, maxLen int) *apperr.Error {
	switch {
	case !utf8.ValidString(v):
		return apperr.Invalid(field, "is not valid UTF-8")
	case strings.ContainsRune(v, 0):
		return apperr.Invalid(field, "must not contain NUL characters")
	case utf8.RuneCountInString(v) > maxLen:
		return apperr.Invalid(field, "must be at most %d characters", maxLen)
	}
	return nil
}

// checkTimeRange keeps bounds within four-digit years, which both
// databases store and SQLite's text form orders correctly, and non-empty.
func checkTimeRange(f *schematype.AlertFilter) *apperr.Error {
	bounds := []struct {
		name string
		t    *time.Time
	}{{"since", f.Since}, {"until", f.Until}}
	for _, b := range bounds {
		if b.t != nil && (b.t.UTC().Year() < 1 || b.t.UTC().Year() > 9999) {
			return apperr.Invalid(b.name, "must be between years 1 and 9999")
		}
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return apperr.Invalid("until", "must be after since")
	}
	return nil
}
