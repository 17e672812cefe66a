package config

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/apperr"
)

// Features a provider call is recorded under (AIUsage.feature).
const (
	FeatureAnalysis        = "analysis"
	FeatureIncidentSummary = "incident_summary"
	FeatureChat            = "chat"
)

// Provider is the acting organisation's configured provider, opened for one
// feature. Client is nil when the organisation uses the built-in analyst;
// callers then answer without a model.
type Provider struct {
	Settings Settings
	Client   provider.Client
	feature  string
	userID   *uuid.UUID
	svc      *Service
}

// Builtin reports whether no model is configured.
func (p *Provider) Builtin() bool { return p.Client == nil }

// Open returns the provider for feature, checked against the monthly token
// quota: an organisation whose quota is used up gets RATE_LIMITED (429) until
// the month resets, and the built-in analyst keeps working for it. userID
// names who the usage is recorded for (nil for automatic work).
//
// The quota is checked before a call and usage recorded after it, so calls
// running at the same moment may overshoot it by what they use.
func (s *Service) Open(ctx context.Context, feature string, userID *uuid.UUID) (*Provider, error) {
	v, st, err := s.viewerSettings(ctx)
	if err != nil {
		return nil, err
	}
	p := &Provider{Settings: st.Settings, feature: feature, userID: userID, svc: s}
	if st.Provider == ProviderBuiltin {
		return p, nil
	}
	q, err := s.MyQuota(ctx)
	if err != nil {
		return nil, err
	}
	if q.Remaining <= 0 {
		return nil, &apperr.Error{Code: apperr.RateLimited, RetryAfter: time.Until(q.ResetsAt).Round(time.Second),
			Message: fmt.Sprintf("the organisation's AI token quota for this month (%d tokens) is used up; it resets on %s. "+
				"The built-in analyst still works, and an administrator can raise the quota in the AI settings",
				q.Limit, q.ResetsAt.Format("2006-01-02"))}
	}
	// Analyses and chat take the client's defaults: 60 s an attempt, 3 retries.
	if p.Client, err = s.dialStored(st, v.OrgID, 0, 0); err != nil {
		return nil, err
	}
	return p, nil
}

// Temperature is the configured sampling temperature, for provider.Request.
func (p *Provider) Temperature() *float64 {
	t := p.Settings.Temperature
	return &t
}

// Record stores the tokens of one provider call for the quota and for usage
// reports. It is called for failed calls too when the provider reported
// usage, since the tokens were spent.
func (p *Provider) Record(ctx context.Context, model string, u provider.Usage) error {
	if p.Client == nil || (u.PromptTokens == 0 && u.CompletionTokens == 0) {
		return nil
	}
	if model == "" {
		model = p.Settings.Model
	}
	return p.svc.client.AIUsage.Create().SetFeature(p.feature).SetProvider(p.Settings.Provider).
		SetModel(model).SetNillableUserID(p.userID).
		SetPromptTokens(u.PromptTokens).SetCompletionTokens(u.CompletionTokens).Exec(ctx)
}
