package ingest

import (
	"encoding/hex"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/catalogue"
)

var (
	connA = uuid.MustParse("0190a8d2-7a3c-7c1e-9d7e-3f2b1a0c9e01")
	connB = uuid.MustParse("0190a8d2-7a3c-7c1e-9d7e-3f2b1a0c9e02")
)

func sampleAlert() catalogue.Alert {
	return catalogue.Alert{
		Source: "generic", Title: "Port scan", ExternalID: "42", Severity: enum.SeverityLow,
		Attributes: map[string]string{"host": "fw-1", "src_ip": "10.0.0.9"},
	}
}

func TestFingerprint(t *testing.T) {
	fields := []string{"source", "title", "external_id", "host"}
	base := sampleAlert()
	want := fingerprint(connA, fields, &base)
	if len(want) != 16 {
		t.Fatalf("fingerprint %q is not 16 characters", want)
	}
	if _, err := hex.DecodeString(want); err != nil {
		t.Fatalf("fingerprint %q is not hex", want)
	}
	tests := []struct {
		name   string
		conn   uuid.UUID
		fields []string
		change func(a *catalogue.Alert)
		same   bool
	}{
		{name: "identical", conn: connA, fields: fields, change: func(*catalogue.Alert) {}, same: true},
		{name: "field outside the dedup fields", conn: connA, fields: fields, change: func(a *catalogue.Alert) { a.Severity = enum.SeverityCritical; a.Attributes["src_ip"] = "10.9.9.9" }, same: true},
		{name: "other connector", conn: connB, fields: fields, change: func(*catalogue.Alert) {}},
		{name: "other title", conn: connA, fields: fields, change: func(a *catalogue.Alert) { a.Title = "Port scans" }},
		{name: "other host", conn: connA, fields: fields, change: func(a *catalogue.Alert) { a.Attributes["host"] = "fw-2" }},
		{name: "host removed", conn: connA, fields: fields, change: func(a *catalogue.Alert) { delete(a.Attributes, "host") }},
		{name: "severity as a dedup field", conn: connA, fields: append(fields[:3:3], "severity"), change: func(*catalogue.Alert) {}},
		{name: "fields renamed, values alike", conn: connA, fields: []string{"source", "title", "external_id", "user"},
			change: func(a *catalogue.Alert) { a.Attributes["user"] = a.Attributes["host"] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sampleAlert()
			tt.change(&a)
			got := fingerprint(tt.conn, tt.fields, &a)
			if (got == want) != tt.same {
				t.Errorf("fingerprint %s vs %s: same = %v, want %v", got, want, got == want, tt.same)
			}
		})
	}
}

// Moving the boundary between two dedup values keeps their concatenation
// but must change the fingerprint: separators in values cannot forge a
// collision.
func FuzzFingerprint(f *testing.F) {
	f.Add("a|b", "c", uint(1))
	f.Add("a", "b|c", uint(2))
	f.Add("x\x00", "\x00y", uint(3))
	f.Add("\x01\x02", "", uint(1))
	f.Add("", "", uint(0))
	fields := []string{"host", "user"}
	f.Fuzz(func(t *testing.T, host, user string, cut uint) {
		joined := host + user
		cut %= uint(len(joined) + 1)
		a := catalogue.Alert{Attributes: map[string]string{"host": host, "user": user}}
		b := catalogue.Alert{Attributes: map[string]string{"host": joined[:cut], "user": joined[cut:]}}
		fa, fb := fingerprint(connA, fields, &a), fingerprint(connA, fields, &b)
		if len(fa) != 16 || len(fb) != 16 {
			t.Fatalf("fingerprints %q %q are not 16 characters", fa, fb)
		}
		if sameTuple := host == joined[:cut]; (fa == fb) != sameTuple {
			t.Errorf("(%q,%q) → %s and (%q,%q) → %s", host, user, fa, joined[:cut], joined[cut:], fb)
		}
		// Swapping which field holds which value is a different tuple too.
		if host != user {
			c := catalogue.Alert{Attributes: map[string]string{"host": user, "user": host}}
			if fingerprint(connA, fields, &c) == fa {
				t.Errorf("swapping %q and %q does not change the fingerprint", host, user)
			}
		}
	})
}
