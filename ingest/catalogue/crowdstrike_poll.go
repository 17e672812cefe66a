package catalogue

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// CrowdStrike Falcon Alerts API: an OAuth2 client-credentials token from
// POST /oauth2/token (30 minutes), alert ids from
// GET /alerts/queries/alerts/v2 (FQL filter, sort, limit, offset), then
// the alerts from POST /alerts/entities/alerts/v2 {"composite_ids": [...]}.
// Alerts are read oldest first by created_timestamp; the checkpoint is the
// newest timestamp read and the ids read at it.

const crowdstrikePageSize = 500

type crowdstrikePoller struct {
	cfg    PollConfig
	base   string
	client *vendorClient
}

func newCrowdstrikePoller(cfg PollConfig) (Poller, error) {
	base, err := cfg.baseURL("https://api.crowdstrike.com")
	if err != nil {
		return nil, err
	}
	form := url.Values{"client_id": {cfg.setting("client_id")}, "client_secret": {cfg.setting("client_secret")}}
	if cid := cfg.setting("member_cid"); cid != "" {
		form.Set("member_cid", cid)
	}
	cc := newClientCredentials(cfg, "CrowdStrike", base+"/oauth2/token", form)
	return &crowdstrikePoller{cfg: cfg, base: base, client: &vendorClient{
		vendor: "CrowdStrike", http: cfg.HTTP, backoff: cfg.Backoff, auth: cc.bearer, refresh: cc.forget,
	}}, nil
}

func (p *crowdstrikePoller) Fetch(ctx context.Context, checkpoint string) (Page, error) {
	cur, err := readTimeCursor(checkpoint, p.cfg.Since)
	if err != nil {
		return Page{}, err
	}
	filter := "created_timestamp:>='" + cur.Since.UTC().Format(time.RFC3339Nano) + "'"
	if f := p.cfg.setting("filter"); f != "" {
		filter += "+(" + f + ")"
	}
	limit := p.cfg.pageSize(crowdstrikePageSize)
	q := url.Values{"filter": {filter}, "sort": {"created_timestamp.asc"}, "limit": {strconv.Itoa(limit)}, "offset": {"0"}}
	var ids struct {
		Resources []string `json:"resources"`
		Meta      struct {
			Pagination struct {
				Total int `json:"total"`
			} `json:"pagination"`
		} `json:"meta"`
	}
	if err := p.client.do(ctx, request{method: http.MethodGet, url: p.base + "/alerts/queries/alerts/v2?" + q.Encode()}, &ids); err != nil {
		return Page{}, err
	}
	if len(ids.Resources) == 0 {
		return Page{Checkpoint: cur.String()}, nil
	}
	var alerts struct {
		Resources []json.RawMessage `json:"resources"`
	}
	err = p.client.do(ctx, request{method: http.MethodPost, url: p.base + "/alerts/entities/alerts/v2",
		json: map[string]any{"composite_ids": ids.Resources}}, &alerts)
	if err != nil {
		return Page{}, err
	}
	byID := make(map[string]json.RawMessage, len(alerts.Resources))
	for _, raw := range alerts.Resources {
		var a struct {
			CompositeID string `json:"composite_id"`
		}
		if json.Unmarshal(raw, &a) == nil && a.CompositeID != "" {
			byID[a.CompositeID] = raw
		}
	}
	page := Page{}
	for _, id := range ids.Resources { // the query's order: oldest first
		raw, ok := byID[id]
		if !ok {
			continue // deleted between the two calls
		}
		var a struct {
			Created time.Time `json:"created_timestamp"`
		}
		if err := json.Unmarshal(raw, &a); err != nil || a.Created.IsZero() {
			return Page{}, &PollError{Vendor: "CrowdStrike", Reason: "alert " + clip(id, 100) + " has no readable created_timestamp"}
		}
		if cur.seen(id, a.Created) {
			continue
		}
		cur.advance(id, a.Created)
		page.Records = append(page.Records, raw)
	}
	full := len(ids.Resources) == limit
	if full && len(page.Records) == 0 {
		return Page{}, &PollError{Vendor: "CrowdStrike", Reason: "more than a page of alerts share one created_timestamp; raise the page size"}
	}
	page.More = full && ids.Meta.Pagination.Total > len(ids.Resources)
	page.Checkpoint = cur.String()
	return page, nil
}
