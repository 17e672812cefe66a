package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/jsonscan"
)

// A REST body is gqlgen's encoded result restructured: a connection becomes
// {items, next_cursor, total[, total_is_estimate]}, a plain list {items,
// next_cursor: null, total}, a merged payload field's members join their
// parent's, and enum values are lower-cased. The result is rewritten as it
// is scanned, and whatever the shape leaves alone is copied byte for byte:
// decoding it into maps and encoding those again would cost about as much
// as the rest of REST's work on a page of 50 alerts.

var errMalformed = errors.New("rest: GraphQL result is not the JSON its shape expects")

// project writes the REST body of c's result to out. data is gqlgen's
// response data, {"result": …}.
func project(out *bytes.Buffer, data []byte, c *compiled) error {
	if !json.Valid(data) {
		return errMalformed
	}
	if !utf8.Valid(data) {
		data = replaceInvalidUTF8(data)
	}
	s := jsonscan.New(data)
	found := false
	err := s.Object(func(key, _ []byte) error {
		if string(key) != "result" {
			_, err := s.Skip()
			return err
		}
		found = true
		switch {
		case c.list:
			return projectConnection(out, s, c.shape.fields[0].shape)
		case c.array:
			return projectArray(out, s, c.shape)
		case c.Merge != "":
			return projectMerged(out, s, c.shape, c.Merge)
		default:
			return projectValue(out, s, c.shape)
		}
	})
	if err == nil && !found {
		err = errMalformed
	}
	return err
}

// replaceInvalidUTF8 writes U+FFFD for each byte that is not UTF-8, as
// encoding/json does when it encodes such a string.
func replaceInvalidUTF8(data []byte) []byte {
	out := make([]byte, 0, len(data)+16)
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, data[:size]...)
		}
		data = data[size:]
	}
	return out
}

// projectValue copies one value, lower-casing the enums sh marks.
func projectValue(out *bytes.Buffer, s *jsonscan.Scanner, sh *shape) error {
	switch s.Peek() {
	case '{':
		if len(sh.fields) == 0 {
			return copyValue(out, s)
		}
		out.WriteByte('{')
		next := 0 // gqlgen writes fields in selection order, which is sh.fields'
		err := s.Object(func(key, rawKey []byte) error {
			if out.Bytes()[out.Len()-1] != '{' {
				out.WriteByte(',')
			}
			out.Write(rawKey)
			out.WriteByte(':')
			var f *field
			f, next = sh.field(key, next)
			if f == nil {
				return copyValue(out, s)
			}
			return projectValue(out, s, f.shape)
		})
		out.WriteByte('}')
		return err
	case '[':
		out.WriteByte('[')
		err := s.Array(func() error {
			if out.Bytes()[out.Len()-1] != '[' {
				out.WriteByte(',')
			}
			return projectValue(out, s, sh)
		})
		out.WriteByte(']')
		return err
	case '"':
		raw, err := s.Str()
		if err != nil || !sh.enum {
			out.Write(raw)
			return err
		}
		if b, ok := sh.enumJSON[string(raw)]; ok {
			out.Write(b)
			return nil
		}
		v, err := jsonscan.Unquote(raw)
		if err != nil {
			return err
		}
		return writeString(out, enum.StoredNameIn(sh.typeName, v))
	default:
		return copyValue(out, s)
	}
}

// projectConnection writes a connection as {items, next_cursor, total}, and
// total_is_estimate when the connection says whether its total is one.
// Members the result lacks get what an empty connection has.
func projectConnection(out *bytes.Buffer, s *jsonscan.Scanner, item *shape) error {
	if s.Peek() != '{' {
		_, err := s.Skip()
		out.WriteString(`{"items":[],"next_cursor":null,"total":null}`)
		return err
	}
	var wrote struct{ items, cursor, total bool }
	member := func(key string) {
		if out.Bytes()[out.Len()-1] != '{' {
			out.WriteByte(',')
		}
		out.WriteString(`"` + key + `":`)
	}
	out.WriteByte('{')
	err := s.Object(func(key, _ []byte) error {
		switch string(key) {
		case "totalCount":
			member("total")
			wrote.total = true
			return copyValue(out, s)
		case estimateField:
			member("total_is_estimate")
			return copyValue(out, s)
		case "pageInfo":
			member("next_cursor")
			wrote.cursor = true
			return projectNextCursor(out, s)
		case "edges":
			member("items")
			wrote.items = true
			return projectEdges(out, s, item)
		default:
			_, err := s.Skip()
			return err
		}
	})
	if !wrote.items {
		member("items")
		out.WriteString("[]")
	}
	if !wrote.cursor {
		member("next_cursor")
		out.WriteString("null")
	}
	if !wrote.total {
		member("total")
		out.WriteString("null")
	}
	out.WriteByte('}')
	return err
}

