package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/secrets"
)

// Mask stands in for a secret setting wherever settings are shown. A client
// that sends it back unchanged keeps the stored secret.
const Mask = "********"

// maxSettingsBytes bounds the settings document: they are a handful of URLs,
// ids and secrets, and the row is read on every pull.
const maxSettingsBytes = 32 << 10

// Catalogue returns the connector types in the catalogue's stable order.
func Catalogue() []*catalogue.Type {
	types := catalogue.Types()
	out := make([]*catalogue.Type, len(types))
	for i := range types {
		out[i] = &types[i]
	}
	return out
}

// MaskedSettings returns c's settings with every secret value replaced by
// Mask. A type missing from the catalogue cannot say which settings are
// secret, so all of its values are masked.
func MaskedSettings(c *ent.Connector) map[string]any {
	t, known := catalogue.Lookup(c.Type)
	out := make(map[string]any, len(c.Settings))
	for k, v := range withoutRetired(c.Settings) {
		if !known || isSecret(t, k) {
			out[k] = Mask
			continue
		}
		out[k] = v
	}
	return out
}

// isSecret reports whether setting name is marked writeOnly in t's schema.
func isSecret(t catalogue.Type, name string) bool {
	p, _ := properties(t.Settings)[name].(map[string]any)
	w, _ := p["writeOnly"].(bool)
	return w
}

// maskSecrets is MaskedSettings for a settings map of type t; it is what
// activity records, so secrets never reach the audit log.
func maskSecrets(t catalogue.Type, settings map[string]any) map[string]any {
	out := make(map[string]any, len(settings))
	for k, v := range settings {
		if isSecret(t, k) {
			v = Mask
		}
		out[k] = v
	}
	return out
}

// unmask puts the stored value back for each secret the client echoed as
// Mask. A masked secret with nothing stored is refused: the client cannot
// have read it, and storing the mask itself as the secret would be a trap.
func unmask(t catalogue.Type, in, stored map[string]any) (map[string]any, error) {
	if in == nil {
		return nil, nil
	}
	out := maps.Clone(in)
	for k, v := range in {
		if s, ok := v.(string); !ok || s != Mask || !isSecret(t, k) {
			continue
		}
		prev, ok := stored[k]
		if !ok || prev == nil {
			return nil, apperr.Invalid("settings."+k, "is masked but no value is stored; send the secret itself")
		}
		out[k] = prev
	}
	return out, nil
}

