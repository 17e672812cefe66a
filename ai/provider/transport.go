package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seliq/seliq/outbound"
)

const (
	backoffBase = 200 * time.Millisecond
	backoffCap  = 5 * time.Second
	// maxRetryAfter is the longest Retry-After honoured inside a call;
	// beyond it the APIError (with RetryAfter set) goes back to the caller,
	// which can reschedule instead of holding a request open.
	maxRetryAfter   = 30 * time.Second
	maxResponseBody = 16 << 20
	maxErrorBody    = 64 << 10
	userAgent       = "seliq-ai-provider/1"
)

// APIError is an error answer from the provider: a non-2xx status, or an
// error event inside a stream (Status is then derived from the error type
// where the protocol defines one, else 0).
type APIError struct {
	Status  int
	Type    string
	Message string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

// HTTPStatus is the provider's status (zero for a stream's error event),
// for outbound.Classify.
func (e *APIError) HTTPStatus() int { return e.Status }

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("provider: ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	} else {
		b.WriteString("stream error")
	}
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// retryableStatus lists the statuses worth another attempt: rate limiting,
// transient server failures and Anthropic's 529 overloaded.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout, 529:
		return true
	}
	return false
}

// sendError marks a failure before any response byte arrived, which is safe
// to retry unless the guard refused the address.
type sendError struct{ err error }

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

var errStreamIdle = errors.New("provider: stream idle timeout")

// call is one HTTP exchange, kept as data so every attempt rebuilds it.
type call struct {
	method string
	url    string
	header http.Header
	body   []byte
}

type transport struct {
	client     *http.Client
	timeout    time.Duration
	maxRetries int
	// sleep waits between attempts; tests replace it to observe backoff.
	sleep func(ctx context.Context, d time.Duration) error
}

func newTransport(cfg Config) *transport {
	t := &transport{
		client:     cfg.HTTPClient,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		sleep:      sleepCtx,
	}
	if t.client == nil {
		t.client = newGuardedHTTPClient(cfg.Policy)
	}
	if t.timeout <= 0 {
		t.timeout = DefaultTimeout
	}
	switch {
	case t.maxRetries == 0:
		t.maxRetries = DefaultMaxRetries
	case t.maxRetries < 0:
		t.maxRetries = 0
	}
	return t
}

// doJSON performs c with retries and decodes a 2xx JSON body into out.
func (t *transport) doJSON(ctx context.Context, c call, out any) error {
	for attempt := 0; ; attempt++ {
		err := t.attemptJSON(ctx, c, out)
		wait, retry := t.retryWait(ctx, err, attempt)
		if !retry {
			return err
		}
		if err := t.sleep(ctx, wait); err != nil {
			return fmt.Errorf("provider: waiting to retry: %w", err)
		}
	}
}

func (t *transport) attemptJSON(ctx context.Context, c call, out any) error {
	actx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	resp, err := t.send(actx, c)
	if err != nil {
		return t.explain(ctx, actx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readAPIError(resp)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return fmt.Errorf("provider: reading response: %w", t.explain(ctx, actx, err))
	}
	if len(body) > maxResponseBody {
		return fmt.Errorf("provider: %w: larger than %d bytes", outbound.ErrBadResponse, maxResponseBody)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("provider: decoding response: %w: %w", outbound.ErrBadResponse, err)
	}
	return nil
}

// doStream performs c with retries and hands the event-stream body to
// consume. Once consume reports delivered text, the attempt is final: the
// caller has already shown those deltas.
func (t *transport) doStream(ctx context.Context, c call, consume func(io.Reader) (delivered bool, err error)) error {
	for attempt := 0; ; attempt++ {
		delivered, err := t.attemptStream(ctx, c, consume)
		if delivered {
			return err
		}
		wait, retry := t.retryWait(ctx, err, attempt)
		if !retry {
			return err
		}
		if err := t.sleep(ctx, wait); err != nil {
			return fmt.Errorf("provider: waiting to retry: %w", err)
		}
	}
}

func (t *transport) attemptStream(ctx context.Context, c call, consume func(io.Reader) (bool, error)) (bool, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The timeout bounds silence, not the whole stream: long answers
	// legitimately stream for minutes.
	idle := time.AfterFunc(t.timeout, func() { cancel(errStreamIdle) })
	defer idle.Stop()
	resp, err := t.send(actx, c)
	if err != nil {
		return false, t.explain(ctx, actx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return false, readAPIError(resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("provider: %w: expected text/event-stream, got %q", outbound.ErrBadResponse, resp.Header.Get("Content-Type"))
	}
	delivered, err := consume(&idleReader{r: resp.Body, timer: idle, d: t.timeout})
	if err != nil {
		err = t.explain(ctx, actx, err)
	}
	return delivered, err
}

// idleReader pushes the idle deadline back whenever bytes arrive.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.d)
	}
	return n, err
}

func (t *transport) send(ctx context.Context, c call) (*http.Response, error) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		return nil, fmt.Errorf("provider: building request: %w", err)
	}
	req.Header = c.header.Clone()
	req.Header.Set("User-Agent", userAgent)
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, &sendError{err: err}
	}
	return resp, nil
}

