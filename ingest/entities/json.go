package entities

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// maxJSONWalk bounds the raw bytes of a document that are walked.
	maxJSONWalk = 16 << 20
	// maxJSONDepth bounds the container stack; strings nested deeper are
	// skipped.
	maxJSONDepth = 512
)

// Key classes of a JSON member.
const (
	kNone    uint8 = iota
	kUser          // the string value is a user name ("user", "TargetUserName", "user.name")
	kHost          // the string value is a host name ("host", "hostname", "ComputerName")
	kUserObj       // the object value describes a user: its "name" is a user name
	kHostObj       // the object value describes a host: its "name"/"hostname" is a host name
	kSkip          // the string value is a fingerprint ("imphash", "ja3"): not scanned
)

var jsonHostKeys = map[string]bool{
	"host": true, "hostname": true, "host_name": true, "host.name": true, "host.hostname": true,
	"computer": true, "computername": true, "computer_name": true, "devicename": true, "device_name": true,
	"dvchost": true, "shost": true, "dhost": true, "src_host": true, "dst_host": true,
	"workstation": true, "workstationname": true, "workstation_name": true, "machinename": true,
}

// ExtractJSON walks a raw JSON document of any shape and extracts entities
// from every string value (keys themselves are not scanned), with the rules
// of Extract. A string under a user key ("user", "TargetUserName",
// {"user": {"name": ...}}) is a user and one under a host key ("host",
// "hostname", "ComputerName", {"host": {"name": ...}}) a hostname, as if
// the mapper had given them as hints, but in document order.
//
// Work is bounded: scanning stops after 1 MiB of string values (16 MiB of
// raw document), containers nested deeper than 512 are skipped, and a
// malformed document yields what was found before the damage.
func ExtractJSON(raw []byte) []Entity {
	w := jsonWalker{raw: raw}
	if len(w.raw) > maxJSONWalk {
		w.raw = w.raw[:maxJSONWalk]
	}
	w.buf.Grow(min(len(w.raw), maxScanBytes))
	w.walk()
	c := newCollector()
	text := w.buf.String()
	if text != "" {
		c.scanText(text, 0)
	}
	for _, kv := range w.keyed {
		switch kv.cls {
		case kUser:
			c.addUser(kv.pos, kv.val)
		case kHost:
			c.addHostname(kv.pos, kv.val)
		}
	}
	return c.result()
}

// addHostname adds a value known to name a host: an IP entity for an
// address, a Hostname otherwise.
func (c *collector) addHostname(pos int, v string) {
	v = strings.TrimSpace(v)
	if a, ok := parseIPLoose(v); ok {
		c.addAddr(pos, a)
		return
	}
	v = strings.TrimSuffix(v, ".")
	if validHostname(v) && !strings.EqualFold(v, "localhost") {
		c.add(pos, Hostname, asciiLower(v))
	}
}

type keyedString struct {
	pos int
	cls uint8
	val string
}

type jsonFrame struct {
	obj       bool
	cls       uint8 // class of this container (kUserObj, kHostObj or kNone)
	key       uint8 // class of the current member's value if it is a string
	keyObj    uint8 // class of the current member's value if it is an object
	expectKey bool
}

type jsonWalker struct {
	raw     []byte
	stack   []jsonFrame
	deep    int // containers opened beyond maxJSONDepth
	buf     strings.Builder
	keyed   []keyedString
	scratch []byte
}

func (w *jsonWalker) top() *jsonFrame {
	if len(w.stack) == 0 {
		return nil
	}
	return &w.stack[len(w.stack)-1]
}

func (w *jsonWalker) walk() {
	raw := w.raw
	for i := 0; i < len(raw); {
		switch raw[i] {
		case '{', '[':
			cls := kNone
			if t := w.top(); t != nil && t.obj && raw[i] == '{' {
				cls = t.keyObj
			}
			if w.deep > 0 || len(w.stack) >= maxJSONDepth {
				w.deep++
			} else {
				w.stack = append(w.stack, jsonFrame{obj: raw[i] == '{', cls: cls, expectKey: raw[i] == '{'})
			}
			i++
		case '}', ']':
			if w.deep > 0 {
				w.deep--
			} else if len(w.stack) > 0 {
				w.stack = w.stack[:len(w.stack)-1]
			}
			i++
		case ',':
			if t := w.top(); t != nil && t.obj && w.deep == 0 {
				t.expectKey = true
				t.key, t.keyObj = kNone, kNone
			}
			i++
		case ':':
			if t := w.top(); t != nil && t.obj && w.deep == 0 {
				t.expectKey = false
			}
			i++
		case '"':
			s, next, ok := w.str(i + 1)
			i = next
			if w.deep > 0 {
				continue
			}
			t := w.top()
			if t != nil && t.obj && t.expectKey {
				t.key, t.keyObj = classifyKey(s, t.cls)
				continue
			}
			if !w.value(s, t) || !ok {
				return
			}
		default:
			i++
		}
	}
}

