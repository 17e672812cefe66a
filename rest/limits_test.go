package rest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/resolvers"
)

// sampleValue builds a value of type t that passes variable coercion:
// required input fields filled, lists of one item.
func sampleValue(s *ast.Schema, t *ast.Type) any {
	if t.Elem != nil {
		return []any{sampleValue(s, t.Elem)}
	}
	def := s.Types[t.Name()]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		obj := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				obj[f.Name] = sampleValue(s, f.Type)
			}
		}
		return obj
	}
	switch def.Name {
	case "Int":
		return 1
	case "Float":
		return 1.5
	case "Boolean":
		return true
	case "Time":
		return "2026-01-02T03:04:05Z"
	case "JSON", "Map":
		return map[string]any{}
	case "ID", "UUID":
		return uuid.NewString()
	}
	return "x"
}

// TestRoutesPassTheLimits prepares every route's operation at its largest
// page (limit=500) on the executor the server uses: the document limits,
// the page limits, the depth and complexity limits must all let it
// through, or REST clients would be refused pages they are promised.
func TestRoutesPassTheLimits(t *testing.T) {
	es := gqlserver.NewSchema(&resolvers.Resolver{})
	exec := gqlserver.NewExecutor(gqlserver.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, es)
	a, err := New(exec, es, Routes)
	if err != nil {
		t.Fatal(err)
	}
	worst, worstRoute := 0, ""
	for _, c := range a.routes {
		t.Run(c.Method+" "+c.Path, func(t *testing.T) {
			vars := map[string]any{}
			for _, arg := range c.def.Arguments {
				if arg.Type.NonNull && arg.DefaultValue == nil {
					vars[arg.Name] = sampleValue(a.schema, arg.Type)
				}
			}
			if c.list {
				vars["first"] = paging.Max
			}
			// A list's operation with include's heavy fields too.
			for _, q := range []string{c.query, c.fullQuery} {
				if q == "" {
					continue
				}
				ctx := graphql.StartOperationTrace(context.Background())
				oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: q, Variables: vars})
				if errs != nil {
					t.Fatalf("refused: %v\n%s", errs, q)
				}
				stats := oc.Stats.GetExtension("ComplexityLimit").(*extension.ComplexityStats)
				if stats.Complexity > worst {
					worst, worstRoute = stats.Complexity, c.Method+" "+c.Path
				}
			}
		})
	}
	t.Logf("costliest route: %s at %d (limit %d)", worstRoute, worst, gqlserver.MaxComplexity)
}
