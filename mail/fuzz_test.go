package mail

import (
	"regexp"
	"strings"
	"testing"
)

var (
	liveURL   = regexp.MustCompile(`(?i)(https?|ftp|file|javascript|data)\s*:\s*//|www\.`)
	liveLabel = regexp.MustCompile(`[\p{L}\p{N}]\.[\p{L}\p{N}]`)
)

// FuzzDefuse: whatever the outside text, the rendered message holds no
// working link, no dotted name and no markup of the text's own, in either
// body, and the one link is Seliq's.
func FuzzDefuse(f *testing.F) {
	for _, s := range []string{"", "http://evil.example.com/x", `<a href="https://x.example">y</a>`, "HtTpS://A.B", "a.b.c.d", "user@example.com",
		"www.example.com", "<script>alert(1)</script>", "x:/\x00/y", "ｈｔｔｐ://ｅｘａｍｐｌｅ．ｃｏｍ", "h\u200btt\u200bp://a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := Defuse(s)
		if liveURL.MatchString(d) || liveLabel.MatchString(d) || strings.Contains(d, "@") {
			t.Fatalf("Defuse(%q) = %q still links", s, d)
		}
		_, text, html, err := render(Content{Heading: "h", Quoted: s, Link: "/api/v1/alerts/1"}, "https://seliq.example.test")
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(html, "<a "); n != 1 {
			t.Fatalf("%d anchors in the HTML body for %q:\n%s", n, s, html)
		}
		for _, body := range []string{text, html} {
			body = strings.ReplaceAll(body, "https://seliq.example.test/api/v1/alerts/1", "")
			if liveURL.MatchString(body) {
				t.Fatalf("a live URL in the body for %q:\n%s", s, body)
			}
		}
	})
}

// FuzzParseAddress: an accepted address is exactly what was given and
// cannot break a header.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"a@example.com", "A <a@example.com>", "a@example.com\r\nBcc: b@example.com", "a@b, c@d", `"x y"@example.com`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAddress(s)
		if err != nil {
			return
		}
		if got != s || strings.ContainsAny(got, "\r\n<>,;") || !strings.Contains(got, "@") {
			t.Fatalf("ParseAddress(%q) = %q", s, got)
		}
	})
}
