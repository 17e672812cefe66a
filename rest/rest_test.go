package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/resolvers"
)

var schema = gqlserver.NewSchema(&resolvers.Resolver{}).Schema()

// nested is a small schema with input objects inside input objects and
// lists, which the real schema does not have yet.
var nested = gqlparser.MustLoadSchema(&ast.Source{Input: `
	type Query { x: Int }
	enum Level { LOW HIGH_RISK }
	input Inner { someValue: Int, level: Level, tagNames: [String!] }
	input Outer { innerItem: Inner, innerItems: [Inner!], levels: [Level], matrix: [[Int]] }
`})

func named(name string) *ast.Type { return &ast.Type{NamedType: name, NonNull: true} }

func listOf(t *ast.Type) *ast.Type { return &ast.Type{Elem: t, NonNull: true} }

// decode parses JSON as readBody does (numbers stay json.Number).
func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestConvertInput(t *testing.T) {
	tests := []struct {
		name   string
		schema *ast.Schema
		typ    *ast.Type
		path   []string
		in     string
		want   string
	}{
		{
			name: "user snake_case and enum", schema: schema, typ: named("CreateUserInput"),
			in:   `{"email": "a@b.test", "name": "A", "role": "read_only", "password": "pw", "timezone": "UTC"}`,
			want: `{"email": "a@b.test", "name": "A", "role": "READ_ONLY", "password": "pw", "timezone": "UTC"}`,
		},
		{
			name: "enum already upper", schema: schema, typ: named("CreateUserInput"),
			in: `{"email": "a@b.test", "role": "ADMIN"}`, want: `{"email": "a@b.test", "role": "ADMIN"}`,
		},
		{
			name: "null values kept", schema: schema, typ: named("CreateUserInput"),
			in: `{"email": "a@b.test", "role": null}`, want: `{"email": "a@b.test", "role": null}`,
		},
		{
			name: "organization snake_case", schema: schema, typ: named("CreateOrganizationInput"),
			in: `{"name": "N", "slug": "n", "parent_id": "p", "contact_email": "c@n.test", "user_quota": 5,
				"mfa_enabled": true, "mfa_enforced": false, "region": "eu", "plan": "gold"}`,
			want: `{"name": "N", "slug": "n", "parentID": "p", "contactEmail": "c@n.test", "userQuota": 5,
				"mfaEnabled": true, "mfaEnforced": false, "region": "eu", "plan": "gold"}`,
		},
		{
			name: "GraphQL names accepted too", schema: schema, typ: named("CreateOrganizationInput"),
			in: `{"name": "N", "slug": "n", "parentID": "p", "userQuota": 1}`, want: `{"name": "N", "slug": "n", "parentID": "p", "userQuota": 1}`,
		},
		{
			name: "id list", schema: schema, typ: named("CreateGroupInput"),
			in: `{"name": "g", "member_ids": ["a", "b"]}`, want: `{"name": "g", "memberIDs": ["a", "b"]}`,
		},
		{name: "empty object", schema: schema, typ: named("UpdateUserInput"), in: `{}`, want: `{}`},
		{name: "null", schema: schema, typ: named("CreateUserInput"), in: `null`, want: `null`},
		{
			name: "top-level list", schema: schema, typ: listOf(named("ID")), path: []string{"user_ids"},
			in: `["a", "b"]`, want: `["a", "b"]`,
		},
		{
			name: "nested objects and lists", schema: nested, typ: named("Outer"),
			in: `{"inner_item": {"some_value": 1, "level": "high_risk", "tag_names": ["x"]},
				"inner_items": [{"level": "low"}, {"some_value": 2}], "levels": ["low", null, "HIGH_RISK"], "matrix": [[1, 2], [], null]}`,
			want: `{"innerItem": {"someValue": 1, "level": "HIGH_RISK", "tagNames": ["x"]},
				"innerItems": [{"level": "LOW"}, {"someValue": 2}], "levels": ["LOW", null, "HIGH_RISK"], "matrix": [[1, 2], [], null]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inputConverter{schema: tt.schema, loc: "body"}.convert(decode(t, tt.in), tt.typ, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if want := decode(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("convert(%s) = %#v, want %#v", tt.in, got, want)
			}
		})
	}
}

func TestConvertInputErrors(t *testing.T) {
	tests := []struct {
		name    string
		schema  *ast.Schema
		typ     *ast.Type
		path    []string
		in      string
		field   string
		message string // substring
	}{
		{"unknown key", schema, named("CreateUserInput"), nil, `{"email": "a", "is_admin": true}`, "is_admin", "is not a known field"},
		{"unknown key under a path", schema, named("CreateUserInput"), []string{"input"}, `{"bogus": 1}`, "input.bogus", "is not a known field"},
		{"case matters for keys", schema, named("CreateUserInput"), nil, `{"Email": "a"}`, "Email", "is not a known field"},
		{"output-only field", schema, named("CreateUserInput"), nil, `{"email": "a", "id": "x"}`, "id", "is not a known field"},
		{"unknown enum", schema, named("CreateUserInput"), nil, `{"role": "root"}`, "role", "must be one of admin, analyst, read_only"},
		{"enum not a string", schema, named("CreateUserInput"), nil, `{"role": 1}`, "role", "must be a string"},
		{"enum as list", schema, named("CreateUserInput"), nil, `{"role": ["admin"]}`, "role", "must be a string"},
		{"object is a list", schema, named("CreateUserInput"), nil, `[{"email": "a"}]`, "", "must be an object"},
		{"object is a string", schema, named("CreateOrganizationInput"), []string{"input"}, `"n"`, "input", "must be an object"},
		{"list is a string", schema, named("CreateGroupInput"), nil, `{"name": "g", "member_ids": "a"}`, "member_ids", "must be a list"},
		{"list is an object", schema, listOf(named("ID")), []string{"user_ids"}, `{"0": "a"}`, "user_ids", "must be a list"},
		{"nested unknown key", nested, named("Outer"), nil, `{"inner_item": {"nope": 1}}`, "inner_item.nope", "is not a known field"},
		{"unknown key in list element", nested, named("Outer"), nil, `{"inner_items": [{}, {"level": "low", "x": 1}]}`, "inner_items.1.x", "is not a known field"},
		{"bad enum in list", nested, named("Outer"), nil, `{"levels": ["low", "medium"]}`, "levels.1", "must be one of low, high_risk"},
		{"nested list not a list", nested, named("Outer"), nil, `{"matrix": [[1], 2]}`, "matrix.1", "must be a list"},
		{"list element not an object", nested, named("Outer"), nil, `{"inner_items": [1]}`, "inner_items.0", "must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inputConverter{schema: tt.schema, loc: "body"}.convert(decode(t, tt.in), tt.typ, tt.path)
			if err == nil {
				t.Fatalf("convert(%s) = %#v, want an error", tt.in, got)
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.BadInput {
				t.Fatalf("error %T %v, want BAD_USER_INPUT", err, err)
			}
			if e.Field != tt.field {
				t.Errorf("field = %q, want %q", e.Field, tt.field)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tt.message)
			}
		})
	}
}

func post(body io.Reader) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/api/v1/users", body)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadBody(t *testing.T) {
	big := `"` + strings.Repeat("a", MaxBodyBytes-2) + `"` // exactly MaxBodyBytes
	tests := []struct {
		name string
		body string
		want any
		code apperr.Code // empty: success
		msg  string
	}{
		{name: "empty", body: "", want: nil},
		{name: "whitespace", body: " \n\t\r ", want: nil},
		{name: "object", body: `{"email": "a@b.test"}`, want: map[string]any{"email": "a@b.test"}},
		{name: "numbers stay exact", body: `{"n": 12345678901234567890, "f": 1.50}`,
			want: map[string]any{"n": json.Number("12345678901234567890"), "f": json.Number("1.50")}},
		{name: "list", body: `[1, "a", null]`, want: []any{json.Number("1"), "a", nil}},
		{name: "string", body: `"x"`, want: "x"},
		{name: "null", body: `null`, want: nil},
		{name: "trailing whitespace", body: "{}\r\n\t ", want: map[string]any{}},
		{name: "exactly the limit", body: big, want: big[1 : len(big)-1]},
		{name: "truncated", body: `{"a":`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "not JSON", body: `email=a@b.test`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "missing value", body: `{"a":}`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "single quotes", body: `{'a': 1}`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "trailing value", body: `{} {}`, code: apperr.BadInput, msg: "trailing data"},
		{name: "trailing garbage", body: `{"a": 1} x`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "two numbers", body: `1 2`, code: apperr.BadInput, msg: "trailing data"},
		{name: "trailing brace", body: `{"a": 1}}`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "trailing bracket", body: `[1]]`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "trailing comma", body: `{"a": 1},`, code: apperr.BadInput, msg: "malformed JSON"},
		{name: "over the limit", body: big + " ", code: apperr.TooLarge, msg: strconv.Itoa(MaxBodyBytes)},
		{name: "far over the limit", body: strings.Repeat(" ", 3*MaxBodyBytes), code: apperr.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBody(post(strings.NewReader(tt.body)))
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("readBody = %#v, want %#v", got, tt.want)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != tt.code {
				t.Fatalf("readBody(%.40q) = %#v, %v; want %s", tt.body, got, err, tt.code)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		_, err := readBody(post(failingReader{}))
		if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput || !strings.Contains(e.Message, "could not read") {
			t.Errorf("err = %v, want BAD_USER_INPUT", err)
		}
	})
}

func TestOpenAPI(t *testing.T) {
	raw, err := OpenAPI(schema, Routes, ServerOptions())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string `json:"openapi"`
		Paths      map[string]map[string]map[string]any
		Components struct {
			SecuritySchemes map[string]any `json:"securitySchemes"`
			Schemas         map[string]any
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	for _, k := range []string{"bearer", "apiToken", "connectorKey"} {
		if doc.Components.SecuritySchemes[k] == nil {
			t.Errorf("security scheme %s missing", k)
		}
	}
	for _, k := range []string{"Error", "ValidationError"} {
		if doc.Components.Schemas[k] == nil {
			t.Errorf("schema %s missing", k)
		}
	}
	operations := 0
	for _, item := range doc.Paths {
		operations += len(item)
	}
	// One per route, plus the hand-written ingest, inbound email and file
	// endpoints.
	files := 0
	for _, ops := range (&docGen{a: &API{schema: schema}, schemas: obj{}}).fileOperations() {
		files += len(ops)
	}
	if operations != len(Routes)+2+files {
		t.Errorf("document has %d operations, want one per route (%d), ingest, inbound email and %d file routes", operations, len(Routes), files)
	}
	for path, method := range map[string]string{
		"/api/v1/incidents/{incident_id}/reports/{report_id}/download": "get",
		"/api/v1/settings/report/template":                             "post",
	} {
		if op := doc.Paths[path][method]; op == nil || op["responses"].(map[string]any)["200"] == nil {
			t.Errorf("%s %s missing or incomplete: %v", method, path, op)
		}
	}
	if ingest := doc.Paths["/api/v1/alerts/ingest"]["post"]; ingest == nil || ingest["responses"].(map[string]any)["202"] == nil {
		t.Errorf("ingest operation missing or incomplete: %v", ingest)
	}
	if in := doc.Paths["/webhooks/email/inbound/{url_token}"]["post"]; in == nil || in["responses"].(map[string]any)["404"] == nil {
		t.Errorf("inbound email operation missing or incomplete: %v", in)
	}
	ids := map[string]bool{}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	for _, r := range Routes {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			op := doc.Paths[r.Path][strings.ToLower(r.Method)]
			if op == nil {
				t.Fatalf("operation missing")
			}
			if op["operationId"] != r.Field || op["summary"] != r.Summary {
				t.Errorf("operationId %v summary %v", op["operationId"], op["summary"])
			}
			if ids[r.Field] {
				t.Errorf("operationId %s is not unique", r.Field)
			}
			ids[r.Field] = true
			params, _ := op["parameters"].([]any)
			declared := map[string]string{}
			for _, p := range params {
				pm := p.(map[string]any)
				declared[pm["name"].(string)] = pm["in"].(string)
			}
			for _, m := range param.FindAllStringSubmatch(r.Path, -1) {
				if declared[m[1]] != "path" {
					t.Errorf("path parameter %s not declared (%v)", m[1], declared)
				}
			}
			_, hasBody := op["requestBody"]
			if hasBody != (r.Body != "") {
				t.Errorf("requestBody present = %v, route body %q", hasBody, r.Body)
			}
			security, hasSecurity := op["security"].([]any)
			if !hasSecurity || (len(security) == 0) != r.Public {
				t.Errorf("security = %v for public = %v", op["security"], r.Public)
			}
			status := r.Status
			if status == 0 {
				status = http.StatusOK
			}
			responses, _ := op["responses"].(map[string]any)
			if responses[strconv.Itoa(status)] == nil {
				t.Errorf("no %d response: %v", status, responses)
			}
			for _, code := range []string{"401", "422", "429"} {
				if responses[code] == nil {
					t.Errorf("no %s response", code)
				}
			}
		})
	}
	// Enum values are documented in their REST spelling.
	if !bytes.Contains(raw, []byte(`"read_only"`)) || bytes.Contains(raw, []byte(`"READ_ONLY"`)) {
		t.Error("enum values are not documented lower-case")
	}
	// A route that names no GraphQL field is refused.
	if _, err := OpenAPI(schema, []Route{{Method: http.MethodGet, Path: "/x", Field: "noSuchField"}}, ServerOptions()); err == nil {
		t.Error("OpenAPI accepted a route to an unknown field")
	}
	if _, err := OpenAPI(schema, []Route{{Method: http.MethodGet, Path: "/u/{id}", Field: "user", PathArgs: map[string]string{"id": "nope"}}}, ServerOptions()); err == nil {
		t.Error("OpenAPI accepted a route with an unknown path argument")
	}
}
