package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalList stands in generated.go for gqlgen's MarshalSliceConcurrently
// (the rewrite in ./internal/execrewrite, run by make generate). gqlgen
// marshals every element of an object list on a goroutine of its own, so
// that elements whose fields wait (a loader's batch window, a query each)
// wait together; on a page of 50 alerts the goroutines' start and stack
// growth were about a third of the request's CPU. A list whose elements
// cannot wait is marshalled in order on the caller's goroutine instead,
// with the same per-element field context and panic recovery.
func marshalList(ctx context.Context, sel ast.SelectionSet, n int, workerLimit int64, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if n <= 1 || !inlineSafe(ctx, graphql.GetFieldContext(ctx), sel) {
		return graphql.MarshalSliceConcurrently(ctx, n, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, n)
	for i := range n {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}

// inlineFields are the resolver and method fields an element may select
// and still be marshalled inline: each computes from its object alone, or
// reads a loader that every list holding its type primes from the page
// (resolvers/nested.go; the server's TestListsNoNPlusOne holds the lists
// to one query per relation, and TestPrimedListsKnown names every list of
// those types), so it never waits for a batch to fill.
var inlineFields = map[string]bool{
	"Alert.attributes":                     true,
	"Alert.connector":                      true,
	"Alert.assignee":                       true,
	"Alert.incident":                       true,
	"Incident.assignee":                    true,
	"Incident.group":                       true,
	"Incident.alertSeverities":             true,
	"AlertConnection.totalCountIsEstimate": true,
	"Connector.settings":                   true,
	"QueryField.type":                      true,
}

// inlineSafe reports whether the elements of the list whose field context
// is fc, selecting sel, can be marshalled one after another: no field
// selected at any depth is a resolver or a method (which may query the
// database or wait for a loader) other than inlineFields. Anything it
// cannot tell (an interface or union element, a field context that fails)
// counts as unsafe, and so does a field with arguments: its field context
// would parse them and report their errors a second time (none but
// resolvers have any below the root).
func inlineSafe(ctx context.Context, fc *graphql.FieldContext, sel ast.SelectionSet) bool {
	if fc == nil || fc.Child == nil || len(sel) == 0 {
		return false
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), sel, nil) {
		if f.Name == "__typename" {
			continue
		}
		if len(f.Arguments) > 0 {
			return false
		}
		child, err := fc.Child(ctx, f)
		if err != nil || child == nil {
			return false
		}
		if (child.IsMethod || child.IsResolver) && !inlineFields[child.Object+"."+f.Name] {
			return false
		}
		if len(f.Selections) > 0 && !inlineSafe(ctx, child, f.Selections) {
			return false
		}
	}
	return true
}
