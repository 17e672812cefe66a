package graph

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestInlineSafe checks which lists marshalList keeps in order on the
// caller's goroutine: those whose selections reach no resolver or method
// field other than inlineFields, at any depth.
func TestInlineSafe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query string
		path  []string // the root field, then down to the list field
		want  bool
	}{
		{"alert page with its primed references and entities", `{ alerts(first: 2) { edges { node { id title attributes entities { type value }
			connector { id name settings } assignee { id email } incident { id title assignee { email } group { name } alertSeverities { value count } } } } } }`,
			[]string{"alerts", "edges"}, true},
		{"an alert's entities", `{ alerts(first: 2) { edges { node { entities { type value } } } } }`, []string{"alerts", "edges", "node", "entities"}, true},
		{"__typename only", `{ alerts(first: 2) { edges { __typename } } }`, []string{"alerts", "edges"}, true},
		{"incident page, plain fields", `{ incidents(first: 2) { edges { node { id title severity } } } }`, []string{"incidents", "edges"}, true},
		{"incident page with each incident's alerts (a query each)", `{ incidents(first: 2) { edges { node { id alerts(first: 1) { totalCount } } } } }`,
			[]string{"incidents", "edges"}, false},
		{"incident page with each incident's SLA (a resolver outside the list)", `{ incidents(first: 2) { edges { node { sla { acknowledge { state } } } } } }`,
			[]string{"incidents", "edges"}, false},
		{"an alert's incident's alerts, two levels down", `{ alerts(first: 2) { edges { node { incident { alerts(first: 1) { totalCount } } } } } }`,
			[]string{"alerts", "edges"}, false},
		{"tokens with their user (an ent edge method)", `{ apiTokens { id user { email } } }`, []string{"apiTokens"}, false},
		{"tokens, plain fields", `{ apiTokens { id name } }`, []string{"apiTokens"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, fc, sel := listField(t, tc.query, tc.path)
			if got := inlineSafe(ctx, fc, sel); got != tc.want {
				t.Errorf("inlineSafe = %v, want %v", got, tc.want)
			}
		})
	}
}

// listField returns the context of query's list field at path (the root
// field first), its field context and its selection.
func listField(t *testing.T, query string, path []string) (context.Context, *graphql.FieldContext, ast.SelectionSet) {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(parsedSchema, query)
	if errs != nil {
		t.Fatalf("query: %v", errs)
	}
	opCtx := &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
	ctx := graphql.WithOperationContext(context.Background(), opCtx)
	ec := newExecutionContext(opCtx, &executableSchema{}, nil)
	field := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Query"})[0]
	roots := map[string]func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error){
		"alerts": ec.fieldContext_Query_alerts, "incidents": ec.fieldContext_Query_incidents, "apiTokens": ec.fieldContext_Query_apiTokens,
	}
	fc, err := roots[path[0]](ctx, field)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range path[1:] {
		var next *graphql.CollectedField
		for _, f := range graphql.CollectFields(opCtx, field.Selections, nil) {
			if f.Name == name {
				next = &f
			}
		}
		if next == nil {
			t.Fatalf("no field %q", name)
		}
		if fc, err = fc.Child(ctx, *next); err != nil {
			t.Fatal(err)
		}
		field = *next
	}
	return graphql.WithFieldContext(ctx, fc), fc, field.Selections
}

// TestMarshalList checks both ways of marshalling a list: every element in
// its place with its own index, and a panicking element null with an error
// while the others stand.
func TestMarshalList(t *testing.T) {
	for _, tc := range []struct {
		name   string
		query  string
		path   []string
		inline bool
	}{
		{"in order", `{ alerts(first: 3) { edges { node { id } } } }`, []string{"alerts", "edges"}, true},
		{"concurrently", `{ apiTokens { user { email } } }`, []string{"apiTokens"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, fc, sel := listField(t, tc.query, tc.path)
			if got := inlineSafe(ctx, fc, sel); got != tc.inline {
				t.Fatalf("inlineSafe = %v, want %v", got, tc.inline)
			}
			ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
			caller := goroutineID()
			var sameGoroutine atomic.Int32
			ret := marshalList(ctx, sel, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
				if goroutineID() == caller {
					sameGoroutine.Add(1)
				}
				if got := *graphql.GetFieldContext(ctx).Index; got != i {
					t.Errorf("element %d: field context index %d", i, got)
				}
				if i == 1 {
					panic("element 1")
				}
				return graphql.MarshalInt(i)
			})
			var got []string
			for _, m := range ret {
				var b strings.Builder
				m.MarshalGQL(&b)
				got = append(got, b.String())
			}
			if want := []string{"0", "null", "2"}; !slices.Equal(got, want) {
				t.Errorf("marshalled %v, want %v", got, want)
			}
			if errs := graphql.GetErrors(ctx); len(errs) != 1 {
				t.Errorf("errors %v, want the panic's alone", errs)
			}
			if want := map[bool]int32{true: 3, false: 0}[tc.inline]; sameGoroutine.Load() != want {
				t.Errorf("%d elements on the caller's goroutine, want %d", sameGoroutine.Load(), want)
			}
		})
	}
}

// goroutineID is the running goroutine's id, read from its stack header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}

// TestPrimedListsKnown lists every field that returns a list of a type
// whose inlineFields read loaders (alerts and incidents, bare or in a
// connection): each is primed from its page (resolvers/nested.go) and
// counted by the server's TestListsNoNPlusOne. A new one must be primed
// too before it joins this list, or its elements, marshalled in order,
// would each wait for a loader's batch.
func TestPrimedListsKnown(t *testing.T) {
	primedTypes := map[string]bool{}
	for key := range inlineFields {
		typ, field, _ := strings.Cut(key, ".")
		def := parsedSchema.Types[typ].Fields.ForName(field)
		if def == nil {
			t.Fatalf("inlineFields names %s, which the schema lacks", key)
		}
		if base := parsedSchema.Types[def.Type.Name()]; base.Kind == ast.Object {
			primedTypes[typ] = true // a reference read through a loader
		}
	}
	holders := map[string]bool{}
	for typ := range primedTypes {
		holders[typ], holders[typ+"Edge"], holders[typ+"Connection"] = true, true, true
	}
	var got []string
	for _, def := range parsedSchema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			name := f.Type.Name()
			if !holders[name] || (f.Type.Elem == nil && !strings.HasSuffix(name, "Connection")) {
				continue
			}
			got = append(got, def.Name+"."+f.Name)
		}
	}
	slices.Sort(got)
	want := []string{"AlertConnection.edges", "Incident.alerts", "IncidentConnection.edges", "Query.alerts", "Query.incidents"}
	if !slices.Equal(got, want) {
		t.Errorf("lists of alerts or incidents: %v, want %v (a new one must prime its page's loaders)", got, want)
	}
}
