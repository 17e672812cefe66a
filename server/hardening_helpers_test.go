package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
)

// rawDo sends a request with exactly the given method and headers (the
// harness's client cannot send either) and returns the status, headers and
// body.
func rawDo(t *testing.T, env *apitest.Env, method, path, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}
