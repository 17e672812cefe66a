package views

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/seliq/seliq/apperr"
)

// maxName matches the column size of alert_views.name.
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

// validateName returns the trimmed name.
func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", apperr.Invalid("name", "must not be empty")
	}
	if utf8.RuneCountInString(name) > maxName {
		return "", apperr.Invalid("name", "must be at most %d characters", maxName)
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