// explain names the per-attempt timeout when it, and not the caller's
// context, ended the attempt.
func (t *transport) explain(parent, attempt context.Context, err error) error {
	if parent.Err() != nil || attempt.Err() == nil {
		return err
	}
	if errors.Is(context.Cause(attempt), errStreamIdle) {
		return fmt.Errorf("provider: no data for %s: %w", t.timeout, err)
	}
	return fmt.Errorf("provider: timed out after %s: %w", t.timeout, err)
}

// retryWait decides whether err deserves another attempt and how long to
// wait first.
func (t *transport) retryWait(ctx context.Context, err error, attempt int) (time.Duration, bool) {
	if err == nil || attempt >= t.maxRetries || ctx.Err() != nil {
		return 0, false
	}
	var wait time.Duration
	var apiErr *APIError
	var sendErr *sendError
	switch {
	case errors.As(err, &apiErr):
		if !retryableStatus(apiErr.Status) || apiErr.RetryAfter > maxRetryAfter {
			return 0, false
		}
		wait = apiErr.RetryAfter
	case errors.As(err, &sendErr):
		if errors.Is(err, ErrBlockedAddress) {
			return 0, false
		}
	default:
		return 0, false
	}
	if wait == 0 {
		wait = backoff(attempt)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return 0, false
	}
	return wait, true
}

// backoff is exponential with equal jitter: half the step is fixed so
// retries never bunch at zero, half is random so clients spread out.
func backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 6 {
		d = min(backoffCap, backoffBase<<attempt)
	}
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// readAPIError turns a non-2xx response into an APIError. Both protocols
// put {message, type} under "error"; some OpenAI-compatible servers (Ollama)
// send "error" as a plain string.
func readAPIError(resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header)}
	if resp.StatusCode/100 == 3 {
		e.Message = "redirect to " + resp.Header.Get("Location") + " not followed"
		return e
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e.Type, e.Message = parseErrorBody(body)
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

func parseErrorBody(body []byte) (typ, msg string) {
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Error) == 0 {
		return "", truncate(strings.TrimSpace(string(body)), 500)
	}
	var obj struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(env.Error, &obj) == nil {
		return obj.Type, obj.Message
	}
	var s string
	if json.Unmarshal(env.Error, &s) == nil {
		return "", s
	}
	return "", truncate(string(env.Error), 500)
}

// retryAfter reads OpenAI's retry-after-ms, then the standard Retry-After
// in seconds or as an HTTP date.
func retryAfter(h http.Header) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if when, err := http.ParseTime(v); err == nil {
		return max(time.Until(when), 0)
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// jsonHeader is the common header of a JSON request; stream asks for an
// event stream back.
func jsonHeader(stream bool) http.Header {
	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	return http.Header{"Content-Type": {"application/json"}, "Accept": {accept}}
}
