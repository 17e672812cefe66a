package gqlserver

import (
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/resolvers"
)

// TestSchemaDescriptions: every type, field, argument, input field and enum
// value a client sees has a description (the playground's docs pane and
// generated clients show them; the REST routes' OpenAPI descriptions come
// from them). Hand-written members are described in the *.graphql files;
// generated ones by the ent schema (type doc comments, field and edge
// comments), package enum and ent/entc.go's schema hook.
func TestSchemaDescriptions(t *testing.T) {
	for _, m := range undescribed(NewSchema(&resolvers.Resolver{}).Schema()) {
		t.Errorf("%s has no description: give it a one-line description in the schema", m)
	}
}

// undescribed lists the public schema members without a description, as
// "type T", "field T.f", "argument T.f(a)", "enum value T.V".
func undescribed(s *ast.Schema) []string {
	var out []string
	none := func(d string) bool { return strings.TrimSpace(d) == "" }
	for name, def := range s.Types {
		if strings.HasPrefix(name, "__") || def.BuiltIn {
			continue
		}
		if none(def.Description) {
			out = append(out, "type "+name)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if none(f.Description) {
				out = append(out, "field "+name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if none(a.Description) {
					out = append(out, "argument "+name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, v := range def.EnumValues {
			if none(v.Description) {
				out = append(out, "enum value "+name+"."+v.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestUndescribedFindsEveryKind(t *testing.T) {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: `
		"Described." type Query { "Described." a(x: Int): E, b: Int }
		enum E { "Described." ONE TWO }
		input I { f: Int }`})
	got := undescribed(s)
	want := []string{"argument Query.a(x)", "enum value E.TWO", "field I.f", "field Query.b", "type E", "type I"}
	if !slices.Equal(got, want) {
		t.Errorf("undescribed = %v, want %v", got, want)
	}
}
