package vendorfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CrowdStrike serves the Falcon OAuth2 token endpoint and the Alerts API:
// POST /oauth2/token (form client_id, client_secret; 201 with a bearer
// token for 1799 s), GET /alerts/queries/alerts/v2 (FQL filter on
// created_timestamp, sort=created_timestamp.asc, limit ≤ 10000, offset)
// answering composite ids, and POST /alerts/entities/alerts/v2
// {"composite_ids": [...]} (≤ 1000) answering the alerts.
func CrowdStrike(t testing.TB, creds Credentials) *Server {
	return newServer(t, creds, func(s *Server) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /oauth2/token", s.crowdstrikeToken)
		mux.HandleFunc("GET /alerts/queries/alerts/v2", s.crowdstrikeQuery)
		mux.HandleFunc("POST /alerts/entities/alerts/v2", s.crowdstrikeEntities)
		return mux
	})
}

func crowdstrikeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"meta": map[string]any{}, "resources": nil, "errors": []map[string]any{{"code": status, "message": msg}}})
}

func (s *Server) crowdstrikeToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	s.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != s.creds.ClientID || r.PostForm.Get("client_secret") != s.creds.ClientSecret {
		crowdstrikeErr(w, http.StatusUnauthorized, "access denied, invalid client credentials")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"access_token": s.issueToken(), "token_type": "bearer", "expires_in": 1799})
}

func (s *Server) crowdstrikeAuthorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.validToken(tok) {
		crowdstrikeErr(w, http.StatusUnauthorized, "access denied, authorization failed")
		return false
	}
	return true
}

func (s *Server) crowdstrikeQuery(w http.ResponseWriter, r *http.Request) {
	if s.injected(w, r) || !s.crowdstrikeAuthorized(w, r) {
		return
	}
	q := r.URL.Query()
	if q.Get("sort") != "created_timestamp.asc" {
		s.badRequest(w, "crowdstrike: sort %q", q.Get("sort"))
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 10000 {
		s.badRequest(w, "crowdstrike: limit %q", q.Get("limit"))
		return
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	// FQL: created_timestamp:>='<ISO 8601>', optionally +(<more>).
	f := q.Get("filter")
	rest, ok := strings.CutPrefix(f, "created_timestamp:>='")
	end := strings.IndexByte(rest, '\'')
	if !ok || end < 0 {
		s.badRequest(w, "crowdstrike: filter %q has no created_timestamp:>= term", f)
		return
	}
	since, err := time.Parse(time.RFC3339Nano, rest[:end])
	if err != nil {
		crowdstrikeErr(w, http.StatusBadRequest, "invalid filter")
		return
	}
	if tail := rest[end+1:]; tail != "" && !(strings.HasPrefix(tail, "+(") && strings.HasSuffix(tail, ")")) {
		s.badRequest(w, "crowdstrike: filter tail %q is not +(...)", tail)
		return
	}
	recs := s.since(since, true)
	total := len(recs)
	recs = recs[min(offset, len(recs)):]
	recs = recs[:min(limit, len(recs))]
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"meta":      map[string]any{"pagination": map[string]any{"offset": offset, "limit": limit, "total": total}},
		"resources": ids, "errors": []any{},
	})
}

func (s *Server) crowdstrikeEntities(w http.ResponseWriter, r *http.Request) {
	if s.injected(w, r) || !s.crowdstrikeAuthorized(w, r) {
		return
	}
	var body struct {
		CompositeIDs []string `json:"composite_ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.CompositeIDs) == 0 || len(body.CompositeIDs) > 1000 {
		s.badRequest(w, "crowdstrike: entities body needs 1-1000 composite_ids")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{}, "resources": docs(s.byID(body.CompositeIDs)), "errors": []any{}})
}
