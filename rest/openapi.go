package rest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/gqlserver"
)

type obj = map[string]any

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI renders the OpenAPI 3.1 document of routes, derived from the same
// GraphQL types the handlers use, so the document cannot drift from them.
func OpenAPI(schema *ast.Schema, routes []Route) ([]byte, error) {
	a := &API{schema: schema}
	paths := obj{}
	for _, r := range routes {
		c, err := a.compile(r)
		if err != nil {
			return nil, err
		}
		item, _ := paths[r.Path].(obj)
		if item == nil {
			item = obj{}
			paths[r.Path] = item
		}
		item[strings.ToLower(r.Method)] = a.operation(c)
	}
	paths["/api/v1/alerts/ingest"] = obj{"post": ingestOperation()}
	for path, ops := range fileOperations() {
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		for method, op := range ops {
			item[method] = op
		}
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Seliq API",
			"version":     "1.0.0",
			"description": "REST compatibility layer of the Seliq GraphQL API. Authenticate with `Authorization: Bearer <token>` from POST /api/v1/auth/login, or a personal API token as `Authorization: Token <secret>`. Provider users pick a client organisation with `X-Seliq-Org: <id or slug>`. Paths are served with and without a trailing slash.",
		},
		"servers": []obj{{"url": "/"}},
		"paths":   paths,
		"components": obj{
			"securitySchemes": obj{
				"bearer":       obj{"type": "http", "scheme": "bearer", "description": "Session token from POST /api/v1/auth/login."},
				"apiToken":     obj{"type": "apiKey", "in": "header", "name": "Authorization", "description": "Personal API token: `Token <secret>`."},
				"connectorKey": obj{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A connector's key, shown once when the connector is created or its key rotated."},
			},
			"schemas": obj{
				"Error": obj{"type": "object", "required": []string{"detail"}, "properties": obj{
					"detail": obj{"type": "string"}, "code": obj{"type": "string"},
				}},
				"ValidationError": obj{"type": "object", "required": []string{"detail"}, "properties": obj{
					"code": obj{"type": "string"},
					"detail": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
						"loc": obj{"type": "array", "items": obj{"type": "string"}},
						"msg": obj{"type": "string"}, "type": obj{"type": "string"},
					}}},
				}},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func (a *API) operation(c *compiled) obj {
	op := obj{"operationId": c.Field, "summary": c.Summary, "tags": []string{c.Tag}}
	if c.def.Description != "" {
		op["description"] = c.def.Description
	}
	var params []obj
	for _, m := range pathParam.FindAllStringSubmatch(c.Path, -1) {
		arg := c.def.Arguments.ForName(c.PathArgs[m[1]])
		params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": a.typeSchema(arg.Type, true)})
	}
	if c.list {
		params = append(params,
			obj{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 0, "maximum": 500, "default": 50}},
			obj{"name": "cursor", "in": "query", "description": "next_cursor of the previous page", "schema": obj{"type": "string"}})
		if c.orderable {
			params = append(params, obj{"name": "sort", "in": "query", "description": "field to sort by, prefixed with - for descending (e.g. -created_at)", "schema": obj{"type": "string"}})
		}
	}
	if c.filterDef != nil {
		for _, f := range c.filterDef.Fields {
			p := obj{"name": gqlserver.SnakeCase(f.Name), "in": "query", "schema": a.typeSchema(f.Type, true)}
			if f.Type.Elem != nil {
				p["style"], p["explode"] = "form", false // comma-separated; repeating the parameter works too
			}
			if f.Description != "" {
				p["description"] = f.Description
			}
			params = append(params, p)
		}
	}
	if !c.Public {
		params = append(params, obj{"name": "X-Seliq-Org", "in": "header", "description": "organisation (id or slug) to act in; defaults to your home organisation", "schema": obj{"type": "string"}})
		op["security"] = []obj{{"bearer": []string{}}, {"apiToken": []string{}}}
	}
	op["parameters"] = params
	switch c.Body {
	case "":
	case "*":
		props, required := obj{}, []string{}
		for _, arg := range c.def.Arguments {
			if c.isPathArg(arg.Name) {
				continue
			}
			key := gqlserver.SnakeCase(arg.Name)
			props[key] = a.typeSchema(arg.Type, true)
			if arg.Type.NonNull {
				required = append(required, key)
			}
		}
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": props, "required": required}}}}
	default:
		arg := c.def.Arguments.ForName(c.Body)
		op["requestBody"] = obj{"required": arg.Type.NonNull, "content": obj{"application/json": obj{"schema": a.typeSchema(arg.Type, true)}}}
	}
	responses := obj{}
	switch {
	case c.Status == http.StatusNoContent:
		responses["204"] = obj{"description": "Done."}
	case c.list, c.array:
		fields := c.shape.fields
		if c.list {
			fields = c.shape.fields[0].shape.fields
		}
		item := a.shapeSchema(&shape{fields: fields})
		props := obj{
			"items": obj{"type": "array", "items": item}, "total": obj{"type": "integer"},
			"next_cursor": obj{"type": []string{"string", "null"}},
		}
		if c.shape.estimate {
			props["total"] = obj{"type": "integer", "description": "exact below 10,000; a lower bound when total_is_estimate"}
			props["total_is_estimate"] = obj{"type": "boolean", "description": "true when total is the counting cap of 10,000 (counting stopped there, or on PostgreSQL was skipped because the planner expected over 30,000 matches): at least total items match"}
		}
		responses[strconv.Itoa(c.Status)] = jsonResponse("A page of results.", obj{"type": "object", "properties": props})
	default:
		s := a.shapeSchema(c.shape)
		if c.Merge != "" {
			s = a.mergedSchema(c)
		}
		responses[strconv.Itoa(c.Status)] = jsonResponse("Success.", s)
	}
	errRef := func(d string) obj { return jsonResponse(d, obj{"$ref": "#/components/schemas/Error"}) }
	responses["401"] = errRef("Missing, invalid or expired credentials.")
	if !c.Public {
		responses["403"] = errRef("The role or the organisation scope does not allow this.")
	}
	if len(c.PathArgs) > 0 {
		responses["404"] = errRef("Not found, or not within your organisation.")
	}
	if c.Body != "" {
		responses["413"] = errRef("Body larger than 1 MiB.")
		responses["409"] = errRef("Conflicts with existing data.")
	}
	responses["422"] = jsonResponse("Invalid input; loc names the field.", obj{"$ref": "#/components/schemas/ValidationError"})
	responses["429"] = errRef("Rate limited; see Retry-After.")
	op["responses"] = responses
	return op
}

