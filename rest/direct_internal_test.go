package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
)

// TestDirectListFallsBack: a page holding a value gqlgen answers with an
// error (a zero time or id in a non-null field) or that the projection
// refuses (a stored raw payload that is not JSON) is handed back to gqlgen
// untouched and nothing is written; any other page is written, and gqlgen
// gets an empty connection to write instead.
func TestDirectListFallsBack(t *testing.T) {
	d := compiledRoute(t, "GET", "/api/v1/alerts").direct
	if d == nil {
		t.Fatal("the alert list is not direct")
	}
	now := time.Now()
	good := func() *ent.Alert {
		return &ent.Alert{ID: uuid.New(), OrganizationID: uuid.New(), CreatedAt: now, UpdatedAt: now, FirstSeenAt: now,
			LastSeenAt: now, IngestedAt: now, Severity: enum.SeverityHigh, Status: enum.AlertStatusNew, Raw: json.RawMessage(`{"a":1}`)}
	}
	tests := []struct {
		name     string
		change   func(*ent.Alert)
		full     bool
		indirect bool
	}{
		{name: "plain", change: func(*ent.Alert) {}},
		{name: "plain with raw", change: func(*ent.Alert) {}, full: true},
		{name: "zero created_at", change: func(a *ent.Alert) { a.CreatedAt = time.Time{} }, indirect: true},
		{name: "nil id", change: func(a *ent.Alert) { a.ID = uuid.Nil }, indirect: true},
		{name: "raw not JSON, asked for", change: func(a *ent.Alert) { a.Raw = json.RawMessage(`{`) }, full: true, indirect: true},
		{name: "raw not JSON, not asked for", change: func(a *ent.Alert) { a.Raw = json.RawMessage(`{`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := good()
			tt.change(a)
			conn := &ent.AlertConnection{TotalCount: 1, Edges: []*ent.AlertEdge{{Node: a}}}
			var out bytes.Buffer
			res, err := d.capture(&out, tt.full)(context.Background(), conn)
			if err != nil {
				t.Fatal(err)
			}
			if tt.indirect {
				if res != conn || out.Len() != 0 {
					t.Fatalf("page not handed back: result %p (want %p), %d bytes written", res, conn, out.Len())
				}
				return
			}
			empty, ok := res.(*ent.AlertConnection)
			if !ok || empty == conn || len(empty.Edges) != 0 || !json.Valid(out.Bytes()) {
				t.Fatalf("page not written: result %#v, body %s", res, out.Bytes())
			}
			if got := bytes.Contains(out.Bytes(), []byte(`"raw":{"a":1}`)); got != tt.full {
				t.Fatalf("raw written: %v, want %v: %s", got, tt.full, out.Bytes())
			}
		})
	}
}

// FuzzDirectScalars: the direct list writes strings, times and ids with
// the bytes gqlgen's marshallers write for them, whatever the string
// (control characters, quotes, invalid UTF-8) or the time's zone.
func FuzzDirectScalars(f *testing.F) {
	f.Add("plain", int64(0), int64(0), []byte("0123456789abcdef"))
	f.Add("tab\t\"q\"\\ \x01\x1f <>& é \u2028 \xff\xfe 😀", int64(1733550000), int64(123456789), []byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Fuzz(func(t *testing.T, s string, sec, nsec int64, id []byte) {
		var got, want bytes.Buffer
		writeQuoted(&got, s)
		graphql.MarshalString(s).MarshalGQL(&want)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("string %q: wrote %s, gqlgen %s", s, got.Bytes(), want.Bytes())
		}
		tm := time.Unix(sec%(1<<40), nsec).In(time.FixedZone("z", int(sec%50000)))
		got.Reset()
		want.Reset()
		appendTime(&got, tm)
		graphql.MarshalTime(tm).MarshalGQL(&want)
		if !tm.IsZero() && !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("time %v: wrote %s, gqlgen %s", tm, got.Bytes(), want.Bytes())
		}
		var u uuid.UUID
		copy(u[:], id)
		got.Reset()
		want.Reset()
		appendUUID(&got, u)
		graphql.MarshalUUID(u).MarshalGQL(&want)
		if u != uuid.Nil && !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("id %v: wrote %s, gqlgen %s", u, got.Bytes(), want.Bytes())
		}
	})
}

// FuzzNeedsHTMLEscape: a body needsHTMLEscape passes is one json.HTMLEscape
// leaves as it is, so writeJSONBody may send it unescaped.
func FuzzNeedsHTMLEscape(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":"<b>"}`, `"&"`, "\"\u2028\"", "\"\u2029\"", "\"\u20ac\"", "\xe2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		json.HTMLEscape(&out, b)
		if changed := !bytes.Equal(out.Bytes(), b); changed && !needsHTMLEscape(b) {
			t.Fatalf("HTMLEscape changes %q, needsHTMLEscape says it would not", b)
		}
	})
}
