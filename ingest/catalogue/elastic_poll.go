package catalogue

import (
	"context"
	"net/http"
)

// Elastic Security: the detection alerts index (.alerts-security.alerts-<space>)
// read with _search inside a point in time (POST /<index>/_pit, DELETE
// /_pit), sorted by @timestamp then kibana.alert.uuid, paged with
// search_after. Authentication is an API key ("Authorization: ApiKey
// <base64 id:key>"). The optional query setting is Lucene syntax, run as
// a query_string filter: _search does not run KQL.

func newElasticPoller(cfg PollConfig) (Poller, error) {
	base, err := cfg.baseURL("")
	if err != nil {
		return nil, err
	}
	key := cfg.setting("api_key")
	var filters []any
	if q := cfg.setting("query"); q != "" {
		filters = append(filters, map[string]any{"query_string": map[string]any{"query": q}})
	}
	return &searchPoller{
		cfg: cfg, vendor: "Elastic", base: base,
		index:     cfg.settingOr("index", ".alerts-security.alerts-default"),
		timeField: "@timestamp", tieField: "kibana.alert.uuid",
		filters: filters, usePIT: true,
		client: &vendorClient{vendor: "Elastic", http: cfg.HTTP, backoff: cfg.Backoff,
			auth: func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "ApiKey "+key)
				return nil
			}},
	}, nil
}
