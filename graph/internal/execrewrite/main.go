// Command execrewrite rewrites gqlgen's generated executor in four places
// where gqlgen's generality costs most of a list's CPU (graph/lists.go and
// graph/fields.go say why each is exact):
//
//   - object lists are marshalled by graph.marshalList, which keeps gqlgen's
//     goroutine per element only for lists whose elements may wait;
//   - a field read straight from its object (no resolver, no method, no
//     directive) of a scalar or enum type is marshalled directly when
//     graph.plainField says the operation's field middleware would pass it
//     through and its marshaller cannot report an error, instead of through
//     graphql.ResolveField's field context, middleware chain and boxing;
//   - an object's group of @defer'd fields takes its path only when it is
//     processed (graph.newDeferredGroup, graph.withPath), not for every
//     object marshalled;
//   - an object's fields are written by graph.objectFields, not by
//     graphql.FieldSet's writer, which allocates a map per object and a
//     copy of every field.
//
// make generate runs it after gqlgen. It fails when it finds nothing to
// rewrite, so a gqlgen whose output changed is noticed rather than
// silently left on the slow paths.
//
// Usage: go run ./graph/internal/execrewrite graph/generated.go
package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// listCall is gqlgen's list marshalling as its templates write it, inside a
// marshal function whose parameters are ctx, sel and v.
var listCall = regexp.MustCompile(`graphql\.MarshalSliceConcurrently\(ctx, len\(v\), (\d+), (true|false), `)

// rewriteLists points every list at marshalList.
func rewriteLists(src []byte) ([]byte, int) {
	n := len(listCall.FindAllIndex(src, -1))
	return listCall.ReplaceAll(src, []byte("marshalList(ctx, sel, len(v), $1, $2, ")), n
}

// ident is a Go identifier as gqlgen names functions: its marshal
// functions spell Go types' paths with letters such as ᚐ, which \w misses.
const ident = `[\p{L}\p{N}_]+`

// plainContext is the field context of a field that is neither a method
// nor a resolver and has a scalar or enum type.
var plainContext = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) fieldContext_(\w+)\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{\n\treturn graphql\.NewScalarFieldContext\("\w+", field, false, false, "\w+"\)\n\}`)

// fieldFunc is a field's resolution when it reads a struct field of obj
// and has no directive (the middleware chain is nil). Group 1 is the
// function's head, 2 the field's name (its field context's suffix), 3 the
// value read, 4 the marshal function.
var fieldFunc = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _(\w+)\(ctx context\.Context, field graphql\.CollectedField, obj [^)]+\) \(ret graphql\.Marshaler\) \{\n)` +
	`\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
	`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.fieldContext_\w+\(ctx, field\)\n\t\t\},\n` +
	`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn (obj\.\w+), nil\n\t\t\},\n` +
	`\t\tnil,\n` +
	`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal` + ident + `)\(ctx, selections, v\)\n\t\t\},\n` +
	`\t\ttrue,\n\t\t(?:true|false),\n\t\)\n\}`)

// interfaceValue is a value of interface type, which ResolveField tells
// apart when nil (an error for a non-null field); a typed nil (pointer,
// slice, map) reaches the marshaller either way.
var interfaceValue = regexp.MustCompile(`selections ast\.SelectionSet, v (?:any|interface\{)`)

// marshalFunc is a marshal function's body.
var marshalFunc = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (marshal` + ident + `)\(ctx context\.Context, sel ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n((?:.*\n)*?)\}`)

// nonNullScalar is a non-null scalar's marshal function body: gqlgen's
// marshaller, and an error when it gives null.
var nonNullScalar = regexp.MustCompile(`^\t_ = sel\n\tres := graphql\.(Marshal\w+)\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "[\w!]+"\)\n\t\}\n\treturn res\n$`)

// nullWhen is, for gqlgen's marshallers, the condition on the value under
// which each gives null (a format verb for the value); "" never.
var nullWhen = map[string]string{
	"MarshalString":  "",
	"MarshalBoolean": "",
	"MarshalInt":     "",
	"MarshalInt32":   "",
	"MarshalInt64":   "",
	"MarshalFloat":   "",
	"MarshalTime":    "%s.IsZero()",
	"MarshalUUID":    "%s == uuid.Nil",
}

// marshalCall is a call of another marshal function (a list's elements').
var marshalCall = regexp.MustCompile(`ec\.(marshal` + ident + `)\(`)

