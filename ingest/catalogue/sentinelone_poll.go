package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SentinelOne Management API v2.1, GET /web/api/v2.1/threats, with
// "Authorization: ApiToken <token>". Threats are read oldest first
// (sortBy=createdAt, createdAt__gte) and paged with the answer's
// pagination.nextCursor, which is only valid for the query that made it:
// the checkpoint keeps that query's start beside the cursor.

const sentinelonePageSize = 100

type sentinelonePoller struct {
	cfg    PollConfig
	base   string
	client *vendorClient
}

func newSentinelonePoller(cfg PollConfig) (Poller, error) {
	base, err := cfg.baseURL("")
	if err != nil {
		return nil, err
	}
	token := cfg.setting("api_token")
	p := &sentinelonePoller{cfg: cfg, base: base}
	p.client = &vendorClient{vendor: "SentinelOne", http: cfg.HTTP, backoff: cfg.Backoff,
		auth: func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "ApiToken "+token)
			return nil
		}}
	return p, nil
}

// sentineloneCursor is a timeCursor plus the start of the query whose
// vendor cursor it holds.
type sentineloneCursor struct {
	timeCursor
	QuerySince time.Time `json:"query_since,omitzero"`
}

func (p *sentinelonePoller) Fetch(ctx context.Context, checkpoint string) (Page, error) {
	var cur sentineloneCursor
	if checkpoint == "" {
		cur.Since = p.cfg.Since.UTC()
	} else if err := json.Unmarshal([]byte(checkpoint), &cur); err != nil {
		return Page{}, err
	}
	out, err := p.query(ctx, cur)
	var pe *PollError
	if cur.Cursor != "" && errors.As(err, &pe) && pe.Status == http.StatusBadRequest {
		// An expired or foreign cursor: query again from the time read up
		// to; the ids seen at that time keep what was read out.
		cur.Cursor = ""
		out, err = p.query(ctx, cur)
	}
	if err != nil {
		return Page{}, err
	}
	page := Page{}
	query := cur.Since
	if cur.Cursor != "" {
		query = cur.QuerySince
	}
	for _, raw := range out.Data {
		var t struct {
			ID         string `json:"id"`
			ThreatInfo struct {
				CreatedAt time.Time `json:"createdAt"`
			} `json:"threatInfo"`
			CreatedAt time.Time `json:"createdAt"`
		}
		if err := json.Unmarshal(raw, &t); err != nil || t.ID == "" {
			return Page{}, &PollError{Vendor: "SentinelOne", Reason: "a threat without an id or a readable createdAt"}
		}
		at := t.ThreatInfo.CreatedAt
		if at.IsZero() {
			at = t.CreatedAt
		}
		if cur.seen(t.ID, at) {
			continue
		}
		cur.advance(t.ID, at)
		page.Records = append(page.Records, raw)
	}
	cur.Cursor, cur.QuerySince = "", time.Time{}
	if out.Pagination.NextCursor != "" && len(out.Data) > 0 {
		cur.Cursor, cur.QuerySince, page.More = out.Pagination.NextCursor, query, true
	}
	b, _ := json.Marshal(cur)
	page.Checkpoint = string(b)
	return page, nil
}

type sentineloneThreats struct {
	Data       []json.RawMessage `json:"data"`
	Pagination struct {
		NextCursor string `json:"nextCursor"`
	} `json:"pagination"`
}

func (p *sentinelonePoller) query(ctx context.Context, cur sentineloneCursor) (sentineloneThreats, error) {
	q := url.Values{
		"sortBy":    {"createdAt"},
		"sortOrder": {"asc"},
		"limit":     {strconv.Itoa(p.cfg.pageSize(sentinelonePageSize))},
	}
	if cur.Cursor != "" {
		q.Set("cursor", cur.Cursor)
		q.Set("createdAt__gte", cur.QuerySince.UTC().Format(time.RFC3339Nano))
	} else {
		q.Set("createdAt__gte", cur.Since.UTC().Format(time.RFC3339Nano))
	}
	for param, setting := range map[string]string{"siteIds": "site_ids", "accountIds": "account_ids", "confidenceLevels": "confidence_levels"} {
		if ids := p.cfg.settingList(setting); len(ids) > 0 {
			q.Set(param, strings.Join(ids, ","))
		}
	}
	var out sentineloneThreats
	err := p.client.do(ctx, request{method: http.MethodGet, url: p.base + "/web/api/v2.1/threats?" + q.Encode()}, &out)
	return out, err
}
