// Package features holds the per-user feature flags: switches a user
// turns off (or back on) for themselves, each honoured by the code it
// names. A flag can only narrow what the organisation allows: a user's
// "on" never turns on what the organisation turned off.
package features

import (
	"context"

	"github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// The flags.
const (
	// EmailNotifications: notifications reach the user by email (per the
	// kind's email preference); off, none does. Read by notify.
	EmailNotifications = "email_notifications"
	// AIChat: the user may ask the AI about alerts and incidents, when the
	// organisation's AI settings allow chat. Read by chat.
	AIChat = "ai_chat"
)

// flag is one flag's definition.
type flag struct {
	key, description string
	def              bool
	// allowed says whether the organisation allows the feature; nil when
	// the organisation has no switch for it.
	allowed func(ctx context.Context, c *ent.Client) (bool, error)
}

var flags = []flag{
	{key: EmailNotifications, def: true,
		description: "Send me notifications by email, for the kinds whose email preference is on. Off: no notification email reaches me; in-app notifications are unchanged."},
	{key: AIChat, def: true,
		description: "Let me chat with the AI analyst about alerts and incidents. Only narrows the organisation's AI settings (features.chat): on does nothing if the organisation turned chat off.",
		allowed: func(ctx context.Context, c *ent.Client) (bool, error) {
			st, err := config.Read(ctx, c)
			return st.Features.Chat, err
		}},
}

// Feature is one flag as the calling user sees it.
type Feature struct {
	Key         string `json:"key"`
	Description string `json:"description"`
	Default     bool   `json:"default"`
	// Value is the user's own choice (the default until they change it).
	Value bool `json:"value"`
	// OrganizationAllows is whether the acting organisation allows the
	// feature; true for flags the organisation has no switch for.
	OrganizationAllows bool `json:"organizationAllows"`
	// Enabled is what the server does for the user: Value and
	// OrganizationAllows.
	Enabled bool `json:"enabled"`
}

// On reports whether u's own flag key is on: their choice, or the
// default. It does not read the organisation's switch.
func On(u *ent.User, key string) bool {
	for _, f := range flags {
		if f.key == key {
			if v, ok := u.Features[key]; ok {
				return v
			}
			return f.def
		}
	}
	return false
}

// Service lists and sets the calling user's flags.
type Service struct{ client *ent.Client }

// New returns the service over client.
func New(client *ent.Client) *Service { return &Service{client: client} }

func (s *Service) me(ctx context.Context) (*ent.User, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return s.client.User.Get(viewer.Home(ctx), v.UserID)
}

// List returns every flag for the calling user.
func (s *Service) List(ctx context.Context) ([]*Feature, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Feature, 0, len(flags))
	for _, f := range flags {
		ft, err := s.feature(ctx, u, f)
		if err != nil {
			return nil, err
		}
		out = append(out, ft)
	}
	return out, nil
}

func (s *Service) feature(ctx context.Context, u *ent.User, f flag) (*Feature, error) {
	allows := true
	if f.allowed != nil {
		var err error
		if allows, err = f.allowed(ctx, s.client); err != nil {
			return nil, err
		}
	}
	v := On(u, f.key)
	return &Feature{Key: f.key, Description: f.description, Default: f.def, Value: v, OrganizationAllows: allows, Enabled: v && allows}, nil
}

// Set turns one of the calling user's flags on or off; an unknown key is
// not found. Read-only users may set their own flags: they are theirs.
func (s *Service) Set(ctx context.Context, key string, enabled bool) (*Feature, error) {
	var def *flag
	for i := range flags {
		if flags[i].key == key {
			def = &flags[i]
		}
	}
	if def == nil {
		return nil, apperr.NotFoundf("no feature %q", key)
	}
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	next := make(map[string]bool, len(u.Features)+1)
	for k, v := range u.Features {
		next[k] = v
	}
	next[key] = enabled
	// The user's row lives in their home organisation; writing one's own
	// flags is allowed whatever the role, confined to that one row.
	if err := s.client.User.UpdateOneID(u.ID).SetFeatures(next).Exec(privacy.DecisionContext(ctx, privacy.Allow)); err != nil {
		return nil, err
	}
	u.Features = next
	return s.feature(ctx, u, *def)
}

// Keys are the flags' keys, in the order the list shows them.
func Keys() []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = f.key
	}
	return out
}
