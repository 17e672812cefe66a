package rest

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apperr"
)

// TestIncludeRaw: the alert list's operation leaves raw out unless include
// names it; the single GET always reads it; an unknown name is a 422 naming
// include.
func TestIncludeRaw(t *testing.T) {
	list := compiledRoute(t, "GET", "/api/v1/alerts")
	if !slices.Equal(list.heavy, []string{"raw"}) {
		t.Fatalf("heavy = %v, want [raw]", list.heavy)
	}
	tests := []struct {
		query   string
		wantRaw bool
		bad     bool
	}{
		{query: "", wantRaw: false},
		{query: "include=raw", wantRaw: true},
		{query: "include=raw,raw", wantRaw: true},
		{query: "include=&status=new", wantRaw: false},
		{query: "include=raw&include=raw", wantRaw: true},
		{query: "include=payload", bad: true},
		{query: "include=raw,title", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			op, err := list.queryFor(q)
			if tt.bad {
				e, ok := apperr.As(err)
				if !ok || e.Code != apperr.BadInput || e.Field != "include" {
					t.Fatalf("queryFor(%q) = %v, want a 422 naming include", tt.query, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(op, " raw "); got != tt.wantRaw {
				t.Fatalf("queryFor(%q) reads raw: %v, want %v\n%s", tt.query, got, tt.wantRaw, op)
			}
		})
	}
	if !list.reservedParam("include") {
		t.Error("include feeds the filter instead of choosing the operation")
	}
	one := compiledRoute(t, "GET", "/api/v1/alerts/{alert_id}")
	op, err := one.queryFor(url.Values{})
	if err != nil || !strings.Contains(op, " raw ") || one.heavy != nil {
		t.Fatalf("single GET: heavy %v, err %v, operation %s", one.heavy, err, op)
	}
	incidents := compiledRoute(t, "GET", "/api/v1/incidents")
	if incidents.heavy != nil || incidents.reservedParam("include") {
		t.Errorf("incidents list has heavy fields %v", incidents.heavy)
	}
}

// TestIncludeDocumented: the OpenAPI document offers include on the alert
// list only, and its items leave raw optional while the single alert
// requires it.
func TestIncludeDocumented(t *testing.T) {
	raw, err := OpenAPI(schema, Routes, ServerOptions())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]struct{ Parameters []map[string]any }
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any
				Required   []string
			}
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			has := slices.ContainsFunc(op.Parameters, func(p map[string]any) bool { return p["name"] == "include" })
			if want := path == "/api/v1/alerts" && method == "get"; has != want {
				t.Errorf("%s %s: include parameter %v, want %v", method, path, has, want)
			}
		}
	}
	item, one := doc.Components.Schemas["AlertListItem"], doc.Components.Schemas["Alert"]
	if item.Properties["raw"] == nil || slices.Contains(item.Required, "raw") {
		t.Errorf("AlertListItem: raw documented %v, required %v", item.Properties["raw"] != nil, item.Required)
	}
	if !slices.Contains(one.Required, "raw") || !slices.Contains(item.Required, "title") {
		t.Errorf("Alert requires %v; AlertListItem requires %v", one.Required, item.Required)
	}
}

// FuzzIncludeParam: any query string either picks one of the alert list's
// two operations or is a 422 naming include; raw is read exactly when
// include names it.
func FuzzIncludeParam(f *testing.F) {
	for _, seed := range []string{"", "include=raw", "include=raw,raw", "include=,", "include=RAW", "include=raw%00",
		"include=raw&include=", "include=%20raw%20", "include=payload", "status=new&include=raw,title"} {
		f.Add(seed)
	}
	c := compiledRoute(f, "GET", "/api/v1/alerts")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Skip("not a query string")
		}
		op, err := c.queryFor(q)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.BadInput || e.Field != "include" {
				t.Fatalf("queryFor(%q) error %v, want a 422 naming include", raw, err)
			}
			return
		}
		if op != c.query && op != c.fullQuery {
			t.Fatalf("queryFor(%q) built an operation of its own", raw)
		}
		named := false
		for _, v := range q["include"] {
			for name := range strings.SplitSeq(v, ",") {
				named = named || strings.TrimSpace(name) == "raw"
			}
		}
		if (op == c.fullQuery) != named {
			t.Fatalf("queryFor(%q) reads raw: %v, include names it: %v", raw, op == c.fullQuery, named)
		}
	})
}

// TestReferences: every reference in a REST body (an entity beside its id,
// Alert.connector beside Alert.connectorID) carries its type's refFields,
// which that type has, and is documented as <Type>Ref; an entity that is a
// body's subject (a payload's connector) stays whole.
func TestReferences(t *testing.T) {
	for name, fields := range refFields {
		def := schema.Types[name]
		if def == nil {
			t.Fatalf("refFields names type %s, which the schema lacks", name)
		}
		for _, f := range fields {
			if def.Fields.ForName(f) == nil {
				t.Errorf("refFields: %s has no field %s", name, f)
			}
		}
	}
	refs := 0
	for _, def := range schema.Types {
		for _, f := range def.Fields {
			if isReference(schema, def, f) {
				refs++
				if refFields[f.Type.Name()] == nil {
					t.Errorf("%s.%s refers to %s, which refFields lacks", def.Name, f.Name, f.Type.Name())
				}
			}
		}
	}
	if refs < 10 {
		t.Fatalf("%d references found; the rule no longer recognises Alert.connector and its like", refs)
	}
	list := compiledRoute(t, "GET", "/api/v1/alerts")
	for _, want := range []string{"connector { id name type }", "assignee { id name email handle }", "incident { id number title severity status }"} {
		if !strings.Contains(list.query, want) {
			t.Errorf("alert list operation lacks %q:\n%s", want, list.query)
		}
	}
	created := compiledRoute(t, "POST", "/api/v1/connectors")
	if !strings.Contains(created.query, "key_prefix: keyPrefix") {
		t.Errorf("a created connector's body lost its own fields:\n%s", created.query)
	}
	raw, err := OpenAPI(schema, Routes, ServerOptions())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct{ Required []string }
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas["ConnectorRef"].Required; !slices.Equal(got, []string{"id", "name", "type"}) {
		t.Errorf("ConnectorRef requires %v, want [id name type]", got)
	}
}
