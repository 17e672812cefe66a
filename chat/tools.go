package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/textfield"
)

// Bounds of the tools.
const (
	// maxArgumentBytes bounds a tool call's arguments.
	maxArgumentBytes = 4096
	// maxResultBytes bounds a tool result sent back to the model.
	maxResultBytes = 8000
	// maxEntityValue bounds an entity value looked up.
	maxEntityValue = 512
	defaultLimit   = 5
	maxLimit       = 20
	// entityScan is how many alerts entity_history tallies dispositions
	// over.
	entityScan = 200
	// toolTimeline bounds the events incident_timeline returns.
	toolTimeline = 50
)

// The tools' names.
const (
	toolRelatedAlerts    = "related_alerts"
	toolEntityHistory    = "entity_history"
	toolIncidentTimeline = "incident_timeline"
	toolAlertDetails     = "alert_details"
)

// tools are offered to the model on every round but the last.
var tools = []provider.Tool{
	{Name: toolRelatedAlerts, Description: "Alerts related to an alert: the same detection fingerprint or shared entities (IPs, hosts, users, hashes), with their status and disposition, and how earlier alerts of the same fingerprint were closed. Defaults to the alert under discussion.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"alert_id":{"type":"string","description":"alert id (UUID); default: the alert under discussion"},"limit":{"type":"integer","minimum":1,"maximum":20}},"additionalProperties":false}`)},
	{Name: toolEntityHistory, Description: "Alerts mentioning an entity value (an IP, domain, hostname, user, email or hash), newest first, with their dispositions, and a count of dispositions over recent alerts.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"value":{"type":"string","description":"the entity value, e.g. 10.0.0.5 or fin-ws-042"},"limit":{"type":"integer","minimum":1,"maximum":20}},"required":["value"],"additionalProperties":false}`)},
	{Name: toolIncidentTimeline, Description: "The timeline of an incident: its events in order. Defaults to the incident under discussion, or the incident holding the alert under discussion.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"incident_id":{"type":"string","description":"incident id (UUID)"}},"additionalProperties":false}`)},
	{Name: toolAlertDetails, Description: "The normalised fields of one alert: title, description, source, severity, status, disposition, entities, MITRE tags, fingerprint and times.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"alert_id":{"type":"string","description":"alert id (UUID)"}},"required":["alert_id"],"additionalProperties":false}`)},
}

// toolArgs is the union of the tools' arguments.
type toolArgs struct {
	AlertID    string `json:"alert_id"`
	IncidentID string `json:"incident_id"`
	Value      string `json:"value"`
	Limit      *int   `json:"limit"`
}

// decodeArgs decodes a tool call's arguments strictly: a JSON object of
// known fields (null or empty means none), nothing after it, within
// maxArgumentBytes. The provider hands malformed model output over as a
// JSON string, which is refused here.
func decodeArgs(raw json.RawMessage) (toolArgs, error) {
	var a toolArgs
	if len(raw) > maxArgumentBytes {
		return a, fmt.Errorf("arguments longer than %d bytes", maxArgumentBytes)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return a, nil
	}
	if trimmed[0] != '{' {
		return a, errors.New("arguments must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return toolArgs{}, fmt.Errorf("arguments are not valid: %v", err)
	}
	if dec.More() {
		return toolArgs{}, errors.New("arguments have data after the JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return toolArgs{}, errors.New("arguments have data after the JSON object")
	}
	if a.Limit != nil && (*a.Limit < 1 || *a.Limit > maxLimit) {
		return toolArgs{}, fmt.Errorf("limit must be between 1 and %d", maxLimit)
	}
	if !utf8.ValidString(a.Value) || strings.ContainsRune(a.Value, 0) || len(a.Value) > maxEntityValue {
		return toolArgs{}, fmt.Errorf("value must be text of at most %d bytes", maxEntityValue)
	}
	a.Value = strings.TrimSpace(a.Value)
	return a, nil
}

func (a toolArgs) limit() int {
	if a.Limit == nil {
		return defaultLimit
	}
	return *a.Limit
}

// parseID reads an optional id argument.
func parseID(name, s string) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%s must be a UUID", name)
	}
	return &id, nil
}

// toolError is reported to the model as the tool's result, so it can
// correct itself; it never fails the answer.
type toolError struct{ msg string }

func (e *toolError) Error() string { return e.msg }

func toolErrorf(format string, args ...any) error { return &toolError{fmt.Sprintf(format, args...)} }

// runTool executes one call as the requesting user and returns its result
// as JSON text for the model. Argument and lookup problems come back as
// {"error": ...}; only a database failure is returned as an error.
func (t *Turn) runTool(ctx context.Context, call provider.ToolCall) (string, error) {
	result, err := t.tool(ctx, call)
	var te *toolError
	if errors.As(err, &te) {
		return encodeResult(map[string]any{"error": te.msg}, nil), nil
	}
	if err != nil {
		return "", err
	}
	return result, nil
}

func (t *Turn) tool(ctx context.Context, call provider.ToolCall) (string, error) {
	args, err := decodeArgs(call.Arguments)
	if err != nil {
		return "", toolErrorf("%s: %v", call.Name, err)
	}
	switch call.Name {
	case toolRelatedAlerts:
		return t.relatedAlerts(ctx, args)
	case toolEntityHistory:
		return t.entityHistory(ctx, args)
	case toolIncidentTimeline:
		return t.incidentTimeline(ctx, args)
	case toolAlertDetails:
		return t.alertDetails(ctx, args)
	}
	return "", toolErrorf("unknown tool %q; the tools are related_alerts, entity_history, incident_timeline and alert_details", call.Name)
}

// visibleAlert loads an alert of the caller's organisation.
func (t *Turn) visibleAlert(ctx context.Context, raw string, required bool) (*ent.Alert, error) {
	id, err := parseID("alert_id", raw)
	if err != nil {
		return nil, &toolError{err.Error()}
	}
	if id == nil {
		if t.subject.alert != nil && !required {
			return t.subject.alert, nil
		}
		return nil, toolErrorf("alert_id is required")
	}
	a, err := t.svc.client.Alert.Query().Where(alert.ID(*id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, toolErrorf("alert %s not found", id)
	}
	return a, err
}

func (t *Turn) relatedAlerts(ctx context.Context, args toolArgs) (string, error) {
	a, err := t.visibleAlert(ctx, args.AlertID, false)
	if err != nil {
		return "", err
	}
	c, rows, err := t.svc.analyst.AlertContext(ctx, a)
	if err != nil {
		return "", err
	}
	byID := make(map[string]*ent.Alert, len(rows))
	for _, r := range rows {
		byID[r.ID.String()] = r
	}
	related := []map[string]any{}
	for _, r := range c.Related {
		item := map[string]any{"kind": r.Kind, "id": r.ID, "reason": r.Reason}
		if r.Title != "" {
			item["title"] = r.Title
		}
		if row := byID[r.ID]; row != nil {
			item["severity"], item["status"] = row.Severity, row.Status
			item["last_seen_at"] = row.LastSeenAt.Format(time.RFC3339)
			if row.Disposition != nil {
				item["disposition"] = *row.Disposition
			}
		}
		related = append(related, item)
		if len(related) == args.limit() {
			break
		}
	}
	res := map[string]any{"alert_id": a.ID, "related": related, "fingerprint_dispositions": c.History}
	return encodeResult(res, func() bool { return halve(res, "related") }), nil
}

func (t *Turn) entityHistory(ctx context.Context, args toolArgs) (string, error) {
	if args.Value == "" {
		return "", toolErrorf("value is required")
	}
	v := args.Value
	rows, err := t.svc.client.Alert.Query().Where(alerts.Predicates(&schematype.AlertFilter{Entity: &v})...).
		Order(ent.Desc(alert.FieldLastSeenAt), ent.Desc(alert.FieldID)).Limit(entityScan).All(ctx)
	if err != nil {
		return "", err
	}
	counts := map[string]int{}
	list := []map[string]any{}
	for _, r := range rows {
		disp := "open"
		if r.Disposition != nil {
			disp = string(*r.Disposition)
		} else if r.Status == enum.AlertStatusClosed || r.Status == enum.AlertStatusResolved {
			disp = "closed_without_disposition"
		}
		counts[disp]++
		if len(list) < args.limit() {
			item := map[string]any{"id": r.ID, "title": r.Title, "severity": r.Severity, "status": r.Status,
				"disposition": disp, "last_seen_at": r.LastSeenAt.Format(time.RFC3339)}
			if r.IncidentID != nil {
				item["incident_id"] = *r.IncidentID
			}
			list = append(list, item)
		}
	}
	res := map[string]any{"value": v, "alerts_scanned": len(rows), "dispositions": counts, "alerts": list}
	return encodeResult(res, func() bool { return halve(res, "alerts") }), nil
}

func (t *Turn) incidentTimeline(ctx context.Context, args toolArgs) (string, error) {
	id, err := parseID("incident_id", args.IncidentID)
	if err != nil {
		return "", &toolError{err.Error()}
	}
	if id == nil {
		switch {
		case t.subject.incident != nil:
			id = &t.subject.incident.ID
		case t.subject.alert != nil && t.subject.alert.IncidentID != nil:
			id = t.subject.alert.IncidentID
		default:
			return "", toolErrorf("incident_id is required: the alert under discussion belongs to no incident")
		}
	}
	inc, err := t.svc.client.Incident.Query().Where(incident.ID(*id)).Only(ctx)
	if ent.IsNotFound(err) {
		return "", toolErrorf("incident %s not found", id)
	}
	if err != nil {
		return "", err
	}
	events, err := t.svc.analyst.Timeline(ctx, inc.ID)
	if err != nil {
		return "", err
	}
	res := map[string]any{"incident": map[string]any{"id": inc.ID, "number": inc.Number, "title": inc.Title,
		"status": inc.Status, "severity": inc.Severity}, "events": eventDocs(events, toolTimeline)}
	return encodeResult(res, func() bool { return halveOldest(res, "events") }), nil
}

func (t *Turn) alertDetails(ctx context.Context, args toolArgs) (string, error) {
	a, err := t.visibleAlert(ctx, args.AlertID, true)
	if err != nil {
		return "", err
	}
	res := analysis.NewAlertDocument(a, false)
	return encodeResult(&res, func() bool {
		if len(res.Description) < 200 {
			return false
		}
		// Halved by runes, so that no UTF-8 sequence is split.
		res.Description = textfield.Truncate(res.Description, utf8.RuneCountInString(res.Description)/2)
		return true
	}), nil
}

// encodeResult marshals v, calling shrink while the text exceeds
// maxResultBytes and shrink still has something to cut.
func encodeResult(v any, shrink func() bool) string {
	for {
		b, err := json.Marshal(v)
		if err != nil {
			return `{"error":"result could not be encoded"}`
		}
		if len(b) <= maxResultBytes {
			return string(b)
		}
		if shrink == nil || !shrink() {
			return fmt.Sprintf(`{"error":"result larger than %d bytes; ask for fewer items"}`, maxResultBytes)
		}
	}
}

// halve cuts the list under key to its first half (false when nothing is
// left to cut) and marks the result truncated.
func halve(res map[string]any, key string) bool {
	list, _ := res[key].([]map[string]any)
	if len(list) <= 1 {
		return false
	}
	res[key] = list[:len(list)/2]
	res["truncated"] = true
	return true
}

// halveOldest keeps the newer half of a chronological list.
func halveOldest(res map[string]any, key string) bool {
	list, _ := res[key].([]map[string]any)
	if len(list) <= 1 {
		return false
	}
	res[key] = list[len(list)/2:]
	res["truncated"] = true
	return true
}