func jsonResponse(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

var scalarSchemas = map[string]obj{
	"String": {"type": "string"}, "Int": {"type": "integer"}, "Float": {"type": "number"},
	"Boolean": {"type": "boolean"}, "ID": {"type": "string", "format": "uuid"},
	"Time": {"type": "string", "format": "date-time"}, "Cursor": {"type": "string"},
}

// typeSchema is the JSON schema of a GraphQL input type as REST sends it.
func (a *API) typeSchema(t *ast.Type, input bool) obj {
	if t.Elem != nil {
		return obj{"type": "array", "items": a.typeSchema(t.Elem, input)}
	}
	def := a.schema.Types[t.Name()]
	switch def.Kind {
	case ast.Scalar:
		if s, ok := scalarSchemas[def.Name]; ok {
			return s
		}
		return obj{}
	case ast.Enum:
		return obj{"type": "string", "enum": enumValues(def)}
	}
	props, required := obj{}, []string{}
	for _, f := range def.Fields {
		key := gqlserver.SnakeCase(f.Name)
		s := a.typeSchema(f.Type, input)
		if f.Description != "" {
			s = withDesc(s, f.Description)
		}
		props[key] = s
		if f.Type.NonNull && f.DefaultValue == nil {
			required = append(required, key)
		}
	}
	return obj{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

func withDesc(s obj, d string) obj {
	out := obj{"description": d}
	for k, v := range s {
		out[k] = v
	}
	return out
}

func enumValues(def *ast.Definition) []string {
	vals := make([]string, len(def.EnumValues))
	for i, v := range def.EnumValues {
		vals[i] = enum.StoredName(v.Name)
	}
	return vals
}

// shapeSchema is the JSON schema of a REST response body.
func (a *API) shapeSchema(sh *shape) obj {
	var s obj
	switch {
	case sh.enum:
		s = obj{"type": "string", "enum": enumValues(a.schema.Types[sh.typeName])}
	case sh.scalar != "":
		s = scalarSchemas[sh.scalar]
		if s == nil {
			s = obj{}
		}
	default:
		props, required := obj{}, []string{}
		for _, f := range sh.fields {
			fs := a.shapeSchema(f.shape)
			if f.desc != "" {
				fs = withDesc(fs, f.desc)
			}
			props[f.key] = fs
			if !f.shape.nullable {
				required = append(required, f.key)
			}
		}
		s = obj{"type": "object", "properties": props, "required": required}
	}
	if sh.list {
		return obj{"type": "array", "items": s}
	}
	return s
}

func (a *API) mergedSchema(c *compiled) obj {
	merged := &shape{}
	for _, f := range c.shape.fields {
		if f.key == c.Merge {
			merged.fields = append(merged.fields, f.shape.fields...)
		} else {
			merged.fields = append(merged.fields, f)
		}
	}
	return a.shapeSchema(merged)
}

// ingestOperation documents the one hand-written route: connectors post
// payloads in their vendor's format, which no GraphQL type describes.
func ingestOperation() obj {
	errRef := func(d string) obj { return jsonResponse(d, obj{"$ref": "#/components/schemas/Error"}) }
	item := obj{"type": "object", "properties": obj{
		"id": obj{"type": "string", "format": "uuid"}, "status": obj{"type": "string", "enum": []string{"created", "merged"}},
		"occurrences": obj{"type": "integer"}, "fingerprint": obj{"type": "string"},
	}}
	return obj{
		"operationId": "ingestAlerts",
		"summary":     "Ingest an alert from a source connector",
		"tags":        []string{"alerts"},
		"description": "Accepts one alert, a JSON array of alerts, newline-delimited JSON, or the vendor's native envelope (e.g. Alertmanager's webhook), in the format of the connector's catalogue type. Each alert is normalised, its entities extracted and fingerprinted; a repeat within the connector's window merges into the open alert. Payloads that parse but cannot be mapped are kept as dead letters. Rate limited per connector (rate_limit_per_minute).",
		"security":    []obj{{"connectorKey": []string{}}},
		"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{}}}},
		"responses": obj{
			"202": jsonResponse("Accepted: one result per alert, in payload order.", obj{"type": "object", "properties": obj{
				"results": obj{"type": "array", "items": item}, "accepted": obj{"type": "integer"},
				"created": obj{"type": "integer"}, "merged": obj{"type": "integer"},
				"dead_lettered": obj{"type": "integer"}, "dead_letter_id": obj{"type": "string", "format": "uuid"},
			}}),
			"401": errRef("Missing or invalid connector key."),
			"403": errRef("The connector is disabled."),
			"413": errRef("Payload larger than the ingest limit (5 MiB by default)."),
			"422": jsonResponse("The payload does not fit the connector's format; loc names the field.", obj{"$ref": "#/components/schemas/ValidationError"}),
			"429": errRef("Over the connector's rate limit; see Retry-After."),
		},
	}
}

// fileOperations documents the binary routes (report files, the report
// template), which are hand-written because no JSON type describes a file.
func fileOperations() map[string]obj {
	errRef := func(d string) obj { return jsonResponse(d, obj{"$ref": "#/components/schemas/Error"}) }
	users := []obj{{"bearer": []string{}}, {"apiToken": []string{}}}
	uuidParam := func(name string) obj {
		return obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string", "format": "uuid"}}
	}
	file := func(desc string, types ...string) obj {
		content := obj{}
		for _, t := range types {
			content[t] = obj{"schema": obj{"type": "string", "format": "binary"}}
		}
		return obj{"description": desc, "content": content,
			"headers": obj{"Content-Disposition": obj{"schema": obj{"type": "string"}, "description": "attachment; filename=..."}}}
	}
	return map[string]obj{
		"/api/v1/incidents/{incident_id}/reports/{report_id}/download": {"get": obj{
			"operationId": "downloadReport", "summary": "Download Report", "tags": []string{"reports"}, "security": users,
			"parameters": []obj{uuidParam("incident_id"), uuidParam("report_id")},
			"responses": obj{
				"200": file("The rendered report, as an attachment.", "application/pdf", "text/html", "text/markdown"),
				"401": errRef("Missing or invalid credentials."),
				"404": errRef("No such report on this incident in the acting organisation."),
				"409": errRef("The report is still pending or running, or failed (the detail says why)."),
			},
		}},
		"/api/v1/settings/report/template": {
			"get": obj{
				"operationId": "downloadReportTemplate", "summary": "Download Template", "tags": []string{"settings"}, "security": users,
				"description": "The template in effect: the organisation's upload, or the built-in one (header X-Seliq-Template: custom | builtin).",
				"responses": obj{"200": file("The template source (Go text/template producing Markdown).", "text/plain"),
					"401": errRef("Missing or invalid credentials.")},
			},
			"post": obj{
				"operationId": "uploadReportTemplate", "summary": "Upload Template", "tags": []string{"settings"}, "security": users,
				"description": "Admins only. The template is the \"file\" part of a multipart form, or the raw body. It is parsed and executed against sample incidents before it is saved; an error is a 422 naming the line.",
				"requestBody": obj{"required": true, "content": obj{
					"multipart/form-data": obj{"schema": obj{"type": "object", "properties": obj{"file": obj{"type": "string", "format": "binary"}}}},
					"text/plain":          obj{"schema": obj{"type": "string"}},
				}},
				"responses": obj{
					"200": jsonResponse("Saved.", obj{"type": "object", "properties": obj{
						"custom": obj{"type": "boolean"}, "updated_at": obj{"type": "string", "format": "date-time"}, "bytes": obj{"type": "integer"}}}),
					"401": errRef("Missing or invalid credentials."),
					"403": errRef("Only administrators change the template."),
					"413": errRef("Upload larger than 512 KiB."),
					"422": jsonResponse("The template does not parse or fails on a sample incident; the message names the line.", obj{"$ref": "#/components/schemas/ValidationError"}),
				},
			},
		},
	}
}