// projectNextCursor writes pageInfo's endCursor when there is a next page,
// else null.
func projectNextCursor(out *bytes.Buffer, s *jsonscan.Scanner) error {
	var cursor []byte
	hasNext := false
	if s.Peek() != '{' {
		_, err := s.Skip()
		out.WriteString("null")
		return err
	}
	err := s.Object(func(key, _ []byte) error {
		raw, err := s.Skip()
		switch string(key) {
		case "hasNextPage":
			hasNext = string(raw) == "true"
		case "endCursor":
			cursor = raw
		}
		return err
	})
	if hasNext && cursor != nil {
		out.Write(cursor)
	} else {
		out.WriteString("null")
	}
	return err
}

// projectEdges writes the nodes of a connection's edges as a list; a null
// edge is left out, an edge without a node is a null item.
func projectEdges(out *bytes.Buffer, s *jsonscan.Scanner, item *shape) error {
	out.WriteByte('[')
	defer out.WriteByte(']')
	if s.Peek() != '[' {
		_, err := s.Skip()
		return err
	}
	return s.Array(func() error {
		if s.Peek() != '{' {
			_, err := s.Skip()
			return err
		}
		if out.Bytes()[out.Len()-1] != '[' {
			out.WriteByte(',')
		}
		node := false
		err := s.Object(func(key, _ []byte) error {
			if string(key) != "node" {
				_, err := s.Skip()
				return err
			}
			node = true
			return projectValue(out, s, item)
		})
		if !node {
			out.WriteString("null")
		}
		return err
	})
}

// projectArray writes a plain GraphQL list in the list envelope.
func projectArray(out *bytes.Buffer, s *jsonscan.Scanner, sh *shape) error {
	out.WriteString(`{"items":[`)
	n := 0
	var err error
	if s.Peek() == '[' {
		err = s.Array(func() error {
			if n++; n > 1 {
				out.WriteByte(',')
			}
			return projectValue(out, s, sh)
		})
	} else {
		_, err = s.Skip()
	}
	out.WriteString(`],"next_cursor":null,"total":`)
	out.Write(strconv.AppendInt(nil, int64(n), 10))
	out.WriteByte('}')
	return err
}

// projectMerged writes an object with the members of its field merge
// inlined: the created token or connector beside its one-time secret. A
// member of the inlined object wins over its parent's of the same name.
func projectMerged(out *bytes.Buffer, s *jsonscan.Scanner, sh *shape, merge string) error {
	if s.Peek() != '{' {
		return projectValue(out, s, sh)
	}
	var outer, inner []member
	err := s.Object(func(key, rawKey []byte) error {
		if string(key) != merge {
			return collectMember(&outer, s, sh, key, rawKey)
		}
		f, _ := sh.field(key, 0)
		if f == nil || s.Peek() != '{' {
			_, err := s.Skip()
			return err
		}
		return s.Object(func(key, rawKey []byte) error {
			return collectMember(&inner, s, f.shape, key, rawKey)
		})
	})
	if err != nil {
		return err
	}
	out.WriteByte('{')
	for _, m := range outer {
		if !slices.ContainsFunc(inner, func(i member) bool { return i.key == m.key }) {
			m.writeTo(out)
		}
	}
	for _, m := range inner {
		m.writeTo(out)
	}
	out.WriteByte('}')
	return nil
}

// member is an object member already projected, held until its object's
// other members are known.
type member struct {
	key           string
	rawKey, value []byte
}

func collectMember(into *[]member, s *jsonscan.Scanner, sh *shape, key, rawKey []byte) error {
	var v bytes.Buffer
	f, _ := sh.field(key, 0)
	var err error
	if f == nil {
		err = copyValue(&v, s)
	} else {
		err = projectValue(&v, s, f.shape)
	}
	*into = append(*into, member{key: string(key), rawKey: rawKey, value: v.Bytes()})
	return err
}

func (m member) writeTo(out *bytes.Buffer) {
	if out.Bytes()[out.Len()-1] != '{' {
		out.WriteByte(',')
	}
	out.Write(m.rawKey)
	out.WriteByte(':')
	out.Write(m.value)
}
