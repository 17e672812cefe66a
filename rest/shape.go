package rest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/internal/apperr"
)

// shape describes a REST response body derived from a GraphQL type: the
// snake_case keys and which of them hold enum values to lower-case.
type shape struct {
	typeName string
	list     bool
	enum     bool
	nullable bool
	scalar   string // GraphQL scalar name for leaves
	fields   []*field
	// enumJSON is an enum's REST value as JSON by its GraphQL value as
	// gqlgen writes it (quoted), computed once rather than for each row.
	enumJSON map[string][]byte
	estimate bool // a connection whose total may be a lower bound (total_is_estimate)
	// trimmed objects left out their object fields for being nested
	// (nestDepth): the OpenAPI document names them <Type>Summary.
	trimmed bool
	// listItem is a list's item whose heavy fields come only on request
	// (include): the OpenAPI document names it <Type>ListItem.
	listItem bool
	// ref is a reference to another entity (refFields): the OpenAPI
	// document names it <Type>Ref.
	ref bool
}

// estimateField flags a connection's totalCount as a lower bound.
const estimateField = "totalCountIsEstimate"

type field struct {
	key   string // snake_case alias
	name  string // GraphQL field name
	shape *shape
	desc  string
	// heavy fields are left out of a list's items unless include names
	// them (heavyFields).
	heavy bool
}

// heavyFields are the fields a list leaves out of its items unless the
// client asks for them with include=<key>: an alert's raw payload is about
// nine tenths of a page of alerts, and a list is read to triage, not to
// read payloads (the single GET keeps it). A dead letter's payload stays:
// it is what a dead letter is read for.
var heavyFields = map[string]bool{"Alert.raw": true}

// nestDepth is how many object levels below the root a REST body includes
// (e.g. a group's members, a login's user); deeper data has its own route.
const nestDepth = 1

// refFields are what a reference to another entity carries in a REST body:
// its id and what names it. A reference is an object field beside the same
// entity's id (Alert.connector beside Alert.connectorID); the whole entity
// has its own route. A page of 50 alerts then repeats three small objects,
// not a connector's settings and an incident's SLA state fifty times.
var refFields = map[string][]string{
	"Connector":    {"id", "name", "type"},
	"User":         {"id", "name", "email", "handle"},
	"Incident":     {"id", "number", "title", "severity", "status"},
	"Group":        {"id", "name"},
	"Organization": {"id", "name", "slug"},
	"Alert":        {"id", "title", "severity", "status"},
}

// isReference reports whether field f of def refers to another entity: an
// object with an id, beside a field holding that id (f's name + "ID").
func isReference(schema *ast.Schema, def *ast.Definition, f *ast.FieldDefinition) bool {
	inner := schema.Types[f.Type.Name()]
	return inner.Kind == ast.Object && f.Type.Elem == nil && inner.Fields.ForName("id") != nil &&
		def.Fields.ForName(f.Name+"ID") != nil
}

// valueType reports whether an object is part of its parent's value (a
// time series' buckets and their groups) rather than an entity with an id
// and routes of its own: those are included below nestDepth, a few levels
// at most.
func valueType(def *ast.Definition, depth int) bool {
	return depth < nestDepth+2 && def.Fields.ForName("id") == nil
}

// selection returns the GraphQL selection set for a type with snake_case
// aliases, and the shape of the JSON it produces.
func selection(schema *ast.Schema, t *ast.Type, depth int) (string, *shape) {
	return selectionOmitting(schema, t, depth, false)
}

// selectionOmitting is selection, leaving heavyFields out when light.
func selectionOmitting(schema *ast.Schema, t *ast.Type, depth int, light bool) (string, *shape) {
	def := schema.Types[t.Name()]
	sh := &shape{typeName: def.Name, list: t.Elem != nil, nullable: !t.NonNull}
	switch def.Kind {
	case ast.Scalar:
		sh.scalar = def.Name
		return "", sh
	case ast.Enum:
		sh.enum = true
		sh.enumJSON = storedEnumJSON(def)
		return "", sh
	}
	if strings.HasSuffix(def.Name, "Connection") {
		return connectionSelection(schema, def, sh, light)
	}
	var b strings.Builder
	b.WriteString("{ ")
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") || hasRequiredArgs(f) || graphQLOnly[def.Name+"."+f.Name] {
			continue
		}
		inner := schema.Types[f.Type.Name()]
		isObject := inner.Kind == ast.Object || inner.Kind == ast.Interface
		if isObject && strings.HasSuffix(inner.Name, "Connection") {
			continue
		}
		if isObject && depth >= nestDepth && !valueType(inner, depth) {
			sh.trimmed = true
			continue
		}
		heavy := heavyFields[def.Name+"."+f.Name]
		var sub string
		var subShape *shape
		if isReference(schema, def, f) {
			sub, subShape = referenceSelection(schema, inner)
		} else {
			sub, subShape = selectionOmitting(schema, f.Type, depth+1, light)
		}
		subShape.nullable = !f.Type.NonNull
		key := gqlserver.SnakeCase(f.Name)
		sh.fields = append(sh.fields, &field{key: key, name: f.Name, shape: subShape, desc: f.Description, heavy: heavy})
		if heavy && light {
			continue // in the shape (the document tells of it), not in the query
		}
		if key != f.Name {
			fmt.Fprintf(&b, "%s: ", key)
		}
		b.WriteString(f.Name)
		if sub != "" {
			b.WriteString(" " + sub)
		}
		b.WriteString(" ")
	}
	b.WriteString("}")
	return b.String(), sh
}

