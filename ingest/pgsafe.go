package ingest

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/seliq/seliq/internal/textfield"
)

// PostgreSQL refuses some values Go's encoding/json lets through: NUL in
// text, invalid UTF-8 anywhere, and in jsonb the escape \u0000 and unpaired
// surrogate escapes. A sender must not be able to turn such a payload into a
// failed transaction (a 500), so on PostgreSQL each offending character
// becomes U+FFFD: text by textfield.Sanitize's rule, JSON documents by
// pgJSON, its counterpart for jsonb escapes. SQLite stores them as sent.

// replacement is textfield.Replacement as bytes.
var replacement = []byte(textfield.Replacement)

// pgJSON returns the valid JSON document b as PostgreSQL jsonb accepts it;
// b itself when nothing needs replacing.
func pgJSON(b []byte) []byte {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, replacement)
	}
	var out []byte // nil until the first replacement
	last := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		r, ok := unicodeEscape(b, i)
		if !ok {
			i++ // a two-character escape such as \" or \\
			continue
		}
		if r >= 0xD800 && r <= 0xDBFF {
			if lo, ok := unicodeEscape(b, i+6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 11 // a valid surrogate pair
				continue
			}
		}
		if r == 0 || (r >= 0xD800 && r <= 0xDFFF) {
			out = append(out, b[last:i]...)
			out = append(out, `\ufffd`...)
			last = i + 6
		}
		i += 5
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// unicodeEscape decodes the \uXXXX escape starting at b[i], if there is one.
func unicodeEscape(b []byte, i int) (rune, bool) {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
	return rune(v), err == nil
}
