package vendorfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Elastic serves the Elasticsearch APIs Elastic Security's alerts are read
// with: POST /<index>/_pit?keep_alive=… (a point in time), POST /_search
// with {"pit": {"id"}} or POST /<index>/_search, and DELETE /_pit;
// "Authorization: ApiKey <key>". Documents are sorted by @timestamp
// (epoch_millis) then kibana.alert.uuid; inside a point in time every
// hit's sort values end with the implicit _shard_doc tiebreaker.
func Elastic(t testing.TB, creds Credentials) *Server {
	e := &searchEngine{timeField: "@timestamp", tieField: "kibana.alert.uuid", index: ".internal.alerts-security.alerts-default-000001", pit: true}
	return newServer(t, creds, func(s *Server) http.Handler {
		e.s = s
		s.openPITs = func() int { return len(e.pits) }
		mux := http.NewServeMux()
		mux.HandleFunc("POST /{index}/_pit", e.openPIT)
		mux.HandleFunc("DELETE /_pit", e.closePIT)
		mux.HandleFunc("POST /_search", e.search)
		mux.HandleFunc("POST /{index}/_search", e.search)
		return mux
	})
}

// WazuhIndexer serves the Wazuh indexer (OpenSearch): POST
// /<index>/_search with HTTP basic authentication, documents sorted by
// timestamp then id. It has no Elasticsearch point-in-time API.
func WazuhIndexer(t testing.TB, creds Credentials) *Server {
	e := &searchEngine{timeField: "timestamp", tieField: "id", index: "wazuh-alerts-4.x-2026.12.01"}
	return newServer(t, creds, func(s *Server) http.Handler {
		e.s = s
		mux := http.NewServeMux()
		mux.HandleFunc("POST /{index}/_search", e.search)
		return mux
	})
}

type searchEngine struct {
	s                   *Server
	timeField, tieField string
	index               string
	pit                 bool
	pits                map[string]bool
	nextPIT             int
}

func searchErr(w http.ResponseWriter, status int, typ, reason string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"root_cause": []any{map[string]any{"type": typ, "reason": reason}}, "type": typ, "reason": reason}, "status": status})
}

func (e *searchEngine) authorized(w http.ResponseWriter, r *http.Request) bool {
	c := e.s.creds
	ok := false
	if c.Token != "" {
		ok = r.Header.Get("Authorization") == "ApiKey "+c.Token
	} else {
		u, p, has := r.BasicAuth()
		ok = has && u == c.User && p == c.Password
	}
	if !ok {
		searchErr(w, http.StatusUnauthorized, "security_exception", "unable to authenticate user for REST request")
	}
	return ok
}

func (e *searchEngine) openPIT(w http.ResponseWriter, r *http.Request) {
	if e.s.injected(w, r) || !e.authorized(w, r) {
		return
	}
	if r.URL.Query().Get("keep_alive") == "" {
		searchErr(w, http.StatusBadRequest, "action_request_validation_exception", "[keep_alive] is missing")
		return
	}
	e.s.mu.Lock()
	e.nextPIT++
	id := "pit-" + strconv.Itoa(e.nextPIT)
	if e.pits == nil {
		e.pits = map[string]bool{}
	}
	e.pits[id] = true
	e.s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": id})
}

