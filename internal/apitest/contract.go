package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The contract check: every REST exchange a test makes through Client is
// checked against the OpenAPI document the server serves, with
// kin-openapi's openapi3filter. The response must be one the document
// declares for the operation (status, headers, body); a request the
// document refuses must not succeed. So the document cannot drift from the
// server without some test noticing.

// contract is the document's router, loaded once per test binary: the
// document is generated from code, the same for every server.
type contract struct {
	router routers.Router
	err    error
}

var (
	contractOnce sync.Once
	loaded       contract
)

func (e *Env) contract() (*contract, error) {
	contractOnce.Do(func() {
		resp, err := http.Get(e.URL + "/api/v1/openapi.json")
		if err != nil {
			loaded.err = err
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			loaded.err = err
			return
		}
		loaded.router, loaded.err = newRouter(raw)
	})
	return &loaded, loaded.err
}

func newRouter(raw []byte) (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	doc.Servers = nil // match any host: the test server's port varies
	return legacy.NewRouter(doc)
}

// formats asserts the string formats the document uses beyond kin-openapi's
// defaults: ids are UUIDs of any version (Seliq's are version 7).
var formats = []openapi3.SchemaValidationOption{
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
	openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
}

// Counters of the exchanges checked, for ContractStats.
var checked, refused, invalid, predicted atomic.Int64

// ContractStats reports how many REST exchanges of this test binary were
// checked against the document, how many requests it refused, how many
// 422 answers the server gave and how many of those the document predicted
// (the rest are refusals JSON Schema cannot express: "until after since",
// a taken email...).
func ContractStats() string {
	return fmt.Sprintf("%d exchanges checked, %d requests refused by the document, %d answered 422, %d of them predicted by the document",
		checked.Load(), refused.Load(), invalid.Load(), predicted.Load())
}

// Violation is one exchange the document does not describe.
type violation struct {
	method, path string
	status       int
	problem      string
}

// checkContract validates one REST exchange; what it finds is reported
// when the test that started the server ends (c.env.T may be a parent of
// the test making the request).
func (c *Client) checkContract(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") || req.URL.Path == "/api/v1/openapi.json" {
		return
	}
	ct, err := c.env.contract()
	if err != nil {
		c.env.addViolation(violation{req.Method, req.URL.Path, resp.StatusCode, err.Error()})
		return
	}
	if problem := check(ct.router, req, reqBody, resp, respBody); problem != "" {
		c.env.addViolation(violation{req.Method, req.URL.Path, resp.StatusCode, problem})
	}
}

// check returns what the document says is wrong with one exchange, or "".
func check(router routers.Router, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	// Paths are served with and without a trailing slash; the document
	// lists them without.
	probe := req.Clone(context.Background())
	if p := probe.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		u := *probe.URL
		u.Path = strings.TrimRight(p, "/")
		u.RawPath = ""
		probe.URL = &u
	}
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(probe)
	if err != nil {
		return "" // not a documented route: the tests of unknown paths and methods
	}
	checked.Add(1)
	opts := &openapi3filter.Options{
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus:   true,
		MultiError:              true,
		SchemaValidationOptions: formats,
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil {
		refused.Add(1)
	}
	if resp.StatusCode == http.StatusUnprocessableEntity {
		invalid.Add(1)
		if reqErr != nil {
			predicted.Add(1)
		}
	}
	var problems []string
	if reqErr != nil && resp.StatusCode < 300 {
		problems = append(problems, "the server accepted a request the document refuses: "+oneLine(reqErr.Error()))
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	respOpts := *opts
	respOpts.ExcludeResponseBody = mediaType != "application/json" // files: their media type is checked, not their bytes
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: &respOpts}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		problems = append(problems, "response does not match the document: "+oneLine(err.Error())+" — body: "+clip(string(respBody), 300))
	}
	return strings.Join(problems, "; ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (e *Env) addViolation(v violation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.violations = append(e.violations, v)
}

// reportViolations fails the server's test with every exchange the
// document does not describe.
func (e *Env) reportViolations() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range e.violations {
		e.T.Errorf("OpenAPI contract: %s %s → %d: %s", v.method, v.path, v.status, v.problem)
	}
}
