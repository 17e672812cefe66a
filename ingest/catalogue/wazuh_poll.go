package catalogue

import (
	"context"
	"net/http"
)

// Wazuh: the Wazuh indexer (OpenSearch) index wazuh-alerts-*, read with
// _search sorted by timestamp then id (unique per alert) and paged with
// search_after, with HTTP basic authentication. OpenSearch is not
// Elasticsearch: no point-in-time API of Elasticsearch's shape and no
// product check, so the poller uses only _search, which both share.

func newWazuhPoller(cfg PollConfig) (Poller, error) {
	base, err := cfg.baseURL("")
	if err != nil {
		return nil, err
	}
	user, password := cfg.setting("username"), cfg.setting("password")
	filters := []any{map[string]any{"range": map[string]any{"rule.level": map[string]any{"gte": cfg.settingInt("min_level", 3)}}}}
	return &searchPoller{
		cfg: cfg, vendor: "Wazuh indexer", base: base,
		index:     cfg.settingOr("index", "wazuh-alerts-*"),
		timeField: "timestamp", tieField: "id",
		filters: filters,
		client: &vendorClient{vendor: "Wazuh indexer", http: cfg.HTTP, backoff: cfg.Backoff,
			auth: func(_ context.Context, r *http.Request) error {
				r.SetBasicAuth(user, password)
				return nil
			}},
	}, nil
}
