package apitest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A small document: one route answering an object with a required,
// non-nullable string and a 422.
const testDoc = `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
  "/api/v1/things/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
      {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["name"]}}],
    "responses": {
      "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
      "422": {"description": "bad", "content": {"application/json": {"schema": {"type": "object"}}}}}}}}}`

func TestContractCheck(t *testing.T) {
	router, err := newRouter([]byte(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	const id = "3f8e2a64-1c5b-4d7e-9a10-6b2c4d8e0f13"
	tests := []struct {
		name, path string
		status     int
		body       string
		want       string // part of the problem; "" for none
	}{
		{"conforming", "/api/v1/things/" + id, 200, `{"name": "a"}`, ""},
		{"trailing slash", "/api/v1/things/" + id + "/", 200, `{"name": "a"}`, ""},
		{"null where the document says string", "/api/v1/things/" + id, 200, `{"name": null}`, "response does not match"},
		{"missing member", "/api/v1/things/" + id, 200, `{}`, "response does not match"},
		{"undocumented status", "/api/v1/things/" + id, 404, `{}`, "response does not match"},
		{"refused request answered 422", "/api/v1/things/" + id + "?sort=junk", 422, `{}`, ""},
		{"refused request accepted", "/api/v1/things/not-a-uuid", 200, `{"name": "a"}`, "accepted a request the document refuses"},
		{"undocumented path", "/api/v1/nothing", 404, `{}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1"+tc.path, nil)
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(bytes.NewReader([]byte(tc.body)))}
			got := check(router, req, nil, resp, []byte(tc.body))
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("problem %q, want %q", got, tc.want)
			}
		})
	}
}
