// Package rest serves the /api/v1 compatibility layer as a projection of the
// GraphQL schema: a route table, the OpenAPI document generated from it, and
// the mapping of GraphQL errors to HTTP statuses. It holds no business logic.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// MaxBodyBytes bounds a request body; larger bodies get 413.
const MaxBodyBytes = 1 << 20

// API is the mounted REST layer.
type API struct {
	exec   *executor.Executor
	schema *ast.Schema
	routes []*compiled
}

// compiled is a Route with its operation text and response shape prepared
// once at start-up.
type compiled struct {
	Route
	query string
	// fullQuery is a list's operation with its items' heavy fields, and
	// heavy their keys, which include may name; both empty for a route
	// without any.
	fullQuery string
	heavy     []string
	def       *ast.FieldDefinition
	shape     *shape
	list      bool
	array     bool // a plain GraphQL list, answered in the list envelope too
	orderable bool
	sorts     []string // the order-field enum's values, for sort
	// pathParams are the path's parameters in order, and whether each
	// fills an ID argument.
	pathParams []pathParamInfo
	filterDef  *ast.Definition // the Filter argument's input type
	direct     *directList     // a list whose items REST writes itself (direct.go)
}

// New compiles the route table against the schema. A route naming an
// unknown field or argument is a programming error and fails start-up.
func New(exec *executor.Executor, es graphql.ExecutableSchema, routes []Route) (*API, error) {
	a := &API{exec: exec, schema: es.Schema()}
	for _, r := range routes {
		c, err := a.compile(r)
		if err != nil {
			return nil, fmt.Errorf("route %s %s: %w", r.Method, r.Path, err)
		}
		a.routes = append(a.routes, c)
	}
	return a, nil
}

func (a *API) compile(r Route) (*compiled, error) {
	opType, def := "query", a.schema.Query.Fields.ForName(r.Field)
	if def == nil && a.schema.Mutation != nil {
		opType, def = "mutation", a.schema.Mutation.Fields.ForName(r.Field)
	}
	if def == nil {
		return nil, fmt.Errorf("no root field %q", r.Field)
	}
	for _, arg := range r.PathArgs {
		if def.Arguments.ForName(arg) == nil {
			return nil, fmt.Errorf("field %q has no argument %q", r.Field, arg)
		}
	}
	if r.Body != "" && r.Body != "*" && def.Arguments.ForName(r.Body) == nil {
		return nil, fmt.Errorf("field %q has no argument %q", r.Field, r.Body)
	}
	var filterDef *ast.Definition
	if r.Filter != "" {
		arg := def.Arguments.ForName(r.Filter)
		if arg == nil || a.schema.Types[arg.Type.Name()].Kind != ast.InputObject {
			return nil, fmt.Errorf("field %q has no input-object argument %q", r.Field, r.Filter)
		}
		filterDef = a.schema.Types[arg.Type.Name()]
	}
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	sel, sh := selection(a.schema, def.Type, 0)
	list := strings.HasSuffix(def.Type.Name(), "Connection")
	var heavy []string
	query, full := operation(opType, r.Field, def, sel), ""
	if list {
		if heavy = sh.fields[0].shape.heavy(); len(heavy) > 0 {
			light, _ := selectionOmitting(a.schema, def.Type, 0, true)
			query, full = operation(opType, r.Field, def, light), query
		}
	}
	c := &compiled{
		Route: r, query: query, fullQuery: full, heavy: heavy, def: def, shape: sh,
		list:       list,
		array:      def.Type.Elem != nil,
		orderable:  def.Arguments.ForName("orderBy") != nil,
		sorts:      orderFields(a.schema, def),
		pathParams: pathParamsOf(r, def),
		filterDef:  filterDef,
	}
	c.direct = directFor(c)
	return c, nil
}

