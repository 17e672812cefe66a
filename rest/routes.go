package rest

import "net/http"

// Route is one REST endpoint, declared as a projection of a GraphQL root
// field: the handler builds the operation, maps path, query and body to its
// arguments, runs it in process and reshapes the result. Authentication,
// roles, tenancy, validation and errors are therefore those of GraphQL.
type Route struct {
	Method  string
	Path    string // chi pattern without trailing slash; both forms are served
	Field   string // GraphQL root field (Query or Mutation)
	Summary string
	Tag     string
	// PathArgs maps a path parameter to the argument it fills.
	PathArgs map[string]string
	// QueryArgs maps query parameters to arguments (lists also get limit,
	// cursor and sort).
	QueryArgs map[string]string
	// Filter is an input-object argument filled from the query parameters
	// the route does not otherwise use (GET /alerts?status=new,acknowledged).
	Filter string
	// Body is the argument the JSON body fills; "*" spreads the body's keys
	// over the arguments; "" means no body.
	Body string
	// Status on success; 204 sends no body.
	Status int
	// Merge inlines one payload field into the response (the created token
	// next to its one-time secret).
	Merge string
	// Public routes need no credentials (login).
	Public bool
}

// Routes is the REST surface. Paths follow the Seliq API reference.
var Routes = []Route{
	{Method: http.MethodPost, Path: "/api/v1/auth/login", Field: "login", Body: "input", Tag: "auth", Summary: "Login", Public: true},
	{Method: http.MethodPost, Path: "/api/v1/auth/logout", Field: "logout", Tag: "auth", Summary: "Logout", Status: http.StatusNoContent},
	{Method: http.MethodPost, Path: "/api/v1/auth/mfa", Field: "completeMFALogin", Body: "input", Tag: "auth", Summary: "Complete MFA Login", Public: true},
	{Method: http.MethodPost, Path: "/api/v1/users/me/mfa/totp", Field: "enrolTOTP", Tag: "mfa", Summary: "Enrol TOTP"},
	{Method: http.MethodPost, Path: "/api/v1/users/me/mfa/totp/confirm", Field: "confirmTOTP", Body: "*", Tag: "mfa", Summary: "Confirm TOTP"},
	{Method: http.MethodDelete, Path: "/api/v1/users/me/mfa/totp", Field: "disableTOTP", Body: "*", Status: http.StatusNoContent, Tag: "mfa", Summary: "Disable TOTP"},

	{Method: http.MethodGet, Path: "/api/v1/users/me", Field: "me", Tag: "users", Summary: "Get Me"},
	{Method: http.MethodPatch, Path: "/api/v1/users/me", Field: "updateMe", Body: "input", Tag: "users", Summary: "Update Me"},
	{Method: http.MethodGet, Path: "/api/v1/users", Field: "users", Tag: "users", Summary: "List Users"},
	{Method: http.MethodPost, Path: "/api/v1/users", Field: "createUser", Body: "input", Status: http.StatusCreated, Tag: "users", Summary: "Create User"},
	{Method: http.MethodGet, Path: "/api/v1/users/quota", Field: "userQuota", Tag: "users", Summary: "Get User Quota"},
	{Method: http.MethodGet, Path: "/api/v1/users/{user_id}", Field: "user", PathArgs: map[string]string{"user_id": "id"}, Tag: "users", Summary: "Get User"},
	{Method: http.MethodPatch, Path: "/api/v1/users/{user_id}", Field: "updateUser", PathArgs: map[string]string{"user_id": "id"}, Body: "input", Tag: "users", Summary: "Patch User"},
	{Method: http.MethodDelete, Path: "/api/v1/users/{user_id}", Field: "deleteUser", PathArgs: map[string]string{"user_id": "id"}, Status: http.StatusNoContent, Tag: "users", Summary: "Delete User"},
	{Method: http.MethodPost, Path: "/api/v1/users/{user_id}/unlock", Field: "unlockUser", PathArgs: map[string]string{"user_id": "id"}, Tag: "users", Summary: "Unlock User"},
	{Method: http.MethodPost, Path: "/api/v1/users/{user_id}/reset-password", Field: "resetPassword", PathArgs: map[string]string{"user_id": "id"}, Body: "input", Tag: "users", Summary: "Reset Password"},

	{Method: http.MethodGet, Path: "/api/v1/users/me/api-tokens", Field: "apiTokens", Tag: "api-tokens", Summary: "List My API Tokens"},
	{Method: http.MethodPost, Path: "/api/v1/users/me/api-tokens", Field: "createAPIToken", Body: "input", Status: http.StatusCreated, Merge: "api_token", Tag: "api-tokens", Summary: "Create API Token"},
	{Method: http.MethodDelete, Path: "/api/v1/users/me/api-tokens/{token_id}", Field: "revokeAPIToken", PathArgs: map[string]string{"token_id": "id"}, Status: http.StatusNoContent, Tag: "api-tokens", Summary: "Revoke API Token"},

	{Method: http.MethodGet, Path: "/api/v1/organizations", Field: "organizations", Tag: "organizations", Summary: "List Organizations"},
	{Method: http.MethodPost, Path: "/api/v1/organizations", Field: "createOrganization", Body: "input", Status: http.StatusCreated, Tag: "organizations", Summary: "Create Organization"},
	{Method: http.MethodGet, Path: "/api/v1/organizations/by-slug/{slug}", Field: "organizationBySlug", PathArgs: map[string]string{"slug": "slug"}, Tag: "organizations", Summary: "Get Organization By Slug"},
	{Method: http.MethodGet, Path: "/api/v1/organizations/{organization_id}", Field: "organization", PathArgs: map[string]string{"organization_id": "id"}, Tag: "organizations", Summary: "Get Organization"},
	{Method: http.MethodPatch, Path: "/api/v1/organizations/{organization_id}", Field: "updateOrganization", PathArgs: map[string]string{"organization_id": "id"}, Body: "input", Tag: "organizations", Summary: "Patch Organization"},
	{Method: http.MethodGet, Path: "/api/v1/organizations/{organization_id}/contacts", Field: "contacts", PathArgs: map[string]string{"organization_id": "organizationID"}, Tag: "organizations", Summary: "List Contacts"},
	{Method: http.MethodPost, Path: "/api/v1/organizations/{organization_id}/contacts", Field: "createContact", PathArgs: map[string]string{"organization_id": "organizationID"}, Body: "input", Status: http.StatusCreated, Tag: "organizations", Summary: "Create Contact"},
	{Method: http.MethodPatch, Path: "/api/v1/organizations/{organization_id}/contacts/{contact_id}", Field: "updateContact", PathArgs: map[string]string{"organization_id": "organizationID", "contact_id": "id"}, Body: "input", Tag: "organizations", Summary: "Patch Contact"},
	{Method: http.MethodDelete, Path: "/api/v1/organizations/{organization_id}/contacts/{contact_id}", Field: "deleteContact", PathArgs: map[string]string{"organization_id": "organizationID", "contact_id": "id"}, Status: http.StatusNoContent, Tag: "organizations", Summary: "Delete Contact"},

	{Method: http.MethodGet, Path: "/api/v1/groups", Field: "groups", Tag: "groups", Summary: "List Groups"},
	{Method: http.MethodPost, Path: "/api/v1/groups", Field: "createGroup", Body: "input", Status: http.StatusCreated, Tag: "groups", Summary: "Create Group"},
	{Method: http.MethodGet, Path: "/api/v1/groups/{group_id}", Field: "group", PathArgs: map[string]string{"group_id": "id"}, Tag: "groups", Summary: "Get Group"},
	{Method: http.MethodPatch, Path: "/api/v1/groups/{group_id}", Field: "updateGroup", PathArgs: map[string]string{"group_id": "id"}, Body: "input", Tag: "groups", Summary: "Update Group"},
	{Method: http.MethodDelete, Path: "/api/v1/groups/{group_id}", Field: "deleteGroup", PathArgs: map[string]string{"group_id": "id"}, Status: http.StatusNoContent, Tag: "groups", Summary: "Delete Group"},
	{Method: http.MethodPut, Path: "/api/v1/groups/{group_id}/members", Field: "setGroupMembers", PathArgs: map[string]string{"group_id": "id"}, Body: "*", Tag: "groups", Summary: "Replace Group Members"},

	{Method: http.MethodGet, Path: "/api/v1/alerts", Field: "alerts", Filter: "filter", Tag: "alerts", Summary: "List Alerts"},
	{Method: http.MethodGet, Path: "/api/v1/alerts/facets", Field: "alertFacets", Filter: "filter", Tag: "alerts", Summary: "Alert Facets"},
	{Method: http.MethodPost, Path: "/api/v1/alerts/bulk", Field: "bulkAlerts", Body: "input", Tag: "alerts", Summary: "Bulk Alert Action"},
	{Method: http.MethodGet, Path: "/api/v1/alerts/{alert_id}", Field: "alert", PathArgs: map[string]string{"alert_id": "id"}, Tag: "alerts", Summary: "Get Alert"},
	{Method: http.MethodPatch, Path: "/api/v1/alerts/{alert_id}", Field: "updateAlert", PathArgs: map[string]string{"alert_id": "id"}, Body: "input", Tag: "alerts", Summary: "Patch Alert"},
	{Method: http.MethodGet, Path: "/api/v1/alerts/{alert_id}/activity", Field: "alertActivity", PathArgs: map[string]string{"alert_id": "alertID"}, Tag: "alerts", Summary: "List Alert Activity"},
	{Method: http.MethodGet, Path: "/api/v1/alerts/{alert_id}/notes", Field: "alertNotes", PathArgs: map[string]string{"alert_id": "alertID"}, Tag: "alerts", Summary: "List Alert Notes"},
	{Method: http.MethodPost, Path: "/api/v1/alerts/{alert_id}/notes", Field: "addAlertNote", PathArgs: map[string]string{"alert_id": "alertID"}, Body: "input", Status: http.StatusCreated, Tag: "alerts", Summary: "Add Alert Note"},
	{Method: http.MethodPost, Path: "/api/v1/activity/search", Field: "searchActivity", Body: "filter", Tag: "activity", Summary: "Search Activity"},

	{Method: http.MethodGet, Path: "/api/v1/incidents", Field: "incidents", Filter: "filter", Tag: "incidents", Summary: "List Incidents"},
	{Method: http.MethodPost, Path: "/api/v1/incidents", Field: "createIncident", Body: "input", Status: http.StatusCreated, Tag: "incidents", Summary: "Create Incident"},
	{Method: http.MethodGet, Path: "/api/v1/incidents/{incident_id}", Field: "incident", PathArgs: map[string]string{"incident_id": "id"}, Tag: "incidents", Summary: "Get Incident"},
	{Method: http.MethodPatch, Path: "/api/v1/incidents/{incident_id}", Field: "updateIncident", PathArgs: map[string]string{"incident_id": "id"}, Body: "input", Tag: "incidents", Summary: "Patch Incident"},
	{Method: http.MethodGet, Path: "/api/v1/incidents/{incident_id}/activity", Field: "incidentActivity", PathArgs: map[string]string{"incident_id": "incidentID"}, Tag: "incidents", Summary: "List Incident Activity"},
	{Method: http.MethodPost, Path: "/api/v1/incidents/{incident_id}/alerts", Field: "linkAlerts", PathArgs: map[string]string{"incident_id": "incidentID"}, Body: "input", Tag: "incidents", Summary: "Link Alerts"},
	{Method: http.MethodDelete, Path: "/api/v1/incidents/{incident_id}/alerts/{alert_id}", Field: "unlinkAlert", PathArgs: map[string]string{"incident_id": "incidentID", "alert_id": "alertID"}, Tag: "incidents", Summary: "Unlink Alert"},
	{Method: http.MethodGet, Path: "/api/v1/incidents/{incident_id}/notes", Field: "incidentNotes", PathArgs: map[string]string{"incident_id": "incidentID"}, Tag: "incidents", Summary: "List Incident Notes"},
	{Method: http.MethodPost, Path: "/api/v1/incidents/{incident_id}/notes", Field: "addIncidentNote", PathArgs: map[string]string{"incident_id": "incidentID"}, Body: "input", Status: http.StatusCreated, Tag: "incidents", Summary: "Add Incident Note"},
	{Method: http.MethodGet, Path: "/api/v1/incidents/{incident_id}/timeline", Field: "incidentTimeline", PathArgs: map[string]string{"incident_id": "incidentID"}, Tag: "incidents", Summary: "List Timeline Events"},
	{Method: http.MethodPost, Path: "/api/v1/incidents/{incident_id}/timeline", Field: "addTimelineEvent", PathArgs: map[string]string{"incident_id": "incidentID"}, Body: "input", Status: http.StatusCreated, Tag: "incidents", Summary: "Add Timeline Event"},
	{Method: http.MethodPatch, Path: "/api/v1/incidents/{incident_id}/timeline/{event_id}", Field: "updateTimelineEvent", PathArgs: map[string]string{"incident_id": "incidentID", "event_id": "eventID"}, Body: "input", Tag: "incidents", Summary: "Update Timeline Event"},
	{Method: http.MethodDelete, Path: "/api/v1/incidents/{incident_id}/timeline/{event_id}", Field: "deleteTimelineEvent", PathArgs: map[string]string{"incident_id": "incidentID", "event_id": "eventID"}, Status: http.StatusNoContent, Tag: "incidents", Summary: "Delete Timeline Event"},

	{Method: http.MethodGet, Path: "/api/v1/settings/ai", Field: "aiSettings", Tag: "ai", Summary: "Get Ai Config"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/ai", Field: "updateAISettings", Body: "input", Tag: "ai", Summary: "Update Ai Config"},
	{Method: http.MethodGet, Path: "/api/v1/settings/asset-profile", Field: "assetProfile", Tag: "ai", Summary: "Get Asset Profile"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/asset-profile", Field: "updateAssetProfile", Body: "input", Tag: "ai", Summary: "Update Asset Profile"},
	{Method: http.MethodGet, Path: "/api/v1/settings/ai/models", Field: "aiModels", Tag: "ai", Summary: "List Models"},
	{Method: http.MethodGet, Path: "/api/v1/settings/features", Field: "features", Tag: "features", Summary: "List My Features"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/features/{key}", Field: "setFeature", PathArgs: map[string]string{"key": "key"}, Body: "*", Tag: "features", Summary: "Toggle My Feature"},
	{Method: http.MethodGet, Path: "/api/v1/settings/email", Field: "emailSettings", Tag: "email", Summary: "Get Email Config"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/email", Field: "updateEmailSettings", Body: "input", Tag: "email", Summary: "Patch Email Config"},
	{Method: http.MethodPost, Path: "/api/v1/settings/email/test", Field: "sendTestEmail", Body: "*", Tag: "email", Summary: "Send Test Email"},
	{Method: http.MethodGet, Path: "/api/v1/settings/notifications", Field: "notificationSettings", Tag: "email", Summary: "Get Notification Settings"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/notifications", Field: "updateNotificationSettings", Body: "input", Tag: "email", Summary: "Patch Notification Settings"},
	{Method: http.MethodGet, Path: "/api/v1/settings/outbound", Field: "outboundPolicy", Tag: "outbound", Summary: "Get Outbound Policy"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/outbound", Field: "updateOutboundPolicy", Body: "input", Tag: "outbound", Summary: "Update Outbound Policy"},
	{Method: http.MethodGet, Path: "/api/v1/ai-usage/quota", Field: "aiQuota", Tag: "ai", Summary: "Get Ai Quota"},

	{Method: http.MethodGet, Path: "/api/v1/incidents/{incident_id}/analysis", Field: "incidentAnalysis", PathArgs: map[string]string{"incident_id": "incidentID"}, Tag: "analysis", Summary: "Get Incident Analysis"},
	{Method: http.MethodPost, Path: "/api/v1/incidents/{incident_id}/analysis", Field: "analyseIncident", PathArgs: map[string]string{"incident_id": "incidentID"}, Body: "input", Status: http.StatusAccepted, Tag: "analysis", Summary: "Generate Incident Analysis"},
	{Method: http.MethodGet, Path: "/api/v1/alerts/{alert_id}/analysis", Field: "alertAnalysis", PathArgs: map[string]string{"alert_id": "alertID"}, Tag: "analysis", Summary: "Get Alert Analysis"},
	{Method: http.MethodPost, Path: "/api/v1/alerts/{alert_id}/analyse", Field: "analyseAlert", PathArgs: map[string]string{"alert_id": "alertID"}, Body: "input", Status: http.StatusAccepted, Tag: "analysis", Summary: "Trigger Alert Analysis"},
	{Method: http.MethodPost, Path: "/api/v1/analyses/{analysis_id}/flag", Field: "flagAnalysis", PathArgs: map[string]string{"analysis_id": "analysisID"}, Body: "input", Tag: "analysis", Summary: "Flag Analysis"},
	{Method: http.MethodPost, Path: "/api/v1/analyses/{analysis_id}/grouping/accept", Field: "acceptGrouping", PathArgs: map[string]string{"analysis_id": "analysisID"}, Tag: "analysis", Summary: "Accept Grouping"},

	{Method: http.MethodGet, Path: "/api/v1/alerts/{alert_id}/chat", Field: "alertChatHistory", PathArgs: map[string]string{"alert_id": "alertID"}, Tag: "chat", Summary: "List Alert Chat"},
	{Method: http.MethodPost, Path: "/api/v1/alerts/{alert_id}/chat", Field: "sendAlertChat", PathArgs: map[string]string{"alert_id": "alertID"}, Body: "input", Status: http.StatusCreated, Tag: "chat", Summary: "Send Alert Chat"},
	{Method: http.MethodGet, Path: "/api/v1/incidents/{incident_id}/chat", Field: "incidentChatHistory", PathArgs: map[string]string{"incident_id": "incidentID"}, Tag: "chat", Summary: "List Incident Chat"},
	{Method: http.MethodPost, Path: "/api/v1/incidents/{incident_id}/chat", Field: "sendIncidentChat", PathArgs: map[string]string{"incident_id": "incidentID"}, Body: "input", Status: http.StatusCreated, Tag: "chat", Summary: "Send Incident Chat"},

	{Method: http.MethodGet, Path: "/api/v1/incidents/{incident_id}/reports", Field: "incidentReports", PathArgs: map[string]string{"incident_id": "incidentID"}, Tag: "reports", Summary: "List Reports"},
	{Method: http.MethodPost, Path: "/api/v1/incidents/{incident_id}/reports", Field: "createReport", PathArgs: map[string]string{"incident_id": "incidentID"}, Body: "input", Status: http.StatusAccepted, Tag: "reports", Summary: "Create Report"},
	{Method: http.MethodDelete, Path: "/api/v1/incidents/{incident_id}/reports/{report_id}", Field: "deleteReport", PathArgs: map[string]string{"incident_id": "incidentID", "report_id": "reportID"}, Status: http.StatusNoContent, Tag: "reports", Summary: "Delete Report"},
	{Method: http.MethodPost, Path: "/api/v1/settings/email/inbound-token", Field: "rotateInboundEmailToken", Tag: "inbound-email", Summary: "Rotate Inbound Email Token"},
	{Method: http.MethodGet, Path: "/api/v1/settings/sla", Field: "slaSettings", Tag: "sla", Summary: "Get SLA Settings"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/sla", Field: "updateSLASettings", Body: "input", Tag: "sla", Summary: "Update SLA Settings"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/sla", Field: "slaMetrics", QueryArgs: map[string]string{"since": "since", "until": "until", "organization": "organization"}, Tag: "sla", Summary: "SLA Metrics"},
	{Method: http.MethodGet, Path: "/api/v1/settings/security", Field: "securitySettings", Tag: "security", Summary: "Get Security Config"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/security", Field: "updateSecuritySettings", Body: "input", Tag: "security", Summary: "Patch Security Config"},
	{Method: http.MethodGet, Path: "/api/v1/settings/report", Field: "reportSettings", Tag: "settings", Summary: "Get Report Config"},
	{Method: http.MethodPatch, Path: "/api/v1/settings/report", Field: "updateReportSettings", Body: "input", Tag: "settings", Summary: "Update Report Config"},
	{Method: http.MethodDelete, Path: "/api/v1/settings/report/template", Field: "deleteReportTemplate", Status: http.StatusNoContent, Tag: "settings", Summary: "Delete Template"},

	{Method: http.MethodGet, Path: "/api/v1/notifications", Field: "notifications", QueryArgs: map[string]string{"unread": "unread"}, Tag: "notifications", Summary: "List Notifications"},
	{Method: http.MethodGet, Path: "/api/v1/notifications/history", Field: "notificationHistory", QueryArgs: map[string]string{"since": "since", "until": "until"}, Tag: "notifications", Summary: "List Notification History"},
	{Method: http.MethodPost, Path: "/api/v1/notifications/read-all", Field: "markAllNotificationsRead", Tag: "notifications", Summary: "Mark All Read"},
	{Method: http.MethodPost, Path: "/api/v1/notifications/{notification_id}/read", Field: "markNotificationRead", PathArgs: map[string]string{"notification_id": "id"}, Tag: "notifications", Summary: "Mark Notification Read"},
	{Method: http.MethodGet, Path: "/api/v1/users/me/notification-prefs", Field: "notificationPrefs", Tag: "notifications", Summary: "Get Notification Prefs"},
	{Method: http.MethodPatch, Path: "/api/v1/users/me/notification-prefs", Field: "updateNotificationPrefs", Body: "input", Tag: "notifications", Summary: "Update Notification Prefs"},

	{Method: http.MethodGet, Path: "/api/v1/alert-views", Field: "alertViews", Tag: "alert-views", Summary: "List Views"},
	{Method: http.MethodPost, Path: "/api/v1/alert-views", Field: "createAlertView", Body: "input", Status: http.StatusCreated, Tag: "alert-views", Summary: "Create View"},
	{Method: http.MethodGet, Path: "/api/v1/alert-views/me/default", Field: "defaultAlertView", Tag: "alert-views", Summary: "Get Default View"},
	{Method: http.MethodPut, Path: "/api/v1/alert-views/me/default", Field: "setDefaultAlertView", Body: "*", Tag: "alert-views", Summary: "Set Default View"},
	{Method: http.MethodPatch, Path: "/api/v1/alert-views/{view_id}", Field: "updateAlertView", PathArgs: map[string]string{"view_id": "id"}, Body: "input", Tag: "alert-views", Summary: "Update View"},
	{Method: http.MethodDelete, Path: "/api/v1/alert-views/{view_id}", Field: "deleteAlertView", PathArgs: map[string]string{"view_id": "id"}, Status: http.StatusNoContent, Tag: "alert-views", Summary: "Delete View"},
	{Method: http.MethodPost, Path: "/api/v1/alert-views/{view_id}/hide", Field: "hideAlertView", PathArgs: map[string]string{"view_id": "id"}, Tag: "alert-views", Summary: "Hide View"},
	{Method: http.MethodDelete, Path: "/api/v1/alert-views/{view_id}/hide", Field: "unhideAlertView", PathArgs: map[string]string{"view_id": "id"}, Tag: "alert-views", Summary: "Unhide View"},

	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/volume", Field: "alertVolume", Filter: "range", QueryArgs: map[string]string{"interval": "interval", "organization": "organization"}, Tag: "metrics", Summary: "Alert Volume"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/by-severity", Field: "alertsBySeverity", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Alerts By Severity"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/by-status", Field: "alertsByStatus", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Alerts By Status"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/by-connector", Field: "alertsByConnector", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Alerts By Connector"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/by-assignee", Field: "alertsByAssignee", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Alerts By Assignee"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/unassigned-count", Field: "unassignedAlertCount", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Unassigned Alert Count"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/mttd", Field: "alertMttd", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Mean Time To Detect"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/alerts/mttr", Field: "alertMttr", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Mean Time To Resolve"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/incidents/by-status", Field: "incidentsByStatus", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Incidents By Status"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/incidents/by-assignee", Field: "incidentsByAssignee", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Incidents By Assignee"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/incidents/open-count", Field: "openIncidentCount", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Open Incident Count"},
	{Method: http.MethodGet, Path: "/api/v1/metrics/summary", Field: "metricsSummary", Filter: "range", QueryArgs: map[string]string{"organization": "organization"}, Tag: "metrics", Summary: "Metrics Summary"},

	{Method: http.MethodGet, Path: "/api/v1/queries/sources", Field: "querySources", Tag: "queries", Summary: "List Sources"},
	{Method: http.MethodGet, Path: "/api/v1/queries/lookups", Field: "queryLookups", QueryArgs: map[string]string{"source": "source", "field": "field", "prefix": "prefix", "limit": "limit"}, Tag: "queries", Summary: "Get Lookups"},
	{Method: http.MethodPost, Path: "/api/v1/queries/run", Field: "runQuery", Body: "*", Tag: "queries", Summary: "Run Query"},
	{Method: http.MethodGet, Path: "/api/v1/triggers", Field: "triggers", QueryArgs: map[string]string{"event": "event"}, Tag: "triggers", Summary: "List Triggers"},
	{Method: http.MethodPost, Path: "/api/v1/triggers", Field: "createTrigger", Body: "input", Status: http.StatusCreated, Tag: "triggers", Summary: "Create Trigger"},
	{Method: http.MethodGet, Path: "/api/v1/triggers/{trigger_id}", Field: "trigger", PathArgs: map[string]string{"trigger_id": "id"}, Tag: "triggers", Summary: "Get Trigger"},
	{Method: http.MethodPatch, Path: "/api/v1/triggers/{trigger_id}", Field: "updateTrigger", PathArgs: map[string]string{"trigger_id": "id"}, Body: "input", Tag: "triggers", Summary: "Update Trigger"},
	{Method: http.MethodDelete, Path: "/api/v1/triggers/{trigger_id}", Field: "deleteTrigger", PathArgs: map[string]string{"trigger_id": "id"}, Status: http.StatusNoContent, Tag: "triggers", Summary: "Delete Trigger"},
	{Method: http.MethodPost, Path: "/api/v1/triggers/{trigger_id}/reorder", Field: "reorderTrigger", PathArgs: map[string]string{"trigger_id": "id"}, Body: "input", Tag: "triggers", Summary: "Reorder Trigger"},
	{Method: http.MethodPost, Path: "/api/v1/triggers/{trigger_id}/test", Field: "testTrigger", PathArgs: map[string]string{"trigger_id": "id"}, Body: "input", Tag: "triggers", Summary: "Test Trigger"},

	{Method: http.MethodGet, Path: "/api/v1/dashboards", Field: "dashboards", Tag: "dashboards", Summary: "List Dashboards"},
	{Method: http.MethodPost, Path: "/api/v1/dashboards", Field: "createDashboard", Body: "input", Status: http.StatusCreated, Tag: "dashboards", Summary: "Create Dashboard"},
	{Method: http.MethodPost, Path: "/api/v1/dashboards/import", Field: "importDashboard", Body: "document", Status: http.StatusCreated, Tag: "dashboards", Summary: "Import Dashboard"},
	{Method: http.MethodGet, Path: "/api/v1/dashboards/{dashboard_id}", Field: "dashboard", PathArgs: map[string]string{"dashboard_id": "id"}, Tag: "dashboards", Summary: "Get Dashboard"},
	{Method: http.MethodPatch, Path: "/api/v1/dashboards/{dashboard_id}", Field: "updateDashboard", PathArgs: map[string]string{"dashboard_id": "id"}, Body: "input", Tag: "dashboards", Summary: "Patch Dashboard"},
	{Method: http.MethodDelete, Path: "/api/v1/dashboards/{dashboard_id}", Field: "deleteDashboard", PathArgs: map[string]string{"dashboard_id": "id"}, Status: http.StatusNoContent, Tag: "dashboards", Summary: "Delete Dashboard"},
	{Method: http.MethodGet, Path: "/api/v1/dashboards/{dashboard_id}/export", Field: "dashboardExport", PathArgs: map[string]string{"dashboard_id": "id"}, Tag: "dashboards", Summary: "Export Dashboard"},

	{Method: http.MethodGet, Path: "/api/v1/saved-queries", Field: "savedQueries", Tag: "saved-queries", Summary: "List Saved Queries"},
	{Method: http.MethodPost, Path: "/api/v1/saved-queries", Field: "createSavedQuery", Body: "input", Status: http.StatusCreated, Tag: "saved-queries", Summary: "Create Saved Query"},
	{Method: http.MethodGet, Path: "/api/v1/saved-queries/{query_id}", Field: "savedQuery", PathArgs: map[string]string{"query_id": "id"}, Tag: "saved-queries", Summary: "Get Saved Query"},
	{Method: http.MethodPatch, Path: "/api/v1/saved-queries/{query_id}", Field: "updateSavedQuery", PathArgs: map[string]string{"query_id": "id"}, Body: "input", Tag: "saved-queries", Summary: "Patch Saved Query"},
	{Method: http.MethodDelete, Path: "/api/v1/saved-queries/{query_id}", Field: "deleteSavedQuery", PathArgs: map[string]string{"query_id": "id"}, Status: http.StatusNoContent, Tag: "saved-queries", Summary: "Delete Saved Query"},
	{Method: http.MethodPost, Path: "/api/v1/saved-queries/{query_id}/run", Field: "runSavedQuery", PathArgs: map[string]string{"query_id": "id"}, Body: "input", Tag: "saved-queries", Summary: "Run Saved Query"},
	{Method: http.MethodGet, Path: "/api/v1/macros", Field: "macros", QueryArgs: map[string]string{"target": "target"}, Tag: "macros", Summary: "List Macros"},
	{Method: http.MethodPost, Path: "/api/v1/macros", Field: "createMacro", Body: "input", Status: http.StatusCreated, Tag: "macros", Summary: "Create Macro"},
	{Method: http.MethodPost, Path: "/api/v1/macros/apply", Field: "applyMacro", Body: "input", Tag: "macros", Summary: "Apply Macro"},
	{Method: http.MethodPatch, Path: "/api/v1/macros/{macro_id}", Field: "updateMacro", PathArgs: map[string]string{"macro_id": "id"}, Body: "input", Tag: "macros", Summary: "Update Macro"},
	{Method: http.MethodDelete, Path: "/api/v1/macros/{macro_id}", Field: "deleteMacro", PathArgs: map[string]string{"macro_id": "id"}, Status: http.StatusNoContent, Tag: "macros", Summary: "Delete Macro"},

	{Method: http.MethodGet, Path: "/api/v1/connectors", Field: "connectors", Tag: "connectors", Summary: "List Connectors"},
	{Method: http.MethodPost, Path: "/api/v1/connectors", Field: "createConnector", Body: "input", Status: http.StatusCreated, Merge: "connector", Tag: "connectors", Summary: "Create Connector"},
	{Method: http.MethodGet, Path: "/api/v1/connectors/catalogue", Field: "connectorCatalogue", Tag: "connectors", Summary: "List Catalogue"},
	{Method: http.MethodGet, Path: "/api/v1/connectors/{connector_id}", Field: "connector", PathArgs: map[string]string{"connector_id": "id"}, Tag: "connectors", Summary: "Get Connector"},
	{Method: http.MethodPatch, Path: "/api/v1/connectors/{connector_id}", Field: "updateConnector", PathArgs: map[string]string{"connector_id": "id"}, Body: "input", Tag: "connectors", Summary: "Patch Connector"},
	{Method: http.MethodDelete, Path: "/api/v1/connectors/{connector_id}", Field: "deleteConnector", PathArgs: map[string]string{"connector_id": "id"}, Status: http.StatusNoContent, Tag: "connectors", Summary: "Delete Connector"},
	{Method: http.MethodPost, Path: "/api/v1/connectors/{connector_id}/rotate-key", Field: "rotateConnectorKey", PathArgs: map[string]string{"connector_id": "id"}, Merge: "connector", Tag: "connectors", Summary: "Rotate Connector Key"},
	{Method: http.MethodPost, Path: "/api/v1/connectors/{connector_id}/poll", Field: "pollConnector", PathArgs: map[string]string{"connector_id": "id"}, Status: http.StatusAccepted, Tag: "connectors", Summary: "Poll Connector Now"},
	{Method: http.MethodGet, Path: "/api/v1/connectors/{connector_id}/dead-letters", Field: "deadLetters", PathArgs: map[string]string{"connector_id": "connectorID"}, Tag: "connectors", Summary: "List Dead Letters"},
}
