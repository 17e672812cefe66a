// Package action is the automation action vocabulary shared by triggers and
// macros: parsing and validating an action list, and running it on an alert
// or an incident inside the caller's transaction.
//
// API (stable; later changes are additive):
//
//   - Parse(raw, ParseOptions) ([]Action, error): reads the REST/GraphQL
//     JSON list ([{"type": "set_severity", "severity": "critical"}, …]);
//     an unknown type, an unknown, missing or invalid parameter is an
//     apperr validation error (422) naming the field as the client sent it,
//     e.g. actions[2].severity. At most ParseOptions.Max actions
//     (MaxActions by default).
//   - Validate(list, ParseOptions) checks an already decoded list the same way.
//   - Redact(list) is the list as it may be returned (webhook secrets gone).
//   - NewExecutor(Deps) and Executor.RunAlert / RunIncident(ctx, tx, obj,
//     list, Options) apply a list in the caller's *ent.Tx with the domains'
//     own rules (alerts.Draft, incidents.UpdateTx), record each change in
//     the object's activity as done by Options.Actor, and return a Result
//     listing every field's before and after. Work outside the database
//     (webhooks, email) is queued as jobs in the same transaction; call
//     Result.AfterCommit once the transaction committed.
//   - AsTrigger(ctx, orgID, name): the context a trigger's list runs in
//     (the organisation's system principal, activity "trigger:<name>").
//   - SealSecrets(box, list) before storing a list (webhook secrets);
//     NewWebhookWorker(box, policies) delivers the webhook jobs (register
//     it on the jobs runner; the server does).
//   - CheckKey compiles a correlation key; macro cycles are checked at save
//     time by automation.CheckMacroRefs (pass uuid.Nil as self for a
//     trigger) and at run time by the executor.
//
// Trigger-run actions run as the organisation's system principal
// (viewer.ForJob), never with the privacy bypass.
package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/tags"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/query"
)

// Action is one step of a list, as REST sends it and the database stores it.
type Action = schematype.Action

// The action types.
const (
	TypeSetSeverity  = "set_severity"
	TypeAddTags      = "add_tags"
	TypeRemoveTags   = "remove_tags"
	TypeSetStatus    = "set_status"
	TypeAssign       = "assign"
	TypeLinkIncident = "link_incident"
	TypeNotify       = "notify"
	TypeWebhook      = "webhook"
	TypeAnalyze      = "analyze"
	TypeApplyMacro   = "apply_macro"
	TypeSuppress     = "suppress"
)

// Limits of a list and its parameters.
const (
	// MaxActions bounds a list unless ParseOptions.Max says otherwise.
	MaxActions = 20
	// MaxReason bounds a suppression reason and a notification message.
	MaxReason = 1000
	// MaxRecipients bounds each id list of a notify action.
	MaxRecipients = 100
	// MaxURL bounds a webhook URL.
	MaxURL = 2000
	// MaxSecret bounds a webhook secret.
	MaxSecret = 256
	// MaxKey bounds a link_incident key expression.
	MaxKey = 1000
	// DefaultWindow is a correlation key's window when none is given;
	// MaxWindow the longest accepted.
	DefaultWindow = time.Hour
	MaxWindow     = 30 * 24 * time.Hour
	// MaxRawBytes bounds the JSON of one list.
	MaxRawBytes = 256 << 10
)

// Channels of a notify action.
const (
	ChannelInApp = "in_app"
	ChannelEmail = "email"
)

// params lists each type's parameters; "type" is always allowed.
var params = map[string][]string{
	TypeSetSeverity:  {"severity"},
	TypeAddTags:      {"tags"},
	TypeRemoveTags:   {"tags"},
	TypeSetStatus:    {"status", "disposition"},
	TypeAssign:       {"user_id", "group_id"},
	TypeLinkIncident: {"incident_id", "incident_key", "window"},
	TypeNotify:       {"user_ids", "group_ids", "contact_ids", "channels", "message"},
	TypeWebhook:      {"url", "secret"},
	TypeAnalyze:      {},
	TypeApplyMacro:   {"macro_id"},
	TypeSuppress:     {"disposition", "reason"},
}

