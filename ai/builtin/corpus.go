package builtin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/seliq/seliq/ingest/entities"
)

// Bounds on the work done per alert, whatever the input size.
const (
	maxTitle        = 1 << 10
	maxDescription  = 8 << 10
	maxTags         = 50
	maxTag          = 100
	maxRawScan      = 64 << 10 // bytes of the vendor payload walked
	maxRawText      = 8 << 10  // bytes of vendor text fields kept
	maxRawField     = 2 << 10
	maxVerdictField = 20
	maxEncoded      = 8 << 10
	maxDecodedShown = 200
)

// facts is what the analyst read from an alert.
type facts struct {
	text     string   // lower-cased text searched for techniques and keywords
	verdicts []string // vendor verdict fields, "key: value", lower-cased
	decoded  string   // decoded -EncodedCommand, as shown to the analyst
	// hidden are the indicators found only in the decoded command: the
	// ingest extraction never saw them, since they were encoded.
	hidden []Entity
	// fields are the payload's string values by where they sit.
	fields rawFields
}

// encodedPS finds a PowerShell -EncodedCommand argument (any accepted
// abbreviation of the flag).
var encodedPS = regexp.MustCompile(`(?i)(?:powershell|pwsh)[^\n]{0,300}?\s[-/]e[a-z]*\s+([A-Za-z0-9+/]{20,}={0,2})`)

func readAlert(a Alert) facts {
	var f facts
	parts := []string{clip(a.Title, maxTitle), clip(a.Description, maxDescription)}
	for _, t := range a.Tags[:min(len(a.Tags), maxTags)] {
		parts = append(parts, clip(t, maxTag))
	}
	f.fields = readRaw(a.Raw)
	parts = append(parts, f.fields.text...)
	f.verdicts = f.fields.verdicts
	f.decoded = decodePowerShell(parts)
	if f.decoded != "" {
		parts = append(parts, f.decoded)
		f.hidden = entities.Extract(nil, f.decoded)
	}
	f.text = strings.ToLower(strings.Join(parts, "\n"))
	f.decoded = clip(f.decoded, maxDecodedShown)
	return f
}

// rawFields is what the walk of the vendor payload kept.
type rawFields struct {
	text     []string // values of the text fields (textKeys)
	verdicts []string // verdict fields (verdictKeys), "key: value", lower-cased
	// values are the other string values with their (normalised) keys,
	// lower-cased; ids, fingerprints and references are kept apart in
	// idText and refText, since what sits there is not evidence.
	values  []keyValue
	plain   strings.Builder // the values, newline-separated
	idText  strings.Builder // values of record-id and fingerprint fields
	refText strings.Builder // values of reference fields (console, docs, schema links)
}

// keyValue is a payload value with its normalised key and the key of the
// object holding it ("http" for {"http": {"hostname": …}}).
type keyValue struct{ key, parent, value string }

// Field classes: where a value sits decides what it can be.
const (
	classPlain = iota
	classID    // a record id, fingerprint or version: never an indicator
	classRef   // a link to a console, documentation or schema: a reference
)

// readRaw walks the vendor payload and returns the values of the text
// fields (textKeys), the verdict fields (verdictKeys) and every string value
// by field class. Nested keys are matched by their last component; arrays
// take the key of their field; everything under an id or fingerprint
// object ("ja3": {"hash": …}) is of its class. Malformed or truncated JSON
// yields what was read before the error.
func readRaw(raw json.RawMessage) rawFields {
	if len(raw) == 0 {
		return rawFields{}
	}
	dec := json.NewDecoder(bytes.NewReader(raw[:min(len(raw), maxRawScan)]))
	dec.UseNumber()
	w := rawWalker{}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		w.token(tok)
	}
	return w.rawFields
}

type rawFrame struct {
	object  bool
	wantKey bool
	key     string
	name    string // the key this container was opened under
	class   int    // inherited by the values inside
}

type rawWalker struct {
	rawFields
	stack   []rawFrame
	textLen int
}

func (w *rawWalker) token(tok json.Token) {
	top := w.top()
	if top != nil && top.object && top.wantKey {
		if s, ok := tok.(string); ok {
			top.key, top.wantKey = normKey(s), false
			return
		}
	}
	key := ""
	if top != nil {
		key = top.key
	}
	switch v := tok.(type) {
	case json.Delim:
		class := classPlain
		if top != nil {
			class = top.class
			if class == classPlain && key != "" {
				class = keyClass(key)
			}
		}
		switch v {
		case '{':
			w.stack = append(w.stack, rawFrame{object: true, wantKey: true, class: containerClass(class), name: w.containerName(key)})
		case '[':
			w.stack = append(w.stack, rawFrame{key: key, class: class, name: w.containerName(key)})
		default:
			w.stack = w.stack[:len(w.stack)-1]
			w.valueDone()
		}
	case string:
		class := classPlain
		if top != nil {
			class = top.class
		}
		w.field(key, v, class)
		w.valueDone()
	default:
		w.valueDone()
	}
}

