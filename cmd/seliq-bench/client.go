package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// api is an HTTP client of one server, logged in as the admin.
type api struct {
	base  string
	http  *http.Client
	token string // bearer token; empty before login
}

func newAPI(base string) *api {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &api{base: base, http: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}
}

// call sends body (JSON-encoded unless nil) and returns the status and the
// response body. headers are extra request headers.
func (a *api) call(ctx context.Context, method, path string, body any, headers map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return res.StatusCode, raw, nil
}

// expect calls and decodes a JSON answer into out (when not nil), failing
// on any status but want.
func (a *api) expect(ctx context.Context, want int, method, path string, body, out any) error {
	status, raw, err := a.call(ctx, method, path, body, nil)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %.500s", method, path, status, want, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// ingest posts body to the ingest route with a connector key and returns
// the answer, failing on any status but 202.
func (a *api) ingest(ctx context.Context, key string, body any) ([]byte, error) {
	status, raw, err := a.call(ctx, http.MethodPost, "/api/v1/alerts/ingest", body, map[string]string{"X-API-Key": key})
	if err != nil {
		return nil, err
	}
	if status != http.StatusAccepted {
		return nil, fmt.Errorf("ingest: status %d: %.300s", status, raw)
	}
	return raw, nil
}

// identity is the logged-in admin.
type identity struct {
	UserID uuid.UUID `json:"id"`
	OrgID  uuid.UUID `json:"organization_id"`
}

// login exchanges the admin's password for a bearer token and returns who
// the admin is.
func (a *api) login(ctx context.Context, cred credentials) (identity, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := a.expect(ctx, http.StatusOK, http.MethodPost, "/api/v1/auth/login",
		map[string]string{"email": cred.email, "password": cred.password}, &tok); err != nil {
		return identity{}, err
	}
	a.token = tok.AccessToken
	var me identity
	err := a.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/users/me", nil, &me)
	return me, err
}

// connector is a created connector and its key (shown once).
type connector struct {
	ID     uuid.UUID `json:"id"`
	APIKey string    `json:"api_key"`
}

// createConnector creates a push connector of a catalogue type. limit is
// its posts per minute (0: the server's default).
func (a *api) createConnector(ctx context.Context, name, typ string, limit int) (connector, error) {
	body := map[string]any{"name": name, "type": typ}
	if limit > 0 {
		body["rate_limit_per_minute"] = limit
	}
	var c connector
	err := a.expect(ctx, http.StatusCreated, http.MethodPost, "/api/v1/connectors", body, &c)
	return c, err
}

// graphql runs a query and decodes its data into out, failing on errors.
func (a *api) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := a.expect(ctx, http.StatusOK, http.MethodPost, "/graphql",
		map[string]any{"query": query, "variables": vars}, &res); err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("graphql: %s", res.Errors[0].Message)
	}
	return json.Unmarshal(res.Data, out)
}
