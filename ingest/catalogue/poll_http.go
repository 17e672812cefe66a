package catalogue

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// maxAttempts of one request: the first and two retries after a 5xx,
	// a 429 or a dropped connection.
	maxAttempts = 3
	// maxWait is the longest Retry-After honoured inside a poll; a longer
	// one ends the poll and the next is scheduled after it.
	maxWait = 30 * time.Second
	// maxResponseBytes bounds one answer of a vendor.
	maxResponseBytes = 16 << 20
	// tokenMargin: a token expiring sooner than this is refreshed first.
	tokenMargin = 60 * time.Second
)

// vendorClient makes a vendor's requests: retries with backoff, Retry-After,
// a bounded body, errors in words.
type vendorClient struct {
	vendor  string
	http    *http.Client
	backoff time.Duration
	// auth sets the credential on a request; refresh (optional) drops a
	// cached token after a 401, so one retry gets a new one.
	auth    func(ctx context.Context, r *http.Request) error
	refresh func()
}

// request is one call: method, URL, optional JSON or form body.
type request struct {
	method string
	url    string
	json   any
	form   url.Values
	header http.Header
}

// do sends r and decodes a 2xx JSON answer into out.
func (c *vendorClient) do(ctx context.Context, r request, out any) error {
	var body []byte
	if r.json != nil {
		var err error
		if body, err = json.Marshal(r.json); err != nil {
			return err
		}
	} else if r.form != nil {
		body = []byte(r.form.Encode())
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		status, data, hdr, err := c.once(ctx, r, body)
		var wait time.Duration
		var pe *PollError
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &pe):
			return err // a login that failed, a bad URL, an oversized answer: not retried
		case err != nil:
			if attempt >= maxAttempts {
				return &PollError{Vendor: c.vendor, Reason: "cannot reach the API: " + describeNetError(err), Err: err}
			}
			wait = c.backoff << (attempt - 1)
		case status >= 200 && status < 300:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return &PollError{Vendor: c.vendor, Status: status, Reason: "the answer is not the JSON the API documents: " + clip(err.Error(), 200), Err: err}
			}
			return nil
		case status == http.StatusUnauthorized && c.refresh != nil && !refreshed:
			// An access token can expire between our check and the call.
			c.refresh()
			refreshed = true
			continue
		case status == http.StatusTooManyRequests || status >= 500:
			wait = retryAfter(hdr, time.Now())
			if wait > maxWait {
				return &PollError{Vendor: c.vendor, Status: status, Reason: "rate limited; the API asked to wait " + wait.Round(time.Second).String(), RetryAfter: wait}
			}
			if attempt >= maxAttempts {
				return &PollError{Vendor: c.vendor, Status: status, Reason: statusReason(status, data), RetryAfter: wait}
			}
			if wait == 0 {
				wait = c.backoff << (attempt - 1)
			}
		default:
			return &PollError{Vendor: c.vendor, Status: status, Reason: statusReason(status, data)}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (c *vendorClient) once(ctx context.Context, r request, body []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, &PollError{Vendor: c.vendor, Reason: "bad request URL: " + clip(err.Error(), 200), Err: err}
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case r.json != nil:
		req.Header.Set("Content-Type", "application/json")
	case r.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.auth != nil {
		if err := c.auth(ctx, req); err != nil {
			return 0, nil, nil, err
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, err
	}
	if len(data) > maxResponseBytes {
		return 0, nil, nil, &PollError{Vendor: c.vendor, Status: resp.StatusCode, Reason: fmt.Sprintf("the answer exceeds %d bytes; lower the page size", maxResponseBytes)}
	}
	return resp.StatusCode, data, resp.Header, nil
}

// retryAfter reads Retry-After (seconds or an HTTP date); 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		// Some vendors (CrowdStrike) say when the window resets instead.
		if r := h.Get("X-RateLimit-RetryAfter"); r != "" {
			if sec, err := strconv.ParseInt(r, 10, 64); err == nil {
				return max(time.Unix(sec, 0).Sub(now), 0)
			}
		}
		return 0
	}
	if sec, err := strconv.Atoi(v); err == nil && sec >= 0 {
		return time.Duration(sec) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// statusReason says what a status means for whoever fixes the connector,
// with the vendor's own short message when it gives one.
func statusReason(status int, body []byte) string {
	var hint string
	switch {
	case status == http.StatusUnauthorized:
		hint = "the credentials were refused; check them and enter them again"
	case status == http.StatusForbidden:
		hint = "the credentials lack the permission to read alerts (see the README for the scopes each vendor needs)"
	case status == http.StatusNotFound:
		hint = "the API path was not found; check base_url (and the index or search name)"
	case status == http.StatusTooManyRequests:
		hint = "rate limited, still after retries"
	case status >= 500:
		hint = "the vendor's server failed, still after retries"
	default:
		hint = "the request was refused"
	}
	if msg := vendorMessage(body); msg != "" {
		hint += " (" + msg + ")"
	}
	return hint
}

// vendorMessage picks a short error message out of common error shapes.
func vendorMessage(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	msg := gs(v, "errors.0.message", "errors.0.title", "errors.0.detail", "error.reason", "error.message", "error_description", "messages.0.text", "message", "detail", "error")
	return clip(oneLine(msg), 200)
}

// describeNetError turns a transport error into words without the
// internals of the dialer (addresses the policy refused stay in the log).
func describeNetError(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "refused by policy"):
		return "the address is not allowed by the outbound policy (private and loopback addresses need SELIQ_OUTBOUND_ALLOW or the provider's allowlist)"
	case strings.Contains(s, "certificate"):
		return "TLS certificate not trusted (" + clip(s, 160) + ")"
	case strings.Contains(s, "Client.Timeout") || strings.Contains(s, "deadline exceeded"):
		return "timed out"
	case strings.Contains(s, "no such host"):
		return "the host name does not resolve"
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	}
	return clip(s, 200)
}

