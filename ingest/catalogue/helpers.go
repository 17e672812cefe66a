package catalogue

import (
	"encoding/json"
	"math"
	"net"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// get returns the value at a dotted path in a decoded JSON value. Each step
// matches the longest key that exists, so "kibana.alert.rule.name" finds
// {"kibana.alert.rule.name": x}, {"kibana": {"alert": {"rule": {"name": x}}}}
// and any mixture (Elastic documents use both). A numeric step indexes an array;
// any other step applied to an array looks into its first element (Elastic's
// fields API returns every value as an array).
func get(v any, path string) any {
	if path == "" {
		return v
	}
	return getParts(v, strings.Split(path, "."))
}

func getParts(v any, parts []string) any {
	if len(parts) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		for i := len(parts); i >= 1; i-- {
			key := parts[0]
			if i > 1 {
				key = strings.Join(parts[:i], ".")
			}
			if child, ok := x[key]; ok {
				if r := getParts(child, parts[i:]); r != nil {
					return r
				}
			}
		}
	case []any:
		if n, err := strconv.Atoi(parts[0]); err == nil {
			if n >= 0 && n < len(x) {
				return getParts(x[n], parts[1:])
			}
			return nil
		}
		if len(x) > 0 {
			return getParts(x[0], parts)
		}
	}
	return nil
}

// str renders a scalar as a trimmed string ("" for null, objects and empty
// arrays); an array gives its first non-empty scalar.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		for _, e := range x {
			if s := str(e); s != "" {
				return s
			}
		}
	}
	return ""
}

// gs returns the first non-empty string among the paths of o.
func gs(o any, paths ...string) string {
	for _, p := range paths {
		if s := str(get(o, p)); s != "" {
			return s
		}
	}
	return ""
}

// first returns the first non-empty string.
func first(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// num reads a JSON number or a numeric string.
func num(v any) (float64, bool) {
	var f float64
	var err error
	switch x := v.(type) {
	case json.Number:
		f, err = strconv.ParseFloat(string(x), 64)
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
	case []any:
		if len(x) > 0 {
			return num(x[0])
		}
		return 0, false
	default:
		return 0, false
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// list returns v as a list: an array as is, null as empty, anything else as one element.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// strs returns the non-empty scalars of v (an array or a single value).
func strs(v any) []string {
	var out []string
	for _, e := range list(v) {
		if _, isList := e.([]any); isList {
			continue
		}
		if s := str(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// objs returns the objects of v (an array of objects, or one object).
func objs(v any) []map[string]any {
	var out []map[string]any
	for _, e := range list(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// obj returns the object at path, or nil.
func obj(o any, path string) map[string]any {
	m, _ := get(o, path).(map[string]any)
	return m
}

// attrs collects attributes: set keeps the first non-empty value offered for a key.
type attrs map[string]string

func (a attrs) set(key string, vals ...string) {
	if a[key] != "" {
		return
	}
	if v := first(vals...); v != "" {
		a[key] = v
	}
}

// isIP reports whether s is an IPv4 or IPv6 address.
func isIP(s string) bool { return net.ParseIP(strings.TrimSpace(s)) != nil }

// ipOnly returns s if it is an IP address, else "".
func ipOnly(vals ...string) string {
	for _, s := range vals {
		if isIP(s) {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// notIP returns s unless it is an IP address.
func notIP(s string) string {
	if isIP(s) {
		return ""
	}
	return s
}

// hostPart strips a ":port" from "host:port" or "[v6]:port".
func hostPart(s string) string {
	s = strings.TrimSpace(s)
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

// baseName returns the last element of a Windows or POSIX path.
func baseName(p string) string {
	p = strings.TrimSpace(p)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// ---- time ----

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700", // Suricata, Wazuh: "+0000" offsets
	"2006-01-02T15:04:05.999999999",      // no zone: UTC
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999",
	time.RFC1123Z,
	time.RFC1123,
}

// parseTime reads a timestamp: RFC 3339 and close variants, RFC 5322 (mail)
// dates, or a Unix epoch number in seconds, milliseconds, microseconds or
// nanoseconds (told apart by magnitude). Anything before 1971 (zero times like
// Alertmanager's "0001-01-01T00:00:00Z") or after 9999 gives nil.
func parseTime(v any) *time.Time {
	switch x := v.(type) {
	case json.Number:
		if f, ok := num(x); ok {
			return epoch(f)
		}
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return epoch(f)
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return sane(t)
			}
		}
		if t, err := mail.ParseDate(s); err == nil {
			return sane(t)
		}
	case []any:
		if len(x) > 0 {
			return parseTime(x[0])
		}
	}
	return nil
}

func epoch(f float64) *time.Time {
	if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 9e18 {
		return nil
	}
	var t time.Time
	switch {
	case f >= 1e17:
		t = time.Unix(0, int64(f))
	case f >= 1e14:
		t = time.UnixMicro(int64(f))
	case f >= 1e11:
		t = time.UnixMilli(int64(f))
	default:
		sec, frac := math.Modf(f)
		t = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3)
	}
	return sane(t)
}

func sane(t time.Time) *time.Time {
	if t.Year() < 1971 || t.Year() > 9999 {
		return nil
	}
	u := t.UTC()
	return &u
}

// firstTime returns the first parseable time among the paths of o.
func firstTime(o any, paths ...string) *time.Time {
	for _, p := range paths {
		if t := parseTime(get(o, p)); t != nil {
			return t
		}
	}
	return nil
}

// ---- MITRE ATT&CK ----

var (
	techniqueExact = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	// in free text and attack.mitre.org links ("…/techniques/T1059/001/")
	techniqueText = regexp.MustCompile(`\bT(\d{4})(?:[./](\d{3}))?\b`)
)

// normTechnique upper-cases and trims s and reports whether it is an ATT&CK
// technique id like T1059 or T1059.001.
func normTechnique(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, techniqueExact.MatchString(s)
}

// techniquesIn extracts technique ids from free text or links.
func techniquesIn(s string) []string {
	var out []string
	for _, m := range techniqueText.FindAllStringSubmatch(s, 20) {
		id := "T" + m[1]
		if m[2] != "" {
			id += "." + m[2]
		}
		out = append(out, id)
	}
	return out
}

// walkTechniques collects every string leaf of v that is a technique id
// (for nested structures like Elastic's threat[].technique[].subtechnique[].id).
func walkTechniques(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		if id, ok := normTechnique(x); ok {
			*out = append(*out, id)
		}
	case []any:
		for _, e := range x {
			walkTechniques(e, out)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkTechniques(x[k], out)
		}
	}
}