// value appends a string value to the scanned text and records it when its
// key says what it is; it reports false once the budget is spent.
func (w *jsonWalker) value(s []byte, t *jsonFrame) bool {
	room := maxScanBytes - w.buf.Len()
	if room <= 0 {
		return false
	}
	if len(s) > room {
		s = s[:room]
	}
	if t != nil && t.obj && t.key == kSkip {
		return true
	}
	pos := w.buf.Len()
	if t != nil && t.obj && (t.key == kUser || t.key == kHost) && len(s) <= 256 {
		w.keyed = append(w.keyed, keyedString{pos, t.key, string(s)})
	}
	w.buf.Write(s)
	w.buf.WriteByte('\n')
	return w.buf.Len() < maxScanBytes
}

// classifyKey returns the classes of a member's value, as a string and as
// an object, from its key and the class of the enclosing object.
func classifyKey(k []byte, parent uint8) (leaf, obj uint8) {
	var b [64]byte
	lk := foldWord(b[:], string(k))
	if lk == nil {
		return kNone, kNone
	}
	switch {
	case parent == kUserObj && string(lk) == "name":
		return kUser, kNone
	case parent == kHostObj && (string(lk) == "name" || string(lk) == "hostname"):
		return kHost, kNone
	case string(lk) == "host":
		return kHost, kHostObj
	case string(lk) == "user" || bytes.HasSuffix(lk, []byte(".user")):
		return kUser, kUserObj
	case isUserKey(lk):
		return kUser, kNone
	case jsonHostKeys[string(lk)]:
		return kHost, kNone
	case fingerprintKeys[string(lk)] || fingerprintKeys[string(lk[bytes.LastIndexByte(lk, '.')+1:])]:
		return kSkip, kNone
	}
	return kNone, kNone
}

// str decodes the JSON string whose body starts at raw[i]; it returns the
// string, the index after the closing quote and whether the string was
// terminated. The result aliases raw or a scratch buffer: it is valid until
// the next call.
func (w *jsonWalker) str(i int) ([]byte, int, bool) {
	raw := w.raw
	j := i
	for j < len(raw) && raw[j] != '"' && raw[j] != '\\' {
		j++
	}
	if j < len(raw) && raw[j] == '"' {
		return raw[i:j], j + 1, true
	}
	b := append(w.scratch[:0], raw[i:j]...)
	for j < len(raw) {
		st := j
		for j < len(raw) && raw[j] != '"' && raw[j] != '\\' {
			j++
		}
		b = append(b, raw[st:j]...)
		if j == len(raw) {
			break
		}
		if raw[j] == '"' {
			w.scratch = b
			return b, j + 1, true
		}
		if j+1 >= len(raw) {
			break
		}
		e := raw[j+1]
		j += 2
		switch e {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'b', 'f':
			b = append(b, ' ')
		case 'u':
			r, n := decodeU(raw[j:])
			j += n
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/' and invalid escapes
			b = append(b, e)
		}
	}
	w.scratch = b
	return b, len(raw), false
}

// decodeU decodes the hex digits after "\u" (and a following low surrogate
// escape); it returns the rune and the bytes consumed.
func decodeU(p []byte) (rune, int) {
	r1, ok := hex4(p)
	if !ok {
		return utf8.RuneError, 0
	}
	if utf16.IsSurrogate(r1) {
		if len(p) >= 10 && p[4] == '\\' && p[5] == 'u' {
			if r2, ok := hex4(p[6:]); ok {
				if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
					return r, 10
				}
			}
		}
		return utf8.RuneError, 4
	}
	return r1, 4
}

func hex4(p []byte) (rune, bool) {
	if len(p) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p[:4]), 16, 32)
	return rune(v), err == nil
}
