package gqlserver

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/internal/paging"
)

// fansOut reports whether f returns many items that each carry a selection:
// a list of objects or a Relay connection. A list of scalars or enums has
// nothing selected below it to multiply, and a connection's edges are
// counted by the connection's page size.
func fansOut(owner string, f *ast.FieldDefinition) bool {
	if strings.HasSuffix(owner, "Connection") && f.Name == "edges" {
		return false
	}
	def := schema.Types[f.Type.Name()]
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return false
	}
	return f.Type.Elem != nil || strings.HasSuffix(def.Name, "Connection")
}

// sampleArgs fills f's required arguments: ids for ID arguments, n of them
// for a list.
func sampleArgs(f *ast.FieldDefinition, n int) map[string]any {
	args := map[string]any{}
	for _, a := range f.Arguments {
		if !a.Type.NonNull || a.DefaultValue != nil {
			continue
		}
		if a.Type.Elem != nil {
			ids := make([]any, n)
			for i := range ids {
				ids[i] = uuid.NewString()
			}
			args[a.Name] = ids
			continue
		}
		args[a.Name] = uuid.NewString()
	}
	return args
}

// TestEveryListIsScored walks the schema: every field returning a list of
// objects or a connection must have a complexity function in complexity.go
// that grows with the items it may return. A new list field without one
// fails here.
func TestEveryListIsScored(t *testing.T) {
	const child = 10
	ctx := context.Background()
	score := func(t *testing.T, owner string, f *ast.FieldDefinition, args map[string]any) int {
		t.Helper()
		n, ok := execSchema.Complexity(ctx, owner, f.Name, child, args)
		if !ok {
			t.Fatalf("%s.%s returns %s but has no complexity function: add one to complexity() in gqlserver/complexity.go", owner, f.Name, f.Type)
		}
		return n
	}
	checked := 0
	for name, def := range schema.Types {
		if strings.HasPrefix(name, "__") || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") || !fansOut(name, f) {
				continue
			}
			checked++
			t.Run(name+"."+f.Name, func(t *testing.T) {
				paged := f.Arguments.ForName("first") != nil
				switch {
				case paged:
					args := sampleArgs(f, 1)
					if got := score(t, name, f, args); got < paging.Default*child {
						t.Errorf("default page scores %d, want at least %d", got, paging.Default*child)
					}
					args["first"] = 7
					if got := score(t, name, f, args); got < 7*child {
						t.Errorf("first: 7 scores %d, want at least %d", got, 7*child)
					}
					delete(args, "first")
					args["last"] = 300
					if got := score(t, name, f, args); got < 300*child {
						t.Errorf("last: 300 scores %d, want at least %d", got, 300*child)
					}
				case f.Arguments.ForName("ids") != nil:
					if got := score(t, name, f, sampleArgs(f, 9)); got < 9*child {
						t.Errorf("9 ids score %d, want at least %d", got, 9*child)
					}
				default:
					if got := score(t, name, f, sampleArgs(f, 1)); got < 2*child {
						t.Errorf("scores %d: a list is assumed to hold more than one item", got)
					}
				}
			})
		}
	}
	if checked < 30 {
		t.Fatalf("only %d list fields found: the walk is broken", checked)
	}
}

func TestScoresSaturate(t *testing.T) {
	huge := math.MaxInt / 3
	n := 100000
	if got := page(huge, &n, nil); got != math.MaxInt {
		t.Errorf("page of a huge child = %d, want saturation at MaxInt", got)
	}
	if got := page(1, &n, nil); got != items(paging.Max, 1) {
		t.Errorf("first: %d scores %d, want the score of a full page (%d)", n, got, items(paging.Max, 1))
	}
	neg := -5
	if got := page(1, &neg, nil); got != items(1, 1) {
		t.Errorf("negative first scores %d", got)
	}
}
