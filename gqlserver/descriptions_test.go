package gqlserver

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/resolvers"
)

// undescribedFile lists the schema members that had no description when
// this rule came in; it may only shrink.
const undescribedFile = "testdata/undescribed.txt"

// TestSchemaDescriptions: every type, field, argument, input field and enum
// value a client sees has a description (the playground's docs pane and
// generated clients show them). A new member without one fails; so does a
// member of undescribedFile that has one now, or is gone: delete its line.
func TestSchemaDescriptions(t *testing.T) {
	missing := undescribed(NewSchema(&resolvers.Resolver{}).Schema())
	f, err := os.Open(undescribedFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	allowed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			allowed[line] = true
		}
	}
	for _, m := range missing {
		if !allowed[m] {
			t.Errorf("%s has no description: give it a one-line description in the schema", m)
		}
		delete(allowed, m)
	}
	for _, m := range slices.Sorted(mapKeys(allowed)) {
		t.Errorf("%s is described now, or gone: delete its line from %s", m, undescribedFile)
	}
	t.Logf("%d members still without a description (%s)", len(missing), undescribedFile)
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
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
