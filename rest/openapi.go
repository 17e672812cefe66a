package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	aiconfig "github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/alertviews"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/ingest/catalogue"
)

type obj = map[string]any

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// Options complete what the GraphQL schema cannot say by itself.
type Options struct {
	// Values are the lists of allowed values a @constraint(valuesFrom: name)
	// refers to, supplied by the packages that validate them (the connector
	// catalogue's types, the AI providers), so the document lists what the
	// server accepts today.
	Values map[string][]string
}

// Component names of the error bodies every route shares.
const (
	errorSchema      = "Error"
	validationSchema = "ValidationError"
)

// tagDescriptions describe the route table's tags; a tag without one is
// still listed, with a generic line.
var tagDescriptions = map[string]string{
	"auth":          "Sessions: log in for a bearer token (with a second factor when the user has MFA), log out.",
	"mfa":           "The caller's multi-factor authentication: TOTP enrolment, confirmation and recovery codes, disabling.",
	"security":      "The organisation's security settings: MFA required, session lifetimes, password policy, login lockout, IP allowlist.",
	"users":         "Users of the acting organisation, the caller's profile and seats.",
	"api-tokens":    "The caller's personal API tokens (`Authorization: Token <secret>`).",
	"organizations": "The provider organisation, its client organisations and their contacts.",
	"groups":        "Groups of users, for assignment and notification.",
	"alerts":        "The triage queue: alerts from every connector, their notes, activity and bulk actions.",
	"activity":      "The activity log: every change, by whom and when.",
	"incidents":     "Incidents: linked alerts, notes, timeline and activity.",
	"ai":            "The AI provider behind analyses and chat, its models and token quota.",
	"outbound":      "Which loopback and private ranges outbound calls may reach.",
	"analysis":      "AI analyses of alerts and incidents.",
	"chat":          "Conversations with the AI analyst about an alert or an incident.",
	"reports":       "Incident reports: rendering requests and their files.",
	"settings":      "Organisation settings: report branding and template.",
	"sla":           "SLA settings (targets per severity, business hours, escalation owner) and SLA attainment figures.",
	"notifications": "The caller's notifications and their delivery preferences.",
	"alert-views":   "Saved alert views: filters, columns and sort, personal or shared.",
	"connectors":    "Sources of alerts: their keys, settings, the catalogue of types and dead letters.",
	"inbound-email": "The organisation's inbound email URL, where mail services post the messages that become alerts (`POST /webhooks/email/inbound/{url_token}`).",
	"email":         "Outgoing email: the organisation's SMTP server (or the server's default) and a test message.",
	"features":      "The caller's feature flags: switches that narrow, for them alone, what the organisation allows.",
}

// docGen builds one document; schemas collects the named components.
type docGen struct {
	a       *API
	opts    Options
	schemas obj
	err     error
}