// operation is the GraphQL operation of a route: every argument a
// variable, the result aliased "result".
func operation(opType, field string, def *ast.FieldDefinition, sel string) string {
	var vars, args []string
	for _, arg := range def.Arguments {
		vars = append(vars, fmt.Sprintf("$%s: %s", arg.Name, arg.Type.String()))
		args = append(args, fmt.Sprintf("%s: $%s", arg.Name, arg.Name))
	}
	q := opType
	if len(vars) > 0 {
		q += "(" + strings.Join(vars, ", ") + ")"
	}
	q += " { result: " + field
	if len(args) > 0 {
		q += "(" + strings.Join(args, ", ") + ")"
	}
	return q + " " + sel + " }"
}

// includeParam is the query parameter that adds a list's heavy fields
// (heavyFields) to its items.
const includeParam = "include"

// queryFor is the operation a request runs: a list's light one unless
// include names its heavy fields (comma-separated, or the parameter
// repeated); an unknown name is a 422 naming include.
func (c *compiled) queryFor(q url.Values) (string, error) {
	if len(c.heavy) == 0 {
		return c.query, nil
	}
	wanted := false
	for _, v := range q[includeParam] {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !slices.Contains(c.heavy, name) {
				return "", apperr.Invalid(includeParam, "must be one of %s (comma-separated)", strings.Join(c.heavy, ", "))
			}
			wanted = true
		}
	}
	if wanted {
		return c.fullQuery, nil
	}
	return c.query, nil
}

type pathParamInfo struct {
	name string
	id   bool
}

func pathParamsOf(r Route, def *ast.FieldDefinition) []pathParamInfo {
	var out []pathParamInfo
	for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
		if arg := def.Arguments.ForName(r.PathArgs[m[1]]); arg != nil {
			out = append(out, pathParamInfo{name: m[1], id: arg.Type.Name() == "ID"})
		}
	}
	return out
}

// Mount registers every route on r, a router mounted at prefix (which should
// strip trailing slashes, so "/users/" and "/users" are one route).
func (a *API) Mount(r chi.Router, prefix string) {
	for _, c := range a.routes {
		r.Method(c.Method, strings.TrimPrefix(c.Path, prefix), a.handler(c))
	}
}

func (a *API) handler(c *compiled) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Credentials come before the body: an anonymous caller gets 401,
		// not a validation error about a request it may not make.
		if v := viewer.FromContext(r.Context()); !c.Public && (v == nil || v.Kind != viewer.KindUser) {
			writeError(w, apperr.New(apperr.Unauthenticated, "authentication required"), c)
			return
		}
		vars, err := a.variables(c, r)
		if err != nil {
			writeError(w, err, c)
			return
		}
		query, err := c.queryFor(r.URL.Query())
		if err != nil {
			writeError(w, err, c)
			return
		}
		body := getBuffer()
		defer putBuffer(body)
		ctx := r.Context()
		if c.direct != nil {
			ctx = c.direct.hook(ctx, body, query == c.fullQuery)
		}
		data, err := a.execute(ctx, query, c, vars)
		if err != nil {
			writeError(w, err, c)
			return
		}
		if c.Status == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if body.Len() > 0 { // written by the direct list
			writeJSONBody(w, c.Status, body.Bytes())
			return
		}
		if err := project(body, data, c); err != nil {
			writeError(w, err, c)
			return
		}
		writeJSONBody(w, c.Status, body.Bytes())
	}
}

