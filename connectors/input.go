package connectors

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/apperr"
)

// Limits of the connector fields.
const (
	maxNameLen      = 200
	maxDedupFields  = 20
	minDedupWindow  = 1
	maxDedupWindow  = 86400
	minPollInterval = 15
	maxPollInterval = 86400
	minRateLimit    = 1
	maxRateLimit    = 100000
)

// entityTypeConnector names connectors in the activity log.
const entityTypeConnector = "connector"

// validCreate is a CreateConnectorInput that passed every check, in the
// form it is stored.
type validCreate struct {
	name        string
	typ         catalogue.Type
	mode        enum.ConnectorMode
	settings    map[string]any
	dedupFields []string
}

// checkCreate validates in; the optional integers are checked here and set
// by the caller (nil keeps the schema default).
func checkCreate(in CreateConnectorInput) (*validCreate, error) {
	name, err := cleanName(in.Name)
	if err != nil {
		return nil, err
	}
	t, ok := catalogue.Lookup(in.Type)
	if !ok {
		return nil, apperr.Invalid("type", "unknown connector type %q; see the connector catalogue", in.Type)
	}
	mode := t.Modes[0] // the type's preferred mode; push for every push-capable type
	if in.Mode != nil {
		mode = *in.Mode
	}
	if err := checkMode(t, mode); err != nil {
		return nil, err
	}
	settings, err := unmask(t, in.Settings, nil)
	if err != nil {
		return nil, err
	}
	if settings, err = validateSettings(t, mode, settings); err != nil {
		return nil, err
	}
	dedup, err := cleanDedupFields(in.DedupFields)
	if err != nil {
		return nil, err
	}
	if err := checkLimits(in.DedupWindowSeconds, in.PollIntervalSeconds, in.RateLimitPerMinute); err != nil {
		return nil, err
	}
	return &validCreate{name: name, typ: t, mode: mode, settings: settings, dedupFields: dedup}, nil
}

// cleanName trims name and checks its length. The length is counted in
// bytes of UTF-8, the measure the schema's MaxLen enforces on save; counting
// characters here would let a long non-ASCII name pass only to fail there.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxNameLen {
		return "", apperr.Invalid("name", "must be 1 to %d bytes long", maxNameLen)
	}
	if !utf8.ValidString(name) {
		return "", apperr.Invalid("name", "must be valid UTF-8")
	}
	return name, nil
}

func checkMode(t catalogue.Type, mode enum.ConnectorMode) error {
	if !slices.Contains(t.Modes, mode) {
		return apperr.Invalid("mode", "%s connectors support %s", t.Key, joinModes(t.Modes))
	}
	return nil
}

func joinModes(modes []enum.ConnectorMode) string {
	s := make([]string, len(modes))
	for i, m := range modes {
		s[i] = string(m)
	}
	return strings.Join(s, " or ")
}

// cleanDedupFields checks an override of the type's dedup fields. Empty
// means "the type's default", stored as nil so a later change to the
// catalogue's default applies.
func cleanDedupFields(fields []string) ([]string, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	if len(fields) > maxDedupFields {
		return nil, apperr.Invalid("dedup_fields", "must list at most %d fields", maxDedupFields)
	}
	for i, f := range fields {
		if !catalogue.IsDedupField(f) {
			return nil, apperr.Invalid("dedup_fields", "%q is not a dedup field (source, title, external_id, severity or an attribute key: %s)",
				f, strings.Join(catalogue.AttributeKeys(), ", "))
		}
		if slices.Contains(fields[:i], f) {
			return nil, apperr.Invalid("dedup_fields", "%q is listed twice", f)
		}
	}
	return slices.Clone(fields), nil
}

// checkLimits checks the optional integer fields against their ranges.
func checkLimits(dedupWindow, pollInterval, rateLimit *int) error {
	for _, r := range []struct {
		field  string
		v      *int
		lo, hi int
	}{
		{"dedup_window_seconds", dedupWindow, minDedupWindow, maxDedupWindow},
		{"poll_interval_seconds", pollInterval, minPollInterval, maxPollInterval},
		{"rate_limit_per_minute", rateLimit, minRateLimit, maxRateLimit},
	} {
		if r.v != nil && (*r.v < r.lo || *r.v > r.hi) {
			return apperr.Invalid(r.field, "must be between %d and %d", r.lo, r.hi)
		}
	}
	return nil
}

