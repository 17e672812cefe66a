// Package resolvers implements the GraphQL schema. Resolvers are thin: they
// translate arguments and call the domain packages.
package resolvers

import (
	aiconfig "github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/alertviews"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/chat"
	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/ratelimit"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/outbound/orgallow"
	"github.com/seliq/seliq/realtime/live"
	"github.com/seliq/seliq/report"
)

// Resolver holds the dependencies shared by all resolvers.
type Resolver struct {
	Client    *ent.Client
	Auth      *auth.Service
	Directory *directory.Directory
	// Triage is the alert queue (named apart from the alerts query field).
	Triage           *alerts.Service
	ConnectorService *connectors.Service
	Views            *alertviews.Service
	IncidentService  *incidents.Service
	Reports          *report.Service
	// Feed is the caller's notifications (named apart from the query field).
	Feed *notify.Service
	// Analyst runs triage analyses (named apart from the query fields).
	Analyst *analysis.Service
	// AI is the organisation's AI settings and quota.
	AI *aiconfig.Service
	// Outbound is the provider organisations' outbound allowlists.
	Outbound *orgallow.Service
	// Chat answers and stores the conversations about alerts and incidents.
	Chat *chat.Service
	// Live serves the subscriptions.
	Live *live.Service
	// BulkLimit bounds bulk alert actions per user.
	BulkLimit *ratelimit.Limiter
}
