// Package cidr reads and matches address ranges as operators write them in
// configuration ("10.0.0.0/8, 192.0.2.7"): the trusted proxies and the
// outbound allowlists read and match them the same way.
package cidr

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Parse reads one CIDR range, or a bare address meaning that one address.
func Parse(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range", s)
	}
	return p, nil
}

// Fields splits a comma-separated list, dropping blank entries.
func Fields(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParseAll parses every entry into the canonical form (Normalize); the
// error names the first bad entry.
func ParseAll(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return Normalize(out), nil
}

// Normalize makes prefixes match unmapped addresses: IPv4-mapped IPv6
// prefixes become IPv4, every prefix is masked, invalid and duplicate ones
// are dropped. None gives nil.
func Normalize(in []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range in {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() {
			p = netip.PrefixFrom(a.Unmap(), max(p.Bits()-96, 0))
		}
		p = p.Masked()
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Contains reports whether any of prefixes holds a.
func Contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