// validateSettings checks settings against the JSON Schema of type t and
// returns them in canonical form: decoded as JSON, top-level nulls dropped
// (null means "not set"), integers as int64, nil when empty. Settings listed
// in the schema's "x-required-for-pull" must be set, and not empty, in pull
// mode. Errors are 422s naming "settings.<name>" (".<index>" for an array
// element).
func validateSettings(t catalogue.Type, mode enum.ConnectorMode, settings map[string]any) (map[string]any, error) {
	doc, err := decodeSettings(settings)
	if err != nil {
		return nil, err
	}
	canon, err := checkValue(t.Settings, "settings", doc)
	if err != nil {
		return nil, err
	}
	out, _ := canon.(map[string]any)
	if mode == enum.ConnectorModePull {
		for _, name := range stringList(t.Settings["x-required-for-pull"]) {
			if v, ok := out[name]; !ok || v == "" {
				return nil, apperr.Invalid("settings."+name, "is required in pull mode")
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// decodeSettings round-trips settings through JSON so the checks see one
// representation whatever the caller built (GraphQL variables carry
// json.Number, inline literals int64, stored rows float64).
func decodeSettings(settings map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(settings)
	if err != nil {
		return nil, apperr.Invalid("settings", "is not representable as JSON")
	}
	if len(raw) > maxSettingsBytes {
		return nil, apperr.Invalid("settings", "must be at most %d bytes of JSON", maxSettingsBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode settings: %w", err)
	}
	for k, v := range doc {
		if v == nil {
			delete(doc, k)
		}
	}
	if doc == nil {
		doc = map[string]any{}
	}
	return doc, nil
}

// checkValue validates v (decoded with UseNumber) against schema and returns
// its canonical form. It knows exactly the keywords the catalogue uses;
// annotations ($schema, title, description, default, writeOnly) do not
// constrain values. A schema it cannot read is a catalogue bug, reported as
// a plain error.
func checkValue(schema map[string]any, path string, v any) (any, error) {
	var (
		out any
		err error
	)
	switch typ, _ := schema["type"].(string); typ {
	case "object":
		out, err = checkObject(schema, path, v)
	case "array":
		out, err = checkArray(schema, path, v)
	case "string":
		out, err = checkString(schema, path, v)
	case "integer":
		out, err = checkInteger(schema, path, v)
	case "number":
		out, err = checkNumber(schema, path, v)
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, apperr.Invalid(path, "must be a boolean")
		}
		out = b
	default:
		return nil, fmt.Errorf("settings schema at %s: unsupported type %q", path, typ)
	}
	if err != nil {
		return nil, err
	}
	if allowed, ok := schema["enum"]; ok {
		if err := checkEnum(path, allowed, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkObject refuses properties the schema does not declare: a typo in a
// setting name would otherwise be silently ignored.
func checkObject(schema map[string]any, path string, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, apperr.Invalid(path, "must be an object")
	}
	props := properties(schema)
	out := make(map[string]any, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) { // sorted: the same input names the same field
		p, ok := props[k].(map[string]any)
		if !ok {
			return nil, apperr.Invalid(path+"."+k, "is not a setting of this connector type")
		}
		cv, err := checkValue(p, path+"."+k, m[k])
		if err != nil {
			return nil, err
		}
		out[k] = cv
	}
	return out, nil
}

func checkArray(schema map[string]any, path string, v any) (any, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, apperr.Invalid(path, "must be an array")
	}
	itemSchema, hasItems := schema["items"].(map[string]any)
	unique, _ := schema["uniqueItems"].(bool)
	seen := make(map[string]bool, len(items))
	out := make([]any, len(items))
	for i, item := range items {
		at := path + "." + strconv.Itoa(i)
		cv := item
		if hasItems {
			var err error
			if cv, err = checkValue(itemSchema, at, item); err != nil {
				return nil, err
			}
		}
		if unique {
			key, err := canonicalJSON(cv)
			if err != nil {
				return nil, err
			}
			if seen[key] {
				return nil, apperr.Invalid(at, "duplicates an earlier element")
			}
			seen[key] = true
		}
		out[i] = cv
	}
	return out, nil
}

func checkString(schema map[string]any, path string, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, apperr.Invalid(path, "must be a string")
	}
	if n, ok := schemaNumber(schema["minLength"]); ok && float64(utf8.RuneCountInString(s)) < n {
		return nil, apperr.Invalid(path, "must be at least %v characters", n)
	}
	if pat, ok := schema["pattern"].(string); ok {
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("settings schema at %s: pattern: %w", path, err)
		}
		if !re.MatchString(s) {
			return nil, apperr.Invalid(path, "must match %s", pat)
		}
	}
	if f, ok := schema["format"].(string); ok {
		if f != "uri" {
			return nil, fmt.Errorf("settings schema at %s: unsupported format %q", path, f)
		}
		if u, err := url.Parse(s); err != nil || !u.IsAbs() || u.Host == "" {
			return nil, apperr.Invalid(path, "must be an absolute URL with a host")
		}
	}
	return s, nil
}

// checkInteger accepts any JSON number without a fractional part (60, 60.0,
// 6e1 are one integer) and returns it as int64, so readers that decode the
// stored settings into an int never meet "60.0".
func checkInteger(schema map[string]any, path string, v any) (any, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, apperr.Invalid(path, "must be an integer")
	}
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) >= math.MaxInt64 {
			return nil, apperr.Invalid(path, "must be an integer")
		}
		i = int64(f)
	}
	if err := checkBounds(schema, path, float64(i)); err != nil {
		return nil, err
	}
	return i, nil
}

func checkNumber(schema map[string]any, path string, v any) (any, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, apperr.Invalid(path, "must be a number")
	}
	f, err := n.Float64()
	if err != nil {
		return nil, apperr.Invalid(path, "is out of range")
	}
	if err := checkBounds(schema, path, f); err != nil {
		return nil, err
	}
	return n, nil
}

func checkBounds(schema map[string]any, path string, f float64) error {
	if lo, ok := schemaNumber(schema["minimum"]); ok && f < lo {
		return apperr.Invalid(path, "must be at least %v", lo)
	}
	if hi, ok := schemaNumber(schema["maximum"]); ok && f > hi {
		return apperr.Invalid(path, "must be at most %v", hi)
	}
	return nil
}

// checkEnum compares by JSON text, so 3 (int64) equals a schema's 3 (int).
func checkEnum(path string, allowed, v any) error {
	list, ok := allowed.([]any)
	if !ok {
		if strs := stringList(allowed); strs != nil {
			list = make([]any, len(strs))
			for i, s := range strs {
				list[i] = s
			}
		}
	}
	want, err := canonicalJSON(v)
	if err != nil {
		return err
	}
	for _, a := range list {
		if got, err := canonicalJSON(a); err == nil && got == want {
			return nil
		}
	}
	return apperr.Invalid(path, "must be one of %s", mustJSON(list))
}

// properties returns a schema's "properties" object (empty when absent).
func properties(schema map[string]any) map[string]any {
	p, _ := schema["properties"].(map[string]any)
	return p
}