// guard returns the condition under which marshal function name cannot
// report an error, which would need the field's context, as a format
// taking the value ("" always), and whether there is one. A body that
// reports nothing and calls only marshal functions that never report (a
// nullable scalar, an enum, a list of them) needs none; a non-null
// scalar's reports when its marshaller gives null, which nullWhen says
// when.
func guard(bodies map[string]string, name string) (string, bool) {
	body, ok := bodies[name]
	if !ok {
		return "", false
	}
	if m := nonNullScalar.FindStringSubmatch(body); m != nil {
		when, known := nullWhen[m[1]]
		if !known {
			return "", false
		}
		if when == "" {
			return "", true
		}
		return "!(" + when + ")", true
	}
	if strings.Contains(body, "graphql.Add") {
		return "", false
	}
	for _, c := range marshalCall.FindAllStringSubmatch(body, -1) {
		if c[1] == name {
			return "", false
		}
		if cond, ok := guard(bodies, c[1]); !ok || cond != "" {
			return "", false
		}
	}
	return "", true
}

// rewriteFields gives every plain field a direct path.
func rewriteFields(src []byte) ([]byte, int) {
	plain := map[string]bool{}
	for _, m := range plainContext.FindAllSubmatch(src, -1) {
		plain[string(m[1])] = true
	}
	bodies := map[string]string{}
	for _, m := range marshalFunc.FindAllSubmatch(src, -1) {
		bodies[string(m[1])] = string(m[2])
	}
	n := 0
	out := fieldFunc.ReplaceAllFunc(src, func(fn []byte) []byte {
		m := fieldFunc.FindSubmatch(fn)
		value, marshal := string(m[3]), string(m[4])
		if !plain[string(m[2])] || interfaceValue.Match(m[0]) {
			return fn
		}
		cond, ok := guard(bodies, marshal)
		if !ok {
			return fn
		}
		if cond != "" {
			cond = " && " + fmt.Sprintf(cond, value)
		}
		n++
		direct := fmt.Sprintf("\tif plainField(ec.OperationContext)%s {\n\t\treturn ec.%s(ctx, field.Selections, %s)\n\t}\n", cond, marshal, value)
		return append(append(append([]byte{}, m[1]...), direct...), fn[len(m[1]):]...)
	})
	return out, n
}

// deferredNew and deferredProcess are where an object makes its @defer
// group (every object does) and processes it (only when fields were
// deferred into it), the one place its path is read.
var (
	deferredNew     = regexp.MustCompile(`(?m)^\tdeferred := graphql\.NewDeferredGroup\(ctx\)$`)
	deferredProcess = regexp.MustCompile(`(?m)^\t\tec\.ProcessDeferredGroup\(deferred\)$`)
)

// rewriteDeferred makes every object's group with newDeferredGroup and
// gives it its path when it is processed. Both shapes must be found as
// often as each other.
func rewriteDeferred(src []byte) ([]byte, int, error) {
	made, processed := len(deferredNew.FindAllIndex(src, -1)), len(deferredProcess.FindAllIndex(src, -1))
	if made != processed {
		return src, 0, fmt.Errorf("%d deferred groups made and %d processed", made, processed)
	}
	src = deferredNew.ReplaceAll(src, []byte("\tdeferred := newDeferredGroup(ctx)"))
	src = deferredProcess.ReplaceAll(src, []byte("\t\tec.ProcessDeferredGroup(withPath(deferred))"))
	return src, made, nil
}

// objectReturn is an object marshal function's end; fieldSetMade is where
// it makes the field set, from the fields it collected.
var (
	objectReturn = regexp.MustCompile(`(?m)^\treturn out\n\}$`)
	fieldSetMade = regexp.MustCompile(`(?m)^\tout := graphql\.NewFieldSet\(fields\)$`)
)

// rewriteObjects has every object marshal function return its fields and
// values as objectFields. Each must make its field set from fields.
func rewriteObjects(src []byte) ([]byte, int, error) {
	returns, made := len(objectReturn.FindAllIndex(src, -1)), len(fieldSetMade.FindAllIndex(src, -1))
	if returns != made {
		return src, 0, fmt.Errorf("%d objects return a field set and %d make one from their fields", returns, made)
	}
	return objectReturn.ReplaceAll(src, []byte("\treturn objectFields{fields, out.Values}\n}")), returns, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: execrewrite FILE")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	src, lists := rewriteLists(src)
	src, fields := rewriteFields(src)
	src, groups, err := rewriteDeferred(src)
	src, objects, errObjects := rewriteObjects(src)
	if err = errors.Join(err, errObjects); err != nil || lists == 0 || fields == 0 || groups == 0 || objects == 0 {
		fmt.Fprintf(os.Stderr, "execrewrite: %s: %d list calls, %d plain fields, %d deferred groups and %d objects rewritten (%v); gqlgen's output changed, update the patterns\n",
			path, lists, fields, groups, objects, err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