// variables gathers the operation's variables from the path, the query
// string and the body.
func (a *API) variables(c *compiled, r *http.Request) (map[string]any, error) {
	vars := map[string]any{}
	for _, p := range c.pathParams {
		v := chi.URLParam(r, p.name)
		// Checked before the body: a record that cannot exist is the
		// first thing wrong with the request, named as the path has it.
		if p.id {
			if _, err := uuid.Parse(v); err != nil {
				return nil, apperr.Invalid(p.name, "is not a valid id (a UUID)")
			}
		}
		vars[c.PathArgs[p.name]] = v
	}
	q := r.URL.Query()
	for param, arg := range c.QueryArgs {
		given := q[param]
		if len(given) == 0 || given[0] == "" {
			continue
		}
		v, err := queryValue(a.schema, c.def.Arguments.ForName(arg).Type, param, given)
		if err != nil {
			return nil, err
		}
		vars[arg] = v
	}
	if c.list {
		if err := listVariables(c, q, vars); err != nil {
			return nil, err
		}
	}
	if c.filterDef != nil {
		f, err := queryFilter(a.schema, c.filterDef, q, c.reservedParam)
		if err != nil {
			return nil, err
		}
		if f != nil {
			vars[c.Filter] = f
		}
	}
	if c.Body == "" {
		return vars, nil
	}
	body, err := readBody(r)
	if err != nil {
		return nil, inBody(err)
	}
	conv := inputConverter{schema: a.schema, loc: "body"}
	if c.Body != "*" {
		if body == nil {
			body = map[string]any{}
		}
		v, err := conv.convert(body, c.def.Arguments.ForName(c.Body).Type, nil)
		if err != nil {
			return nil, inBody(err)
		}
		vars[c.Body] = v
		return vars, nil
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, apperr.Invalid("", "the body must be a JSON object")
	}
	for k, v := range obj {
		arg := argument(c.def, k)
		if arg == nil || c.isPathArg(arg.Name) {
			return nil, inBody(apperr.Invalid(k, "is not a known field"))
		}
		if vars[arg.Name], err = conv.convert(v, arg.Type, []string{k}); err != nil {
			return nil, inBody(err)
		}
	}
	return vars, nil
}

// reservedParam reports whether a query parameter has a meaning of its own
// on this route (paging, a mapped argument) rather than naming a filter field.
func (c *compiled) reservedParam(name string) bool {
	_, mapped := c.QueryArgs[name]
	return mapped || (c.list && listParams[name]) || (len(c.heavy) > 0 && name == includeParam)
}

// filterParam reports whether a query parameter feeds the filter: on a
// filtered route every parameter without a meaning of its own does, known
// or not.
func (c *compiled) filterParam(name string) bool {
	return c.filterDef != nil && !c.reservedParam(name)
}

func (c *compiled) isPathArg(name string) bool {
	for _, a := range c.PathArgs {
		if a == name {
			return true
		}
	}
	return false
}

func argument(def *ast.FieldDefinition, key string) *ast.ArgumentDefinition {
	for _, a := range def.Arguments {
		if gqlserver.SnakeCase(a.Name) == key || a.Name == key {
			return a
		}
	}
	return nil
}

// listVariables maps limit, cursor and sort ("name" or "-created_at").
func listVariables(c *compiled, q map[string][]string, vars map[string]any) error {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return &apperr.Error{Code: apperr.BadInput, Field: "limit", Message: "must be an integer"}
		}
		vars["first"] = n
	}
	if s := get("cursor"); s != "" {
		// Cursors are standard base64, which never holds a space: a "+"
		// sent unescaped in the query string arrives as one.
		vars["after"] = strings.ReplaceAll(s, " ", "+")
	}
	if s := get("sort"); s != "" && c.orderable {
		dir := "ASC"
		if strings.HasPrefix(s, "-") {
			dir, s = "DESC", s[1:]
		}
		// Checked here, so the error names the parameter the client sent
		// rather than the orderBy argument it fills.
		field := strings.ToUpper(s)
		if !slices.Contains(c.sorts, field) {
			allowed := make([]string, len(c.sorts))
			for i, f := range c.sorts {
				allowed[i] = strings.ToLower(f)
			}
			return &apperr.Error{Code: apperr.BadInput, Field: "sort",
				Message: "must be one of " + strings.Join(allowed, ", ") + ", optionally prefixed with - for descending order"}
		}
		vars["orderBy"] = map[string]any{"field": field, "direction": dir}
	}
	return nil
}

