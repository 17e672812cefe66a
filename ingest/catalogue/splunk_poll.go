package catalogue

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Splunk: the configured search run as a oneshot search job (POST
// /services/search/jobs, or /servicesNS/-/<app>/search/jobs, with
// exec_mode=oneshot and output_mode=json) and "Authorization: Bearer
// <token>". Events reach Splunk late, so each poll searches a window of
// index time (index_earliest ≤ _indextime < index_latest) rather than of
// event time: the window [end of the last one, now) is fixed when it
// opens and read in pages (count, offset), so a crash resumes at the same
// offset of the same window, and a closed window never changes.

const splunkPageSize = 100

type splunkPoller struct {
	cfg    PollConfig
	base   string
	path   string
	search string
	client *vendorClient
}

func newSplunkPoller(cfg PollConfig) (Poller, error) {
	base, err := cfg.baseURL("")
	if err != nil {
		return nil, err
	}
	search := cfg.setting("search")
	if search == "" {
		return nil, &PollError{Vendor: "Splunk", Reason: "no search is set"}
	}
	// A search job's string starts with a command: "search" unless a
	// generating command ("| tstats …") or a macro ("`notable`") leads.
	if !strings.HasPrefix(search, "|") && !strings.HasPrefix(search, "search ") {
		search = "search " + search
	}
	path := "/services/search/jobs"
	if app := cfg.setting("app"); app != "" {
		path = "/servicesNS/-/" + url.PathEscape(app) + "/search/jobs"
	}
	token := cfg.setting("token")
	return &splunkPoller{cfg: cfg, base: base, path: path, search: search, client: &vendorClient{
		vendor: "Splunk", http: cfg.HTTP, backoff: cfg.Backoff,
		auth: func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		},
	}}, nil
}

// splunkCursor is the index-time window being read (To zero: none open)
// and the offset reached in it.
type splunkCursor struct {
	From   int64 `json:"from"`
	To     int64 `json:"to,omitempty"`
	Offset int   `json:"offset,omitempty"`
}

func (p *splunkPoller) Fetch(ctx context.Context, checkpoint string) (Page, error) {
	cur := splunkCursor{From: p.cfg.Since.Unix()}
	if checkpoint != "" {
		if err := json.Unmarshal([]byte(checkpoint), &cur); err != nil {
			return Page{}, err
		}
	}
	if cur.To == 0 {
		cur.To, cur.Offset = p.cfg.now().Unix(), 0
		if cur.To <= cur.From {
			return Page{Checkpoint: checkpoint}, nil
		}
	}
	size := p.cfg.pageSize(splunkPageSize)
	form := url.Values{
		"search":         {p.search},
		"exec_mode":      {"oneshot"},
		"output_mode":    {"json"},
		"index_earliest": {strconv.FormatInt(cur.From, 10)},
		"index_latest":   {strconv.FormatInt(cur.To, 10)},
		"earliest_time":  {"0"}, // event time is not the bound: late events count
		"count":          {strconv.Itoa(size)},
		"offset":         {strconv.Itoa(cur.Offset)},
	}
	var out struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := p.client.do(ctx, request{method: http.MethodPost, url: p.base + p.path, form: form}, &out); err != nil {
		return Page{}, err
	}
	page := Page{Records: out.Results}
	if len(out.Results) == size {
		cur.Offset += size
		page.More = true
	} else {
		cur = splunkCursor{From: cur.To}
	}
	b, _ := json.Marshal(cur)
	page.Checkpoint = string(b)
	return page, nil
}
