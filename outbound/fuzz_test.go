package outbound

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckURL: whatever the URL, CheckURL never panics, refuses with
// ErrRefused only, and never accepts a URL whose host is, in a form
// netip or inet_aton reads, an address the policy refuses.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://api.openai.com/v1", "http://127.0.0.1:11434/v1", "http://169.254.169.254/",
		"http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::a9fe:a9fe]/", "http://2852039166/",
		"http://0xa9fea9fe/", "http://0251.0376.0251.0376/", "http://169.254.43518/",
		"http://[fe80::1%25eth0]/", "http://localhost/", "http://a.b.c.d.e/", "file:///etc/passwd",
		"http://user@host/", "http://10.0.0.1./", "http://[2002:a9fe:a9fe::]/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := loopbackAllowed.CheckURL(raw)
		if err != nil {
			if !errors.Is(err, ErrRefused) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps neither ErrRefused nor ErrMalformed", err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.User != nil {
			t.Fatalf("accepted %q", raw)
		}
		host := strings.TrimSuffix(u.Hostname(), ".")
		if a, err := netip.ParseAddr(host); err == nil {
			if loopbackAllowed.CheckAddr(a) != nil {
				t.Fatalf("accepted refused address %q in %q", a, raw)
			}
		} else if _, ok := parseInetAton(host); ok {
			t.Fatalf("accepted numeric host %q in %q", host, raw)
		}
		// The URL the client will dial re-parses to the same host.
		again, err := url.Parse(u.String())
		if err != nil || again.Hostname() != u.Hostname() {
			t.Fatalf("round trip of %q: %v %q", raw, err, again)
		}
	})
}

// FuzzParseRanges: parsed ranges are canonical and parse back to
// themselves; the always-refused addresses stay refused under them.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"127.0.0.0/8", "10.0.0.0/8,fd00::/8", "::ffff:10.0.0.0/104", "0.0.0.0/0,::/0", "10.0.0.1", " , "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseRangeList(s)
		if err != nil {
			return
		}
		again, err := ParseRanges(FormatRanges(ps))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("%q: re-parse %v %v", s, again, err)
		}
		p := NewPolicy(ps...)
		for _, a := range []string{"169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "0.0.0.0", "fe80::1"} {
			if p.CheckAddr(netip.MustParseAddr(a)) == nil {
				t.Fatalf("%q allows %s", s, a)
			}
		}
	})
}
