package rest

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/internal/apperr"
)

// maxFilterValues bounds how many values one query parameter may list, so a
// URL cannot expand into an unbounded IN clause.
const maxFilterValues = 100

// queryFilter fills the input object def from the query string: every
// parameter not reserved by the route (list paging, QueryArgs) names one of
// its fields in snake_case. List fields take comma-separated or repeated
// values; other fields take one value. The result is in GraphQL spelling
// (field names, upper-case enums); nil when no parameter was given.
func queryFilter(schema *ast.Schema, def *ast.Definition, q url.Values, reserved func(string) bool) (map[string]any, error) {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "" && !reserved(k) { // a stray "&=" names nothing
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	slices.Sort(keys) // the first error reported must not depend on map order
	out := make(map[string]any, len(keys))
	conv := inputConverter{schema: schema, loc: "query"}
	for _, k := range keys {
		f := inputField(def, k)
		if f == nil {
			return nil, apperr.Invalid(k, "is not a known query parameter")
		}
		raw, err := queryValue(schema, f.Type, k, q[k])
		if err != nil {
			return nil, err
		}
		if out[f.Name], err = conv.convert(raw, f.Type, []string{k}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// queryValue turns the strings given for one parameter into the JSON-like
// value the input converter expects for type t.
func queryValue(schema *ast.Schema, t *ast.Type, key string, given []string) (any, error) {
	if t.Elem != nil {
		var list []any
		for _, g := range given {
			for _, part := range strings.Split(g, ",") {
				if part = strings.TrimSpace(part); part != "" {
					list = append(list, part)
				}
			}
		}
		if len(list) > maxFilterValues {
			return nil, apperr.Invalid(key, "lists at most %d values", maxFilterValues)
		}
		for i, v := range list {
			var err error
			if list[i], err = scalarValue(schema, t.Elem, key, v.(string)); err != nil {
				return nil, err
			}
		}
		return list, nil
	}
	if len(given) != 1 {
		return nil, apperr.Invalid(key, "must be given once")
	}
	return scalarValue(schema, t, key, strings.TrimSpace(given[0]))
}

func scalarValue(schema *ast.Schema, t *ast.Type, key, s string) (any, error) {
	if def := schema.Types[t.Name()]; def.Kind == ast.Enum {
		// Enum values in REST spelling (alert.created, in_progress).
		return inputConverter{schema: schema, loc: "query"}.convert(s, t, []string{key})
	}
	switch schema.Types[t.Name()].Name {
	case "Boolean":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, apperr.Invalid(key, "must be true or false")
		}
		return b, nil
	case "Int":
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, apperr.Invalid(key, "must be an integer")
		}
		return int(n), nil
	}
	return s, nil
}
