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
	rawText, verdicts := readRaw(a.Raw)
	parts = append(parts, rawText...)
	f.verdicts = verdicts
	f.decoded = decodePowerShell(parts)
	if f.decoded != "" {
		parts = append(parts, f.decoded)
		f.hidden = entities.Extract(nil, f.decoded)
	}
	f.text = strings.ToLower(strings.Join(parts, "\n"))
	f.decoded = clip(f.decoded, maxDecodedShown)
	return f
}

// readRaw walks the vendor payload and returns the values of the text
// fields (textKeys) and the verdict fields (verdictKeys). Nested keys are
// matched by their last component; arrays take the key of their field.
// Malformed or truncated JSON yields what was read before the error.
func readRaw(raw json.RawMessage) (text, verdicts []string) {
	if len(raw) == 0 {
		return nil, nil
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
	return w.text, w.verdicts
}

type rawFrame struct {
	object  bool
	wantKey bool
	key     string
}

type rawWalker struct {
	stack    []rawFrame
	text     []string
	textLen  int
	verdicts []string
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
		switch v {
		case '{':
			w.stack = append(w.stack, rawFrame{object: true, wantKey: true})
		case '[':
			w.stack = append(w.stack, rawFrame{key: key})
		default:
			w.stack = w.stack[:len(w.stack)-1]
			w.valueDone()
		}
	case string:
		w.field(key, v)
		w.valueDone()
	default:
		w.valueDone()
	}
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

func (w *rawWalker) field(key, v string) {
	if v == "" || key == "" {
		return
	}
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