// referenceSelection is the selection and shape of a reference to an
// entity of type def: refFields' fields of it, or, for a type without an
// entry (a programming error the route tests catch), its id alone.
func referenceSelection(schema *ast.Schema, def *ast.Definition) (string, *shape) {
	names := refFields[def.Name]
	if len(names) == 0 {
		names = []string{"id"}
	}
	sh := &shape{typeName: def.Name, ref: true}
	var b strings.Builder
	b.WriteString("{ ")
	for _, name := range names {
		f := def.Fields.ForName(name)
		_, leaf := selectionOmitting(schema, f.Type, nestDepth+1, false)
		leaf.nullable = !f.Type.NonNull
		key := gqlserver.SnakeCase(name)
		sh.fields = append(sh.fields, &field{key: key, name: name, shape: leaf, desc: f.Description})
		if key != name {
			b.WriteString(key + ": ")
		}
		b.WriteString(name + " ")
	}
	b.WriteString("}")
	return b.String(), sh
}

// storedEnumJSON maps each value of enum def, quoted, to its stored
// (REST) spelling as a JSON string.
func storedEnumJSON(def *ast.Definition) map[string][]byte {
	m := make(map[string][]byte, len(def.EnumValues))
	for _, v := range def.EnumValues {
		b, err := json.Marshal(enum.StoredNameIn(def.Name, v.Name))
		if err != nil {
			continue // a string always marshals; projectValue falls back
		}
		m[strconv.Quote(v.Name)] = b
	}
	return m
}

// connectionSelection pages through a Relay connection; the handler turns
// it into {"items", "total", "next_cursor"}.
func connectionSelection(schema *ast.Schema, def *ast.Definition, sh *shape, light bool) (string, *shape) {
	edge := schema.Types[def.Fields.ForName("edges").Type.Name()]
	node := edge.Fields.ForName("node").Type
	sel, nodeShape := selectionOmitting(schema, &ast.Type{NamedType: node.Name(), NonNull: true}, 0, light)
	item := &shape{list: true, fields: nodeShape.fields, typeName: nodeShape.typeName}
	item.listItem = len(item.heavy()) > 0
	sh.fields = []*field{{key: "items", shape: item}}
	// A connection whose totalCount may stop at a cap says so (the queue's
	// AlertConnection); REST answers it as total_is_estimate.
	estimate := ""
	if def.Fields.ForName(estimateField) != nil {
		estimate = estimateField + " "
		sh.estimate = true
	}
	return "{ totalCount " + estimate + "pageInfo { endCursor hasNextPage } edges { node " + sel + " } }", sh
}

// graphQLOnly are fields computed on request that a REST body leaves out:
// a dashboard's widget data would make every list of dashboards run every
// widget's queries.
var graphQLOnly = map[string]bool{"DashboardWidget.data": true}

func hasRequiredArgs(f *ast.FieldDefinition) bool {
	return slices.ContainsFunc(f.Arguments, func(a *ast.ArgumentDefinition) bool {
		return a.Type.NonNull && a.DefaultValue == nil
	})
}

// field returns sh's field of the given key, looking from index from on: a
// result's members come in the order of the selection, which is sh.fields',
// so a lookup that starts after the last match usually succeeds at once.
// It also returns where the next lookup should start.
func (sh *shape) field(key []byte, from int) (*field, int) {
	n := len(sh.fields)
	for i := range n {
		j := (from + i) % n
		if sh.fields[j].key == string(key) {
			return sh.fields[j], j + 1
		}
	}
	return nil, from
}

// inputConverter turns a REST JSON value (snake_case keys, lower-case enum
// values) into GraphQL variables for type t, refusing unknown keys.
type inputConverter struct {
	schema *ast.Schema
	loc    string // "body", "query" or "path", for error locations
}

func (c inputConverter) convert(v any, t *ast.Type, path []string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return nil, c.invalid(path, "must be a list")
		}
		out := make([]any, len(list))
		for i, e := range list {
			var err error
			if out[i], err = c.convert(e, t.Elem, append(path, fmt.Sprint(i))); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	def := c.schema.Types[t.Name()]
	switch def.Kind {
	case ast.InputObject:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, c.invalid(path, "must be an object")
		}
		out := make(map[string]any, len(obj))
		for k, fv := range obj {
			f := inputField(def, k)
			if f == nil {
				return nil, c.invalid(append(path, k), "is not a known field")
			}
			var err error
			if out[f.Name], err = c.convert(fv, f.Type, append(path, k)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case ast.Enum:
		s, ok := v.(string)
		if !ok {
			return nil, c.invalid(path, "must be a string")
		}
		up := enum.GraphQLName(s)
		if def.EnumValues.ForName(up) == nil {
			allowed := make([]string, len(def.EnumValues))
			for i, ev := range def.EnumValues {
				allowed[i] = enum.StoredNameIn(def.Name, ev.Name)
			}
			return nil, c.invalid(path, "must be one of %s", strings.Join(allowed, ", "))
		}
		return up, nil
	}
	return v, nil
}

func inputField(def *ast.Definition, key string) *ast.FieldDefinition {
	for _, f := range def.Fields {
		if gqlserver.SnakeCase(f.Name) == key || f.Name == key {
			return f
		}
	}
	return nil
}

func (c inputConverter) invalid(path []string, format string, args ...any) error {
	return &apperr.Error{Code: apperr.BadInput, Field: strings.Join(path, "."), Message: fmt.Sprintf(format, args...)}
}

// heavy returns the keys of sh's heavy fields.
func (sh *shape) heavy() []string {
	var keys []string
	for _, f := range sh.fields {
		if f.heavy {
			keys = append(keys, f.key)
		}
	}
	return keys
}
