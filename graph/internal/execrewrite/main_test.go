package main

import (
	"strings"
	"testing"
)

func TestRewriteLists(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		n              int
	}{
		{"gqlgen's call", "ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {",
			"ret := marshalList(ctx, sel, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {", 1},
		{"worker limit and no panic handler kept", "graphql.MarshalSliceConcurrently(ctx, len(v), 8, true, f)", "marshalList(ctx, sel, len(v), 8, true, f)", 1},
		{"two calls", "graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, a) graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, b)",
			"marshalList(ctx, sel, len(v), 0, false, a) marshalList(ctx, sel, len(v), 0, false, b)", 2},
		{"another shape left alone", "graphql.MarshalSliceConcurrently(ctx, n, 0, false, f)", "graphql.MarshalSliceConcurrently(ctx, n, 0, false, f)", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, n := rewriteLists([]byte(tc.in))
			if string(out) != tc.want || n != tc.n {
				t.Fatalf("rewriteLists(%q) = %q, %d; want %q, %d", tc.in, out, n, tc.want, tc.n)
			}
		})
	}
}

// field is a field's resolution and field context as gqlgen writes them.
func field(name, value, vType, marshal string, nonNull bool, isMethod, isResolver string) string {
	nn := "false"
	if nonNull {
		nn = "true"
	}
	return `func (ec *executionContext) _T_` + name + `(ctx context.Context, field graphql.CollectedField, obj *ent.T) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_` + name + `(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return ` + value + `, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v ` + vType + `) graphql.Marshaler {
			return ec.` + marshal + `(ctx, selections, v)
		},
		true,
		` + nn + `,
	)
}
func (ec *executionContext) fieldContext_T_` + name + `(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("T", field, ` + isMethod + `, ` + isResolver + `, "X")
}
`
}

// marshallers are marshal functions as gqlgen writes them.
const marshallers = `
func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}

func (ec *executionContext) marshalNTime2timeᚐTime(ctx context.Context, sel ast.SelectionSet, v time.Time) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalTime(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Time!")
	}
	return res
}

func (ec *executionContext) marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID(ctx context.Context, sel ast.SelectionSet, v uuid.UUID) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalUUID(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "ID!")
	}
	return res
}

func (ec *executionContext) marshalNMap2map(ctx context.Context, sel ast.SelectionSet, v map[string]any) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalMap(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Map!")
	}
	return res
}

func (ec *executionContext) marshalNSeverity2githubᚗcomᚋseliqᚋseliqᚋenumᚐSeverity(ctx context.Context, sel ast.SelectionSet, v enum.Severity) graphql.Marshaler {
	return v
}

func (ec *executionContext) marshalOTime2ᚖtimeᚐTime(ctx context.Context, sel ast.SelectionSet, v *time.Time) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := graphql.MarshalTime(*v)
	return res
}

func (ec *executionContext) marshalNString2ᚕstringᚄ(ctx context.Context, sel ast.SelectionSet, v []string) graphql.Marshaler {
	ret := make(graphql.Array, len(v))
	for i := range v {
		ret[i] = ec.marshalNString2string(ctx, sel, v[i])
	}

	for _, e := range ret {
		if e == graphql.Null {
			return graphql.Null
		}
	}

	return ret
}

func (ec *executionContext) marshalOID2ᚕgithubᚗcomᚋgoogleᚋuuidᚐUUIDᚄ(ctx context.Context, sel ast.SelectionSet, v []uuid.UUID) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	ret := make(graphql.Array, len(v))
	for i := range v {
		ret[i] = ec.marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID(ctx, sel, v[i])
	}

	for _, e := range ret {
		if e == graphql.Null {
			return graphql.Null
		}
	}

	return ret
}

func (ec *executionContext) marshalOAny2any(ctx context.Context, sel ast.SelectionSet, v any) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := graphql.MarshalAny(v)
	return res
}

func (ec *executionContext) marshalNThing2ᚖThing(ctx context.Context, sel ast.SelectionSet, v *Thing) graphql.Marshaler {
	if v == nil {
		graphql.AddInvalidNullError(ctx, "Thing!")
		return graphql.Null
	}
	return ec._Thing(ctx, sel, v)
}
`

func TestRewriteFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		direct string // the direct path added, "" none
	}{
		{"a non-null string", field("title", "obj.Title", "string", "marshalNString2string", true, "false", "false"),
			"\tif plainField(ec.OperationContext) {\n\t\treturn ec.marshalNString2string(ctx, field.Selections, obj.Title)\n\t}\n"},
		{"an enum", field("severity", "obj.Severity", "enum.Severity", "marshalNSeverity2githubᚗcomᚋseliqᚋseliqᚋenumᚐSeverity", true, "false", "false"),
			"\tif plainField(ec.OperationContext) {\n\t\treturn ec.marshalNSeverity2githubᚗcomᚋseliqᚋseliqᚋenumᚐSeverity(ctx, field.Selections, obj.Severity)\n\t}\n"},
		{"a nullable time", field("eventTime", "obj.EventTime", "*time.Time", "marshalOTime2ᚖtimeᚐTime", false, "false", "false"),
			"\tif plainField(ec.OperationContext) {\n\t\treturn ec.marshalOTime2ᚖtimeᚐTime(ctx, field.Selections, obj.EventTime)\n\t}\n"},
		{"a non-null time: direct unless zero", field("createdAt", "obj.CreatedAt", "time.Time", "marshalNTime2timeᚐTime", true, "false", "false"),
			"\tif plainField(ec.OperationContext) && !(obj.CreatedAt.IsZero()) {\n\t\treturn ec.marshalNTime2timeᚐTime(ctx, field.Selections, obj.CreatedAt)\n\t}\n"},
		{"a non-null id: direct unless nil", field("id", "obj.ID", "uuid.UUID", "marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID", true, "false", "false"),
			"\tif plainField(ec.OperationContext) && !(obj.ID == uuid.Nil) {\n\t\treturn ec.marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID(ctx, field.Selections, obj.ID)\n\t}\n"},
		{"a list of strings", field("tags", "obj.Tags", "[]string", "marshalNString2ᚕstringᚄ", true, "false", "false"),
			"\tif plainField(ec.OperationContext) {\n\t\treturn ec.marshalNString2ᚕstringᚄ(ctx, field.Selections, obj.Tags)\n\t}\n"},
		{"a list of ids, one of which may be nil", field("ids", "obj.IDs", "[]uuid.UUID", "marshalOID2ᚕgithubᚗcomᚋgoogleᚋuuidᚐUUIDᚄ", false, "false", "false"), ""},
		{"an interface value", field("value", "obj.Value", "any", "marshalOAny2any", false, "false", "false"), ""},
		{"a marshaller whose null cases are unknown", field("attrs", "obj.Attrs", "map[string]any", "marshalNMap2map", true, "false", "false"), ""},
		{"an object", field("thing", "obj.Thing", "*Thing", "marshalNThing2ᚖThing", true, "false", "false"), ""},
		{"a method", field("title", "obj.Title", "string", "marshalNString2string", true, "true", "false"), ""},
		{"a resolver", field("title", "obj.Title", "string", "marshalNString2string", true, "true", "true"), ""},
		{"a method call", field("title", "obj.Title()", "string", "marshalNString2string", true, "false", "false"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src + marshallers
			out, n := rewriteFields([]byte(src))
			want := src
			if tc.direct != "" {
				head := src[:strings.Index(src, "\n")+1]
				want = head + tc.direct + src[len(head):]
			}
			if string(out) != want || n != map[bool]int{true: 1, false: 0}[tc.direct != ""] {
				t.Fatalf("rewriteFields: %d rewritten, output:\n%s\nwant:\n%s", n, out, want)
			}
			// A second run changes nothing.
			if again, n := rewriteFields(out); string(again) != string(out) || n != 0 {
				t.Errorf("a second run rewrote %d more", n)
			}
		})
	}
}

func TestRewriteDeferred(t *testing.T) {
	const object = "\tdeferred := graphql.NewDeferredGroup(ctx)\n\tfor i, field := range fields {\n\t}\n\tif n := len(deferred.Defers); n > 0 {\n\t\tec.ProcessDeferredGroup(deferred)\n\t}\n"
	out, n, err := rewriteDeferred([]byte(object + object))
	if err != nil || n != 2 {
		t.Fatalf("rewriteDeferred: %d, %v", n, err)
	}
	want := "\tdeferred := newDeferredGroup(ctx)\n\tfor i, field := range fields {\n\t}\n\tif n := len(deferred.Defers); n > 0 {\n\t\tec.ProcessDeferredGroup(withPath(deferred))\n\t}\n"
	if string(out) != want+want {
		t.Errorf("rewriteDeferred:\n%s\nwant:\n%s", out, want+want)
	}
	// A group made where none is processed is a shape the rewrite does not know.
	if _, _, err := rewriteDeferred([]byte("\tdeferred := graphql.NewDeferredGroup(ctx)\n")); err == nil {
		t.Error("an unprocessed group was rewritten")
	}
}

func TestRewriteObjects(t *testing.T) {
	const object = "\tfields := graphql.CollectFields(ec.OperationContext, sel, tImplementors)\n\n\tout := graphql.NewFieldSet(fields)\n\tout.Dispatch(ctx)\n\treturn out\n}\n"
	out, n, err := rewriteObjects([]byte(object + object))
	if err != nil || n != 2 {
		t.Fatalf("rewriteObjects: %d, %v", n, err)
	}
	want := strings.Replace(object, "\treturn out\n", "\treturn objectFields{fields, out.Values}\n", 1)
	if string(out) != want+want {
		t.Errorf("rewriteObjects:\n%s\nwant:\n%s", out, want+want)
	}
	// A field set made otherwise is a shape the rewrite does not know.
	if _, _, err := rewriteObjects([]byte("\tout := graphql.NewFieldSet(nil)\n\treturn out\n}\n")); err == nil {
		t.Error("a field set made from something else was rewritten")
	}
}