// TokenCache keeps OAuth2 access tokens between polls, so a connector
// polled every minute does not log in every minute.
type TokenCache struct {
	mu     sync.Mutex
	tokens map[string]cachedToken
}

type cachedToken struct {
	value   string
	expires time.Time
}

// NewTokenCache returns an empty cache.
func NewTokenCache() *TokenCache { return &TokenCache{tokens: map[string]cachedToken{}} }

func (c *TokenCache) get(key string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[key]
	if !ok || now.Add(tokenMargin).After(t.expires) {
		return "", false
	}
	return t.value, true
}

func (c *TokenCache) put(key, value string, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens[key] = cachedToken{value: value, expires: expires}
}

func (c *TokenCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tokens, key)
}

// clientCredentials is an OAuth2 client-credentials grant (RFC 6749 §4.4)
// whose token is cached until a minute before it expires.
type clientCredentials struct {
	vendor   string
	http     *http.Client
	backoff  time.Duration
	tokenURL string
	form     url.Values // client_id, client_secret, scope, vendor extras
	cache    *TokenCache
	key      string
}

func newClientCredentials(cfg PollConfig, vendor, tokenURL string, form url.Values) *clientCredentials {
	// The key covers where and with what we log in: changed credentials
	// never reuse a token obtained with the old ones.
	h := sha256.Sum256([]byte(tokenURL + "\x00" + form.Encode()))
	return &clientCredentials{vendor: vendor, http: cfg.HTTP, backoff: cfg.Backoff, tokenURL: tokenURL, form: form,
		cache: cfg.Tokens, key: cfg.TokenKey + ":" + hex.EncodeToString(h[:8])}
}

// token returns a valid access token, logging in when none is cached or
// the cached one expires within a minute.
func (cc *clientCredentials) token(ctx context.Context) (string, error) {
	if t, ok := cc.cache.get(cc.key, time.Now()); ok {
		return t, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range cc.form {
		form[k] = v
	}
	var out struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	login := &vendorClient{vendor: cc.vendor, http: cc.http, backoff: cc.backoff}
	err := login.do(ctx, request{method: http.MethodPost, url: cc.tokenURL, form: form}, &out)
	var pe *PollError
	if errors.As(err, &pe) && (pe.Status == http.StatusUnauthorized || pe.Status == http.StatusBadRequest || pe.Status == http.StatusForbidden) {
		pe.Reason = "login refused: check client_id and client_secret (" + pe.Reason + ")"
	}
	if err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", &PollError{Vendor: cc.vendor, Reason: "the token endpoint answered without an access_token"}
	}
	secs, err := strconv.Atoi(strings.Trim(string(out.ExpiresIn), `"`))
	if err != nil || secs <= 0 {
		secs = 300
	}
	cc.cache.put(cc.key, out.AccessToken, time.Now().Add(time.Duration(secs)*time.Second))
	return out.AccessToken, nil
}

// bearer is a vendorClient auth function sending the access token.
func (cc *clientCredentials) bearer(ctx context.Context, r *http.Request) error {
	t, err := cc.token(ctx)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+t)
	return nil
}

func (cc *clientCredentials) forget() { cc.cache.drop(cc.key) }
