// Package config keeps an organisation's AI settings: which provider runs
// analyses and chat (the built-in analyst by default), its endpoint,
// model and API key (sealed at rest, never returned), per-feature toggles,
// and the monthly token quota with its usage.
package config

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// Providers.
const (
	ProviderBuiltin          = "builtin"
	ProviderOpenAICompatible = provider.KindOpenAICompatible
	ProviderAnthropic        = provider.KindAnthropic
)

// Providers are the values provider accepts, in the order documented.
var Providers = []string{ProviderBuiltin, ProviderOpenAICompatible, ProviderAnthropic}

const settingKey = "ai"

// Features are the AI features an organisation turns on.
type Features struct {
	AutoAnalyse       bool `json:"autoAnalyse"`
	Chat              bool `json:"chat"`
	IncidentSummaries bool `json:"incidentSummaries"`
}

// Settings are what clients see: the API key only as whether it is set.
type Settings struct {
	Provider          string   `json:"provider"`
	BaseURL           string   `json:"baseURL"`
	Model             string   `json:"model"`
	Temperature       float64  `json:"temperature"`
	Features          Features `json:"features"`
	MonthlyTokenQuota int      `json:"monthlyTokenQuota"`
	APIKeySet         bool     `json:"apiKeySet"`
}

// stored is the settings row: Settings plus the sealed key.
type stored struct {
	Settings
	SealedKey string `json:"sealedKey,omitempty"`
}

// FeaturesInput toggles features; nil keeps one.
type FeaturesInput struct {
	AutoAnalyse       *bool `json:"autoAnalyse,omitempty"`
	Chat              *bool `json:"chat,omitempty"`
	IncidentSummaries *bool `json:"incidentSummaries,omitempty"`
}

// UpdateInput patches the settings; nil keeps a value. APIKey "" removes
// the key.
type UpdateInput struct {
	Provider          *string        `json:"provider,omitempty"`
	BaseURL           *string        `json:"baseURL,omitempty"`
	APIKey            *string        `json:"apiKey,omitempty"`
	Model             *string        `json:"model,omitempty"`
	Temperature       *float64       `json:"temperature,omitempty"`
	Features          *FeaturesInput `json:"features,omitempty"`
	MonthlyTokenQuota *int           `json:"monthlyTokenQuota,omitempty"`
}

// Quota is the organisation's token use this month.
type Quota struct {
	Used      int       `json:"used"`
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	ResetsAt  time.Time `json:"resetsAt"`
}

// Policies gives the outbound policy an organisation's calls run under
// (outbound/orgallow: the server's ranges plus its provider's).
type Policies interface {
	For(ctx context.Context, org uuid.UUID) (*outbound.Policy, error)
}

// Service reads and writes the settings.
type Service struct {
	client   *ent.Client
	box      *secrets.Box
	policies Policies
	log      *slog.Logger
	// dial builds a provider client; tests keep the default.
	dial func(provider.Config) (provider.Client, error)
}

// New returns the service; box seals API keys, policies decide where
// providers may be reached, and log receives the provider failures
// clients only see the category of.
func New(client *ent.Client, box *secrets.Box, policies Policies, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{client: client, box: box, policies: policies, log: log, dial: provider.New}
}

func defaults() stored {
	return stored{Settings: Settings{Provider: ProviderBuiltin, Temperature: 0.2,
		Features: Features{AutoAnalyse: true, Chat: true, IncidentSummaries: true}, MonthlyTokenQuota: 1_000_000}}
}

// Get returns the acting organisation's settings.
func (s *Service) Get(ctx context.Context) (*Settings, error) {
	st, err := load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	return &st.Settings, nil
}

// Read returns the acting organisation's settings through c, which may be
// a transaction's client (ingest reads them once per request, inside its
// transaction).
func Read(ctx context.Context, c *ent.Client) (Settings, error) {
	st, err := load(ctx, c)
	return st.Settings, err
}

func load(ctx context.Context, c *ent.Client) (stored, error) {
	out := defaults()
	if _, err := settingstore.Load(ctx, c, settingKey, &out); err != nil {
		return out, err
	}
	out.APIKeySet = out.SealedKey != ""
	return out, nil
}

// Update patches the settings (admins only).
func (s *Service) Update(ctx context.Context, in UpdateInput) (*Settings, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || !v.IsAdmin() {
		return nil, apperr.New(apperr.Forbidden, "only administrators change the AI settings")
	}
	// Read outside the transaction: it holds SQLite's write lock.
	policy, err := s.policies.For(ctx, v.OrgID)
	if err != nil {
		return nil, err
	}
	var out *Settings
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		st, err := load(ctx, tx.Client())
		if err != nil {
			return err
		}
		if err := s.apply(&st, in, v.OrgID.String(), policy); err != nil {
			return err
		}
		st.APIKeySet = st.SealedKey != ""
		if err := settingstore.Save(ctx, tx.Client(), settingKey, st); err != nil {
			return err
		}
		out = &st.Settings
		return nil
	})
	return out, err
}

