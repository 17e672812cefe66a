package vendorfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Splunk serves oneshot search jobs: POST /services/search/jobs (or
// /servicesNS/<user>/<app>/search/jobs) with "Authorization: Bearer
// <token>", form search (starting with "search " or "|"),
// exec_mode=oneshot, output_mode=json, index_earliest and index_latest
// (epoch seconds; a record's Time is its index time), count and offset.
// Results come newest first, as Splunk returns events. Apps lists the app
// contexts that exist.
func Splunk(t testing.TB, creds Credentials, apps ...string) *Server {
	return newServer(t, creds, func(s *Server) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /services/search/jobs", s.splunkJobs)
		mux.HandleFunc("POST /servicesNS/{user}/{app}/search/jobs", func(w http.ResponseWriter, r *http.Request) {
			if !slices.Contains(apps, r.PathValue("app")) {
				writeJSON(w, http.StatusNotFound, map[string]any{"messages": []map[string]any{{"type": "ERROR", "text": "Application does not exist: " + r.PathValue("app")}}})
				return
			}
			s.splunkJobs(w, r)
		})
		return mux
	})
}

func splunkErr(w http.ResponseWriter, status int, text string) {
	writeJSON(w, status, map[string]any{"messages": []map[string]any{{"type": "ERROR", "text": text}}})
}

func (s *Server) splunkJobs(w http.ResponseWriter, r *http.Request) {
	if s.injected(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.creds.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"messages": []map[string]any{{"type": "WARN", "text": "call not properly authenticated"}}})
		return
	}
	if err := r.ParseForm(); err != nil {
		splunkErr(w, http.StatusBadRequest, err.Error())
		return
	}
	f := r.PostForm
	search := f.Get("search")
	if !strings.HasPrefix(search, "search ") && !strings.HasPrefix(search, "|") {
		splunkErr(w, http.StatusBadRequest, "Unknown search command '"+strings.Fields(search + " x")[0]+"'.")
		return
	}
	if f.Get("exec_mode") != "oneshot" || f.Get("output_mode") != "json" {
		s.badRequest(w, "splunk: want exec_mode=oneshot output_mode=json, got %q %q", f.Get("exec_mode"), f.Get("output_mode"))
		return
	}
	from, err1 := strconv.ParseInt(f.Get("index_earliest"), 10, 64)
	to, err2 := strconv.ParseInt(f.Get("index_latest"), 10, 64)
	count, err3 := strconv.Atoi(f.Get("count"))
	offset, err4 := strconv.Atoi(f.Get("offset"))
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || count < 1 || offset < 0 {
		s.badRequest(w, "splunk: index_earliest, index_latest, count and offset must be numbers: %v", f)
		return
	}
	var in []Record
	for _, rec := range s.since(time.Unix(from, 0).Add(-time.Nanosecond), false) {
		if rec.Time.Unix() >= from && rec.Time.Unix() < to {
			in = append(in, rec)
		}
	}
	slices.Reverse(in) // newest first
	page := in[min(offset, len(in)):]
	page = page[:min(count, len(page))]
	writeJSON(w, http.StatusOK, map[string]any{"preview": false, "init_offset": offset, "messages": []any{}, "fields": []any{}, "results": docs(page), "highlighted": map[string]any{}})
}
