package provider

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/outbound/outboundtest"
)

func TestCheckAddr(t *testing.T) {
	for _, tt := range outboundtest.Addresses {
		t.Run(tt.IP, func(t *testing.T) {
			a := netip.MustParseAddr(tt.IP)
			for _, allow := range []bool{true, false} {
				want := tt.RefusedAlways || (!allow && tt.RefusedByDefault)
				err := policy(allow).CheckAddr(a)
				if got := errors.Is(err, ErrBlockedAddress); got != want {
					t.Errorf("AllowPrivate=%v: blocked=%v (%v), want %v", allow, got, err, want)
				}
			}
		})
	}
}

// The dialer refuses in Control, before connect, so no packet is sent to
// the metadata address.
func TestGuardedDialerChecksDialedIP(t *testing.T) {
	tests := []struct {
		addr  string
		allow bool
	}{
		{"169.254.169.254:80", true},
		{"169.254.169.254:80", false},
		{"localhost:9", false}, // a name that resolves to loopback
		{"127.0.0.1:9", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			conn, err := policy(tt.allow).Dialer().DialContext(ctx, "tcp", tt.addr)
			if err == nil {
				conn.Close()
			}
			if !errors.Is(err, ErrBlockedAddress) {
				t.Errorf("err = %v, want ErrBlockedAddress", err)
			}
		})
	}
}

func TestSSRFEndToEnd(t *testing.T) {
	srv := openAIServer(t, nil)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("private forbidden: name resolving to loopback is refused at dial", func(t *testing.T) {
		c, log := newTestClient(t, KindOpenAICompatible, "http://localhost:"+port+"/v1", func(c *Config) { c.Policy = nil })
		_, err := c.Models(context.Background())
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("err = %v, want ErrBlockedAddress", err)
		}
		if srv.hits.Load() != 0 || len(log.get()) != 0 {
			t.Errorf("hits %d, waits %v: refusal must not reach the server or retry", srv.hits.Load(), log.get())
		}
	})
	t.Run("private forbidden: literal loopback is refused by New", func(t *testing.T) {
		_, err := New(Config{Kind: KindOpenAICompatible, BaseURL: srv.URL + "/v1"})
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("err = %v, want ErrBlockedAddress", err)
		}
	})
	t.Run("private allowed reaches the server", func(t *testing.T) {
		c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
		if _, err := c.Models(context.Background()); err != nil {
			t.Fatalf("Models: %v", err)
		}
	})
}

func TestNewRefusesBaseURLs(t *testing.T) {
	tests := []struct {
		url         string
		wantBlocked bool
	}{
		{"http://169.254.169.254/latest/meta-data", true},
		{"http://[fd00:ec2::254]/", true},
		{"http://[::ffff:a9fe:a9fe]/", true},
		{"http://[64:ff9b::a9fe:a9fe]/", true},
		{"http://2852039166/", true},          // decimal 169.254.169.254
		{"http://0xa9fea9fe/", true},          // hex
		{"http://0251.0376.0251.0376/", true}, // octal
		{"http://169.254.43518/", true},       // shorthand
		{"http://100.100.100.200/", true},
		{"file:///etc/passwd", true},
		{"gopher://example.com/", true},
		{"http://user:pass@example.com/v1", true},
		{"http:///v1", false},
		{"://bad", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := New(Config{Kind: KindAnthropic, BaseURL: tt.url, Policy: privateAllowed})
			if err == nil {
				t.Fatal("New accepted the URL")
			}
			if errors.Is(err, ErrBlockedAddress) != tt.wantBlocked {
				t.Errorf("err = %v, ErrBlockedAddress want %v", err, tt.wantBlocked)
			}
		})
	}
	if _, err := New(Config{Kind: "bedrock"}); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusTemporaryRedirect)
	})
	c, _ := newTestClient(t, KindOpenAICompatible, srv.URL+"/v1")
	_, err := c.Models(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTemporaryRedirect || !strings.Contains(apiErr.Message, "not followed") {
		t.Fatalf("err = %v, want unfollowed redirect", err)
	}
	if srv.hits.Load() != 1 {
		t.Errorf("hits = %d", srv.hits.Load())
	}
}
