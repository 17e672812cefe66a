package rest

import (
	"bytes"
	"encoding/json"
)

// scanner walks JSON that json.Valid has accepted, so it checks structure
// only as far as the walk needs it: what it reads is copied, not decoded.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next value's first byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// str consumes a string and returns it as written, quotes included.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, errMalformed
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return s.b[start:s.i], nil
		}
	}
	return nil, errMalformed
}

// skip consumes one value and returns it as written.
func (s *scanner) skip() ([]byte, error) {
	switch s.peek() {
	case 0:
		return nil, errMalformed
	case '"':
		return s.str()
	case '{', '[':
		start, depth := s.i, 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, err := s.str(); err != nil {
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
		return nil, errMalformed
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

func (s *scanner) copyValue(out *bytes.Buffer) error {
	raw, err := s.skip()
	out.Write(raw)
	return err
}

// object consumes an object, calling member with each key (decoded, and as
// written) when the scanner is at its value; member must consume the value.
// The decoded key is a view of the input unless it holds escapes: a page
// of alerts has thousands of keys, and a string of each would be copied.
func (s *scanner) object(member func(key, rawKey []byte) error) error {
	if !s.consume('{') {
		return errMalformed
	}
	if s.consume('}') {
		return nil
	}
	for {
		rawKey, err := s.str()
		if err != nil {
			return err
		}
		key, err := unquoteKey(rawKey)
		if err != nil {
			return err
		}
		if !s.consume(':') {
			return errMalformed
		}
		if err := member(key, rawKey); err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return nil
		}
		return errMalformed
	}
}

// array consumes an array, calling elem at each element, which elem must
// consume.
func (s *scanner) array(elem func() error) error {
	if !s.consume('[') {
		return errMalformed
	}
	if s.consume(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return nil
		}
		return errMalformed
	}
}

// unquote decodes a string as written; only one with escapes needs the
// decoder.
func unquote(raw []byte) (string, error) {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}

// unquoteKey is unquote without a copy for a string without escapes.
func unquoteKey(raw []byte) ([]byte, error) {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	v, err := unquote(raw)
	return []byte(v), err
}

// writeString writes v as a JSON string.
func writeString(out *bytes.Buffer, v string) error {
	b, err := json.Marshal(v)
	out.Write(b)
	return err
}
