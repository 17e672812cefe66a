package stream

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/viewer"
)

// ShareKey is the WebSocket transport's grouping key (ShareKeyFunc):
// subscriptions with the same key run once per event, as the first
// subscriber of the group, and every subscriber receives the same bytes.
//
// # Audit: what the result of a shared subscription depends on
//
// Fields reachable from AlertEvent and IncidentEvent, as of this audit:
// AlertEvent, Alert, AlertEntity, Connector, Incident, User, Group,
// AlertConnection, AlertEdge, PageInfo and FacetValue (sharedFields lists
// them; TestShareAuditCoversTheSchema fails when one is added).
//
//   - The objects are loaded through ent's privacy rules, which filter
//     tenant rows by the acting organisation (rule.FilterTenant: Alert,
//     Incident, User, Group, Connector and the alerts of Incident.alerts and
//     Incident.alertSeverities) and organisation rows by the organisations
//     visible from it (rule.FilterVisibleOrganizations; no Organization is
//     reachable). Both depend on the acting organisation only, which the
//     key holds.
//   - No reachable field carries @hasRole, and none of their resolvers reads
//     the viewer: Connector.settings masks secrets for every role alike
//     (connectors.MaskedSettings), Incident.alerts and alertSeverities run
//     the queue's list and facet for the incident, the rest are columns.
//     The role is in the key all the same, as is the home organisation
//     (whether the viewer is a provider): a field that comes to depend on
//     them stays correct without re-keying.
//   - Nothing reachable depends on the user: no per-user state (read marks,
//     notification preferences, saved views, "assigned to me") and no
//     formatting by the viewer's preferences (User.timezone is the listed
//     user's setting, not the viewer's). So two users of the same
//     organisation and role share. notificationAdded, which is per user,
//     and metricsTick and the chat subscriptions are not shared at all.
//   - A subscription with after replays from its own cursor, so only those
//     without one share: they all start at the hub's position.
//
// Everything else is in the key: the query document, the operation name
// and the variables (the filter, aliases, @include). A selection of any
// field not in sharedFields, a second root field or a root fragment is not
// shared, so a field added to the schema is never shared unaudited.
func ShareKey(ctx context.Context, rc *graphql.OperationContext) (string, bool) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return "", false
	}
	if len(rc.Operation.SelectionSet) != 1 {
		return "", false
	}
	root, ok := rc.Operation.SelectionSet[0].(*ast.Field)
	if !ok || !sharedRoots[root.Name] || root.ArgumentMap(rc.Variables)["after"] != nil {
		return "", false
	}
	if !audited(root.SelectionSet) {
		return "", false
	}
	key, err := json.Marshal(shareKey{
		Org: v.OrgID, Home: v.HomeOrgID, TopLevel: v.TopLevel, Role: v.Role,
		Query: rc.RawQuery, Operation: rc.OperationName, Variables: rc.Variables,
	})
	if err != nil {
		return "", false
	}
	return string(key), true
}

// shareKey is what a shared result may depend on (see ShareKey).
type shareKey struct {
	Org       uuid.UUID
	Home      uuid.UUID
	TopLevel  bool
	Role      enum.Role
	Query     string
	Operation string
	Variables map[string]any // encoding/json sorts the keys
}

// sharedRoots are the subscriptions that may be shared.
var sharedRoots = map[string]bool{"alertEvents": true, "incidentEvents": true}

// sharedFields are the fields, by object type, audited as resolving alike
// for every viewer of one organisation and role (see ShareKey).
var sharedFields = fieldSet(map[string][]string{
	"AlertEvent":    {"kind", "alert", "cursor"},
	"IncidentEvent": {"kind", "incident", "cursor"},
	"Alert": {"acknowledgedAt", "assignee", "assigneeID", "connector", "connectorID", "createdAt", "description",
		"disposition", "entities", "eventTime", "externalID", "fingerprint", "firstSeenAt", "id", "incident",
		"incidentID", "ingestedAt", "lastSeenAt", "mitre", "occurrences", "organizationID", "raw", "resolvedAt", "attributes",
		"severity", "source", "status", "suppressed", "suppressionReason", "tags", "title", "updatedAt"},
	"AlertEntity": {"type", "value"},
	"Connector": {"createdAt", "dedupFields", "dedupWindowSeconds", "enabled", "id", "keyPrefix", "lastSeenAt",
		"mode", "name", "organizationID", "pollIntervalSeconds", "rateLimitPerMinute", "settings", "type", "updatedAt", "lastPolledAt", "lastSuccessAt", "lastError", "itemsLastPoll", "nextPollAt"},
	"Incident": {"acknowledgedAt", "aiSummary", "alertCount", "alertSeverities", "alerts", "assignee", "assigneeID",
		"closedAt", "createdAt", "description", "disposition", "group", "groupID", "id", "number", "organizationID",
		"severity", "slaAckBreachedAt", "slaResolveBreachedAt", "status", "summary", "tags", "title", "updatedAt",
		"slaAckDueAt", "slaResolveDueAt", "slaAckAtRiskAt", "slaResolveAtRiskAt", "slaDueAt", "sla"},
	// The SLA timers depend on the incident, the organisation's settings
	// and the clock, never on the viewer.
	"IncidentSLA":    {"acknowledge", "resolve"},
	"SLATimerStatus": {"dueAt", "state", "atRiskAt", "breachedAt"},
	"User": {"active", "createdAt", "email", "groups", "handle", "id", "lastLoginAt", "mfaEnabled", "name",
		"organizationID", "role", "timezone", "updatedAt"},
	"Group":           {"createdAt", "description", "id", "members", "name", "organizationID", "updatedAt"},
	"AlertConnection": {"edges", "pageInfo", "totalCount", "totalCountIsEstimate"},
	"AlertEdge":       {"cursor", "node"},
	"PageInfo":        {"endCursor", "hasNextPage", "hasPreviousPage", "startCursor"},
	"FacetValue":      {"count", "value"},
})

func fieldSet(byType map[string][]string) map[string]map[string]bool {
	set := make(map[string]map[string]bool, len(byType))
	for typ, fields := range byType {
		set[typ] = make(map[string]bool, len(fields))
		for _, f := range fields {
			set[typ][f] = true
		}
	}
	return set
}

// audited reports whether every field of sel, through fragments, is in
// sharedFields. __typename is the same for everyone.
func audited(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			if s.ObjectDefinition == nil || !sharedFields[s.ObjectDefinition.Name][s.Name] || !audited(s.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if !audited(s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || !audited(s.Definition.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
