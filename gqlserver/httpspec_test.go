package gqlserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/seliq/seliq/resolvers"
)

// TestGraphQLOverHTTP checks the server against every rule of the
// graphql-http server audit (the npm package graphql-http 1.23.1,
// auditServer: 61 rules), named by the audit's id, so a change of
// transport cannot regress the GraphQL over HTTP spec unnoticed.
func TestGraphQLOverHTTP(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := NewServer(Config{Logger: log}, NewSchema(&resolvers.Resolver{}))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	const (
		gqlResp  = "application/graphql-response+json"
		appJSON  = "application/json"
		typename = `{"query": "{ __typename }"}`
		typeVar  = "query Type($name: String!) { __type(name: $name) { name } }"
	)
	type want struct {
		status      int
		minStatus   int    // with maxStatus: a range instead of status
		maxStatus   int    //
		contentType string // a part of Content-Type
		errors      int    // 1: the body has errors; -1: it has none; 0: not checked
		noData      bool   // the body has no data entry
	}
	type rule struct {
		id, name    string
		method      string
		contentType string // "" sends none; "-" with POST sends no body either
		accept      string
		body        string
		query       url.Values // GET
		want        want
	}
	post := func(id, name, accept, body string, w want) rule {
		return rule{id: id, name: name, method: http.MethodPost, contentType: appJSON, accept: accept, body: body, want: w}
	}
	invalidValues := []struct{ json, kind string }{{`{"obj": "ect"}`, "object"}, {`0`, "number"}, {`false`, "boolean"}, {`["array"]`, "array"}}
	invalidMaps := []struct{ json, kind string }{{`"string"`, "string"}, {`0`, "number"}, {`false`, "boolean"}, {`["array"]`, "array"}}
	ok200 := want{status: 200, errors: -1}
	errs200 := want{status: 200, errors: 1, contentType: appJSON}
	bad400 := want{status: 400, errors: 1, noData: true, contentType: gqlResp}

	const coerce = `{"query": "query CoerceFailure($id: ID!){ __typename }", "variables": {"id": null}}`
	rules := []rule{
		post("22EB", "accepts application/graphql-response+json and matches the content-type", gqlResp, typename, want{status: 200, contentType: gqlResp}),
		post("4655", "accepts application/json and matches the content-type", appJSON, typename, want{status: 200, contentType: appJSON}),
		post("47DE", "accepts */* and uses application/json", "*/*", typename, want{status: 200, contentType: appJSON}),
		{id: "80D8", name: "assumes application/json when Accept is missing (GET)", method: http.MethodGet,
			query: url.Values{"query": {"{ __typename }"}}, want: want{status: 200, contentType: appJSON}},
		post("82A3", "responds in UTF-8", "", typename, want{status: 200}),
		{id: "BF61", name: "accepts a utf-8 encoded request", method: http.MethodPost, contentType: appJSON + "; charset=utf-8", body: typename, want: want{status: 200}},
		post("78D5", "assumes utf-8 when the request names no charset", "", typename, want{status: 200}),
		post("2C94", "accepts POST", "", typename, want{status: 200}),
		{id: "5A70", name: "accepts GET with the query string", method: http.MethodGet, query: url.Values{"query": {"{ __typename }"}}, want: want{status: 200}},
		{id: "9C48", name: "refuses mutations over GET", method: http.MethodGet, accept: gqlResp,
			query: url.Values{"query": {"mutation { logout }"}}, want: want{minStatus: 400, maxStatus: 499}},
		{id: "9ABE", name: "refuses POST without a content-type with 4xx", method: http.MethodPost, contentType: "-", want: want{minStatus: 400, maxStatus: 499}},
		post("03D4", "accepts application/json POST requests", "", typename, want{status: 200}),
		{id: "A5BF", name: "400 on POST without a body", method: http.MethodPost, contentType: appJSON, want: want{status: 400, errors: 1, noData: true}},
		post("423L", "400 on a missing query", gqlResp, `{"notquery": "{ __typename }"}`, bad400),
		post("34A2", "string query (graphql-response+json)", gqlResp, typename, want{status: 200}),
		post("13EE", "string query (json)", appJSON, typename, ok200),
		post("8161", "string operationName (graphql-response+json)", gqlResp, `{"operationName": "Query", "query": "query Query { __typename }"}`, want{status: 200}),
		post("B8B3", "string operationName (json)", appJSON, `{"operationName": "Query", "query": "query Query { __typename }"}`, ok200),
		post("2EA1", "map variables (graphql-response+json)", gqlResp, `{"query": "`+typeVar+`", "variables": {"name": "sometype"}}`, want{status: 200}),
		post("28B9", "map variables (json)", appJSON, `{"query": "`+typeVar+`", "variables": {"name": "sometype"}}`, ok200),
		{id: "D6D5", name: "URL-encoded JSON variables in GET (graphql-response+json)", method: http.MethodGet, accept: gqlResp,
			query: url.Values{"query": {typeVar}, "variables": {`{"name": "sometype"}`}}, want: want{status: 200}},
		{id: "6A70", name: "URL-encoded JSON variables in GET (json)", method: http.MethodGet, accept: appJSON,
			query: url.Values{"query": {typeVar}, "variables": {`{"name": "sometype"}`}}, want: ok200},
		post("428F", "map extensions (graphql-response+json)", gqlResp, `{"query": "{ __typename }", "extensions": {"some": "value"}}`, want{status: 200}),
		post("1B7A", "map extensions (json)", appJSON, `{"query": "{ __typename }", "extensions": {"some": "value"}}`, ok200),
		post("B6DC", "2xx, 4xx or 5xx on a body that is not JSON (json)", appJSON, `{ "not a JSON`, want{minStatus: 200, maxStatus: 599}),
		post("BCF8", "400 on a body that is not JSON (json)", appJSON, `{ "not a JSON`, want{status: 400, errors: 1, noData: true, contentType: appJSON}),
		post("B7N8", "400 on a body that is not JSON (graphql-response+json)", gqlResp, `{ "not a JSON`, bad400),
		post("8764", "4xx or 5xx on invalid parameters", "", `{"qeury": "{ __typename }"}`, want{minStatus: 400, maxStatus: 599}),
		post("3E3A", "400 on invalid parameters", "", `{"qeury": "{ __typename }"}`, want{status: 400, errors: 1, noData: true}),
		post("572B", "200 on a document that does not parse (json)", appJSON, `{"query": "{"}`, errs200),
		post("FDE2", "200 on a document that does not validate (json)", appJSON, `{"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"}`, errs200),
		post("7B9B", "200 on variables that do not coerce (json)", appJSON, coerce, errs200),
		post("865D", "4xx or 5xx on a document that does not parse (graphql-response+json)", gqlResp, `{"query": "{"}`, want{minStatus: 400, maxStatus: 599}),
		post("556A", "400 on a document that does not parse (graphql-response+json)", gqlResp, `{"query": "{"}`, bad400),
		post("D586", "no data entry on a document that does not parse (graphql-response+json)", gqlResp, `{"query": "{"}`, want{noData: true}),
		post("51FE", "4xx or 5xx on a document that does not validate (graphql-response+json)", gqlResp, `{"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"}`, want{minStatus: 400, maxStatus: 599}),
		post("74FF", "400 on a document that does not validate (graphql-response+json)", gqlResp, `{"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"}`, bad400),
		post("5E5B", "no data entry on a document that does not validate (graphql-response+json)", gqlResp, `{"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"}`, want{noData: true}),
		post("86EE", "400 on variables that do not coerce (graphql-response+json)", gqlResp, coerce, bad400),
	}
	for i, v := range invalidValues {
		d := string(rune('0' + i))
		rules = append(rules,
			post("LKJ"+d, v.kind+" query: 400", "", `{"query": `+v.json+`}`, want{status: 400, errors: 1, noData: true}),
			post("6C0"+d, v.kind+" operationName: 400", "", `{"operationName": `+v.json+`, "query": "{ __typename }"}`, want{status: 400, errors: 1, noData: true}))
	}
	for i, v := range invalidMaps {
		d := string(rune('0' + i))
		rules = append(rules,
			post("476"+d, v.kind+" variables: 400", "", `{"query": "{ __typename }", "variables": `+v.json+`}`, want{status: 400, errors: 1, noData: true}),
			post("58B"+d, v.kind+" extensions: 400", "", `{"query": "{ __typename }", "extensions": `+v.json+`}`, want{status: 400, errors: 1, noData: true}))
	}
	for i, param := range []string{"variables", "operationName", "extensions"} {
		d := string(rune('0' + i))
		body := `{"query": "{ __typename }", "` + param + `": null}`
		rules = append(rules,
			post("94B"+d, "null "+param+" (graphql-response+json)", gqlResp, body, want{status: 200, errors: -1}),
			post("022"+d, "null "+param+" (json)", appJSON, body, ok200))
	}
	if len(rules) != 61 {
		t.Fatalf("%d rules; the audit has 61", len(rules))
	}
	// Beyond the audit: graphql-sse's single connection mode is refused
	// with what to use instead.
	rules = append(rules, rule{id: "SSE1", name: "PUT (a graphql-sse stream reservation) answers 405", method: http.MethodPut, contentType: "-", want: want{status: 405, errors: 1}})

	for _, r := range rules {
		t.Run(r.id+" "+r.name, func(t *testing.T) {
			u := hs.URL
			if r.query != nil {
				u += "?" + r.query.Encode()
			}
			var body io.Reader
			if r.body != "" {
				body = strings.NewReader(r.body)
			}
			req, err := http.NewRequestWithContext(context.Background(), r.method, u, body)
			if err != nil {
				t.Fatal(err)
			}
			if r.contentType != "" && r.contentType != "-" {
				req.Header.Set("Content-Type", r.contentType)
			}
			if r.accept != "" {
				req.Header.Set("Accept", r.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			w := r.want
			switch {
			case w.status != 0 && resp.StatusCode != w.status:
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, w.status, raw)
			case w.minStatus != 0 && (resp.StatusCode < w.minStatus || resp.StatusCode > w.maxStatus):
				t.Fatalf("status %d, want %d-%d: %s", resp.StatusCode, w.minStatus, w.maxStatus, raw)
			}
			if ct := resp.Header.Get("Content-Type"); w.contentType != "" && !strings.Contains(ct, w.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, w.contentType)
			}
			var result map[string]json.RawMessage
			if w.errors != 0 || w.noData {
				if err := json.Unmarshal(raw, &result); err != nil {
					t.Fatalf("body is not a JSON object: %v: %s", err, raw)
				}
			}
			if _, has := result["errors"]; (w.errors == 1 && !has) || (w.errors == -1 && has) {
				t.Errorf("errors present = %v, want %v: %s", has, w.errors == 1, raw)
			}
			if _, has := result["data"]; w.noData && has {
				t.Errorf("a data entry: %s", raw)
			}
		})
	}
	// Client mistakes are logged at debug level, never with the request.
	if strings.Contains(logged.String(), "level=ERROR") || strings.Contains(logged.String(), "not a JSON") || strings.Contains(logged.String(), "qeury") {
		t.Errorf("client mistakes logged as errors or with their request:\n%s", logged.String())
	}
	if !strings.Contains(logged.String(), "level=DEBUG msg=\"graphql request refused\"") {
		t.Errorf("refusals not logged at debug level:\n%s", logged.String())
	}
}

func TestResponseMedia(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  mediaJSON,
		"*/*":                               mediaJSON,
		"application/json":                  mediaJSON,
		"application/graphql-response+json": mediaGraphQLResponse,
		"application/graphql-response+json, application/json;q=0.9": mediaGraphQLResponse,
		"application/json, application/graphql-response+json":       mediaJSON,
		"application/json;q=0.5, application/graphql-response+json": mediaGraphQLResponse,
		"text/html":                             mediaJSON,
		"application/graphql-response+json;q=0": mediaJSON,
	} {
		if got := responseMedia(accept); got != want {
			t.Errorf("Accept %q: %s, want %s", accept, got, want)
		}
	}
}
