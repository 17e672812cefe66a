package rest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
)

// FuzzReadBody: any request body yields either a value, or BAD_USER_INPUT /
// PAYLOAD_TOO_LARGE. A value is only ever returned for valid JSON (or an
// all-blank body, which reads as no body).
func FuzzReadBody(f *testing.F) {
	for _, seed := range []string{
		"", " ", "{}", "[]", "null", `{"email": "a@b.test", "role": "admin"}`, `[1, 2.5e10, "x", true, null]`,
		`{"a": 1}}`, `[1]]`, `{} {}`, `1 2`, `{"a":`, "\xff\xfe", `"\ud800"`, `{"a": 1e999}`,
		"\u00a0", "{}\u00a0", `{"n": 123456789012345678901234567890}`, "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := readBody(post(bytes.NewReader(body)))
		if err != nil {
			e, ok := apperr.As(err)
			if !ok {
				t.Fatalf("readBody(%q) error %T %v, want *apperr.Error", body, err, err)
			}
			if e.Code != apperr.BadInput && e.Code != apperr.TooLarge {
				t.Fatalf("readBody(%q) code %s", body, e.Code)
			}
			if v != nil {
				t.Fatalf("readBody(%q) returned both %#v and %v", body, v, err)
			}
			if (e.Code == apperr.TooLarge) != (len(body) > MaxBodyBytes) {
				t.Fatalf("readBody of %d bytes: %v", len(body), err)
			}
			return
		}
		if len(body) > MaxBodyBytes {
			t.Fatalf("readBody accepted %d bytes", len(body))
		}
		if len(bytes.TrimSpace(body)) == 0 {
			if v != nil {
				t.Fatalf("blank body read as %#v", v)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("readBody(%q) accepted invalid JSON as %#v", body, v)
		}
	})
}

// FuzzConvertInput: arbitrary JSON converted against the CreateUserInput and
// CreateOrganizationInput types never panics, fails only with
// BAD_USER_INPUT, and on success yields only GraphQL field names and
// upper-case enum values of the type.
func FuzzConvertInput(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `1`,
		`{"email": "a@b.test", "role": "read_only", "password": "pw"}`,
		`{"email": "a@b.test", "role": "ROOT"}`,
		`{"role": 1}`, `{"role": null}`, `{"bogus": {"x": [1]}}`,
		`{"name": "N", "slug": "n", "parent_id": "p", "user_quota": 5, "mfa_enabled": true}`,
		`{"parentID": "p", "contactEmail": null, "mfaEnforced": "yes"}`,
		`{"role": "\u0130"}`, `{"role": "admın"}`, `{"Role": "admin"}`,
	} {
		f.Add([]byte(seed))
	}
	types := []*ast.Type{named("CreateUserInput"), named("CreateOrganizationInput")}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var in any
		if dec.Decode(&in) != nil {
			t.Skip("not JSON")
		}
		conv := inputConverter{schema: schema, loc: "body"}
		for _, typ := range types {
			out, err := conv.convert(in, typ, nil)
			if err != nil {
				if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput {
					t.Fatalf("convert(%s, %s) error %T %v, want BAD_USER_INPUT", data, typ.Name(), err, err)
				}
				continue
			}
			if in == nil {
				if out != nil {
					t.Fatalf("null converted to %#v", out)
				}
				continue
			}
			obj, ok := out.(map[string]any)
			if !ok {
				t.Fatalf("convert(%s, %s) = %#v, want an object", data, typ.Name(), out)
			}
			def := schema.Types[typ.Name()]
			for k, v := range obj {
				fd := def.Fields.ForName(k)
				if fd == nil {
					t.Fatalf("convert(%s, %s) produced unknown field %q", data, typ.Name(), k)
				}
				ed := schema.Types[fd.Type.Name()]
				if ed.Kind != ast.Enum || v == nil {
					continue
				}
				s, ok := v.(string)
				if !ok || ed.EnumValues.ForName(s) == nil || s != enum.GraphQLName(s) {
					t.Fatalf("convert(%s, %s): %s = %#v is not a %s value", data, typ.Name(), k, v, ed.Name)
				}
			}
		}
	})
}

// FuzzQueryFilter: any query string parsed into the alert list's filter
// never panics, fails only with BAD_USER_INPUT naming a parameter, and on
// success yields only AlertFilter fields, lists for list fields and
// upper-case values of the field's enum.
func FuzzQueryFilter(f *testing.F) {
	for _, seed := range []string{
		"", "status=new", "status=new,acknowledged&severity=high", "status=new&status=closed",
		"tag=a,,b&entity=10.0.0.1", "unassigned=true", "unassigned=maybe", "since=2024-01-01T00:00:00Z",
		"q=%25_%5C&q=x", "connector_id=" + strings.Repeat("x,", 120), "bogus=1", "severity=CRITICAL",
		"limit=5&cursor=abc&sort=-severity", "status=%C4%B0", "assignee_id=%00",
	} {
		f.Add(seed)
	}
	def := schema.Types["AlertFilter"]
	reserved := func(k string) bool { return listParams[k] }
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Skip("not a query string")
		}
		out, err := queryFilter(schema, def, q, reserved)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.BadInput || e.Field == "" {
				t.Fatalf("queryFilter(%q) error %T %v, want BAD_USER_INPUT naming a field", raw, err, err)
			}
			return
		}
		for k, v := range out {
			fd := def.Fields.ForName(k)
			if fd == nil {
				t.Fatalf("queryFilter(%q) produced unknown field %q", raw, k)
			}
			list, isList := v.([]any)
			if (fd.Type.Elem != nil) != isList {
				t.Fatalf("field %s: list %v for type %s", k, isList, fd.Type)
			}
			ed := schema.Types[fd.Type.Name()]
			for _, e := range list {
				s, _ := e.(string)
				if s == "" || (ed.Kind == ast.Enum && ed.EnumValues.ForName(s) == nil) {
					t.Fatalf("field %s: bad value %#v", k, e)
				}
			}
		}
	})
}
