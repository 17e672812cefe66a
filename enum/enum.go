// Package enum holds the closed value sets of the data model.
//
// ent stores the lower-case values (what REST clients and the database see);
// GraphQL exposes them UPPER_CASE, as is conventional there. The case mapping
// lives here and nowhere else: MarshalGQL/UnmarshalGQL translate, and the
// GraphQL schema hook in ent/entc.go upper-cases the generated enum values.
package enum

//go:generate go run ./internal/gen

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// spelled holds the stored values that upper-casing cannot turn into a
// GraphQL name (which may not start with a digit), and their GraphQL names.
var spelled = map[string]string{"24x7": "TWENTY_FOUR_SEVEN"}

// dotted holds, per enum type, the GraphQL names of dotted values
// (trigger events: alert.created is ALERT_CREATED, as GraphQL names cannot
// hold a dot). They are kept per type because SLA_AT_RISK is also a
// notification kind's name (sla_at_risk): only the type tells them apart.
var dotted = map[string]map[string]string{"TriggerEvent": {}}

func init() {
	for _, v := range triggerEventValues {
		dotted["TriggerEvent"][strings.ToUpper(strings.ReplaceAll(v, ".", "_"))] = v
	}
}

// StoredNameIn is StoredName for a value of the named GraphQL enum type,
// which tells dotted values from their underscored look-alikes.
func StoredNameIn(typ, v string) string {
	if s, ok := dotted[typ][v]; ok {
		return s
	}
	return StoredName(v)
}

// GraphQLName returns the GraphQL spelling of a stored enum value.
func GraphQLName(v string) string {
	if g, ok := spelled[v]; ok {
		return g
	}
	if strings.Contains(v, ".") {
		return strings.ToUpper(strings.ReplaceAll(v, ".", "_"))
	}
	return strings.ToUpper(v)
}

// StoredName returns the stored (REST) spelling of a GraphQL enum value.
func StoredName(v string) string {
	for stored, g := range spelled {
		if v == g {
			return stored
		}
	}
	return strings.ToLower(v)
}

func marshal(w io.Writer, v string) { _, _ = io.WriteString(w, strconv.Quote(GraphQLName(v))) }

// unmarshal accepts either spelling so that internal callers may pass stored
// values; GraphQL validation has already restricted literals to the schema.
func unmarshal(v any, values []string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("enum must be a string, got %T", v)
	}
	if i := slices.IndexFunc(values, func(v string) bool { return strings.Contains(v, ".") && GraphQLName(v) == s }); i >= 0 {
		return values[i], nil
	}
	s = StoredName(s)
	if !slices.Contains(values, s) {
		return "", fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
	}
	return s, nil
}

// Valid reports whether v is one of values; used by REST and domain validation.
func Valid(v string, values []string) bool { return slices.Contains(values, v) }

// Rank orders severities for sorting: critical 5 … info 1, 0 when unknown.
func (e Severity) Rank() int {
	if i := slices.Index(severityValues, string(e)); i >= 0 {
		return len(severityValues) - i
	}
	return 0
}
