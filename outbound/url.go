package outbound

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CheckURL parses an http(s) destination and refuses, before any dial, what
// the policy cannot vouch for: other schemes, embedded credentials, and
// hosts written as refused IPs in any form. Names are checked again at
// connect time on the address they resolve to.
func (p *Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: unparsable URL", ErrMalformed)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: scheme %q is not http or https", ErrRefused, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: URL must not carry credentials", ErrRefused)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: URL has no host", ErrMalformed)
	}
	if u.Port() != "" {
		if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: port %q", ErrRefused, u.Port())
		}
	}
	if err := p.CheckHost(u.Hostname()); err != nil {
		return nil, err
	}
	return u, nil
}

// CheckHost checks a host name or literal IP (as in a URL or an SMTP
// server setting). A literal IP is checked against the policy; a name
// that a resolver could read as an IPv4 address in shorthand, decimal,
// octal or hex (127.1, 2130706433, 0177.0.0.1, 0x7f000001) is refused
// outright, since resolvers disagree on it.
func (p *Policy) CheckHost(host string) error {
	h := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if h == "" {
		return fmt.Errorf("%w: empty host", ErrRefused)
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			// Zones only make sense for link-local addresses, refused anyway.
			return fmt.Errorf("%w: address with a zone", ErrRefused)
		}
		return p.CheckAddr(a)
	}
	if strings.Contains(h, ":") || strings.Contains(h, "%") {
		return fmt.Errorf("%w: malformed IPv6 host %q", ErrRefused, host)
	}
	if _, ok := parseInetAton(h); ok {
		return fmt.Errorf("%w: host %q is an IP address in a non-standard form", ErrRefused, host)
	}
	if !validHostname(h) {
		return fmt.Errorf("%w: host %q is not a valid name", ErrRefused, host)
	}
	return nil
}

// parseInetAton reads s the way inet_aton does: one to four dot-separated
// numbers, each decimal, octal (leading 0) or hex (leading 0x), the last
// filling the remaining bytes.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, part := range parts {
		v, ok := parseAtonPart(part)
		if !ok {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseAtonPart(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case s == "0x" || s == "0X":
		return 0, true
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	v, err := strconv.ParseUint(s, base, 32)
	return v, err == nil
}

// validHostname accepts DNS names: labels of letters, digits, hyphens and
// underscores (some internal names use them), at most 253 bytes.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
