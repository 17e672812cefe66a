package catalogue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/seliq/seliq/enum"
)

// Limits applied to every mapped alert.
const (
	maxTitle       = 1000  // characters; longer titles are truncated
	maxDescription = 65536 // characters
	maxExternalID  = 512
	maxAttribute   = 4096
	maxTag         = 200
	maxTags        = 100
	maxMitre       = 100
)

// record is one JSON object of the payload that may become an alert.
type record struct {
	path string          // dotted path in the payload ("" for the body itself, "3" for an array element, "alerts.2")
	raw  json.RawMessage // the object's exact bytes
	obj  map[string]any  // decoded with UseNumber
	env  map[string]any  // the enclosing envelope object, if the record came out of one
}

// skipError marks a record that is expected noise in a stream (a Suricata flow event,
// a Falcon audit event): skipped when other records map, Unmappable when none does.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

func skip(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

func unmappable(format string, args ...any) error {
	return &Unmappable{Reason: fmt.Sprintf(format, args...)}
}

func joinPath(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func malformed(err error) error {
	return &FieldError{Reason: "malformed JSON: " + err.Error()}
}

// topLevel splits the body into its top-level objects: the object itself, the
// elements of an array, or the lines of newline-delimited JSON.
func topLevel(payload []byte) ([]record, error) {
	body := bytes.TrimSpace(payload)
	if len(body) == 0 {
		return nil, &FieldError{Reason: "malformed JSON: empty body"}
	}
	if json.Valid(body) {
		switch body[0] {
		case '{':
			rec, err := decodeRecord("", bytes.Clone(body))
			if err != nil {
				return nil, err
			}
			return []record{rec}, nil
		case '[':
			var elems []json.RawMessage
			if err := json.Unmarshal(body, &elems); err != nil {
				return nil, malformed(err)
			}
			return decodeRecords("", elems)
		default:
			return nil, &FieldError{Reason: "expected a JSON object, an array of objects or newline-delimited JSON objects"}
		}
	}
	// Not one JSON value: newline-delimited JSON (a stream of values).
	dec := json.NewDecoder(bytes.NewReader(body))
	var elems []json.RawMessage
	for {
		var m json.RawMessage
		err := dec.Decode(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(elems) > 0 {
				return nil, malformed(fmt.Errorf("record %d: %w", len(elems), err))
			}
			return nil, malformed(err)
		}
		elems = append(elems, m)
	}
	return decodeRecords("", elems)
}

func decodeRecords(prefix string, elems []json.RawMessage) ([]record, error) {
	recs := make([]record, 0, len(elems))
	for i, e := range elems {
		r, err := decodeRecord(joinPath(prefix, strconv.Itoa(i)), e)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

func decodeRecord(path string, raw json.RawMessage) (record, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return record{}, &FieldError{Field: path, Reason: "expected a JSON object"}
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return record{}, &FieldError{Field: path, Reason: "malformed JSON: " + err.Error()}
	}
	return record{path: path, raw: raw, obj: m}, nil
}

// children returns the object elements of the array at keys inside r (an
// envelope's list), each with its exact bytes and r's object as envelope.
// A missing or null list gives (nil, false, nil).
func children(r record, keys ...string) ([]record, bool, error) {
	cur := json.RawMessage(r.raw)
	for i, k := range keys {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(cur, &m); err != nil {
			return nil, false, &FieldError{Field: joinPath(r.path, strings.Join(keys[:i], ".")), Reason: "expected a JSON object"}
		}
		v, ok := m[k]
		if !ok {
			return nil, false, nil
		}
		cur = v
	}
	cur = bytes.TrimSpace(cur)
	path := joinPath(r.path, strings.Join(keys, "."))
	if string(cur) == "null" {
		return nil, true, nil
	}
	if len(cur) == 0 || cur[0] != '[' {
		return nil, true, &FieldError{Field: path, Reason: "expected an array"}
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(cur, &elems); err != nil {
		return nil, true, &FieldError{Field: path, Reason: "malformed JSON: " + err.Error()}
	}
	recs, err := decodeRecords(path, elems)
	if err != nil {
		return nil, true, err
	}
	for i := range recs {
		recs[i].env = r.obj
	}
	return recs, true, nil
}

// decodeRecordAt returns the object under key of r as a record with its exact
// bytes and r's object as envelope.
func decodeRecordAt(r record, key string) (record, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.raw, &m); err != nil {
		return record{}, &FieldError{Field: r.path, Reason: "expected a JSON object"}
	}
	rec, err := decodeRecord(joinPath(r.path, key), bytes.TrimSpace(m[key]))
	if err != nil {
		return record{}, err
	}
	rec.env = r.obj
	return rec, nil
}

// spec is one mapper: expand splits a top-level object into alert records (an
// envelope's elements, or the object itself) and one maps a single record.
// Errors from expand carry absolute paths; errors from one are relative to the record.
type spec struct {
	key    string
	expand func(r record) ([]record, error)
	one    func(r record) (Alert, error)
}

func (s spec) run(payload []byte) ([]Alert, error) {
	tops, err := topLevel(payload)
	if err != nil {
		return nil, err
	}
	out := []Alert{}
	skipped, firstSkip := 0, ""
	for _, t := range tops {
		recs := []record{t}
		if s.expand != nil {
			if recs, err = s.expand(t); err != nil {
				return nil, err
			}
		}
		for _, r := range recs {
			a, err := s.one(r)
			if err == nil {
				err = finish(&a, s.key, r.raw)
			}
			if err != nil {
				var se *skipError
				if errors.As(err, &se) {
					if skipped == 0 {
						firstSkip = se.reason
						if r.path != "" {
							firstSkip = r.path + ": " + se.reason
						}
					}
					skipped++
					continue
				}
				return nil, relocate(err, r.path)
			}
			out = append(out, a)
		}
	}
	if len(out) == 0 && skipped > 0 {
		return nil, unmappable("no alert in the payload: %d record(s) skipped (%s)", skipped, firstSkip)
	}
	return out, nil
}

// relocate prefixes a record-relative error with the record's path.
func relocate(err error, path string) error {
	if path == "" {
		return err
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: joinPath(path, fe.Field), Reason: fe.Reason}
	}
	var ue *Unmappable
	if errors.As(err, &ue) {
		return &Unmappable{Reason: path + ": " + ue.Reason}
	}
	return err
}

// finish enforces the Alert invariants on a mapper's output.
func finish(a *Alert, key string, raw json.RawMessage) error {
	if a.Source = clip(oneLine(a.Source), 100); a.Source == "" {
		a.Source = key
	}
	a.Title = clip(oneLine(a.Title), maxTitle)
	if a.Title == "" {
		return unmappable("no title could be derived")
	}
	if !a.Severity.Valid() {
		a.Severity = enum.SeverityMedium
	}
	a.Description = clip(strings.TrimSpace(strings.ToValidUTF8(a.Description, "\uFFFD")), maxDescription)
	a.ExternalID = clip(oneLine(a.ExternalID), maxExternalID)
	a.Tags = cleanList(a.Tags, maxTags, func(s string) (string, bool) {
		s = clip(oneLine(s), maxTag)
		return s, s != ""
	})
	a.Mitre = cleanList(a.Mitre, maxMitre, normTechnique)
	attrs := make(map[string]string, len(a.Attributes))
	for k, v := range a.Attributes {
		if !IsAttributeKey(k) {
			continue
		}
		if v = clip(strings.TrimSpace(strings.ToValidUTF8(v, "\uFFFD")), maxAttribute); v != "" {
			attrs[k] = v
		}
	}
	a.Attributes = attrs
	if a.EventTime != nil {
		t := a.EventTime.UTC()
		a.EventTime = &t
	}
	a.Raw = raw
	return nil
}

// oneLine makes s valid UTF-8, turns control characters into spaces and trims it.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

// clip truncates s to at most n characters (runes).
func clip(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return strings.TrimSpace(s[:i])
}

// cleanList normalises each element with norm, dropping rejected and duplicate
// ones and keeping at most max, in order of first appearance.
func cleanList(in []string, max int, norm func(string) (string, bool)) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		v, ok := norm(s)
		if !ok || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
		if len(out) == max {
			break
		}
	}
	return out
}
