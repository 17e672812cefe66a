package alertviews

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/seliq/seliq/internal/apperr"
)

// maxName is the schema's limit on alert_views.name, in bytes.
const maxName = 200

// maxColumns bounds a view's column list.
const maxColumns = 30

// sortFields are the alert fields the queue can be ordered by.
var sortFields = []string{
	"created_at", "updated_at", "last_seen_at", "first_seen_at", "severity", "occurrences", "title",
}

// columnNames are the alert columns the queue can display.
var columnNames = []string{
	"id", "title", "severity", "status", "source", "connector", "assignee", "tags", "entities",
	"occurrences", "first_seen_at", "last_seen_at", "event_time", "created_at", "incident",
}

// validateName returns the trimmed name. The length is in bytes because
// that is what the schema's MaxLen enforces; text PostgreSQL cannot store is
// refused here rather than failing in the driver.
func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", apperr.Invalid("name", "must not be empty")
	case !utf8.ValidString(name):
		return "", apperr.Invalid("name", "is not valid UTF-8")
	case strings.ContainsRune(name, 0):
		return "", apperr.Invalid("name", "must not contain NUL characters")
	case len(name) > maxName:
		return "", apperr.Invalid("name", "must be at most %d bytes (fewer characters outside ASCII)", maxName)
	}
	return name, nil
}

// validateSort accepts "" (the queue's default order) or a sortable field,
// prefixed with "-" for descending order.
func validateSort(sort string) error {
	if sort == "" || slices.Contains(sortFields, strings.TrimPrefix(sort, "-")) {
		return nil
	}
	return apperr.Invalid("sort", "must be a field of %s, optionally prefixed with -", strings.Join(sortFields, ", "))
}

func validateColumns(columns []string) error {
	if len(columns) > maxColumns {
		return apperr.Invalid("columns", "at most %d columns", maxColumns)
	}
	seen := make(map[string]bool, len(columns))
	for _, c := range columns {
		if !slices.Contains(columnNames, c) {
			return apperr.Invalid("columns", "unknown column %q; known: %s", c, strings.Join(columnNames, ", "))
		}
		if seen[c] {
			return apperr.Invalid("columns", "column %q is listed twice", c)
		}
		seen[c] = true
	}
	return nil
}

// SortValues are the sort values a view accepts besides "" (the queue's
// default order): each sortable field, ascending or (with -) descending.
func SortValues() []string {
	out := make([]string, 0, 2*len(sortFields))
	for _, f := range sortFields {
		out = append(out, f, "-"+f)
	}
	return out
}

// ColumnNames are the columns a view may list.
func ColumnNames() []string { return slices.Clone(columnNames) }
