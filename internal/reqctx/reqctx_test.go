package reqctx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seliq/seliq/internal/cidr"
	"github.com/seliq/seliq/internal/reqctx"
)

// TestClientIP: forwarded headers name the client only when the TCP peer is
// a trusted proxy, and X-Forwarded-For is walked from the right so a client
// cannot put its own choice of address in front of the proxy's entry.
func TestClientIP(t *testing.T) {
	trusted, err := cidr.ParseAll(cidr.Fields("10.0.0.0/8, 192.0.2.7"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		trusted bool
		peer    string
		xff     []string
		realIP  string
		want    string
	}{
		{name: "no proxies configured: headers ignored", peer: "203.0.113.5:4000", xff: []string{"1.1.1.1"}, realIP: "2.2.2.2", want: "203.0.113.5"},
		{name: "untrusted peer: headers ignored", trusted: true, peer: "203.0.113.5:4000", xff: []string{"1.1.1.1"}, want: "203.0.113.5"},
		{name: "trusted peer: its entry", trusted: true, peer: "10.1.2.3:4000", xff: []string{"198.51.100.9"}, want: "198.51.100.9"},
		{name: "spoofed left entries skipped", trusted: true, peer: "10.1.2.3:4000", xff: []string{"1.1.1.1, 198.51.100.9"}, want: "198.51.100.9"},
		{name: "chain of trusted proxies", trusted: true, peer: "10.1.2.3:4000", xff: []string{"1.1.1.1, 198.51.100.9, 192.0.2.7", "10.9.9.9"}, want: "198.51.100.9"},
		{name: "all hops trusted: leftmost", trusted: true, peer: "10.1.2.3:4000", xff: []string{"10.0.0.1, 10.0.0.2"}, want: "10.0.0.1"},
		{name: "garbage: last vouched hop", trusted: true, peer: "10.1.2.3:4000", xff: []string{"not-an-ip, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "garbage right after the peer", trusted: true, peer: "10.1.2.3:4000", xff: []string{"1.1.1.1, junk"}, want: "10.1.2.3"},
		{name: "X-Real-IP from a trusted peer", trusted: true, peer: "10.1.2.3:4000", realIP: "198.51.100.9", want: "198.51.100.9"},
		{name: "IPv6 peer and mapped IPv4", trusted: true, peer: "[::ffff:10.1.2.3]:4000", xff: []string{"[2001:db8::1]:443"}, want: "2001:db8::1"},
		{name: "no headers: peer", trusted: true, peer: "10.1.2.3:4000", want: "10.1.2.3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if c.realIP != "" {
				r.Header.Set("X-Real-IP", c.realIP)
			}
			var got string
			h := reqctx.Middleware
			if c.trusted {
				h = reqctx.Trusting(trusted)
			}
			h(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got = reqctx.From(r.Context()).ClientIP
			})).ServeHTTP(httptest.NewRecorder(), r)
			if got != c.want {
				t.Fatalf("client IP = %q, want %q", got, c.want)
			}
		})
	}
}
