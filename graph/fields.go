package graph

import (
	"context"
	"io"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// plainField reports whether a field read straight from its object (no
// resolver, method or directive; scalar or enum; make generate's
// graph/internal/execrewrite marks them) may be marshalled directly,
// without graphql.ResolveField's field context, middleware chain and
// boxing, which were two fifths of a REST page's allocations. It may
// in queries and mutations, whose only field middleware is gqlserver's
// guardQueryField (its fieldGuard replaces the executor's chain), which
// acts on root fields alone; a plain field is never a root field. A
// subscription's chain (guardField) starts the event clock, so its fields
// all take the long way. The rewrite marshals directly only where the
// marshaller cannot report an error, which would need the field context.
func plainField(oc *graphql.OperationContext) bool {
	return oc.Operation != nil && oc.Operation.Operation != ast.Subscription
}

// newDeferredGroup is graphql.NewDeferredGroup without the path, which
// costs an allocation per level for every object marshalled and is read
// only when the group is processed, which withPath precedes.
func newDeferredGroup(ctx context.Context) graphql.DeferredGroup {
	return graphql.DeferredGroup{FieldSet: graphql.NewFieldSet(nil), Defers: map[string]*graphql.FieldSetView{}, Context: ctx}
}

// withPath gives g the path of the object it belongs to.
func withPath(g graphql.DeferredGroup) graphql.DeferredGroup {
	g.Path = graphql.GetPath(g.Context)
	return g
}

var (
	openBrace  = []byte{'{'}
	closeBrace = []byte{'}'}
	comma      = []byte{','}
	quote      = []byte{'"'}
	colon      = []byte{':'}
)

// objectFields writes an object's fields as graphql.FieldSet does (each
// response name once, the first field of that name), without its
// allocations: a map of the names written for every object and a copy of
// every field. Response names are GraphQL names ([_A-Za-z][_0-9A-Za-z]*),
// so they need no escaping.
type objectFields struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

func (o objectFields) MarshalGQL(w io.Writer) {
	w.Write(openBrace)
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if slices.ContainsFunc(o.fields[:i], func(f graphql.CollectedField) bool { return f.Alias == alias }) {
			continue
		}
		if !first {
			w.Write(comma)
		}
		first = false
		w.Write(quote)
		io.WriteString(w, alias)
		w.Write(quote)
		w.Write(colon)
		o.values[i].MarshalGQL(w)
	}
	w.Write(closeBrace)
}
