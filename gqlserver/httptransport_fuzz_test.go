package gqlserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/seliq/seliq/resolvers"
)

// FuzzHTTPRequest: whatever the body and Accept header, the POST transport
// answers a GraphQL response (a JSON object with data or errors) with 200,
// 400 or 413, never an uncoded or INTERNAL error, and never echoes the body.
func FuzzHTTPRequest(f *testing.F) {
	srv := NewServer(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, NewSchema(&resolvers.Resolver{}))
	handler := http.MaxBytesHandler(srv, 4096)
	for _, seed := range []struct{ body, accept string }{
		{`{"query": "{ __typename }"}`, ""},
		{`{"query": "{"}`, "application/graphql-response+json"},
		{`{ "not a JSON`, "application/json"},
		{`{"query": 0, "variables": "x"}`, "application/graphql-response+json, application/json;q=0.9"},
		{`{"query": "query Q($a: String!) { __type(name: $a) { name } }", "variables": {"a": {"b": 1}}}`, "*/*"},
		{`{"operationName": ["x"], "query": "{ __typename }", "extensions": false}`, "application/*;q=0"},
	} {
		f.Add(seed.body, seed.accept)
	}
	f.Fuzz(func(t *testing.T, body, accept string) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var resp struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("not a JSON response: %v: %s", err, rec.Body)
		}
		if resp.Data == nil && len(resp.Errors) == 0 {
			t.Fatalf("neither data nor errors: %s", rec.Body)
		}
		for _, e := range resp.Errors {
			if code, _ := e.Extensions["code"].(string); code == "" || code == "INTERNAL" {
				t.Fatalf("error coded %q: %s", code, rec.Body)
			}
		}
		if len(body) > 24 && bytes.Contains(rec.Body.Bytes(), []byte(body)) {
			t.Fatalf("the body is echoed back: %s", rec.Body)
		}
	})
}

// FuzzResponseMedia: any Accept header picks one of the two JSON types.
func FuzzResponseMedia(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/graphql-response+json;q=0.5, application/json", "text/html;q=x", ",,;;=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		if m := responseMedia(accept); m != mediaJSON && m != mediaGraphQLResponse {
			t.Fatalf("responseMedia(%q) = %q", accept, m)
		}
	})
}

// FuzzDataResponse: a response holding data alone is written byte for
// byte as json.Marshal writes it, for any compact JSON gqlgen could give:
// strings with HTML-significant characters, U+2028/U+2029, invalid UTF-8.
func FuzzDataResponse(f *testing.F) {
	for _, seed := range []string{
		`plain`, `<script>alert(1)</script>`, "a & b > c", "line\u2028sep\u2029", "\xe2\x80", "\xff\xfe", `"quoted" \ back`, "é日本\u2027\u202a",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// gqlgen does not escape HTML: encode the value the same way.
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		if err := e.Encode(map[string]any{"alerts": []any{s, 1, map[string]any{s: s, "n": nil}}}); err != nil {
			t.Fatal(err)
		}
		candidates := [][]byte{bytes.TrimSuffix(enc.Bytes(), []byte("\n"))}
		// The input itself, when it is JSON, compacted.
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(s)) == nil {
			candidates = append(candidates, compact.Bytes())
		}
		for _, data := range candidates {
			want, err := json.Marshal(&graphql.Response{Data: data})
			if err != nil {
				t.Fatalf("%q: %v", data, err)
			}
			if got := appendDataResponse(nil, data); !bytes.Equal(got, want) {
				t.Fatalf("data %q:\n got %s\nwant %s", data, got, want)
			}
		}
	})
}