// readBody decodes a JSON body of at most MaxBodyBytes. Numbers stay exact.
func readBody(r *http.Request) (any, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, apperr.New(apperr.TooLarge, "request body exceeds %d bytes", MaxBodyBytes)
	}
	if err != nil {
		return nil, apperr.Invalid("", "could not read the body: %v", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apperr.Invalid("", "malformed JSON: %v", err)
	}
	// Not dec.More(): it reports false for a stray "}" or "]" after the value.
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, apperr.Invalid("", "malformed JSON: trailing data after the value")
	}
	return v, nil
}

// execute runs the operation and returns data.result, or the first error
// classified for HTTP.
func (a *API) execute(ctx context.Context, query string, c *compiled, vars map[string]any) (json.RawMessage, error) {
	ctx = graphql.StartOperationTrace(ctx)
	now := graphql.Now()
	params := &graphql.RawParams{Query: query, Variables: vars, ReadTime: graphql.TraceTiming{Start: now, End: now}}
	oc, errs := a.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		return nil, fromGraphQL(errs, c)
	}
	handler, ctx := a.exec.DispatchOperation(ctx, oc)
	resp := handler(ctx)
	if len(resp.Errors) > 0 {
		return nil, fromGraphQL(resp.Errors, c)
	}
	return resp.Data, nil
}

// fromGraphQL turns the first GraphQL error into an apperr, naming the
// offending field of a variable that failed coercion.
func fromGraphQL(errs gqlerror.List, c *compiled) error {
	e := errs[0]
	code, _ := e.Extensions["code"].(string)
	out := &apperr.Error{Code: apperr.Code(code), Message: e.Message}
	if f, ok := e.Extensions["field"].(string); ok {
		out.Field = restField(f, c)
	}
	if s, ok := e.Extensions["retryAfter"].(int); ok {
		out.RetryAfter = secs(s)
	}
	for _, k := range detailKeys {
		if v, ok := e.Extensions[k]; ok {
			if out.Details == nil {
				out.Details = map[string]any{}
			}
			out.Details[k] = v
		}
	}
	switch code {
	case "COMPLEXITY_LIMIT_EXCEEDED": // the page asked for is too costly
		out.Code = apperr.BadInput
		if c.list {
			out.Field = "limit"
		}
	case "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED":
		out.Code = apperr.BadInput
		out.Field = variableField(e.Path, c)
	case "":
		out.Code = apperr.Internal
	}
	return out
}

// detailKeys are the error details REST passes on in a validation detail's
// ctx: where in a query expression the error is, and the likely fix.
var detailKeys = []string{"line", "column", "suggestion"}

// restField names an argument the way the REST client sent it: the path
// parameter it came from, or limit and cursor for a list's first and after.
func restField(f string, c *compiled) string {
	head, tail, nested := strings.Cut(f, ".")
	if c.Filter != "" && nested && (head == c.Filter || head == gqlserver.SnakeCase(c.Filter)) {
		// A filter's fields are the query parameters themselves.
		head, tail, nested = strings.Cut(tail, ".")
	}
	for param, arg := range c.PathArgs {
		if head == arg || head == gqlserver.SnakeCase(arg) {
			head = param
		}
	}
	if c.list {
		switch head {
		case "first":
			head = "limit"
		case "after":
			head = "cursor"
		}
	}
	if nested {
		return head + "." + tail
	}
	return head
}

// variableField turns a coercion error path (variable, input, email) into the
// REST field name (email).
func variableField(p ast.Path, c *compiled) string {
	var parts []string
	for i, el := range p {
		name, ok := el.(ast.PathName)
		if !ok {
			parts = append(parts, fmt.Sprint(el))
			continue
		}
		if i == 0 && name == "variable" {
			continue
		}
		if i == 1 && string(name) == c.Body {
			continue
		}
		parts = append(parts, gqlserver.SnakeCase(string(name)))
	}
	return strings.Join(parts, ".")
}
