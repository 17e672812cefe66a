package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// A pull connector's type has a NewPoller (its own file, <key>_poll.go,
// beside the mapping): the vendor's query API read page by page from a
// checkpoint. Pollers speak HTTP through the client they are given (the
// outbound policy's) and never touch the database; the pull package saves
// each page's checkpoint in the transaction of the page's alerts.

// Poller fetches a vendor's alerts one page at a time.
type Poller interface {
	// Fetch returns the records after checkpoint; "" is the first poll,
	// which starts at PollConfig.Since. A page may be empty.
	Fetch(ctx context.Context, checkpoint string) (Page, error)
}

// Page is one answer of a Poller.
type Page struct {
	// Records are the vendor's own records, each one the type's Map
	// accepts as pushed (so a poll and a push of the same record map alike).
	Records []json.RawMessage
	// Checkpoint is where the next Fetch starts; it is stored with the
	// alerts of Records, so a crash loses or repeats neither.
	Checkpoint string
	// More says the vendor holds further records now: fetch again.
	More bool
}

// PollConfig is what a Poller is built from.
type PollConfig struct {
	// Settings are the connector's settings, secrets in clear.
	Settings map[string]any
	// HTTP makes every call (the outbound policy's client, with timeouts).
	HTTP *http.Client
	// Since is where a first poll starts (now minus the look-back).
	Since time.Time
	// Tokens keeps OAuth2 access tokens between polls; TokenKey names this
	// connector in it.
	Tokens   *TokenCache
	TokenKey string
	// Backoff is the first wait after a 5xx or a 429 without Retry-After,
	// doubled per attempt; default 1 s.
	Backoff time.Duration
	// PageSize overrides the vendor page size (tests); 0 keeps the default.
	PageSize int
	// Now is the clock of pollers that query time windows (Splunk);
	// default time.Now.
	Now func() time.Time
}

func (c PollConfig) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c PollConfig) pageSize(def int) int {
	if c.PageSize > 0 {
		return c.PageSize
	}
	return def
}

// setting returns a string setting, trimmed.
func (c PollConfig) setting(name string) string {
	s, _ := c.Settings[name].(string)
	return strings.TrimSpace(s)
}

// settingOr returns a string setting or def when it is empty.
func (c PollConfig) settingOr(name, def string) string {
	if s := c.setting(name); s != "" {
		return s
	}
	return def
}

// settingList returns a list-of-strings setting.
func (c PollConfig) settingList(name string) []string {
	var out []string
	switch v := c.Settings[name].(type) {
	case []string:
		out = slices.Clone(v)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	}
	return out
}

// settingInt returns an integer setting or def when it is unset.
// Settings arrive as int64 when validated and float64 when read back.
func (c PollConfig) settingInt(name string, def int) int {
	switch v := c.Settings[name].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	if f, ok := num(c.Settings[name]); ok {
		return int(f)
	}
	return def
}

// baseURL returns the base_url setting (or def) without a trailing slash.
func (c PollConfig) baseURL(def string) (string, error) {
	u := strings.TrimRight(c.settingOr("base_url", def), "/")
	if u == "" {
		return "", &PollError{Reason: "no base_url is set"}
	}
	return u, nil
}

// NewPoller builds the poller of the type key; ErrNoPoller if the type
// cannot be polled.
func NewPoller(key string, cfg PollConfig) (Poller, error) {
	t, ok := Lookup(key)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, key)
	}
	if t.NewPoller == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoPoller, t.Name)
	}
	if cfg.HTTP == nil {
		return nil, errors.New("catalogue: poller without an HTTP client")
	}
	if cfg.Tokens == nil {
		cfg.Tokens = NewTokenCache()
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	return t.NewPoller(cfg)
}

// ErrNoPoller: the type has no query API Seliq can poll.
var ErrNoPoller = errors.New("catalogue: this connector type cannot be polled")

// PollError is a failed poll, in words an administrator can act on. It
// never quotes the vendor's body beyond a short message, and never a
// credential.
type PollError struct {
	Vendor string
	Status int    // HTTP status, 0 when none was received
	Reason string // what went wrong and what to check
	// RetryAfter is how long the vendor asked us to wait (429, 503).
	RetryAfter time.Duration
	Err        error
}

func (e *PollError) Error() string {
	var b strings.Builder
	if e.Vendor != "" {
		b.WriteString(e.Vendor)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d %s: ", e.Status, http.StatusText(e.Status))
	}
	b.WriteString(e.Reason)
	return b.String()
}

func (e *PollError) Unwrap() error { return e.Err }

// timeCursor is the checkpoint of APIs queried by creation time: the
// newest time read, and the ids read at exactly that time. The next query
// asks for times at or after Since (ties are common at a second's
// precision) and drops the ids already read, so nothing is skipped and
// nothing read twice.
type timeCursor struct {
	Since time.Time `json:"since"`
	Seen  []string  `json:"seen,omitempty"`
	// Cursor is the vendor's own paging token within one query, if any.
	Cursor string `json:"cursor,omitempty"`
}

// maxSeen bounds the ids kept for one timestamp.
const maxSeen = 1000

func readTimeCursor(checkpoint string, since time.Time) (timeCursor, error) {
	if checkpoint == "" {
		return timeCursor{Since: since.UTC()}, nil
	}
	var c timeCursor
	if err := json.Unmarshal([]byte(checkpoint), &c); err != nil {
		return c, fmt.Errorf("catalogue: unreadable checkpoint: %w", err)
	}
	return c, nil
}

func (c timeCursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// seen reports whether id was read at time t already.
func (c timeCursor) seen(id string, t time.Time) bool {
	return t.Equal(c.Since) && slices.Contains(c.Seen, id)
}

// advance moves the cursor past a record read at t.
func (c *timeCursor) advance(id string, t time.Time) {
	switch {
	case t.After(c.Since):
		c.Since, c.Seen = t, []string{id}
	case t.Equal(c.Since) && !slices.Contains(c.Seen, id) && len(c.Seen) < maxSeen:
		c.Seen = append(c.Seen, id)
	}
}