func (e *searchEngine) closePIT(w http.ResponseWriter, r *http.Request) {
	if e.s.injected(w, r) || !e.authorized(w, r) {
		return
	}
	var body struct {
		ID string `json:"id"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	e.s.mu.Lock()
	ok := e.pits[body.ID]
	delete(e.pits, body.ID)
	e.s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"succeeded": true, "num_freed": 0})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeeded": true, "num_freed": 1})
}

type searchBody struct {
	Size  int `json:"size"`
	Sort  []map[string]json.RawMessage
	Query struct {
		Bool struct {
			Filter []map[string]json.RawMessage `json:"filter"`
		} `json:"bool"`
	} `json:"query"`
	SearchAfter []json.RawMessage `json:"search_after"`
	PIT         *struct {
		ID string `json:"id"`
	} `json:"pit"`
}

func (e *searchEngine) search(w http.ResponseWriter, r *http.Request) {
	if e.s.injected(w, r) || !e.authorized(w, r) {
		return
	}
	var b searchBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		searchErr(w, http.StatusBadRequest, "parsing_exception", err.Error())
		return
	}
	inPIT := b.PIT != nil
	if inPIT {
		e.s.mu.Lock()
		live := e.pits[b.PIT.ID]
		e.s.mu.Unlock()
		if !live || r.PathValue("index") != "" {
			searchErr(w, http.StatusNotFound, "search_context_missing_exception", "No search context found for id ["+b.PIT.ID+"]")
			return
		}
	} else if r.PathValue("index") == "" {
		e.s.badRequest(w, "search: no index and no point in time")
		return
	}
	if b.Size < 1 || b.Size > 10000 {
		e.s.badRequest(w, "search: size %d", b.Size)
		return
	}
	if len(b.Sort) != 2 || b.Sort[0][e.timeField] == nil || b.Sort[1][e.tieField] == nil {
		e.s.badRequest(w, "search: sort must be %s then %s, got %v", e.timeField, e.tieField, b.Sort)
		return
	}
	var since time.Time
	var minLevel float64
	var match []string // field:value pairs of a query_string
	for _, f := range b.Query.Bool.Filter {
		switch {
		case f["range"] != nil:
			var rg map[string]map[string]any
			_ = json.Unmarshal(f["range"], &rg)
			if v, ok := rg[e.timeField]["gte"].(string); ok {
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					searchErr(w, http.StatusBadRequest, "parse_exception", "failed to parse date field ["+v+"]")
					return
				}
				since = t
			} else if v, ok := rg["rule.level"]["gte"].(float64); ok {
				minLevel = v
			} else {
				e.s.badRequest(w, "search: unexpected range %s", f["range"])
				return
			}
		case f["query_string"] != nil:
			var qs struct {
				Query string `json:"query"`
			}
			_ = json.Unmarshal(f["query_string"], &qs)
			match = append(match, qs.Query)
		default:
			e.s.badRequest(w, "search: unexpected filter %v", f)
			return
		}
	}
	wantAfter := 2
	if inPIT {
		wantAfter = 3
	}
	var afterMs int64
	var afterID string
	if b.SearchAfter != nil {
		if len(b.SearchAfter) != wantAfter {
			searchErr(w, http.StatusBadRequest, "illegal_argument_exception", "search_after has "+strconv.Itoa(len(b.SearchAfter))+" value(s) but sort has "+strconv.Itoa(wantAfter))
			return
		}
		_ = json.Unmarshal(b.SearchAfter[0], &afterMs)
		_ = json.Unmarshal(b.SearchAfter[1], &afterID)
	}
	var hits []any
	pos := 0
	for _, rec := range e.s.since(since.Truncate(time.Millisecond), true) {
		pos++
		ms := rec.Time.UnixMilli()
		if b.SearchAfter != nil && (ms < afterMs || ms == afterMs && rec.ID <= afterID) {
			continue
		}
		var doc map[string]any
		_ = json.Unmarshal(rec.Doc, &doc)
		if lvl, _ := getPath(doc, "rule.level").(float64); minLevel > 0 && lvl < minLevel {
			continue
		}
		if !matches(doc, match) {
			continue
		}
		sortVals := []any{ms, rec.ID}
		if inPIT {
			sortVals = append(sortVals, pos)
		}
		hits = append(hits, map[string]any{"_index": e.index, "_id": rec.ID, "_score": nil, "_source": rec.Doc, "sort": sortVals})
		if len(hits) == b.Size {
			break
		}
	}
	out := map[string]any{"took": 1, "timed_out": false, "hits": map[string]any{"max_score": nil, "hits": hits}}
	if inPIT {
		out["pit_id"] = b.PIT.ID
	}
	writeJSON(w, http.StatusOK, out)
}

// matches applies query_string queries of the form field:value.
func matches(doc map[string]any, queries []string) bool {
	for _, q := range queries {
		field, value, ok := strings.Cut(q, ":")
		if !ok {
			continue
		}
		if got, _ := getPath(doc, field).(string); got != value {
			return false
		}
	}
	return true
}

// getPath reads a dotted path through nested objects or dotted keys.
func getPath(doc map[string]any, path string) any {
	if v, ok := doc[path]; ok {
		return v
	}
	head, rest, ok := strings.Cut(path, ".")
	for ok {
		if m, isMap := doc[head].(map[string]any); isMap {
			if v := getPath(m, rest); v != nil {
				return v
			}
		}
		var more string
		more, rest, ok = strings.Cut(rest, ".")
		head += "." + more
	}
	return nil
}