func (s *Service) apply(st *stored, in UpdateInput, context string, policy *outbound.Policy) error {
	was := st.destination()
	if in.Provider != nil {
		if !slices.Contains(Providers, *in.Provider) {
			return apperr.Invalid("provider", "must be one of %s", strings.Join(Providers, ", "))
		}
		st.Provider = *in.Provider
	}
	if in.BaseURL != nil {
		u := strings.TrimSpace(*in.BaseURL)
		if u != "" {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
				return apperr.Invalid("base_url", "must be an http(s) URL without credentials")
			}
		}
		st.BaseURL = u
	}
	if in.Model != nil {
		m, err := textfield.Optional("model", *in.Model, 200)
		if err != nil {
			return err
		}
		st.Model = m
	}
	if in.Temperature != nil {
		if *in.Temperature < 0 || *in.Temperature > 2 {
			return apperr.Invalid("temperature", "must be between 0 and 2")
		}
		st.Temperature = *in.Temperature
	}
	if in.MonthlyTokenQuota != nil {
		if *in.MonthlyTokenQuota < 0 {
			return apperr.Invalid("monthly_token_quota", "must not be negative")
		}
		st.MonthlyTokenQuota = *in.MonthlyTokenQuota
	}
	if f := in.Features; f != nil {
		for _, t := range []struct {
			in  *bool
			out *bool
		}{{f.AutoAnalyse, &st.Features.AutoAnalyse}, {f.Chat, &st.Features.Chat}, {f.IncidentSummaries, &st.Features.IncidentSummaries}} {
			if t.in != nil {
				*t.out = *t.in
			}
		}
	}
	if in.APIKey != nil {
		key := strings.TrimSpace(*in.APIKey)
		if key == "" {
			st.SealedKey = ""
		} else {
			if !textfield.Storable(key) || len(key) > 4096 {
				return apperr.Invalid("api_key", "is not a usable key")
			}
			sealed, err := s.box.Seal(key, sealContext(context))
			if err != nil {
				return err
			}
			st.SealedKey = sealed
		}
	}
	if st.Provider != ProviderBuiltin {
		// Refuse at save what the client would refuse at use: bad schemes,
		// credentials in the URL, metadata and link-local addresses.
		if _, err := s.dial(st.providerConfig("", st.BaseURL, policy)); err != nil {
			return apperr.Invalid("base_url", "%v", err)
		}
	}
	if st.SealedKey != "" && in.APIKey == nil && st.destination() != was && st.destination() != "" {
		// The stored key was given for the old destination; sending it
		// to a new one takes whoever changes the URL knowing the key.
		return apperr.Invalid("api_key", "is required when the destination changes (base_url or provider): the stored key is not sent to a new destination; send the key again, or an empty string to remove it")
	}
	return nil
}

// destination is where the settings send the key: the base URL, or the
// vendor's default one; "" for the built-in analyst.
func (st stored) destination() string {
	if st.Provider == ProviderBuiltin {
		return ""
	}
	if st.BaseURL != "" {
		return st.BaseURL
	}
	return provider.DefaultBaseURL(st.Provider)
}

func sealContext(org string) string { return "ai:" + org }

func (st stored) providerConfig(key, base string, policy *outbound.Policy) provider.Config {
	return provider.Config{Kind: st.Provider, BaseURL: base, APIKey: key, Policy: policy, Timeout: 20 * time.Second, MaxRetries: 1}
}

// dialStored opens the sealed key and builds the provider client; zero
// timeout and retries take the client's defaults.
func (s *Service) dialStored(ctx context.Context, st stored, org uuid.UUID, timeout time.Duration, retries int) (provider.Client, error) {
	policy, err := s.policies.For(ctx, org)
	if err != nil {
		return nil, err
	}
	key := ""
	if st.SealedKey != "" {
		var err error
		if key, err = s.box.Open(st.SealedKey, sealContext(org.String())); err != nil {
			return nil, fmt.Errorf("ai settings: the API key cannot be decrypted with this server's secret key: %w", err)
		}
	}
	cfg := st.providerConfig(key, st.BaseURL, policy)
	cfg.Timeout, cfg.MaxRetries = timeout, retries
	c, err := s.dial(cfg)
	if err != nil {
		return nil, apperr.Invalid("base_url", "%v", err)
	}
	return c, nil
}

// viewerSettings are the caller and the acting organisation's settings,
// for the calls that open the provider (and so its organisation-bound key).
func (s *Service) viewerSettings(ctx context.Context) (*viewer.Viewer, stored, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, stored{}, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	st, err := load(ctx, s.client)
	return v, st, err
}

// Models lists the models the configured provider offers; the built-in
// analyst lists itself.
func (s *Service) Models(ctx context.Context) ([]string, error) {
	v, st, err := s.viewerSettings(ctx)
	if err != nil {
		return nil, err
	}
	if st.Provider == ProviderBuiltin {
		return []string{builtin.Engine}, nil
	}
	// Listing models is interactive: a short timeout and one retry.
	c, err := s.dialStored(ctx, st, v.OrgID, 20*time.Second, 1)
	if err != nil {
		return nil, err
	}
	models, err := c.Models(ctx)
	if err != nil {
		// The client learns the category only: the provider's answer or
		// a dial error could be another service's body or port map.
		f := outbound.Logged(ctx, s.log, "ai provider did not list its models", err, "org", v.OrgID)
		return nil, &apperr.Error{Code: apperr.BadInput, Field: "provider", Message: "the provider did not list its models: " + f.Message()}
	}
	return models, nil
}

// MyQuota returns the acting organisation's token use this calendar month
// (UTC) against its quota. Used counts recorded tokens only; the budgets
// held by calls in progress show in Open's refusal.
func (s *Service) MyQuota(ctx context.Context) (*Quota, error) {
	st, err := load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	b, err := balance(ctx, s.client, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	return &Quota{Used: b.used, Limit: st.MonthlyTokenQuota, Remaining: max(st.MonthlyTokenQuota-b.used, 0), ResetsAt: b.resetsAt}, nil
}
