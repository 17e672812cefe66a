package catalogue

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Microsoft Defender through Microsoft Graph: an OAuth2 client-credentials
// token for the application of one tenant (POST
// <authority>/<tenant>/oauth2/v2.0/token, scope <graph>/.default), then
// GET /v1.0/security/alerts_v2?$filter=createdDateTime ge <time>&$top=N,
// following @odata.nextLink. alerts_v2 lists newest first and offers no
// $orderby, so a sweep reads every page of one filter (the next link is
// checkpointed, so a crash resumes mid-sweep) and the time checkpoint
// moves to the newest alert only when the sweep ends.

const defenderPageSize = 200

type defenderPoller struct {
	cfg    PollConfig
	base   string
	client *vendorClient
}

func newDefenderPoller(cfg PollConfig) (Poller, error) {
	base, err := cfg.baseURL("https://graph.microsoft.com")
	if err != nil {
		return nil, err
	}
	authority := strings.TrimRight(cfg.settingOr("authority_url", "https://login.microsoftonline.com"), "/")
	tenant := cfg.setting("tenant_id")
	if tenant == "" || strings.ContainsAny(tenant, "/?#") {
		return nil, &PollError{Vendor: "Microsoft Graph", Reason: "tenant_id is not a tenant id or domain"}
	}
	form := url.Values{"client_id": {cfg.setting("client_id")}, "client_secret": {cfg.setting("client_secret")}, "scope": {base + "/.default"}}
	cc := newClientCredentials(cfg, "Microsoft Entra", authority+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", form)
	return &defenderPoller{cfg: cfg, base: base, client: &vendorClient{
		vendor: "Microsoft Graph", http: cfg.HTTP, backoff: cfg.Backoff, auth: cc.bearer, refresh: cc.forget,
	}}, nil
}

// defenderCursor is a timeCursor plus the sweep in progress: the next
// page's link and the newest alert the sweep has read.
type defenderCursor struct {
	timeCursor
	Next    string    `json:"next,omitempty"`
	Max     time.Time `json:"max,omitzero"`
	MaxSeen []string  `json:"max_seen,omitempty"`
}

func (p *defenderPoller) Fetch(ctx context.Context, checkpoint string) (Page, error) {
	var cur defenderCursor
	if checkpoint == "" {
		cur.Since = p.cfg.Since.UTC()
	} else if err := json.Unmarshal([]byte(checkpoint), &cur); err != nil {
		return Page{}, err
	}
	if cur.Next != "" && !strings.HasPrefix(cur.Next, p.base+"/") {
		// A link from the vendor leaving base_url: the token goes nowhere
		// else. The sweep starts over from the time read up to.
		cur.Next, cur.Max, cur.MaxSeen = "", time.Time{}, nil
	}
	target := cur.Next
	if target == "" {
		filter := "createdDateTime ge " + cur.Since.UTC().Format(time.RFC3339Nano)
		if f := p.cfg.setting("filter"); f != "" {
			filter += " and (" + f + ")"
		}
		q := url.Values{"$filter": {filter}, "$top": {strconv.Itoa(p.cfg.pageSize(defenderPageSize))}}
		target = p.base + "/v1.0/security/alerts_v2?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	var out struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink"`
	}
	if err := p.client.do(ctx, request{method: http.MethodGet, url: target}, &out); err != nil {
		return Page{}, err
	}
	page := Page{}
	for _, raw := range out.Value {
		var a struct {
			ID      string    `json:"id"`
			Created time.Time `json:"createdDateTime"`
		}
		if err := json.Unmarshal(raw, &a); err != nil || a.ID == "" || a.Created.IsZero() {
			return Page{}, &PollError{Vendor: "Microsoft Graph", Reason: "an alert without an id or a readable createdDateTime"}
		}
		if cur.seen(a.ID, a.Created) {
			continue
		}
		switch {
		case a.Created.After(cur.Max):
			cur.Max, cur.MaxSeen = a.Created, []string{a.ID}
		case a.Created.Equal(cur.Max) && len(cur.MaxSeen) < maxSeen:
			cur.MaxSeen = append(cur.MaxSeen, a.ID)
		}
		page.Records = append(page.Records, raw)
	}
	if out.NextLink != "" && !strings.HasPrefix(out.NextLink, p.base+"/") {
		// The link comes from the vendor: the token goes nowhere else.
		return Page{}, &PollError{Vendor: "Microsoft Graph", Reason: "@odata.nextLink leaves base_url; refusing to follow it"}
	}
	cur.Next = out.NextLink
	page.More = cur.Next != ""
	if !page.More && !cur.Max.IsZero() {
		// The sweep is over: everything up to Max is read.
		if cur.Max.Equal(cur.Since) {
			for _, id := range cur.MaxSeen {
				if !slices.Contains(cur.Seen, id) {
					cur.Seen = append(cur.Seen, id)
				}
			}
		} else {
			cur.Since, cur.Seen = cur.Max, cur.MaxSeen
		}
		cur.Max, cur.MaxSeen = time.Time{}, nil
	}
	b, _ := json.Marshal(cur)
	page.Checkpoint = string(b)
	return page, nil
}
