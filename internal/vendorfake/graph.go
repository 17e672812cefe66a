package vendorfake

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Graph serves Microsoft Entra's token endpoint and Microsoft Graph's
// security alerts: POST /<tenant>/oauth2/v2.0/token (client credentials,
// scope <graph>/.default; tokens for 3599 s), and GET
// /v1.0/security/alerts_v2 with $filter=createdDateTime ge <time>
// [and (<more>)], $top (1–2000) and $skip, newest first, each page with an
// @odata.nextLink while more remain. Tenant is the only tenant it knows.
func Graph(t testing.TB, creds Credentials, tenant string) *Server {
	return newServer(t, creds, func(s *Server) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.requests[r.URL.Path]++
			s.mu.Unlock()
			if r.PathValue("tenant") != tenant {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "AADSTS90002: Tenant '" + r.PathValue("tenant") + "' not found."})
				return
			}
			if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
				!strings.HasSuffix(r.PostForm.Get("scope"), "/.default") {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "AADSTS900144: grant_type and scope are required."})
				return
			}
			if r.PostForm.Get("client_id") != s.creds.ClientID || r.PostForm.Get("client_secret") != s.creds.ClientSecret {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": s.issueToken()})
		})
		mux.HandleFunc("GET /v1.0/security/alerts_v2", s.graphAlerts)
		return mux
	})
}

func graphErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (s *Server) graphAlerts(w http.ResponseWriter, r *http.Request) {
	if s.injected(w, r) {
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.validToken(tok) {
		graphErr(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
		return
	}
	q := r.URL.Query()
	filter := q.Get("$filter")
	rest, ok := strings.CutPrefix(filter, "createdDateTime ge ")
	if !ok {
		s.badRequest(w, "graph: $filter %q has no createdDateTime ge", filter)
		return
	}
	stamp, tail, _ := strings.Cut(rest, " ")
	since, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		graphErr(w, http.StatusBadRequest, "BadRequest", "Invalid filter clause")
		return
	}
	if tail != "" && !(strings.HasPrefix(tail, "and (") && strings.HasSuffix(tail, ")")) {
		s.badRequest(w, "graph: filter tail %q", tail)
		return
	}
	top, err := strconv.Atoi(q.Get("$top"))
	if err != nil || top < 1 || top > 2000 {
		s.badRequest(w, "graph: $top %q", q.Get("$top"))
		return
	}
	skip, _ := strconv.Atoi(q.Get("$skip"))
	recs := s.since(since, true)
	slices.Reverse(recs) // newest first
	page := recs[min(skip, len(recs)):]
	page = page[:min(top, len(page))]
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2", "value": docs(page)}
	if skip+top < len(recs) {
		next := url.Values{"$filter": {filter}, "$top": {strconv.Itoa(top)}, "$skip": {strconv.Itoa(skip + top)}}
		out["@odata.nextLink"] = "http://" + r.Host + "/v1.0/security/alerts_v2?" + strings.ReplaceAll(next.Encode(), "+", "%20")
	}
	writeJSON(w, http.StatusOK, out)
}
