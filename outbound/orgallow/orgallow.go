// Package orgallow keeps the loopback and private ranges a provider
// organisation lets outbound calls reach, for itself and every client
// below it, and builds the outbound policy an organisation's calls run
// under: the server's ranges (SELIQ_OUTBOUND_ALLOW) plus its tree's.
//
// Only administrators of a top-level organisation change the list; a
// client organisation never widens what its calls may reach.
package orgallow

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/tenancy"
)

// Settings are the provider organisation's ranges and, read-only, the
// server's.
type Settings struct {
	AllowedRanges       []string `json:"allowedRanges"`
	ServerAllowedRanges []string `json:"serverAllowedRanges"`
}

// UpdateInput replaces the provider organisation's ranges.
type UpdateInput struct {
	AllowedRanges []string `json:"allowedRanges"`
}

// Service reads and writes the lists.
type Service struct {
	client *ent.Client
	server *outbound.Policy
}

// New returns the service; server is the policy every organisation gets.
func New(client *ent.Client, server *outbound.Policy) *Service {
	return &Service{client: client, server: server}
}

// system reads and writes the provider's organisation row after the
// explicit check of providerAdmin: a provider admin acting in a client
// organisation (X-Seliq-Org) does not see its own row through the tenancy
// filter.
func system(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// providerAdmin returns the caller when it is a user administering a
// top-level organisation.
func providerAdmin(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if v.Kind != viewer.KindUser || !v.IsProviderAdmin() {
		return nil, apperr.New(apperr.Forbidden, "only administrators of the provider organisation manage the outbound allowlist")
	}
	return v, nil
}

// Get returns the caller's provider organisation's ranges.
func (s *Service) Get(ctx context.Context) (*Settings, error) {
	v, err := providerAdmin(ctx)
	if err != nil {
		return nil, err
	}
	org, err := s.client.Organization.Get(system(ctx), v.HomeOrgID)
	if err != nil {
		return nil, err
	}
	return s.settings(org.OutboundAllow), nil
}

// Update replaces the ranges of the caller's provider organisation and
// records the change, before and after, in its activity log.
func (s *Service) Update(ctx context.Context, in UpdateInput) (*Settings, error) {
	v, err := providerAdmin(ctx)
	if err != nil {
		return nil, err
	}
	ranges, err := outbound.ParseRanges(in.AllowedRanges)
	if err != nil {
		return nil, apperr.Invalid("allowed_ranges", "%v", err)
	}
	after := outbound.FormatRanges(ranges)
	home := viewer.Home(ctx)
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		org, err := tx.Organization.Get(system(ctx), v.HomeOrgID)
		if err != nil {
			return err
		}
		before := org.OutboundAllow
		if slices.Equal(before, after) {
			return nil
		}
		if err := tx.Organization.UpdateOneID(org.ID).SetOutboundAllow(after).Exec(system(ctx)); err != nil {
			return err
		}
		return audit.Record(home, tx.Client(), audit.Entry{EntityType: "organization", EntityID: org.ID,
			Action: "update", Field: "outbound_allow", Before: nonNil(before), After: after})
	})
	if err != nil {
		return nil, err
	}
	return s.settings(after), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Service) settings(allowed []string) *Settings {
	return &Settings{AllowedRanges: nonNil(allowed), ServerAllowedRanges: outbound.FormatRanges(s.server.Allowed())}
}

// For returns the policy outbound calls made for organisation org run
// under: the server's ranges plus those of org's top-level organisation.
func (s *Service) For(ctx context.Context, org uuid.UUID) (*outbound.Policy, error) {
	root, err := tenancy.Root(ctx, s.client, org)
	if err != nil {
		return nil, err
	}
	ranges, err := outbound.ParseRanges(root.OutboundAllow)
	if err != nil {
		return nil, err
	}
	return s.server.With(ranges...), nil
}
