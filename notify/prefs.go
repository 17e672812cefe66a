package notify

import (
	"context"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// Channels a notification can go out on.
const (
	ChannelInApp = "in_app"
	ChannelEmail = "email"
)

// ChannelPrefs says where one kind of notification goes.
type ChannelPrefs struct {
	InApp bool `json:"inApp"`
	Email bool `json:"email"`
}

// Prefs are a user's choices per kind of notification.
type Prefs struct {
	Assigned       ChannelPrefs `json:"assigned"`
	Mentioned      ChannelPrefs `json:"mentioned"`
	IncidentStatus ChannelPrefs `json:"incidentStatus"`
	SLAAtRisk      ChannelPrefs `json:"slaAtRisk"`
	SLABreach      ChannelPrefs `json:"slaBreach"`
	CriticalAlert  ChannelPrefs `json:"criticalAlert"`
	// ConnectorFailing reaches administrators only.
	ConnectorFailing ChannelPrefs `json:"connectorFailing"`
	// AutomationFailed reaches administrators only.
	AutomationFailed ChannelPrefs `json:"automationFailed"`
}

// ChannelPrefsInput changes where one kind goes; nil keeps a channel.
type ChannelPrefsInput struct {
	InApp *bool `json:"inApp,omitempty"`
	Email *bool `json:"email,omitempty"`
}

// PrefsInput changes some kinds; nil keeps a kind.
type PrefsInput struct {
	Assigned         *ChannelPrefsInput `json:"assigned,omitempty"`
	Mentioned        *ChannelPrefsInput `json:"mentioned,omitempty"`
	IncidentStatus   *ChannelPrefsInput `json:"incidentStatus,omitempty"`
	SLAAtRisk        *ChannelPrefsInput `json:"slaAtRisk,omitempty"`
	SLABreach        *ChannelPrefsInput `json:"slaBreach,omitempty"`
	CriticalAlert    *ChannelPrefsInput `json:"criticalAlert,omitempty"`
	ConnectorFailing *ChannelPrefsInput `json:"connectorFailing,omitempty"`
	AutomationFailed *ChannelPrefsInput `json:"automationFailed,omitempty"`
}

// defaults: everything in the app; by email what asks for the user's own
// action (assigned, mentioned) and SLA breaches.
var defaults = map[enum.NotificationKind]ChannelPrefs{
	enum.NotificationKindAssigned:         {InApp: true, Email: true},
	enum.NotificationKindMentioned:        {InApp: true, Email: true},
	enum.NotificationKindIncidentStatus:   {InApp: true},
	enum.NotificationKindSlaAtRisk:        {InApp: true},
	enum.NotificationKindSlaBreach:        {InApp: true, Email: true},
	enum.NotificationKindCriticalAlert:    {InApp: true},
	enum.NotificationKindConnectorFailing: {InApp: true, Email: true},
	enum.NotificationKindAutomationFailed: {InApp: true, Email: true},
	// Automation's channels are the notify action's own choice; a user's
	// email_notifications feature flag still turns its email off.
	enum.NotificationKindAutomation: {InApp: true, Email: true},
}

// prefsOf reads a user's stored choices over the defaults. The stored form
// is kind → channel → on, so that a kind added later takes its default.
func prefsOf(u *ent.User) map[enum.NotificationKind]ChannelPrefs {
	out := make(map[enum.NotificationKind]ChannelPrefs, len(defaults))
	for k, d := range defaults {
		p := d
		if stored, ok := u.NotificationPrefs[string(k)]; ok {
			if v, ok := stored[ChannelInApp]; ok {
				p.InApp = v
			}
			if v, ok := stored[ChannelEmail]; ok {
				p.Email = v
			}
		}
		out[k] = p
	}
	return out
}

func toPrefs(m map[enum.NotificationKind]ChannelPrefs) *Prefs {
	return &Prefs{
		Assigned: m[enum.NotificationKindAssigned], Mentioned: m[enum.NotificationKindMentioned],
		IncidentStatus: m[enum.NotificationKindIncidentStatus], SLAAtRisk: m[enum.NotificationKindSlaAtRisk],
		SLABreach: m[enum.NotificationKindSlaBreach], CriticalAlert: m[enum.NotificationKindCriticalAlert],
		ConnectorFailing: m[enum.NotificationKindConnectorFailing], AutomationFailed: m[enum.NotificationKindAutomationFailed],
	}
}

// MyPrefs returns the calling user's notification preferences.
func (s *Service) MyPrefs(ctx context.Context) (*Prefs, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	return toPrefs(prefsOf(u)), nil
}

// UpdateMyPrefs changes the calling user's preferences. Read-only users may
// choose their own notifications too: the preferences are theirs.
func (s *Service) UpdateMyPrefs(ctx context.Context, in PrefsInput) (*Prefs, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	cur := prefsOf(u)
	for k, p := range map[enum.NotificationKind]*ChannelPrefsInput{
		enum.NotificationKindAssigned: in.Assigned, enum.NotificationKindMentioned: in.Mentioned,
		enum.NotificationKindIncidentStatus: in.IncidentStatus, enum.NotificationKindSlaAtRisk: in.SLAAtRisk,
		enum.NotificationKindSlaBreach: in.SLABreach, enum.NotificationKindCriticalAlert: in.CriticalAlert,
		enum.NotificationKindConnectorFailing: in.ConnectorFailing, enum.NotificationKindAutomationFailed: in.AutomationFailed,
	} {
		if p == nil {
			continue
		}
		c := cur[k]
		if p.InApp != nil {
			c.InApp = *p.InApp
		}
		if p.Email != nil {
			c.Email = *p.Email
		}
		cur[k] = c
	}
	stored := make(map[string]map[string]bool, len(cur))
	for k, c := range cur {
		stored[string(k)] = map[string]bool{ChannelInApp: c.InApp, ChannelEmail: c.Email}
	}
	// The user's row lives in their home organisation; writing one's own
	// preferences is allowed whatever the role.
	if err := s.client.User.UpdateOneID(u.ID).SetNotificationPrefs(stored).Exec(ownRow(ctx)); err != nil {
		return nil, err
	}
	return toPrefs(cur), nil
}

func (s *Service) me(ctx context.Context) (*ent.User, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return s.client.User.Get(viewer.Home(ctx), v.UserID)
}
