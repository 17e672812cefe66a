// Package resolvers implements the GraphQL schema. Resolvers are thin: each
// translates its arguments and calls a method of a domain service.
package resolvers

import (
	aiconfig "github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/alertviews"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/automation"
	"github.com/seliq/seliq/automation/trigger"
	"github.com/seliq/seliq/chat"
	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/dashboard"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/features"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/mail"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/nodes"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/outbound/orgallow"
	"github.com/seliq/seliq/pull"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/realtime/live"
	"github.com/seliq/seliq/report"
	"github.com/seliq/seliq/security"
	"github.com/seliq/seliq/sla"
)

// Resolver holds the dependencies shared by all resolvers.
type Resolver struct {
	Services *Services
}

// Services are the domain services the resolvers call, one per domain.
type Services struct {
	Auth          *auth.Service
	Directory     *directory.Directory
	Nodes         *nodes.Service
	Alerts        *alerts.Service
	AlertViews    *alertviews.Service
	Audit         *audit.Service
	Connectors    *connectors.Service
	Pull          *pull.Service
	Incidents     *incidents.Service
	Reports       *report.Service
	Notifications *notify.Service
	Analysis      *analysis.Service
	// AI is the organisation's AI settings and quota.
	AI *aiconfig.Service
	// Outbound is the provider organisations' outbound allowlists.
	Outbound *orgallow.Service
	// Chat answers and stores the conversations about alerts and incidents.
	Chat *chat.Service
	// Live serves the subscriptions.
	Live *live.Service
	// Query is the query language: sources, lookups, runs, saved queries.
	Query *query.Service
	// SLA is the organisations' SLA settings, the incidents' timers and
	// the SLA metrics.
	SLA *sla.Service
	// Mail is the email settings and the sending of messages.
	Mail *mail.Service
	// Features is each user's feature flags.
	Features *features.Service
	// Security is the organisations' security settings and login lockouts.
	Security *security.Service
	// Metrics computes the figures of dashboards and reports.
	Metrics *metrics.Service
	// Dashboards keeps dashboards and computes their widgets' data.
	Dashboards *dashboard.Service
	// Triggers keeps the automation triggers and tests them.
	Triggers *trigger.Service
	// Macros keeps macros and applies them (automation).
	Macros *automation.Service
}
