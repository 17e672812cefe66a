package stream

import (
	"encoding/json"
	"errors"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// wireMessage is a client's message on either subprotocol. The payload is
// kept raw: its shape depends on the type.
type wireMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

var errNoType = errors.New("message has no type")

// decodeMessage reads one client frame: a JSON object with a type.
func decodeMessage(data []byte) (wireMessage, error) {
	var m wireMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return wireMessage{}, err
	}
	if m.Type == "" {
		return wireMessage{}, errNoType
	}
	return m, nil
}

// frames recycles the buffers outgoing frames are built in; a buffer that
// grew past maxPooledFrame (a large query result) is left to the GC.
var frames = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledFrame = 64 << 10

func getFrame() *[]byte { return frames.Get().(*[]byte) }

func putFrame(b *[]byte) {
	if cap(*b) > maxPooledFrame {
		return
	}
	*b = (*b)[:0]
	frames.Put(b)
}

// appendFrame appends the envelope {"id":…,"type":…,"payload":…} around an
// already-encoded payload (nil: none).
func appendFrame(b []byte, id, typ string, payload []byte) []byte {
	b = append(b, '{')
	if id != "" {
		b = append(b, `"id":`...)
		b = appendString(b, id)
		b = append(b, ',')
	}
	b = append(b, `"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if payload != nil {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string: verbatim between quotes when it
// needs no escaping (ids are short ASCII tokens), else as encoding/json
// writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendResponse appends r as encoding/json would, but copies the data,
// which the executor has already encoded, instead of re-compacting it.
func appendResponse(b []byte, r *graphql.Response) ([]byte, error) {
	b = append(b, '{')
	if len(r.Errors) > 0 {
		var err error
		if b, err = appendField(b, "errors", r.Errors); err != nil {
			return nil, err
		}
		b = append(b, ',')
	}
	b = append(b, `"data":`...)
	if len(r.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, r.Data...)
	}
	var err error
	if r.Label != "" {
		b, err = appendField(append(b, ','), "label", r.Label)
	}
	if err == nil && len(r.Path) > 0 {
		b, err = appendField(append(b, ','), "path", r.Path)
	}
	if err == nil && r.HasNext != nil {
		b, err = appendField(append(b, ','), "hasNext", *r.HasNext)
	}
	if err == nil && len(r.Extensions) > 0 {
		b, err = appendField(append(b, ','), "extensions", r.Extensions)
	}
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendField(b []byte, name string, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return append(b, raw...), nil
}