// OpenAPI renders the OpenAPI 3.1 document of routes, derived from the same
// GraphQL types the handlers use, so the document cannot drift from them:
// every GraphQL type a route reads or returns becomes a named component
// schema, nullable GraphQL fields become nullable members, @constraint
// directives become JSON Schema keywords.
func OpenAPI(schema *ast.Schema, routes []Route, opts Options) ([]byte, error) {
	g := &docGen{a: &API{schema: schema}, opts: opts, schemas: obj{}}
	g.schemas[errorSchema] = obj{
		"type": "object", "description": "An error: what went wrong, and a stable machine-readable code.",
		"required": []string{"detail", "code"}, "additionalProperties": false,
		"properties": obj{
			"detail": obj{"type": "string", "description": "What went wrong, for people."},
			"code":   obj{"type": "string", "description": "Stable error code (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, RATE_LIMITED...).", "examples": []any{"NOT_FOUND"}},
		},
		"examples": []any{obj{"detail": "not found", "code": "NOT_FOUND"}},
	}
	g.schemas[validationSchema] = obj{
		"type": "object", "description": "Invalid input: loc names the offending value as the client sent it.",
		"required": []string{"detail", "code"}, "additionalProperties": false,
		"properties": obj{
			"code": obj{"type": "string", "enum": []string{"BAD_USER_INPUT", "QUERY_TOO_EXPENSIVE"},
				"description": "BAD_USER_INPUT, or QUERY_TOO_EXPENSIVE for a query over its size, cost or time limit (narrow it)."},
			"detail": obj{"type": "array", "minItems": 1, "items": obj{
				"type": "object", "required": []string{"loc", "msg", "type"}, "additionalProperties": false,
				"properties": obj{
					"loc": obj{"type": "array", "minItems": 1, "items": obj{"type": "string"},
						"description": `Where the value is: "path", "query" or "body" (or "header"), then the parameter or the body's keys and indexes.`,
						"examples":    []any{[]string{"body", "email"}}},
					"msg":  obj{"type": "string", "description": "Why it was refused."},
					"type": obj{"type": "string", "enum": []string{"value_error"}},
					"ctx": obj{"type": "object", "description": "Facts about the error: for a query expression, its line, column and a suggested fix.",
						"properties": obj{
							"line":       obj{"type": "integer", "minimum": 1},
							"column":     obj{"type": "integer", "minimum": 1},
							"suggestion": obj{"type": "string"},
						}},
				},
			}},
		},
		"examples": []any{obj{"code": "BAD_USER_INPUT", "detail": []obj{{"loc": []string{"body", "email"}, "msg": "is not a valid email address", "type": "value_error"}}}},
	}
	paths := obj{}
	put := func(path, method string, op obj) {
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		item[method] = op
	}
	tags := map[string]bool{}
	for _, r := range routes {
		c, err := g.a.compile(r)
		if err != nil {
			return nil, err
		}
		put(r.Path, strings.ToLower(r.Method), g.operation(c))
		tags[r.Tag] = true
	}
	if g.err != nil {
		return nil, g.err
	}
	put("/api/v1/alerts/ingest", "post", g.ingestOperation())
	tags["alerts"] = true
	put("/webhooks/email/inbound/{url_token}", "post", g.inboundEmailOperation())
	tags["inbound-email"] = true
	for path, ops := range g.fileOperations() {
		for method, op := range ops {
			put(path, method, op.(obj))
			tags[op.(obj)["tags"].([]string)[0]] = true
		}
	}
	var tagList []obj
	for _, t := range slices.Sorted(mapKeys(tags)) {
		d := tagDescriptions[t]
		if d == "" {
			d = "The " + t + " routes."
		}
		tagList = append(tagList, obj{"name": t, "description": d})
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "Seliq API",
			"version": "1.0.0",
			"summary": "REST compatibility layer of the Seliq GraphQL API.",
			"description": "REST compatibility layer of the Seliq GraphQL API: each route runs the GraphQL operation its description names, so roles, tenancy and validation are the same on both. " +
				"Authenticate with `Authorization: Bearer <token>` from POST /api/v1/auth/login, or a personal API token as `Authorization: Token <secret>`. " +
				"Provider users pick a client organisation with `X-Seliq-Org: <id or slug>`. Paths are served with and without a trailing slash. " +
				"Enum values are lower-case. Errors are `{\"detail\": \"...\", \"code\": \"...\"}`; invalid input is a 422 whose `detail[].loc` names the value as it was sent (`[\"query\", \"sort\"]`, `[\"path\", \"incident_id\"]`, `[\"body\", \"email\"]`).",
		},
		"servers":    []obj{{"url": "/", "description": "This server."}},
		"tags":       tagList,
		"paths":      paths,
		"components": obj{"securitySchemes": securitySchemes(), "schemas": g.schemas},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func securitySchemes() obj {
	return obj{
		"bearer":       obj{"type": "http", "scheme": "bearer", "description": "Session token from POST /api/v1/auth/login."},
		"apiToken":     obj{"type": "apiKey", "in": "header", "name": "Authorization", "description": "Personal API token: `Token <secret>`."},
		"connectorKey": obj{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A connector's key, shown once when the connector is created or its key rotated."},
	}
}

var userSecurity = []obj{{"bearer": []string{}}, {"apiToken": []string{}}}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

// register stores a component built by build under name, once; a second
// type producing the same name with other content is a generator bug.
func (g *docGen) register(name string, build func() obj) obj {
	if _, ok := g.schemas[name]; !ok {
		g.schemas[name] = obj{} // a placeholder ends recursion
		g.schemas[name] = build()
	}
	return ref(name)
}

func (g *docGen) operation(c *compiled) obj {
	op := obj{"operationId": c.Field, "summary": c.Summary, "tags": []string{c.Tag}, "description": g.operationDescription(c)}
	params := []obj{}
	for _, m := range pathParam.FindAllStringSubmatch(c.Path, -1) {
		arg := c.def.Arguments.ForName(c.PathArgs[m[1]])
		params = append(params, g.param(m[1], "path", arg.Type, arg.Description, arg.Directives, true))
	}
	for _, name := range slices.Sorted(mapKeys(c.QueryArgs)) {
		arg := c.def.Arguments.ForName(c.QueryArgs[name])
		params = append(params, g.param(name, "query", arg.Type, arg.Description, arg.Directives, false))
	}
	if c.list {
		params = append(params,
			obj{"name": "limit", "in": "query", "description": "Page size.", "schema": obj{"type": "integer", "minimum": 0, "maximum": 500, "default": 50}},
			obj{"name": "cursor", "in": "query", "description": "next_cursor of the previous page.", "schema": obj{"type": "string"}})
		if len(c.heavy) > 0 {
			params = append(params, obj{"name": includeParam, "in": "query",
				"description": "Fields left out of the items unless named here, comma-separated: " + strings.Join(c.heavy, ", ") + " (an alert's raw payload, often most of a page's bytes; the single GET always has it).",
				"style":       "form", "explode": false,
				"schema": obj{"type": "array", "items": obj{"type": "string", "enum": c.heavy}}})
		}
		if c.orderable {
			params = append(params, obj{"name": "sort", "in": "query",
				"description": "Field to sort by, prefixed with - for descending (e.g. -created_at).",
				"schema":      obj{"type": "string", "enum": g.sortValues(c)}})
		}
	}
	if c.filterDef != nil {
		for _, f := range c.filterDef.Fields {
			p := g.param(gqlserver.SnakeCase(f.Name), "query", f.Type, f.Description, f.Directives, false)
			if f.Type.Elem != nil {
				p["style"], p["explode"] = "form", false // comma-separated; repeating the parameter works too
			}
			params = append(params, p)
		}
	}
	if c.Public {
		op["security"] = []obj{} // login needs no credentials
	} else {
		params = append(params, obj{"name": "X-Seliq-Org", "in": "header", "description": "Organisation (id or slug) to act in; defaults to your home organisation.", "schema": obj{"type": "string"}})
		op["security"] = userSecurity
	}
	op["parameters"] = params
	if body := g.requestBody(c); body != nil {
		op["requestBody"] = body
	}
	op["responses"] = g.responses(c)
	return op
}

// operationDescription is the field's GraphQL description, the role it
// requires and the operation it runs.
func (g *docGen) operationDescription(c *compiled) string {
	var parts []string
	if d := strings.TrimSpace(c.def.Description); d != "" {
		parts = append(parts, d)
	} else {
		parts = append(parts, c.Summary+".")
	}
	if role := requiredRole(c.def); role != "" {
		parts = append(parts, "Requires the "+enum.StoredName(role)+" role.")
	}
	kind := "query"
	if g.a.schema.Mutation != nil && g.a.schema.Mutation.Fields.ForName(c.Field) == c.def {
		kind = "mutation"
	}
	parts = append(parts, fmt.Sprintf("Runs the GraphQL %s field `%s`.", kind, c.Field))
	return strings.Join(parts, "\n\n")
}

func requiredRole(def *ast.FieldDefinition) string {
	if d := def.Directives.ForName("hasRole"); d != nil {
		if a := d.Arguments.ForName("role"); a != nil && a.Value != nil {
			return a.Value.Raw
		}
	}
	return ""
}

// sortValues are the sort parameter's values: each field of the orderBy
// argument's order-field enum, ascending or (with -) descending.
func (g *docGen) sortValues(c *compiled) []string {
	var out []string
	for _, v := range orderFields(g.a.schema, c.def) {
		name := strings.ToLower(v)
		out = append(out, name, "-"+name)
	}
	return out
}

// orderFields lists the enum values of the orderBy argument's field input.
func orderFields(schema *ast.Schema, def *ast.FieldDefinition) []string {
	arg := def.Arguments.ForName("orderBy")
	if arg == nil {
		return nil
	}
	in := schema.Types[arg.Type.Name()]
	if in == nil || in.Fields.ForName("field") == nil {
		return nil
	}
	e := schema.Types[in.Fields.ForName("field").Type.Name()]
	if e == nil || e.Kind != ast.Enum {
		return nil
	}
	out := make([]string, len(e.EnumValues))
	for i, v := range e.EnumValues {
		out[i] = v.Name
	}
	return out
}

func (g *docGen) param(name, in string, t *ast.Type, desc string, dirs ast.DirectiveList, required bool) obj {
	s := g.inputSchema(t)
	g.constrain(s, dirs)
	p := obj{"name": name, "in": in, "schema": s}
	if required || in == "path" {
		p["required"] = true
	}
	if desc = strings.TrimSpace(desc); desc != "" {
		p["description"] = desc
	}
	return p
}

func (g *docGen) requestBody(c *compiled) obj {
	var schema obj
	required := true
	switch c.Body {
	case "":
		return nil
	case "*":
		name := pascal(c.Field) + "Body"
		schema = g.register(name, func() obj {
			props, req := obj{}, []string{}
			for _, arg := range c.def.Arguments {
				if c.isPathArg(arg.Name) {
					continue
				}
				key := gqlserver.SnakeCase(arg.Name)
				props[key] = g.member(arg.Type, arg.Description, arg.Directives, arg.DefaultValue)
				if arg.Type.NonNull && arg.DefaultValue == nil {
					req = append(req, key)
				}
			}
			return obj{"type": "object", "description": "The arguments of " + c.Field + ".", "properties": props, "required": req, "additionalProperties": false}
		})
	default:
		arg := c.def.Arguments.ForName(c.Body)
		required = arg.Type.NonNull
		schema = g.inputSchema(arg.Type)
		if !arg.Type.NonNull {
			schema = nullable(schema)
		}
	}
	media := obj{"schema": schema}
	if ex, ok := g.example(schema, 0); ok {
		media["example"] = ex
	}
	return obj{"required": required, "content": obj{"application/json": media}}
}

// responses documents the success and every error status the route can
// answer, by what the route takes and does.
func (g *docGen) responses(c *compiled) obj {
	out := obj{}
	status := strconv.Itoa(c.Status)
	switch {
	case c.Status == http.StatusNoContent:
		out[status] = obj{"description": "Done; no body."}
	case c.list, c.array:
		out[status] = g.jsonResponse("A page of results.", g.pageSchema(c))
	default:
		var s obj
		if c.Merge != "" {
			s = g.mergedSchema(c)
		} else {
			s = g.responseSchema(c.shape)
		}
		out[status] = g.jsonResponse("Success.", s)
	}
	errRef := func(d string) obj { return g.jsonResponse(d, ref(errorSchema)) }
	if c.Public {
		out["401"] = errRef("Wrong email or password.")
	} else {
		out["401"] = withHeaders(errRef("Missing, invalid or expired credentials."), obj{
			"WWW-Authenticate": obj{"description": "The scheme to authenticate with.", "schema": obj{"type": "string"}}})
		out["403"] = errRef("The role, or the organisation scope (X-Seliq-Org), does not allow this.")
	}
	if g.takesID(c) {
		out["404"] = errRef("Not found, or not within your organisation.")
	}
	if c.Body != "" {
		out["413"] = errRef(fmt.Sprintf("Body larger than %d bytes.", MaxBodyBytes))
	}
	if g.isMutation(c) && !c.Public {
		out["409"] = errRef("Conflicts with existing data or with the state of the resource.")
	}
	out["422"] = g.jsonResponse("Invalid input; loc names the value as it was sent.", ref(validationSchema))
	retry := obj{"Retry-After": obj{"description": "Seconds to wait before retrying.", "schema": obj{"type": "integer"}}}
	out["429"] = withHeaders(errRef("Rate limited; see Retry-After."), retry)
	out["503"] = withHeaders(errRef("The database is unreachable for now; see Retry-After."), retry)
	out["500"] = errRef("The server's own fault, or a failure of a service it depends on (an AI provider); the detail says which.")
	out["504"] = errRef("The operation ran past its deadline and was stopped.")
	return out
}

func withHeaders(resp, headers obj) obj {
	resp["headers"] = headers
	return resp
}

// takesID reports whether any argument the client fills names a record by
// id (a path parameter or an ID in the body), which may not exist.
func (g *docGen) takesID(c *compiled) bool {
	if len(c.PathArgs) > 0 {
		return true
	}
	if c.Body == "" {
		return false
	}
	seen := map[string]bool{}
	var hasID func(t *ast.Type) bool
	hasID = func(t *ast.Type) bool {
		name := t.Name()
		if name == "ID" {
			return true
		}
		def := g.a.schema.Types[name]
		if def == nil || def.Kind != ast.InputObject || seen[name] {
			return false
		}
		seen[name] = true
		return slices.ContainsFunc(def.Fields, func(f *ast.FieldDefinition) bool { return hasID(f.Type) })
	}
	return slices.ContainsFunc(c.def.Arguments, func(a *ast.ArgumentDefinition) bool { return hasID(a.Type) })
}

func (g *docGen) isMutation(c *compiled) bool {
	return g.a.schema.Mutation != nil && g.a.schema.Mutation.Fields.ForName(c.Field) == c.def
}

func (g *docGen) jsonResponse(desc string, schema obj) obj {
	media := obj{"schema": schema}
	if ex, ok := g.example(schema, 0); ok {
		media["example"] = ex
	}
	return obj{"description": desc, "content": obj{"application/json": media}}
}

// ---------------------------------------------------------------------------
// Schemas of request values.

var scalarSchemas = map[string]obj{
	"String": {"type": "string"}, "Int": {"type": "integer"}, "Float": {"type": "number"},
	"Boolean": {"type": "boolean"}, "ID": {"type": "string", "format": "uuid"}, "UUID": {"type": "string", "format": "uuid"},
	"Time": {"type": "string", "format": "date-time"}, "Cursor": {"type": "string"},
	"Map": {"type": "object"}, "JSON": {},
}

func scalarSchema(name string) obj {
	out := obj{}
	for k, v := range scalarSchemas[name] {
		out[k] = v
	}
	return out
}

// inputSchema is the JSON schema of a value of GraphQL input type t as REST
// takes it (snake_case keys, lower-case enums); t's own nullability is the
// caller's to apply.
func (g *docGen) inputSchema(t *ast.Type) obj {
	if t.Elem != nil {
		items := g.inputSchema(t.Elem)
		if !t.Elem.NonNull {
			items = nullable(items)
		}
		return obj{"type": "array", "items": items}
	}
	def := g.a.schema.Types[t.Name()]
	switch def.Kind {
	case ast.Scalar:
		return scalarSchema(def.Name)
	case ast.Enum:
		return g.enumRef(def)
	}
	return g.register(def.Name, func() obj {
		props, required := obj{}, []string{}
		for _, f := range def.Fields {
			key := gqlserver.SnakeCase(f.Name)
			props[key] = g.member(f.Type, f.Description, f.Directives, f.DefaultValue)
			if f.Type.NonNull && f.DefaultValue == nil {
				required = append(required, key)
			}
		}
		s := obj{"type": "object", "properties": props, "required": required, "additionalProperties": false}
		if d := strings.TrimSpace(def.Description); d != "" {
			s["description"] = d
		}
		return s
	})
}

// member is the schema of one input field or argument: its type, null when
// the type allows it, its constraints, description and default.
func (g *docGen) member(t *ast.Type, desc string, dirs ast.DirectiveList, def *ast.Value) obj {
	s := g.inputSchema(t)
	g.constrain(s, dirs)
	if !t.NonNull {
		s = nullable(s)
	}
	if def != nil {
		if v, err := def.Value(nil); err == nil {
			if def.Kind == ast.EnumValue {
				v = enum.StoredName(def.Raw)
			}
			s["default"] = v
		}
	}
	if desc = strings.TrimSpace(desc); desc != "" {
		s["description"] = desc
	}
	return s
}

// constrain adds the JSON Schema keywords of a @constraint directive; on a
// list, the value keywords constrain its items.
func (g *docGen) constrain(s obj, dirs ast.DirectiveList) {
	d := dirs.ForName("constraint")
	if d == nil {
		return
	}
	target := s
	if s["type"] == "array" {
		target, _ = s["items"].(obj)
	}
	for _, a := range d.Arguments {
		v, err := a.Value.Value(nil)
		if err != nil || v == nil {
			continue
		}
		switch a.Name {
		case "minItems", "maxItems":
			s[a.Name] = v
		case "valuesFrom":
			vals, ok := g.opts.Values[a.Value.Raw]
			if !ok {
				g.err = fmt.Errorf("@constraint(valuesFrom: %q): no such list in rest.Options.Values", a.Value.Raw)
				continue
			}
			target["enum"] = vals
		case "example":
			target["examples"] = []any{v}
		default: // minLength, maxLength, pattern, format, minimum, maximum
			target[a.Name] = v
		}
	}
}

func (g *docGen) enumRef(def *ast.Definition) obj {
	return g.register(def.Name, func() obj {
		s := obj{"type": "string", "enum": enumValues(def)}
		var lines []string
		if d := strings.TrimSpace(def.Description); d != "" {
			lines = append(lines, d)
		}
		for _, v := range def.EnumValues {
			if d := strings.TrimSpace(v.Description); d != "" {
				lines = append(lines, "- `"+enum.StoredNameIn(def.Name, v.Name)+"`: "+d)
			}
		}
		if len(lines) > 0 {
			s["description"] = strings.Join(lines, "\n")
		}
		return s
	})
}

// nullable lets s be null too: a type array where s has one type, anyOf
// otherwise (a $ref, an enum).
func nullable(s obj) obj {
	if len(s) == 0 { // any JSON value: listed, as validators differ on whether {} admits null
		return obj{"type": []string{"object", "array", "string", "number", "boolean", "null"}}
	}
	_, isRef := s["$ref"]
	_, isEnum := s["enum"]
	if t, ok := s["type"].(string); ok && !isRef && !isEnum {
		s["type"] = []string{t, "null"}
		return s
	}
	return obj{"anyOf": []obj{s, {"type": "null"}}}
}

func enumValues(def *ast.Definition) []string {
	vals := make([]string, len(def.EnumValues))
	for i, v := range def.EnumValues {
		vals[i] = enum.StoredNameIn(def.Name, v.Name)
	}
	return vals
}

// ---------------------------------------------------------------------------
// Schemas of response bodies.

// responseSchema is the JSON schema of a value of shape sh, nullable when
// its GraphQL type is.
func (g *docGen) responseSchema(sh *shape) obj {
	var s obj
	switch {
	case sh.enum:
		s = g.enumRef(g.a.schema.Types[sh.typeName])
	case sh.scalar != "" && scalarSchemas[sh.scalar] == nil:
		// A scalar of its own (a document format) is a named component
		// carrying the scalar's description, where its shape is told.
		def := g.a.schema.Types[sh.scalar]
		s = g.register(sh.scalar, func() obj { return obj{"description": def.Description} })
	case sh.scalar != "":
		s = scalarSchema(sh.scalar)
	default:
		s = g.objectSchema(sh)
	}
	if sh.list {
		s = obj{"type": "array", "items": s}
	}
	if sh.nullable {
		s = nullable(s)
	}
	return s
}

// objectSchema names an object shape after its GraphQL type; a reference
// to another entity is <Type>Ref, a nested one without its object fields
// <Type>Summary, a list's item whose heavy fields come only on request
// <Type>ListItem.
func (g *docGen) objectSchema(sh *shape) obj {
	name := sh.typeName
	if sh.ref {
		name += "Ref"
	}
	if sh.trimmed {
		name += "Summary"
	}
	if sh.listItem {
		name += "ListItem"
	}
	return g.register(name, func() obj { return g.objectBody(sh, g.a.schema.Types[sh.typeName]) })
}

func (g *docGen) objectBody(sh *shape, def *ast.Definition) obj {
	props, required := obj{}, []string{}
	for _, f := range sh.fields {
		fs := g.responseSchema(f.shape)
		if f.desc != "" {
			if _, isRef := fs["$ref"]; isRef {
				fs = obj{"$ref": fs["$ref"], "description": f.desc}
			} else {
				fs["description"] = f.desc
			}
		}
		if sh.listItem && f.heavy {
			// Left out of a list's items unless include names it.
			desc, _ := fs["description"].(string)
			fs["description"] = strings.TrimSpace(desc + " Only present when the include parameter names " + f.key + ".")
			props[f.key] = fs
			continue
		}
		props[f.key] = fs
		required = append(required, f.key) // gqlgen writes every selected field, null or not
	}
	s := obj{"type": "object", "properties": props, "required": required}
	if def != nil {
		if d := strings.TrimSpace(def.Description); d != "" {
			s["description"] = d
		}
	}
	return s
}

// pageSchema is the list envelope of a connection or a plain list, named
// <Item>Page.
func (g *docGen) pageSchema(c *compiled) obj {
	item := &shape{}
	if c.list {
		*item = *c.shape.fields[0].shape
	} else {
		*item = *c.shape
	}
	item.list, item.nullable = false, false
	name := item.typeName + "Page"
	if item.scalar != "" || item.enum {
		name = pascal(c.Field) + "Page"
	}
	estimate := c.shape.estimate
	return g.register(name, func() obj {
		props := obj{
			"items":       obj{"type": "array", "items": g.responseSchema(item)},
			"total":       obj{"type": "integer", "description": "How many items match in all pages."},
			"next_cursor": obj{"type": []string{"string", "null"}, "description": "The cursor parameter for the next page; null on the last page."},
		}
		required := []string{"items", "total", "next_cursor"}
		if estimate {
			props["total"] = obj{"type": "integer", "description": "Exact below 10,000; a lower bound when total_is_estimate."}
			props["total_is_estimate"] = obj{"type": "boolean", "description": "True when total is the counting cap of 10,000 (counting stopped there, or on PostgreSQL was skipped because the planner expected over 30,000 matches): at least total items match."}
			required = append(required, "total_is_estimate")
		}
		return obj{"type": "object", "description": "A page of " + item.typeName + " items.", "properties": props, "required": required}
	})
}

// mergedSchema is a payload with one member inlined (the created token
// beside its one-time secret), named after the payload type.
func (g *docGen) mergedSchema(c *compiled) obj {
	return g.register(c.shape.typeName, func() obj {
		merged := &shape{typeName: c.shape.typeName}
		var inner *shape
		for _, f := range c.shape.fields {
			if f.key == c.Merge {
				inner = f.shape
			} else {
				merged.fields = append(merged.fields, f)
			}
		}
		if inner != nil {
			for _, f := range inner.fields {
				merged.fields = slices.DeleteFunc(merged.fields, func(o *field) bool { return o.key == f.key })
				merged.fields = append(merged.fields, f)
			}
		}
		return g.objectBody(merged, g.a.schema.Types[c.shape.typeName])
	})
}

// pascal upper-cases the first letter: createUser → CreateUser.
func pascal(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ---------------------------------------------------------------------------
// Examples, generated from the schemas so they always fit them.

const exampleUUID = "3f8e2a64-1c5b-4d7e-9a10-6b2c4d8e0f13"

// example builds a value valid against s: required members only, the first
// enum value, a constraint's example.
func (g *docGen) example(s obj, depth int) (any, bool) {
	if depth > 20 { // schemas nest a few levels; this only guards a cycle
		return nil, false
	}
	if r, ok := s["$ref"].(string); ok {
		target, _ := g.schemas[strings.TrimPrefix(r, "#/components/schemas/")].(obj)
		return g.example(target, depth+1)
	}
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0], true
	}
	if e, ok := s["enum"].([]string); ok && len(e) > 0 {
		return e[0], true
	}
	if any, ok := s["anyOf"].([]obj); ok {
		return g.example(any[0], depth+1)
	}
	typ := s["type"]
	if ts, ok := typ.([]string); ok {
		typ = ts[0]
	}
	switch typ {
	case "object":
		out := obj{}
		props, _ := s["properties"].(obj)
		req, _ := s["required"].([]string)
		for _, k := range req {
			ps, _ := props[k].(obj)
			v, ok := g.example(ps, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = v
		}
		return out, true
	case "array":
		items, _ := s["items"].(obj)
		v, ok := g.example(items, depth+1)
		if !ok {
			return []any{}, true
		}
		return []any{v}, true
	case "string":
		switch s["format"] {
		case "uuid":
			return exampleUUID, true
		case "date-time":
			return "2026-01-02T15:04:05Z", true
		case "email":
			return "ann@example.com", true
		case "uri":
			return "https://example.com", true
		}
		if _, ok := s["pattern"]; ok {
			return nil, false // a pattern without an example: leave the example out
		}
		return "example", true
	case "integer":
		if m, ok := s["minimum"]; ok {
			return m, true
		}
		return 1, true
	case "number":
		if m, ok := s["minimum"]; ok {
			return m, true
		}
		return 1.5, true
	case "boolean":
		return true, true
	}
	return obj{}, true
}

// ---------------------------------------------------------------------------
// The hand-written routes.

// ingestOperation documents the one hand-written route: connectors post
// payloads in their vendor's format, which no GraphQL type describes.
func (g *docGen) ingestOperation() obj {
	errRef := func(d string) obj { return g.jsonResponse(d, ref(errorSchema)) }
	item := obj{"type": "object", "required": []string{"id", "status", "occurrences", "fingerprint"}, "properties": obj{
		"id": obj{"type": "string", "format": "uuid"}, "status": obj{"type": "string", "enum": []string{"created", "merged"}},
		"occurrences": obj{"type": "integer"}, "fingerprint": obj{"type": "string"},
	}}
	g.schemas["IngestResult"] = obj{"type": "object", "description": "What became of an ingested payload.",
		"required": []string{"results", "accepted", "created", "merged", "dead_lettered"}, "properties": obj{
			"results": obj{"type": "array", "items": item}, "accepted": obj{"type": "integer"},
			"created": obj{"type": "integer"}, "merged": obj{"type": "integer"},
			"dead_lettered": obj{"type": "integer"}, "dead_letter_id": obj{"type": "string", "format": "uuid"},
		}}
	return obj{
		"operationId": "ingestAlerts",
		"summary":     "Ingest an alert from a source connector",
		"tags":        []string{"alerts"},
		"description": "Accepts one alert, a JSON array of alerts, newline-delimited JSON, or the vendor's native envelope (e.g. Alertmanager's webhook), in the format of the connector's catalogue type. Each alert is normalised, its entities extracted and fingerprinted; a repeat within the connector's window merges into the open alert. Payloads that parse but cannot be mapped are kept as dead letters. Rate limited per connector (rate_limit_per_minute).",
		"security":    []obj{{"connectorKey": []string{}}},
		"parameters":  []obj{},
		"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{}, "example": obj{"title": "Suspicious login", "severity": "high"}}}},
		"responses": obj{
			"202": g.jsonResponse("Accepted: one result per alert, in payload order.", ref("IngestResult")),
			"401": errRef("Missing or invalid connector key."),
			"403": errRef("The connector is disabled."),
			"413": errRef("Payload larger than the ingest limit (5 MiB by default)."),
			"422": g.jsonResponse("The payload does not fit the connector's format; loc names the field.", ref(validationSchema)),
			"429": errRef("Over the connector's rate limit; see Retry-After."),
			"503": errRef("The database is unreachable for now; see Retry-After."),
		},
	}
}

// inboundEmailOperation documents the inbound email URL, outside /api/v1:
// mail services post to it, the token in the path is the credential.
func (g *docGen) inboundEmailOperation() obj {
	errRef := func(d string) obj { return g.jsonResponse(d, ref(errorSchema)) }
	form := obj{"schema": obj{"type": "object", "additionalProperties": true}}
	g.schemas["InboundEmailResult"] = obj{"type": "object", "description": "What became of an inbound email: the ingest result, or why it was ignored.",
		"properties": obj{
			"results": obj{"type": "array", "items": obj{"type": "object"}}, "accepted": obj{"type": "integer"},
			"created": obj{"type": "integer"}, "merged": obj{"type": "integer"},
			"dead_lettered": obj{"type": "integer"}, "dead_letter_id": obj{"type": "string", "format": "uuid"},
			"format":  obj{"type": "string", "enum": []string{"mime", "sendgrid-raw", "sendgrid", "mailgun-mime", "mailgun", "postmark", "postmark-raw"}, "description": "The delivery format that was read."},
			"ignored": obj{"type": "string", "description": "Why no alert was filed (auto-submitted or bulk mail, Seliq's own address, a sender the connector does not allow)."},
		}}
	return obj{
		"operationId": "inboundEmail",
		"summary":     "Inbound Email Webhook",
		"tags":        []string{"inbound-email"},
		"description": "A mail service posts one message: raw MIME (message/rfc822), SendGrid Inbound Parse or Mailgun route forms, or Postmark's inbound JSON. The message becomes an alert of the email connector the URL token selects, deduplicated by Message-ID. The same operation answers on the URL followed by /mime (Mailgun's raw form).",
		"security":    []obj{},
		"parameters":  []obj{{"name": "url_token", "in": "path", "required": true, "description": "The inbound email token (a credential).", "schema": obj{"type": "string"}}},
		"requestBody": obj{"required": true, "content": obj{
			"message/rfc822":                    obj{"schema": obj{"type": "string", "format": "binary"}},
			"multipart/form-data":               form,
			"application/x-www-form-urlencoded": form,
			"application/json":                  form,
		}},
		"responses": obj{
			"202": g.jsonResponse("Accepted: filed, merged, or ignored (see ignored).", ref("InboundEmailResult")),
			"403": errRef("The email connector is disabled."),
			"404": errRef("No inbound address has this token."),
			"413": errRef("Larger than the inbound email limit (25 MiB by default)."),
			"422": g.jsonResponse("Not an email (kept as a dead letter), or an unsupported Content-Type.", ref(validationSchema)),
			"429": errRef("Over the address's or the sender's rate limit; see Retry-After."),
			"503": errRef("The database is unreachable for now; see Retry-After."),
		},
	}
}

// fileOperations documents the binary routes (report files, the report
// template), which are hand-written because no JSON type describes a file.
func (g *docGen) fileOperations() map[string]obj {
	errRef := func(d string) obj { return g.jsonResponse(d, ref(errorSchema)) }
	uuidParam := func(name string) obj {
		return obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string", "format": "uuid"}}
	}
	org := obj{"name": "X-Seliq-Org", "in": "header", "description": "Organisation (id or slug) to act in; defaults to your home organisation.", "schema": obj{"type": "string"}}
	file := func(desc string, types ...string) obj {
		content := obj{}
		for _, t := range types {
			content[t] = obj{"schema": obj{"type": "string", "format": "binary"}}
		}
		return obj{"description": desc, "content": content,
			"headers": obj{"Content-Disposition": obj{"schema": obj{"type": "string"}, "description": "attachment; filename=..."}}}
	}
	common := func(r obj) obj {
		r["401"] = errRef("Missing, invalid or expired credentials.")
		r["403"] = errRef("The role, or the organisation scope (X-Seliq-Org), does not allow this.")
		r["429"] = errRef("Rate limited; see Retry-After.")
		r["503"] = errRef("The database is unreachable for now; see Retry-After.")
		return r
	}
	return map[string]obj{
		"/api/v1/incidents/{incident_id}/reports/{report_id}/download": {"get": obj{
			"operationId": "downloadReport", "summary": "Download Report", "tags": []string{"reports"}, "security": userSecurity,
			"description": "The rendered report file, in the format it was requested in.",
			"parameters":  []obj{uuidParam("incident_id"), uuidParam("report_id"), org},
			"responses": common(obj{
				"200": file("The rendered report, as an attachment.", "application/pdf", "text/html", "text/markdown"),
				"404": errRef("No such report on this incident in the acting organisation."),
				"409": errRef("The report is still pending or running, or failed (the detail says why)."),
				"422": g.jsonResponse("A path id is not a UUID; loc names it.", ref(validationSchema)),
			}),
		}},
		"/api/v1/settings/report/template": {
			"get": obj{
				"operationId": "downloadReportTemplate", "summary": "Download Template", "tags": []string{"settings"}, "security": userSecurity,
				"description": "The template in effect: the organisation's upload, or the built-in one (header X-Seliq-Template: custom | builtin).",
				"parameters":  []obj{org},
				"responses": common(obj{"200": withHeaders(file("The template source (Go text/template producing Markdown).", "text/plain"), obj{
					"X-Seliq-Template": obj{"description": "custom or builtin.", "schema": obj{"type": "string", "enum": []string{"custom", "builtin"}}},
				})}),
			},
			"post": obj{
				"operationId": "uploadReportTemplate", "summary": "Upload Template", "tags": []string{"settings"}, "security": userSecurity,
				"description": "Admins only. The template is the \"file\" part of a multipart form, or the raw body. It is parsed and executed against sample incidents before it is saved; an error is a 422 naming the line.",
				"parameters":  []obj{org},
				"requestBody": obj{"required": true, "content": obj{
					"multipart/form-data": obj{"schema": obj{"type": "object", "properties": obj{"file": obj{"type": "string", "format": "binary"}}}},
					"text/plain":          obj{"schema": obj{"type": "string"}, "example": "# {{ .Incident.Title }}\n"},
				}},
				"responses": common(obj{
					"200": g.jsonResponse("Saved.", obj{"type": "object", "required": []string{"custom", "updated_at", "bytes"}, "properties": obj{
						"custom": obj{"type": "boolean"}, "updated_at": obj{"type": "string", "format": "date-time"}, "bytes": obj{"type": "integer"}}}),
					"413": errRef("Upload larger than 512 KiB."),
					"422": g.jsonResponse("The template does not parse or fails on a sample incident; the message names the line.", ref(validationSchema)),
				}),
			},
		},
	}
}

// ServerOptions are the Options of the served document: the lists the
// validating packages accept.
func ServerOptions() Options {
	types := catalogue.Types()
	keys := make([]string, len(types))
	for i, t := range types {
		keys[i] = t.Key
	}
	return Options{Values: map[string][]string{
		"connectorTypes":   keys,
		"aiProviders":      slices.Clone(aiconfig.Providers),
		"alertViewSorts":   append([]string{""}, alertviews.SortValues()...),
		"alertViewColumns": alertviews.ColumnNames(),
	}}
}
