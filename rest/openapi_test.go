package rest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIValid loads the served document with kin-openapi and validates
// it as OpenAPI 3.1, examples included.
func TestOpenAPIValid(t *testing.T) {
	raw, err := OpenAPI(schema, Routes, ServerOptions())
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("invalid OpenAPI 3.1: %v", err)
	}
}

// TestOpenAPIShape checks what linters and generated clients rely on: no
// null where a list is due, every operation tagged, described and listed in
// the global tags, every schema named (no anonymous objects in responses).
func TestOpenAPIShape(t *testing.T) {
	raw, err := OpenAPI(schema, Routes, ServerOptions())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	for _, tg := range doc["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			name := method + " " + path
			if p, ok := op["parameters"]; ok && p == nil {
				t.Errorf("%s: parameters is null", name)
			}
			if _, ok := op["security"]; !ok {
				t.Errorf("%s: no security requirement (an empty list for public routes)", name)
			}
			if d, _ := op["description"].(string); d == "" {
				t.Errorf("%s: no description", name)
			}
			for _, tg := range op["tags"].([]any) {
				if !tags[tg.(string)] {
					t.Errorf("%s: tag %s not in the global tags", name, tg)
				}
			}
			for status, r := range op["responses"].(map[string]any) {
				content, _ := r.(map[string]any)["content"].(map[string]any)
				media, _ := content["application/json"].(map[string]any)
				if media == nil {
					continue
				}
				if _, ok := media["example"]; !ok {
					t.Errorf("%s %s: no example", name, status)
				}
				s, _ := json.Marshal(media["schema"])
				if strings.HasPrefix(path, "/api/v1/settings/report/template") {
					continue // hand-written: a file's small JSON receipt
				}
				if !strings.Contains(string(s), "$ref") {
					t.Errorf("%s %s: anonymous response schema %s", name, status, s)
				}
			}
		}
	}
}
