package graph

import (
	"bytes"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestObjectFields holds objectFields' output equal to graphql.FieldSet's
// for the same fields and values, a repeated response name included.
func TestObjectFields(t *testing.T) {
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	for _, tc := range []struct {
		name    string
		aliases []string
	}{
		{"none", nil},
		{"one", []string{"id"}},
		{"several", []string{"id", "title", "_x1", "createdAt"}},
		{"a repeated name keeps its first value", []string{"id", "title", "id", "title", "n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields := make([]graphql.CollectedField, len(tc.aliases))
			for i, a := range tc.aliases {
				fields[i] = field(a)
			}
			fs := graphql.NewFieldSet(fields)
			for i := range fields {
				fs.Values[i] = graphql.MarshalInt(i)
			}
			var want, got bytes.Buffer
			fs.MarshalGQL(&want)
			objectFields{fields, fs.Values}.MarshalGQL(&got)
			if got.String() != want.String() {
				t.Errorf("objectFields wrote %s, graphql.FieldSet %s", got.String(), want.String())
			}
		})
	}
}
