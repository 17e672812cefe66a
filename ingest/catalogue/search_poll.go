package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// searchPoller reads an Elasticsearch or OpenSearch index with _search,
// oldest first. A run's first page asks for documents at or after the
// checkpoint's time (dropping the ids already read at that time, as
// timeCursor does); its next pages continue with search_after from the
// last hit's sort values, inside a point in time when the engine offers
// one (Elasticsearch), so the run reads one consistent view. Only the
// time and ids are checkpointed: search_after values of a point in time
// (its _shard_doc tiebreaker) mean nothing in the next run's.
//
// It speaks plain HTTP and JSON, so it works the same against
// Elasticsearch and OpenSearch (the Wazuh indexer): no client library and
// its product check.
type searchPoller struct {
	cfg       PollConfig
	vendor    string
	base      string
	index     string
	timeField string // the date field sorted and filtered on
	tieField  string // a keyword unique per document, the sort's tiebreaker
	filters   []any  // query clauses besides the time range
	usePIT    bool
	client    *vendorClient

	// The run in progress: the point in time and where the last page
	// ended, valid while Fetch is handed back the checkpoint it returned.
	pit       string
	after     json.RawMessage
	lastCheck string
}

const searchPageSize = 200

type searchHit struct {
	ID    string          `json:"_id"`
	Index string          `json:"_index"`
	Sort  json.RawMessage `json:"sort"`
}

type searchResponse struct {
	PitID string `json:"pit_id"`
	Hits  struct {
		Hits []json.RawMessage `json:"hits"`
	} `json:"hits"`
}

func (p *searchPoller) Fetch(ctx context.Context, checkpoint string) (Page, error) {
	cur, err := readTimeCursor(checkpoint, p.cfg.Since)
	if err != nil {
		return Page{}, err
	}
	continuing := p.after != nil && checkpoint == p.lastCheck
	if !continuing {
		p.after = nil
		if err := p.closePIT(ctx); err != nil {
			return Page{}, err
		}
	}
	if p.usePIT && p.pit == "" {
		var out struct {
			ID string `json:"id"`
		}
		err := p.client.do(ctx, request{method: http.MethodPost, url: p.base + "/" + url.PathEscape(p.index) + "/_pit?keep_alive=2m"}, &out)
		if err != nil {
			return Page{}, err
		}
		p.pit = out.ID
	}
	size := p.cfg.pageSize(searchPageSize)
	body := map[string]any{
		"size":             size,
		"track_total_hits": false,
		"sort": []any{
			map[string]any{p.timeField: map[string]any{"order": "asc", "format": "epoch_millis"}},
			map[string]any{p.tieField: "asc"},
		},
		"query": map[string]any{"bool": map[string]any{"filter": append([]any{
			map[string]any{"range": map[string]any{p.timeField: map[string]any{"gte": cur.Since.UTC().Format(time.RFC3339Nano)}}},
		}, p.filters...)}},
	}
	target := p.base + "/" + url.PathEscape(p.index) + "/_search"
	if p.pit != "" {
		body["pit"] = map[string]any{"id": p.pit, "keep_alive": "2m"}
		target = p.base + "/_search" // a point in time names its indices
	}
	if continuing {
		body["search_after"] = p.after
	}
	var out searchResponse
	if err := p.client.do(ctx, request{method: http.MethodPost, url: target, json: body}, &out); err != nil {
		p.after, p.pit = nil, "" // an expired point in time: the next Fetch starts over from the checkpoint
		return Page{}, err
	}
	if out.PitID != "" {
		p.pit = out.PitID
	}
	page := Page{}
	for _, raw := range out.Hits.Hits {
		var h searchHit
		if err := json.Unmarshal(raw, &h); err != nil {
			return Page{}, &PollError{Vendor: p.vendor, Reason: "a hit is not a search hit: " + clip(err.Error(), 200)}
		}
		var sortVals []json.RawMessage
		if err := json.Unmarshal(h.Sort, &sortVals); err != nil || len(sortVals) == 0 {
			return Page{}, &PollError{Vendor: p.vendor, Reason: "a hit has no sort values"}
		}
		at, err := epochMillis(sortVals[0])
		if err != nil {
			return Page{}, &PollError{Vendor: p.vendor, Reason: fmt.Sprintf("hit %s has no readable %s", clip(h.ID, 100), p.timeField)}
		}
		id := h.Index + "/" + h.ID
		p.after = h.Sort
		if cur.seen(id, at) {
			continue
		}
		cur.advance(id, at)
		page.Records = append(page.Records, raw)
	}
	page.More = len(out.Hits.Hits) == size
	page.Checkpoint = cur.String()
	p.lastCheck = page.Checkpoint
	if !page.More {
		p.after = nil
		if err := p.closePIT(ctx); err != nil {
			return Page{}, err
		}
	}
	return page, nil
}

// closePIT releases the point in time, if one is open.
func (p *searchPoller) closePIT(ctx context.Context) error {
	if p.pit == "" {
		return nil
	}
	err := p.client.do(ctx, request{method: http.MethodDelete, url: p.base + "/_pit", json: map[string]any{"id": p.pit}}, nil)
	p.pit = ""
	var pe *PollError
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		return nil // it expired already
	}
	return err
}

// epochMillis reads a sort value of a date sorted with format
// epoch_millis: a number or its string.
func epochMillis(raw json.RawMessage) (time.Time, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		n = json.Number(s)
	}
	ms, err := n.Int64()
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms).UTC(), nil
}
