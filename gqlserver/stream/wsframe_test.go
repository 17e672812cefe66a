package stream

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// FuzzDecodeMessage: any client frame either decodes to a message with a
// type or is refused, never panics; what decodes re-encodes, through the
// server's own envelope, as valid JSON carrying the same id and type.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"connection_init","payload":{"Authorization":"Bearer x"}}`,
		`{"id":"1","type":"subscribe","payload":{"query":"{ me { email } }"}}`,
		`{"id":"é\"<>&\u0000","type":"complete"}`,
		`{"type":"ping","payload":null}`,
		`{"type":"pong"}`, `{"type":""}`, `{"type":1}`, `[]`, `null`, `{"type":"start"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil {
			return
		}
		if m.Type == "" {
			t.Fatal("decoded a message without a type")
		}
		frame := appendFrame(nil, m.ID, "next", m.Payload)
		if len(m.Payload) == 0 {
			frame = appendFrame(nil, m.ID, "next", nil)
		}
		var back wireMessage
		if err := json.Unmarshal(frame, &back); err != nil {
			t.Fatalf("frame %q: %v", frame, err)
		}
		if back.ID != m.ID || back.Type != "next" {
			t.Fatalf("frame %q: id %q type %q, want %q next", frame, back.ID, back.Type, m.ID)
		}
	})
}

// TestAppendResponse: the envelope is what encoding/json makes of the
// response, field for field.
func TestAppendResponse(t *testing.T) {
	yes := true
	for _, r := range []*graphql.Response{
		{Data: json.RawMessage(`{"a":1}`)},
		{},
		{Errors: gqlerror.List{{Message: "boom", Extensions: map[string]any{"code": "X"}}}},
		{Data: json.RawMessage(`{"a":[1,2]}`), Label: "l", HasNext: &yes, Extensions: map[string]any{"k": "v"}},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendResponse(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("appendResponse = %s, want %s", got, want)
		}
	}
}
