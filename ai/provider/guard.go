package provider

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrBlockedAddress is wrapped by every refusal of the SSRF guard: a
// forbidden destination IP, scheme or URL form.
var ErrBlockedAddress = errors.New("provider: blocked address")

var (
	// alwaysBlocked holds destinations no provider can legitimately be:
	// link-local (where cloud metadata services live), "this network" and
	// the AWS IPv6 metadata endpoint.
	alwaysBlocked = []netip.Prefix{
		netip.MustParsePrefix("169.254.0.0/16"),
		netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("fd00:ec2::254/128"),
		netip.MustParsePrefix("0.0.0.0/8"),
		netip.MustParsePrefix("255.255.255.255/32"),
	}
	// privateRanges are refused only when AllowPrivate is false. netip's
	// IsPrivate covers RFC 1918 and fc00::/7; carrier-grade NAT and the
	// deprecated IPv6 site-local range are added here.
	privateRanges = []netip.Prefix{
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("fec0::/10"),
	}
	// nat64 embeds an IPv4 address in its last 32 bits; on NAT64 networks
	// 64:ff9b::a9fe:a9fe reaches 169.254.169.254.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// checkAddr decides whether a destination IP may be dialed.
func checkAddr(a netip.Addr, allowPrivate bool) error {
	a = a.WithZone("").Unmap()
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	if reason := blockReason(a, allowPrivate); reason != "" {
		return fmt.Errorf("%w: %s (%s)", ErrBlockedAddress, a, reason)
	}
	return nil
}

func blockReason(a netip.Addr, allowPrivate bool) string {
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast():
		return "multicast"
	case inAny(a, alwaysBlocked):
		return "link-local, metadata or reserved"
	case allowPrivate:
		return ""
	case a.IsLoopback():
		return "loopback, private addresses are disabled"
	case a.IsPrivate(), inAny(a, privateRanges):
		return "private, private addresses are disabled"
	}
	return ""
}

func inAny(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// checkBaseURL refuses URLs the guard cannot vouch for before any dial: other
// schemes, embedded credentials, and literal IPs that would be refused anyway.
func checkBaseURL(raw string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("provider: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: scheme %q is not http or https", ErrBlockedAddress, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: base URL must not carry credentials", ErrBlockedAddress)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("provider: base URL %q has no host", raw)
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := checkAddr(a, allowPrivate); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// guardedDialer checks the resolved IP in Control, which runs for every
// connection attempt right before connect, so whatever DNS answers (including
// a rebinding answer) is checked as dialed.
func guardedDialer(allowPrivate bool) *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: unparsable address %q", ErrBlockedAddress, address)
			}
			return checkAddr(ap.Addr(), allowPrivate)
		},
	}
}

// newGuardedHTTPClient builds the production client. Proxy is left nil on
// purpose: through a proxy the dialer would check the proxy, not the target.
// Redirects are returned instead of followed; a provider API has no reason to
// redirect a POST.
func newGuardedHTTPClient(allowPrivate bool) *http.Client {
	tr := &http.Transport{
		DialContext:           guardedDialer(allowPrivate).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
