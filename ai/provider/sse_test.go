package provider

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func readAllSSE(r io.Reader) ([]sseEvent, error) {
	sr := newSSEReader(r)
	var out []sseEvent
	for {
		ev, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []sseEvent
	}{
		{"data only", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []sseEvent{{Data: `{"a":1}`}, {Data: "[DONE]"}}},
		{"named event", "event: ping\ndata: {\"type\": \"ping\"}\n\n", []sseEvent{{Event: "ping", Data: `{"type": "ping"}`}}},
		{"CRLF endings", "event: x\r\ndata: 1\r\n\r\n", []sseEvent{{Event: "x", Data: "1"}}},
		{"CR endings", "data: 1\r\rdata: 2\r\r", []sseEvent{{Data: "1"}, {Data: "2"}}},
		{"multi-line data", "data: a\ndata: b\n\n", []sseEvent{{Data: "a\nb"}}},
		{"comments and unknown fields", ": keep-alive\nid: 7\nretry: 100\ndata: x\n\n", []sseEvent{{Data: "x"}}},
		{"no space after colon, one space stripped", "data:x\n\ndata:  y\n\n", []sseEvent{{Data: "x"}, {Data: " y"}}},
		{"field without colon", "data\n\n", []sseEvent{{Data: ""}}},
		{"event without data is dropped", "event: a\n\ndata: b\n\n", []sseEvent{{Data: "b"}}},
		{"byte order mark", "\uFEFFdata: x\n\n", []sseEvent{{Data: "x"}}},
		{"unterminated last event discarded", "data: x\n\ndata: partial", []sseEvent{{Data: "x"}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllSSE(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSSELineTooLong(t *testing.T) {
	_, err := readAllSSE(strings.NewReader("data: " + strings.Repeat("x", maxSSELine+1) + "\n\n"))
	if err == nil {
		t.Fatal("oversized line accepted")
	}
}

// FuzzSSE checks the parser never panics and that how the bytes are split
// across reads (a CRLF straddling two reads) does not change the events.
func FuzzSSE(f *testing.F) {
	for _, seed := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n",
		"event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\"}\r\n\r\n",
		"data: a\rdata: b\r\r",
		": c\n\ndata\n\nevent:x\n",
		"\uFEFFdata: x\r",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, err1 := readAllSSE(strings.NewReader(string(in)))
		bytewise, err2 := readAllSSE(iotest.OneByteReader(strings.NewReader(string(in))))
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("split-dependent parse:\n whole %q %v\n bytes %q %v", whole, err1, bytewise, err2)
		}
		for _, ev := range whole {
			if strings.ContainsAny(ev.Event, "\r\n") || strings.Contains(ev.Data, "\r") {
				t.Fatalf("line ending leaked into %q", ev)
			}
		}
	})
}

// A long line trickling in byte by byte must not cost quadratic time.
func TestSSELongLineLinear(t *testing.T) {
	in := "data: " + strings.Repeat("x", 512<<10) + "\n\n"
	got, err := readAllSSE(iotest.OneByteReader(strings.NewReader(in)))
	if err != nil || len(got) != 1 || len(got[0].Data) != 512<<10 {
		t.Fatalf("got %d events, err %v", len(got), err)
	}
}
