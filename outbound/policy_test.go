package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/outbound/outboundtest"
)

// loopbackAllowed is the policy with SELIQ_OUTBOUND_ALLOW=127.0.0.0/8.
var loopbackAllowed = NewPolicy(netip.MustParsePrefix("127.0.0.0/8"))

// everythingAllowed allows every range an allowlist can name: what stays
// refused under it is refused always.
var everythingAllowed = NewPolicy(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))

func TestCheckAddr(t *testing.T) {
	for _, tt := range outboundtest.Addresses {
		t.Run(tt.IP, func(t *testing.T) {
			a := netip.MustParseAddr(tt.IP)
			for _, c := range []struct {
				name   string
				policy *Policy
				want   bool
			}{
				{"nothing allowed", nil, tt.RefusedByDefault},
				{"empty policy", NewPolicy(), tt.RefusedByDefault},
				{"everything allowed", everythingAllowed, tt.RefusedAlways},
			} {
				err := c.policy.CheckAddr(a)
				if got := errors.Is(err, ErrRefused); got != c.want {
					t.Errorf("%s: refused=%v (%v), want %v", c.name, got, err, c.want)
				}
			}
		})
	}
}

// Allowing one range opens that range only, in every encoding of it.
func TestCheckAddrAllowsOnlyTheRange(t *testing.T) {
	p := NewPolicy(netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("::ffff:192.168.1.0/120"))
	tests := []struct {
		ip      string
		allowed bool
	}{
		{"10.20.1.2", true},
		{"::ffff:10.20.1.2", true},
		{"10.21.1.2", false},
		{"192.168.1.7", true}, // the mapped prefix was normalised to 192.168.1.0/24
		{"192.168.2.7", false},
		{"127.0.0.1", false},
		{"169.254.169.254", false},
	}
	for _, tt := range tests {
		if err := p.CheckAddr(netip.MustParseAddr(tt.ip)); (err == nil) != tt.allowed {
			t.Errorf("%s: err = %v, want allowed=%v", tt.ip, err, tt.allowed)
		}
	}
	if got := p.With(netip.MustParsePrefix("127.0.0.1/32")).CheckAddr(netip.MustParseAddr("127.0.0.1")); got != nil {
		t.Errorf("With: %v", got)
	}
	if err := p.CheckAddr(netip.MustParseAddr("127.0.0.1")); err == nil {
		t.Error("With changed the receiver")
	}
}

func TestParseRanges(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", []string{}, false},
		{"127.0.0.0/8", []string{"127.0.0.0/8"}, false},
		{" 10.1.2.3/8 , 192.168.0.0/16,10.0.0.0/8", []string{"10.0.0.0/8", "192.168.0.0/16"}, false},
		{"10.0.0.5", []string{"10.0.0.5/32"}, false},
		{"fd00::/8,::1", []string{"fd00::/8", "::1/128"}, false},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}, false},
		{"10.0.0.0/33", nil, true},
		{"localhost", nil, true},
		{"fe80::1%eth0", nil, true},
		{"10.0.0.0/8/8", nil, true},
		{strings.Repeat("10.0.0.1,", maxRanges+1), nil, true},
	}
	for _, tt := range tests {
		got, err := ParseRangeList(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && fmt.Sprint(FormatRanges(got)) != fmt.Sprint(tt.want) {
			t.Errorf("%q: got %v, want %v", tt.in, FormatRanges(got), tt.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url     string
		refused bool // with loopback allowed
	}{
		{"https://api.openai.com/v1", false},
		{"http://127.0.0.1:11434/v1", false},
		{"http://localhost:11434/v1", false}, // a name: checked at connect
		{"http://169.254.169.254/latest/meta-data", true},
		{"http://[fd00:ec2::254]/", true},
		{"http://[::ffff:a9fe:a9fe]/", true},
		{"http://[::ffff:169.254.169.254]/", true},
		{"http://[64:ff9b::a9fe:a9fe]/", true},
		{"http://[fe80::1%25eth0]/", true},
		{"http://100.100.100.200/latest/meta-data/", true},
		{"http://0.0.0.0:8080/", true},
		{"http://0/", true},
		{"http://2852039166/", true},          // decimal 169.254.169.254
		{"http://0xa9fea9fe/", true},          // hex
		{"http://0xA9.0xFE.0xA9.0xFE/", true}, // dotted hex
		{"http://0251.0376.0251.0376/", true}, // octal
		{"http://169.254.43518/", true},       // shorthand a.b.c
		{"http://169.16689662/", true},        // shorthand a.b
		{"http://2130706433/", true},          // decimal 127.0.0.1: never ambiguous forms, even when allowed
		{"http://127.1/", true},
		{"http://017700000001/", true},
		{"http://169.254.169.254./", true}, // trailing dot
		{"http://10.0.0.1/", true},         // private, not allowed
		{"file:///etc/passwd", true},
		{"gopher://example.com/", true},
		{"ftp://example.com/", true},
		{"http://user:pass@example.com/v1", true},
		{"http:///v1", true},
		{"://bad", true},
		{"http://exa mple.com/", true},
		{"http://example.com:0/", true},
		{"http://example.com:99999/", true},
		{"http://[::1/", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := loopbackAllowed.CheckURL(tt.url)
			if got := err != nil; got != tt.refused {
				t.Fatalf("err = %v, want refused=%v", err, tt.refused)
			}
			if err != nil && !errors.Is(err, ErrRefused) && !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v wraps neither ErrRefused nor ErrMalformed", err)
			}
		})
	}
}