// Types lists the action types, sorted.
func Types() []string {
	out := make([]string, 0, len(params))
	for t := range params {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// alertOnly are the types that make sense on alerts alone.
var alertOnly = []string{TypeLinkIncident, TypeSuppress}

// ParseOptions say where the list sits and what it acts on.
type ParseOptions struct {
	// Field names the list in errors; "actions" when empty.
	Field string
	// Target is what the list acts on; empty accepts what either accepts
	// (statuses of alerts or of incidents).
	Target enum.AutomationTarget
	// Max bounds the list; MaxActions when zero.
	Max int
	// Stored is the list being replaced, if any: a webhook action given
	// without its secret keeps the sealed secret of the stored webhook
	// with the same URL (secrets are never shown, so never sent back).
	Stored []Action
}

func (o ParseOptions) field() string {
	if o.Field == "" {
		return "actions"
	}
	return o.Field
}

func (o ParseOptions) max() int {
	if o.Max <= 0 {
		return MaxActions
	}
	return o.Max
}

// Parse reads a JSON list of actions and validates it. A null or empty list
// is an empty list.
func Parse(raw []byte, o ParseOptions) ([]Action, error) {
	field := o.field()
	if len(raw) > MaxRawBytes {
		return nil, &apperr.Error{Code: apperr.TooLarge, Field: field, Message: fmt.Sprintf("the actions are over %d bytes", MaxRawBytes)}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return []Action{}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, apperr.Invalid(field, "must be a list of actions")
	}
	if len(items) > o.max() {
		return nil, apperr.Invalid(field, "at most %d actions", o.max())
	}
	out := make([]Action, len(items))
	for i, item := range items {
		a, err := decode(fmt.Sprintf("%s[%d]", field, i), item)
		if err != nil {
			return nil, err
		}
		if a.Type == TypeWebhook && a.Secret == "" {
			for _, old := range o.Stored {
				if old.Type == TypeWebhook && old.URL == a.URL && old.SecretSealed != "" {
					a.SecretSealed = old.SecretSealed
					break
				}
			}
		}
		out[i] = a
	}
	return out, Validate(out, o)
}

// decode reads one action object, naming the parameter that does not fit.
func decode(at string, item json.RawMessage) (Action, error) {
	var a Action
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(item, &obj); err != nil || obj == nil {
		return a, apperr.Invalid(at, "must be an object with a type")
	}
	typ, ok := obj["type"]
	if !ok {
		return a, apperr.Invalid(at+".type", "is required: one of %s", strings.Join(Types(), ", "))
	}
	if err := json.Unmarshal(typ, &a.Type); err != nil {
		return a, apperr.Invalid(at+".type", "must be a string")
	}
	allowed, ok := params[a.Type]
	if !ok {
		return a, apperr.Invalid(at+".type", "%q is not an action type: one of %s", a.Type, strings.Join(Types(), ", "))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "type" {
			continue
		}
		v := obj[k]
		if !slices.Contains(allowed, k) {
			return a, apperr.Invalid(at+"."+k, "is not a parameter of %s", a.Type)
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		if err := json.Unmarshal(v, target(&a, k)); err != nil {
			return a, apperr.Invalid(at+"."+k, "%s", kindOf(k))
		}
	}
	return a, nil
}

// target is where parameter k of a decodes to.
func target(a *Action, k string) any {
	switch k {
	case "severity":
		return &a.Severity
	case "tags":
		return &a.Tags
	case "status":
		return &a.Status
	case "disposition":
		return &a.Disposition
	case "user_id":
		return &a.UserID
	case "group_id":
		return &a.GroupID
	case "incident_id":
		return &a.IncidentID
	case "incident_key":
		return &a.IncidentKey
	case "window":
		return &a.Window
	case "user_ids":
		return &a.UserIDs
	case "group_ids":
		return &a.GroupIDs
	case "contact_ids":
		return &a.ContactIDs
	case "channels":
		return &a.Channels
	case "message":
		return &a.Message
	case "url":
		return &a.URL
	case "secret":
		return &a.Secret
	case "macro_id":
		return &a.MacroID
	default: // "reason"
		return &a.Reason
	}
}

// kindOf says what parameter k must be.
func kindOf(k string) string {
	switch k {
	case "tags", "channels":
		return "must be a list of strings"
	case "user_id", "group_id", "incident_id", "macro_id":
		return "must be an id (UUID)"
	case "user_ids", "group_ids", "contact_ids":
		return "must be a list of ids (UUIDs)"
	default:
		return "must be a string"
	}
}

// Validate checks a decoded list: each action's required parameters and
// their values, and that each type suits the target.
func Validate(list []Action, o ParseOptions) error {
	field := o.field()
	if len(list) > o.max() {
		return apperr.Invalid(field, "at most %d actions", o.max())
	}
	for i := range list {
		if err := check(&list[i], fmt.Sprintf("%s[%d]", field, i), o.Target); err != nil {
			return err
		}
	}
	return nil
}

// check validates one action in place (tags cleaned, channels defaulted).
func check(a *Action, at string, target enum.AutomationTarget) error {
	f := func(name string) string { return at + "." + name }
	if _, ok := params[a.Type]; !ok {
		return apperr.Invalid(f("type"), "%q is not an action type: one of %s", a.Type, strings.Join(Types(), ", "))
	}
	if target == enum.AutomationTargetIncident && slices.Contains(alertOnly, a.Type) {
		return apperr.Invalid(f("type"), "%s acts on alerts only", a.Type)
	}
	var err error
	switch a.Type {
	case TypeSetSeverity:
		if a.Severity == "" {
			return apperr.Invalid(f("severity"), "is required: one of %s", strings.Join(enum.Severity("").Values(), ", "))
		}
		if !enum.Severity(a.Severity).Valid() {
			return apperr.Invalid(f("severity"), "%q is not a severity", a.Severity)
		}
	case TypeAddTags:
		if len(a.Tags) == 0 {
			return apperr.Invalid(f("tags"), "is required: 1 to %d tags", tags.Max)
		}
		a.Tags, err = tags.Clean(f("tags"), a.Tags)
	case TypeRemoveTags:
		// Without tags the action removes every tag.
		a.Tags, err = tags.Clean(f("tags"), a.Tags)
	case TypeSetStatus:
		err = checkStatus(a, f, target)
	case TypeAssign:
		if (a.UserID == nil) == (a.GroupID == nil) {
			return apperr.Invalid(f("user_id"), "give user_id or group_id, one of them")
		}
	case TypeLinkIncident:
		err = checkLink(a, f)
	case TypeNotify:
		err = checkNotify(a, f)
	case TypeWebhook:
		err = checkWebhook(a, f)
	case TypeApplyMacro:
		if a.MacroID == nil {
			return apperr.Invalid(f("macro_id"), "is required")
		}
	case TypeSuppress:
		if err = checkDisposition(a, f, true); err != nil {
			return err
		}
		a.Reason, err = textfield.Required(f("reason"), a.Reason, MaxReason)
	}
	return err
}

func checkDisposition(a *Action, f func(string) string, required bool) error {
	if a.Disposition == "" {
		if required {
			return apperr.Invalid(f("disposition"), "is required: one of %s", strings.Join(enum.Disposition("").Values(), ", "))
		}
		return nil
	}
	if !enum.Disposition(a.Disposition).Valid() {
		return apperr.Invalid(f("disposition"), "%q is not a disposition", a.Disposition)
	}
	return nil
}

// checkStatus accepts the target's statuses (either's when the target is
// open); closing needs a disposition, and only closing takes one.
func checkStatus(a *Action, f func(string) string, target enum.AutomationTarget) error {
	alertOK := enum.AlertStatus(a.Status).Valid() && target != enum.AutomationTargetIncident
	incidentOK := enum.IncidentStatus(a.Status).Valid() && target != enum.AutomationTargetAlert
	switch {
	case a.Status == "":
		return apperr.Invalid(f("status"), "is required")
	case !alertOK && !incidentOK:
		return apperr.Invalid(f("status"), "%q is not a status of %s", a.Status, targetWord(target))
	}
	closing := a.Status == string(enum.AlertStatusClosed)
	if err := checkDisposition(a, f, closing); err != nil {
		return err
	}
	if !closing && a.Disposition != "" {
		return apperr.Invalid(f("disposition"), "is recorded only when closing (status closed)")
	}
	return nil
}

func targetWord(t enum.AutomationTarget) string {
	switch t {
	case enum.AutomationTargetAlert:
		return "alerts"
	case enum.AutomationTargetIncident:
		return "incidents"
	}
	return "alerts or incidents"
}

func checkLink(a *Action, f func(string) string) error {
	if (a.IncidentID == nil) == (a.IncidentKey == "") {
		return apperr.Invalid(f("incident_id"), "give incident_id or incident_key, one of them")
	}
	if a.IncidentID != nil {
		if a.Window != "" {
			return apperr.Invalid(f("window"), "goes with incident_key only")
		}
		return nil
	}
	if utf8.RuneCountInString(a.IncidentKey) > MaxKey || !textfield.Storable(a.IncidentKey) {
		return apperr.Invalid(f("incident_key"), "must be an expression of at most %d characters", MaxKey)
	}
	if err := CheckKey(f("incident_key"), a.IncidentKey); err != nil {
		return err
	}
	_, err := ParseWindow(f("window"), a.Window)
	return err
}

// ParseWindow reads a correlation window ("30m", "2h", "1d"); empty is
// DefaultWindow.
func ParseWindow(field, s string) (time.Duration, error) {
	if s == "" {
		return DefaultWindow, nil
	}
	d, err := time.ParseDuration(s)
	if strings.HasSuffix(s, "d") {
		var n int
		if _, e := fmt.Sscanf(s, "%dd", &n); e == nil && fmt.Sprintf("%dd", n) == s {
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err != nil || d < time.Minute || d > MaxWindow {
		return 0, apperr.Invalid(field, "must be a duration from 1m to 30d, e.g. 30m, 2h, 1d")
	}
	return d, nil
}

func checkNotify(a *Action, f func(string) string) error {
	if len(a.UserIDs)+len(a.GroupIDs)+len(a.ContactIDs) == 0 {
		return apperr.Invalid(f("user_ids"), "name at least one recipient in user_ids, group_ids or contact_ids")
	}
	for _, l := range []struct {
		name string
		ids  []uuid.UUID
	}{{"user_ids", a.UserIDs}, {"group_ids", a.GroupIDs}, {"contact_ids", a.ContactIDs}} {
		if len(l.ids) > MaxRecipients {
			return apperr.Invalid(f(l.name), "at most %d ids", MaxRecipients)
		}
	}
	if a.Channels == nil {
		a.Channels = []string{ChannelInApp}
	}
	if len(a.Channels) == 0 {
		return apperr.Invalid(f("channels"), "name in_app, email or both")
	}
	seen := map[string]bool{}
	for _, c := range a.Channels {
		if c != ChannelInApp && c != ChannelEmail {
			return apperr.Invalid(f("channels"), "%q is not a channel: in_app or email", c)
		}
		if seen[c] {
			return apperr.Invalid(f("channels"), "%q is listed twice", c)
		}
		seen[c] = true
	}
	if len(a.ContactIDs) > 0 && !seen[ChannelEmail] {
		return apperr.Invalid(f("channels"), "contacts are reached by email: add the email channel")
	}
	var err error
	a.Message, err = textfield.Optional(f("message"), a.Message, MaxReason)
	return err
}

// checkWebhook checks the URL's form; whether its address may be reached
// is the outbound policy's decision when it is called.
func checkWebhook(a *Action, f func(string) string) error {
	if a.URL == "" {
		return apperr.Invalid(f("url"), "is required")
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(a.URL) > MaxURL || u.User != nil {
		return apperr.Invalid(f("url"), "must be an http or https URL without credentials, at most %d characters", MaxURL)
	}
	if a.Secret == "" && a.SecretSealed == "" {
		return apperr.Invalid(f("secret"), "is required: the key of the body's HMAC-SHA256 signature")
	}
	if len(a.Secret) > MaxSecret || !textfield.Storable(a.Secret) {
		return apperr.Invalid(f("secret"), "must be text of at most %d bytes", MaxSecret)
	}
	return nil
}

// Redact returns list as it may be shown: webhook secrets removed, and
// HasSecret-style knowledge left to the caller.
func Redact(list []Action) []Action {
	out := slices.Clone(list)
	for i := range out {
		out[i].Secret, out[i].SecretSealed = "", ""
	}
	return out
}

// MacroIDs lists the macros a list applies, in order.
func MacroIDs(list []Action) []uuid.UUID {
	var ids []uuid.UUID
	for _, a := range list {
		if a.Type == TypeApplyMacro && a.MacroID != nil {
			ids = append(ids, *a.MacroID)
		}
	}
	return ids
}

// CheckKey compiles a link_incident key expression over the alerts'
// fields (the query language), as the executor will evaluate it.
func CheckKey(field, text string) error {
	_, err := compileKey(field, text)
	return err
}

func compileKey(field, text string) (*query.Value, error) {
	src, ok := query.Lookup("alerts")
	if !ok {
		return nil, fmt.Errorf("action: the alerts source is not declared")
	}
	return query.CompileValue(src, field, text)
}
