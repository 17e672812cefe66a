// Package jsonscan walks JSON text in place, without decoding it into Go
// values: REST rewrites GraphQL results as it walks them, and the alert
// rows' JSON columns are read without reflection. Str, Object and Array
// check the structure they walk and fail with ErrMalformed; Skip trusts
// its input to be valid JSON (json.Valid) and only finds a value's end.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
)

// ErrMalformed is a walk's error where the JSON is not what it expects.
var ErrMalformed = errors.New("jsonscan: JSON not of the expected structure")

// Scanner reads one JSON text from the start.
type Scanner struct {
	b []byte
	i int
}

// New returns a scanner of b.
func New(b []byte) *Scanner { return &Scanner{b: b} }

func (s *Scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Peek returns the next value's first byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// Consume skips space and then c; false if c is not next.
func (s *Scanner) Consume(c byte) bool {
	if s.Peek() == c {
		s.i++
		return true
	}
	return false
}

// End reports whether only space is left.
func (s *Scanner) End() bool {
	s.ws()
	return s.i == len(s.b)
}

// Str consumes a string and returns it as written, quotes included.
func (s *Scanner) Str() ([]byte, error) {
	raw, _, err := s.str()
	return raw, err
}

// str is Str, reporting also whether the string holds an escape.
func (s *Scanner) str() (raw []byte, escaped bool, err error) {
	if s.Peek() != '"' {
		return nil, false, ErrMalformed
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i++
		case '"':
			s.i++
			return s.b[start:s.i], escaped, nil
		}
	}
	return nil, false, ErrMalformed
}

// Text consumes a string written without escapes or control characters,
// whose text between the quotes is therefore its value (when valid UTF-8,
// which is the caller's to check), and returns that text; it fails on any
// other value, at the first byte that makes it one.
func (s *Scanner) Text() ([]byte, error) {
	if s.Peek() != '"' {
		return nil, ErrMalformed
	}
	start := s.i + 1
	for s.i = start; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], nil
		case c == '\\' || c < 0x20:
			return nil, ErrMalformed
		}
	}
	return nil, ErrMalformed
}

// Skip consumes one value and returns it as written.
func (s *Scanner) Skip() ([]byte, error) {
	switch s.Peek() {
	case 0:
		return nil, ErrMalformed
	case '"':
		return s.Str()
	case '{', '[':
		start, depth := s.i, 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, err := s.Str(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					s.i++
					return s.b[start:s.i], nil
				}
			}
			s.i++
		}
		return nil, ErrMalformed
	default: // a number, true, false or null
		start := s.i
		for s.i < len(s.b) && !endsLiteral(s.b[s.i]) {
			s.i++
		}
		return s.b[start:s.i], nil
	}
}

func endsLiteral(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// Object consumes an object, calling member with each key (decoded, and as
// written) when the scanner is at its value; member must consume the value.
// The decoded key is a view of the input unless it holds escapes: a page
// of alerts has thousands of keys, and a string of each would be copied.
func (s *Scanner) Object(member func(key, rawKey []byte) error) error {
	if !s.Consume('{') {
		return ErrMalformed
	}
	if s.Consume('}') {
		return nil
	}
	for {
		rawKey, escaped, err := s.str()
		if err != nil {
			return err
		}
		key := rawKey[1 : len(rawKey)-1]
		if escaped {
			v, err := Unquote(rawKey)
			if err != nil {
				return err
			}
			key = []byte(v)
		}
		if !s.Consume(':') {
			return ErrMalformed
		}
		if err := member(key, rawKey); err != nil {
			return err
		}
		if s.Consume(',') {
			continue
		}
		if s.Consume('}') {
			return nil
		}
		return ErrMalformed
	}
}

// Array consumes an array, calling elem at each element, which elem must
// consume.
func (s *Scanner) Array(elem func() error) error {
	if !s.Consume('[') {
		return ErrMalformed
	}
	if s.Consume(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if s.Consume(',') {
			continue
		}
		if s.Consume(']') {
			return nil
		}
		return ErrMalformed
	}
}

// Unquote decodes a string as written; only one with escapes needs the
// decoder.
func Unquote(raw []byte) (string, error) {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}