// containerName: the key a new container opens under; inside an array, the
// array's own name.
func (w *rawWalker) containerName(key string) string {
	if top := w.top(); top != nil && !top.object {
		return top.name
	}
	return key
}

func (w *rawWalker) top() *rawFrame {
	if len(w.stack) == 0 {
		return nil
	}
	return &w.stack[len(w.stack)-1]
}

func (w *rawWalker) valueDone() {
	if top := w.top(); top != nil && top.object {
		top.wantKey = true
	}
}

func (w *rawWalker) field(key, v string, class int) {
	if v == "" || key == "" {
		return
	}
	if class == classPlain {
		class = keyClass(key)
	}
	w.keep(key, v, class)
	if slices.Contains(textKeys, key) && w.textLen < maxRawText {
		v = clip(v, min(maxRawField, maxRawText-w.textLen))
		w.text = append(w.text, v)
		w.textLen += len(v)
	}
	if slices.Contains(verdictKeys, key) && len(w.verdicts) < maxVerdictField {
		w.verdicts = append(w.verdicts, key+": "+strings.ToLower(clip(v, maxTag)))
	}
}

// normKey lower-cases a field name and drops separators so that
// "CommandLine", "command_line" and "process.command-line" compare by
// their last component.
func normKey(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		k = k[i+1:]
	}
	var b strings.Builder
	b.Grow(len(k))
	for _, r := range k {
		if r != '_' && r != '-' && r != ' ' {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// decodePowerShell decodes the first -EncodedCommand argument found, which
// is UTF-16LE in base64; what it says is often the most telling part of
// the alert.
func decodePowerShell(parts []string) string {
	for _, p := range parts {
		if lp := strings.ToLower(p); !strings.Contains(lp, "powershell") && !strings.Contains(lp, "pwsh") {
			continue
		}
		m := encodedPS.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		if s, ok := decodeUTF16Base64(m[1][:min(len(m[1]), maxEncoded)]); ok {
			return s
		}
	}
	return ""
}

func decodeUTF16Base64(b64 string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	}
	if err != nil || len(raw) < 2 {
		return "", false
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	s := string(utf16.Decode(u))
	for _, r := range s {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return "", false
		}
	}
	return s, true
}

// keep files a value by class, within maxRawScan bytes overall.
func (w *rawWalker) keep(key, v string, class int) {
	if w.plain.Len()+w.idText.Len()+w.refText.Len()+len(v) > maxRawScan {
		return
	}
	lv := strings.ToLower(v)
	switch class {
	case classID:
		w.idText.WriteString(lv)
		w.idText.WriteByte('\n')
	case classRef:
		w.refText.WriteString(lv)
		w.refText.WriteByte('\n')
	default:
		parent := ""
		if top := w.top(); top != nil {
			parent = top.name
		}
		w.values = append(w.values, keyValue{key, parent, lv})
		w.plain.WriteString(lv)
		w.plain.WriteByte('\n')
	}
}

// containerClass is the class an object opened under a field of class c
// gives its members: an id or fingerprint object holds ids throughout,
// anything else is judged member by member.
func containerClass(c int) int {
	if c == classID {
		return classID
	}
	return classPlain
}

// keyClass classifies a normalised key.
func keyClass(k string) int {
	switch {
	case slices.Contains(hashKeys, k) || slices.Contains(notIDKeys, k):
		return classPlain
	case slices.Contains(refKeys, k) || strings.HasSuffix(k, "link") || strings.HasSuffix(k, "weburl") ||
		strings.HasSuffix(k, "reference") || strings.HasSuffix(k, "references") || strings.HasPrefix(k, "runbook"):
		return classRef
	case slices.Contains(idKeys, k) || strings.HasSuffix(k, "id") || strings.HasSuffix(k, "uid") || strings.HasSuffix(k, "uuid") ||
		strings.HasSuffix(k, "guid") || strings.HasSuffix(k, "ids") || strings.HasSuffix(k, "idstring") || strings.Contains(k, "version") ||
		strings.HasSuffix(k, "fingerprint"):
		return classID
	}
	return classPlain
}