func TestParseInetAton(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1":        "127.0.0.1",
		"127.1":            "127.0.0.1",
		"2130706433":       "127.0.0.1",
		"0x7f000001":       "127.0.0.1",
		"0177.0.0.01":      "127.0.0.1",
		"169.254.43518":    "169.254.169.254",
		"0xa9.0xfe.0xa9fe": "169.254.169.254",
	}
	for in, want := range tests {
		got, ok := parseInetAton(in)
		if !ok || got.String() != want {
			t.Errorf("%s: %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"example.com", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "08", "0x", "1..2", "4294967296"} {
		if got, ok := parseInetAton(in); ok && in != "0x" {
			t.Errorf("%s parsed as %v", in, got)
		}
	}
}

// The dialer refuses in Control, before connect, so no packet is sent to a
// refused address, whatever name resolved to it.
func TestDialerChecksDialedIP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	tests := []struct {
		policy  *Policy
		addr    string
		refused bool
	}{
		{everythingAllowed, "169.254.169.254:80", true},
		{nil, "169.254.169.254:80", true},
		{nil, "localhost:" + port, true}, // a name that resolves to loopback
		{nil, "127.0.0.1:" + port, true},
		{nil, "[::ffff:127.0.0.1]:" + port, true},
		{nil, "2130706433:" + port, true},
		{loopbackAllowed, "2130706433:" + port, true},
		{loopbackAllowed, "127.0.0.1:" + port, false},
		{loopbackAllowed, "localhost:" + port, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%s", tt.policy.Allowed(), tt.addr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			conn, err := tt.policy.DialContext(ctx, "tcp", tt.addr)
			if err == nil {
				conn.Close()
			}
			if errors.Is(err, ErrRefused) != tt.refused {
				t.Errorf("err = %v, want refused=%v", err, tt.refused)
			}
			// The raw dialer refuses too: the Control hook, not the name
			// check, is what holds against DNS.
			if tt.refused && !strings.HasPrefix(tt.addr, "2130706433") {
				conn, err := tt.policy.Dialer().DialContext(ctx, "tcp", tt.addr)
				if err == nil {
					conn.Close()
				}
				if !errors.Is(err, ErrRefused) {
					t.Errorf("Dialer: err = %v, want refused", err)
				}
			}
		})
	}
}

// Redirects: refused by default (the response is returned), and when
// followed every hop is checked.
func TestClientRedirects(t *testing.T) {
	hops := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops++
		switch r.URL.Path {
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/decimal":
			http.Redirect(w, r, "http://2852039166/", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/private":
			http.Redirect(w, r, "http://10.0.0.1/", http.StatusFound)
		case "/local":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()

	t.Run("not followed by default", func(t *testing.T) {
		resp, err := loopbackAllowed.Client(ClientOptions{}).Get(srv.URL + "/local")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status %d, want the redirect itself", resp.StatusCode)
		}
	})
	follow := loopbackAllowed.Client(ClientOptions{FollowRedirects: true})
	for _, path := range []string{"/metadata", "/decimal", "/private"} {
		t.Run("followed: "+path+" refused", func(t *testing.T) {
			_, err := follow.Get(srv.URL + path)
			if !errors.Is(err, ErrRefused) {
				t.Errorf("err = %v, want refused", err)
			}
		})
	}
	t.Run("followed: loop bounded", func(t *testing.T) {
		hops = 0
		_, err := follow.Get(srv.URL + "/loop")
		if !errors.Is(err, errTooManyRedirects) || hops != MaxRedirects {
			t.Errorf("err = %v after %d hops", err, hops)
		}
	})
	t.Run("followed: allowed hop", func(t *testing.T) {
		resp, err := follow.Get(srv.URL + "/local")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

type statusErr int

func (s statusErr) Error() string   { return fmt.Sprintf("HTTP %d: secret body", int(s)) }
func (s statusErr) HTTPStatus() int { return int(s) }

func TestClassify(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()

	get := func(c *http.Client, u string) error {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	client := loopbackAllowed.Client(ClientOptions{})
	tests := []struct {
		name string
		err  error
		want Failure
	}{
		{"refused", get(NewPolicy().Client(ClientOptions{}), plain.URL), Failure{Category: Refused}},
		{"connection refused", get(client, "http://"+closedAddr), Failure{Category: Unreachable}},
		{"unknown certificate", get(client, tlsSrv.URL), Failure{Category: TLSFailure}},
		{"TLS to a plain server", get(client, strings.Replace(plain.URL, "http:", "https:", 1)), Failure{Category: TLSFailure}},
		{"timeout", get(loopbackAllowed.Client(ClientOptions{Timeout: 50 * time.Millisecond}), slow.URL), Failure{Category: TimedOut}},
		{"unknown host", &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, Failure{Category: Unreachable}},
		{"status", fmt.Errorf("wrapped: %w", statusErr(502)), Failure{Category: HTTPStatus, Status: 502}},
		{"bad response", fmt.Errorf("%w: decoding: invalid character 's'", ErrBadResponse), Failure{Category: BadResponse}},
		{"other", errors.New("boom"), Failure{Category: Failed}},
		{"url error around a tls alert", &url.Error{Op: "Get", URL: "https://x", Err: tls.AlertError(40)}, Failure{Category: TLSFailure}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			got := Classify(tt.err)
			if got != tt.want {
				t.Errorf("Classify(%v) = %+v, want %+v", tt.err, got, tt.want)
			}
			// What a client sees names no address, port or body.
			msg := got.Message()
			for _, leak := range []string{"127.0.0.1", closedAddr, "secret", "invalid character"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q leaks %q", msg, leak)
				}
			}
		})
	}
}