// planUpdate validates in against the stored connector c, puts the changes
// on u and returns one activity entry per changed field (per setting for
// settings, secrets masked). No entries means nothing changed.
func (s *Service) planUpdate(c *ent.Connector, in UpdateConnectorInput, u *ent.ConnectorUpdateOne) ([]audit.Entry, error) {
	t, ok := catalogue.Lookup(c.Type)
	if !ok {
		return nil, fmt.Errorf("connector %s has type %q, which is not in the catalogue", c.ID, c.Type)
	}
	var entries []audit.Entry
	changed := func(field string, before, after any) {
		entries = append(entries, audit.Entry{EntityType: entityTypeConnector, EntityID: c.ID, Action: "update", Field: field, Before: before, After: after})
	}
	if in.Name != nil {
		name, err := cleanName(*in.Name)
		if err != nil {
			return nil, err
		}
		if name != c.Name {
			u.SetName(name)
			changed("name", c.Name, name)
		}
	}
	mode := c.Mode
	if in.Mode != nil {
		if err := checkMode(t, *in.Mode); err != nil {
			return nil, err
		}
		mode = *in.Mode
		if mode != c.Mode {
			u.SetMode(mode)
			changed("mode", c.Mode, mode)
		}
	}
	if in.Settings != nil || mode != c.Mode { // a switch to pull may make stored settings insufficient
		diffs, err := s.planSettings(t, c, mode, in.Settings, u)
		if err != nil {
			return nil, err
		}
		entries = append(entries, diffs...)
	}
	if in.Enabled != nil && *in.Enabled != c.Enabled {
		u.SetEnabled(*in.Enabled)
		changed("enabled", c.Enabled, *in.Enabled)
	}
	if in.DedupFields != nil {
		fields, err := cleanDedupFields(in.DedupFields)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(fields, c.DedupFields) {
			if fields == nil {
				u.ClearDedupFields()
			} else {
				u.SetDedupFields(fields)
			}
			changed("dedup_fields", c.DedupFields, fields)
		}
	}
	if err := checkLimits(in.DedupWindowSeconds, in.PollIntervalSeconds, in.RateLimitPerMinute); err != nil {
		return nil, err
	}
	if v := in.DedupWindowSeconds; v != nil && *v != c.DedupWindowSeconds {
		u.SetDedupWindowSeconds(*v)
		changed("dedup_window_seconds", c.DedupWindowSeconds, *v)
	}
	if v := in.PollIntervalSeconds; v != nil && *v != c.PollIntervalSeconds {
		u.SetPollIntervalSeconds(*v)
		changed("poll_interval_seconds", c.PollIntervalSeconds, *v)
		// Live: the next poll moves to the last one plus the new interval.
		if c.LastPolledAt != nil {
			u.SetNextPollAt(c.LastPolledAt.Add(time.Duration(*v) * time.Second))
		}
	}
	if v := in.RateLimitPerMinute; v != nil && *v != c.RateLimitPerMinute {
		u.SetRateLimitPerMinute(*v)
		changed("rate_limit_per_minute", c.RateLimitPerMinute, *v)
	}
	return entries, nil
}

// planSettings validates the settings the connector will have (incoming
// ones replace the stored ones as a whole, echoed masks kept) and records
// each setting that changes as "settings.<name>".
func (s *Service) planSettings(t catalogue.Type, c *ent.Connector, mode enum.ConnectorMode, incoming map[string]any, u *ent.ConnectorUpdateOne) ([]audit.Entry, error) {
	stored := withoutRetired(c.Settings)
	next := stored
	if incoming != nil {
		var err error
		if next, err = unmask(t, incoming, stored); err != nil {
			return nil, err
		}
		moved, err := checkDestination(t, stored, incoming)
		if err != nil {
			return nil, err
		}
		if moved != "" && c.PollCheckpoint != "" {
			// Another source: its position means nothing there, so the
			// next poll starts over from the look-back.
			u.SetPollCheckpoint("")
		}
	}
	next, err := validateSettings(t, mode, next)
	if err != nil {
		return nil, err
	}
	// Secrets sent in clear are sealed; masked ones kept their sealed value.
	if next, _, err = s.seal(t, c.ID, next, func(k string) bool { return incoming == nil || isMask(incoming[k]) }); err != nil {
		return nil, err
	}
	before, after := maskSecrets(t, c.Settings), maskSecrets(t, next)
	var entries []audit.Entry
	for _, k := range settingNames(c.Settings, next) {
		same, err := sameJSON(c.Settings[k], next[k])
		if err != nil {
			return nil, err
		}
		if same {
			continue
		}
		entries = append(entries, audit.Entry{
			EntityType: entityTypeConnector, EntityID: c.ID, Action: "update",
			Field: "settings." + k, Before: before[k], After: after[k],
		})
	}
	if len(entries) == 0 {
		return nil, nil
	}
	if next == nil {
		u.ClearSettings()
	} else {
		u.SetSettings(next)
	}
	return entries, nil
}

// settingNames is the sorted union of the keys of a and b.
func settingNames(a, b map[string]any) []string {
	names := make([]string, 0, len(a)+len(b))
	for k := range a {
		names = append(names, k)
	}
	for k := range b {
		names = append(names, k)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// sameJSON compares by JSON text: stored numbers come back as float64, new
// ones are int64, and 60 is 60 either way. A missing value is null.
func sameJSON(a, b any) (bool, error) {
	ja, err := canonicalJSON(a)
	if err != nil {
		return false, err
	}
	jb, err := canonicalJSON(b)
	if err != nil {
		return false, err
	}
	return ja == jb, nil
}
