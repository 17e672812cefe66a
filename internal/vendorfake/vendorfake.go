// Package vendorfake is a local stand-in for the security vendors' query
// APIs that pull connectors poll, for tests. One Server speaks one vendor's
// documented protocol (paths, authentication, filters, sort and paging,
// error shapes) over a store of records the test adds, and can be told to
// misbehave the ways real APIs do: rate limits with Retry-After, a 500 in
// the middle of paging, access tokens that expire early.
//
// It speaks only the wire protocols and does not import Seliq's pollers,
// so their tests check them against the protocol, not against themselves.
package vendorfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seliq/seliq/outbound"
)

// Policy is the outbound policy that lets a client reach fake servers
// (they listen on loopback).
func Policy() *outbound.Policy { return outbound.NewPolicy(netip.MustParsePrefix("127.0.0.0/8")) }

// Record is one vendor record: its id, the time the vendor filters and
// sorts on, and the document the API returns.
type Record struct {
	ID   string
	Time time.Time
	Doc  json.RawMessage
}

// Server is a fake vendor API.
type Server struct {
	*httptest.Server
	t      testing.TB
	mu     sync.Mutex
	recs   []Record
	faults []fault
	// requests counts the API calls by path (token calls included).
	requests map[string]int
	// tokens are the access tokens issued and still valid.
	tokens map[string]bool
	issued int
	// Credentials the server accepts.
	creds Credentials
	// hold, when set, stops the next API call until released.
	hold     *gate
	inFlight int
	maxIn    int
	// openPITs counts open points in time (Elastic).
	openPITs func() int
}

// OpenPITs returns how many points in time are open: a poller closes
// the ones it opens once caught up.
func (s *Server) OpenPITs() int {
	if s.openPITs == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openPITs()
}

// gate is a held API call: entered closes when it arrives, release lets
// it through.
type gate struct {
	after   int // calls to let through first
	entered chan struct{}
	release chan struct{}
}

// Hold makes the API call after the next `after` ones wait until release
// is called; entered closes when that call arrives.
func (s *Server) Hold(after int) (entered <-chan struct{}, release func()) {
	g := &gate{after: after, entered: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	s.hold = g
	s.mu.Unlock()
	var once sync.Once
	return g.entered, func() { once.Do(func() { close(g.release) }) }
}

// MaxInFlight returns the most API calls the server ever served at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

// track counts a call in flight until done is called, and holds it if
// Hold asked.
func (s *Server) track() (done func()) {
	s.mu.Lock()
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	g := s.hold
	if g != nil && g.after > 0 {
		g.after--
		g = nil
	} else {
		s.hold = nil
	}
	s.mu.Unlock()
	if g != nil {
		close(g.entered)
		<-g.release
	}
	return func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}
}

// Credentials are what a Server accepts: an API token or key, or an
// OAuth2 client id and secret.
type Credentials struct {
	Token        string // SentinelOne ApiToken, Splunk bearer, Elastic ApiKey
	ClientID     string // OAuth2 client credentials
	ClientSecret string
	User         string // basic auth (Wazuh indexer)
	Password     string
	// TLS serves HTTPS with a certificate no client trusts, as an
	// on-premises SIEM with a self-signed one does.
	TLS bool
}

// fault is a scripted misbehaviour of the nth next API call.
type fault struct {
	after      int // API calls to let through first
	status     int
	retryAfter string
}

func newServer(t testing.TB, creds Credentials, handler func(s *Server) http.Handler) *Server {
	s := &Server{t: t, creds: creds, requests: map[string]int{}, tokens: map[string]bool{}}
	h := handler(s)
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.track()()
		h.ServeHTTP(w, r)
	})
	if creds.TLS {
		s.Server = httptest.NewTLSServer(serve)
	} else {
		s.Server = httptest.NewServer(serve)
	}
	t.Cleanup(s.Close)
	return s
}

// Add stores records; the API returns them by Time, then ID.
func (s *Server) Add(recs ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, recs...)
	slices.SortStableFunc(s.recs, func(a, b Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}

// RateLimit makes the API call after the next `after` ones answer 429 with
// Retry-After (seconds, or "" for none).
func (s *Server) RateLimit(after int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{after: after, status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

// Fail makes the API call after the next `after` ones answer status.
func (s *Server) Fail(after, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{after: after, status: status})
}

// ExpireTokens invalidates every access token issued so far, as if they
// expired before the expiry they announced.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Requests returns how many calls reached path.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// TokensIssued returns how many access tokens the server issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// injected answers a scripted fault for this call, if one is due; it
// counts the call either way.
func (s *Server) injected(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	var due *fault
	rest := s.faults[:0]
	for _, f := range s.faults {
		if f.after == 0 && due == nil {
			due = &f
			continue
		}
		if f.after > 0 {
			f.after--
		}
		rest = append(rest, f)
	}
	s.faults = rest
	s.mu.Unlock()
	if due == nil {
		return false
	}
	if due.retryAfter != "" {
		w.Header().Set("Retry-After", due.retryAfter)
	}
	writeJSON(w, due.status, map[string]any{"errors": []map[string]any{{"code": due.status, "message": http.StatusText(due.status)}}})
	return true
}

// issueToken returns a new access token valid for ttl seconds.
func (s *Server) issueToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued++
	tok := "fake-token-" + strconv.Itoa(s.issued)
	s.tokens[tok] = true
	return tok
}

func (s *Server) validToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok]
}

// since returns the records at or after t (gte) or after t, in order.
func (s *Server) since(t time.Time, gte bool) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.recs {
		if r.Time.After(t) || (gte && r.Time.Equal(t)) {
			out = append(out, r)
		}
	}
	return out
}

// byID returns the records with these ids.
func (s *Server) byID(ids []string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.recs {
		if slices.Contains(ids, r.ID) {
			out = append(out, r)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// badRequest reports a request the real API would refuse; the test fails,
// since a poller must not send one.
func (s *Server) badRequest(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.t.Errorf("vendorfake: %s", msg)
	writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"code": 400, "message": msg}}})
}

func docs(recs []Record) []json.RawMessage {
	out := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		out[i] = r.Doc
	}
	return out
}
