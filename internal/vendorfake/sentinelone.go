package vendorfake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SentinelOne serves the Management API v2.1 threats list:
// GET /web/api/v2.1/threats with "Authorization: ApiToken <token>",
// createdAt__gte / createdAt__gt (ISO 8601), sortBy=createdAt,
// sortOrder=asc, limit 1–1000 and cursor (valid only with the filter of
// the query that returned it). Answers {"data": [...], "pagination":
// {"nextCursor": ..., "totalItems": n}}.
func SentinelOne(t testing.TB, creds Credentials) *Server {
	return newServer(t, creds, func(s *Server) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /web/api/v2.1/threats", s.sentineloneThreats)
		return mux
	})
}

type sentineloneCursor struct {
	Filter string `json:"f"`
	Offset int    `json:"o"`
}

func (s *Server) sentineloneThreats(w http.ResponseWriter, r *http.Request) {
	if s.injected(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "ApiToken "+s.creds.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]any{{"code": 4010010, "title": "Authentication Failed", "detail": "Invalid or expired token"}}})
		return
	}
	q := r.URL.Query()
	if q.Get("sortBy") != "createdAt" || q.Get("sortOrder") != "asc" {
		s.badRequest(w, "sentinelone: want sortBy=createdAt&sortOrder=asc, got %q %q", q.Get("sortBy"), q.Get("sortOrder"))
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 1000 {
		s.badRequest(w, "sentinelone: limit %q outside 1-1000", q.Get("limit"))
		return
	}
	filter, gte := q.Get("createdAt__gte"), true
	if filter == "" {
		filter, gte = q.Get("createdAt__gt"), false
	}
	since, err := time.Parse(time.RFC3339Nano, filter)
	if err != nil {
		s.badRequest(w, "sentinelone: createdAt filter %q is not ISO 8601", filter)
		return
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		var cur sentineloneCursor
		raw, err := base64.StdEncoding.DecodeString(c)
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.Filter != filter {
			// The real API refuses a cursor used with another query.
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"code": 4000010, "title": "Validation Error", "detail": "invalid cursor"}}})
			return
		}
		offset = cur.Offset
	}
	recs := s.since(since, gte)
	total := len(recs)
	recs = recs[min(offset, len(recs)):]
	var next any
	if len(recs) > limit {
		recs = recs[:limit]
		b, _ := json.Marshal(sentineloneCursor{Filter: filter, Offset: offset + limit})
		next = base64.StdEncoding.EncodeToString(b)
	}
	for _, param := range []string{"siteIds", "accountIds", "confidenceLevels"} {
		if v := q.Get(param); v != "" && strings.TrimSpace(v) == "" {
			s.badRequest(w, "sentinelone: empty %s", param)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": docs(recs), "pagination": map[string]any{"nextCursor": next, "totalItems": total}})
}