// schemaNumber reads a numeric keyword, whichever Go type the schema uses.
func schemaNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// stringList reads a list-of-strings keyword written in Go ([]string) or
// decoded from JSON ([]any).
func stringList(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// canonicalJSON is v's JSON text; encoding/json sorts object keys, so equal
// values give equal text.
func canonicalJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("settings value: %w", err)
	}
	return string(b), nil
}

func mustJSON(v any) string {
	s, err := canonicalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return s
}

// retiredSettings were in the catalogue once and are dropped from stored
// settings on the next update: the interval is the connector's own field,
// and no poller can honour the others.
var retiredSettings = []string{"poll_interval_seconds", "use_event_stream", "app_id"}

// withoutRetired returns settings without the retired ones.
func withoutRetired(settings map[string]any) map[string]any {
	if settings == nil {
		return nil
	}
	out := maps.Clone(settings)
	for _, k := range retiredSettings {
		delete(out, k)
	}
	return out
}

func isMask(v any) bool {
	s, ok := v.(string)
	return ok && s == Mask
}

// destinationSettings say where a connector's credentials are sent.
var destinationSettings = []string{"base_url", "authority_url", "tenant_id"}

// checkDestination refuses to keep a stored secret (sent back masked)
// when the destination changes: whoever points the connector elsewhere
// must know the credentials it would send there. It returns the setting
// that moved, "" if none.
func checkDestination(t catalogue.Type, stored, incoming map[string]any) (string, error) {
	moved := ""
	for _, k := range destinationSettings {
		if same, err := sameJSON(stored[k], incoming[k]); err == nil && !same {
			moved = k
			break
		}
	}
	if moved == "" {
		return "", nil
	}
	for k, v := range incoming {
		if isSecret(t, k) && isMask(v) {
			return "", apperr.Invalid("settings."+k, "is required again when %s changes: the stored secret is not sent to a new destination", moved)
		}
	}
	return moved, nil
}

// seal encrypts the secret settings of connector id, except those kept
// reports already sealed (a stored value sent back masked), and reports
// whether it sealed any.
func (s *Service) seal(t catalogue.Type, id uuid.UUID, settings map[string]any, kept func(string) bool) (map[string]any, bool, error) {
	var out map[string]any
	for k, v := range settings {
		plain, ok := v.(string)
		if !ok || !isSecret(t, k) || (kept != nil && kept(k)) {
			continue
		}
		if s.box == nil {
			return nil, false, fmt.Errorf("connectors: no secret box to seal setting %s", k)
		}
		sealed, err := s.box.Seal(plain, SealContext(id, k))
		if err != nil {
			return nil, false, err
		}
		if out == nil {
			out = maps.Clone(settings)
		}
		out[k] = sealed
	}
	if out == nil {
		return settings, false, nil
	}
	return out, true, nil
}

// SealContext binds a sealed setting to its connector and name, so a
// value copied to another connector or setting does not open.
func SealContext(id uuid.UUID, setting string) string {
	return "connector:" + id.String() + ":" + setting
}

// ErrSealed: a stored secret does not open with this server's key (a
// value stored before secrets were sealed, or another key).
var ErrSealed = errors.New("connectors: a secret setting cannot be decrypted")

// OpenSettings returns c's settings with the secrets decrypted, for the
// poller; the error names the setting to enter again.
func OpenSettings(box *secrets.Box, c *ent.Connector) (map[string]any, error) {
	t, _ := catalogue.Lookup(c.Type)
	out := make(map[string]any, len(c.Settings))
	for k, v := range withoutRetired(c.Settings) {
		if s, ok := v.(string); ok && isSecret(t, k) {
			plain, err := box.Open(s, SealContext(c.ID, k))
			if err != nil {
				return nil, fmt.Errorf("%w: setting %s does not open with this server's secret key; enter it again", ErrSealed, k)
			}
			v = plain
		}
		out[k] = v
	}
	return out, nil
}

// SealStored seals, in the acting organisation, the secret settings kept
// in clear from before secrets were sealed, and returns how many
// connectors it changed. A value that does not open but has the sealed
// form was sealed under another key: only entering it again helps, and
// the poller says so.
func (s *Service) SealStored(ctx context.Context) (int, error) {
	all, err := s.client.Connector.Query().Where(connector.SettingsNotNil()).All(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range all {
		t, ok := catalogue.Lookup(c.Type)
		if !ok {
			continue
		}
		clear := func(k string) bool {
			v, isString := c.Settings[k].(string)
			if !isString || !isSecret(t, k) || strings.HasPrefix(v, "v1:") {
				return false
			}
			_, err := s.box.Open(v, SealContext(c.ID, k))
			return err != nil
		}
		sealed, changed, err := s.seal(t, c.ID, c.Settings, func(k string) bool { return !clear(k) })
		if err != nil {
			return n, err
		}
		if !changed {
			continue
		}
		if err := c.Update().SetSettings(sealed).Exec(ctx); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
