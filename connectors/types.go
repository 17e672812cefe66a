package connectors

import (
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
)

// CreateConnectorInput is the GraphQL CreateConnectorInput.
type CreateConnectorInput struct {
	Name                string              `json:"name"`
	Type                string              `json:"type"`
	Mode                *enum.ConnectorMode `json:"mode,omitempty"`
	Enabled             *bool               `json:"enabled,omitempty"`
	Settings            map[string]any      `json:"settings,omitempty"`
	DedupFields         []string            `json:"dedupFields,omitempty"`
	DedupWindowSeconds  *int                `json:"dedupWindowSeconds,omitempty"`
	PollIntervalSeconds *int                `json:"pollIntervalSeconds,omitempty"`
	RateLimitPerMinute  *int                `json:"rateLimitPerMinute,omitempty"`
}

// UpdateConnectorInput is the GraphQL UpdateConnectorInput; nil leaves a
// field unchanged.
type UpdateConnectorInput struct {
	Name                *string             `json:"name,omitempty"`
	Mode                *enum.ConnectorMode `json:"mode,omitempty"`
	Enabled             *bool               `json:"enabled,omitempty"`
	Settings            map[string]any      `json:"settings,omitempty"`
	DedupFields         []string            `json:"dedupFields,omitempty"`
	DedupWindowSeconds  *int                `json:"dedupWindowSeconds,omitempty"`
	PollIntervalSeconds *int                `json:"pollIntervalSeconds,omitempty"`
	RateLimitPerMinute  *int                `json:"rateLimitPerMinute,omitempty"`
}

// ConnectorKeyPayload carries a connector with its key, shown only once.
type ConnectorKeyPayload struct {
	Connector *ent.Connector `json:"connector"`
	APIKey    string         `json:"apiKey"`
}
