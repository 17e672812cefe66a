// Package outbound is the one policy every call Seliq makes to the outside
// goes through: AI providers today, webhooks, pull connectors and SMTP next.
// It decides which destination addresses may be dialed, checks them on the
// IP actually being connected to (so DNS rebinding and redirects cannot
// sneak past), and turns failures into categories safe to show a client.
//
// Link-local and cloud metadata addresses are always refused. Loopback and
// private ranges are refused unless a Policy allows them: the server's
// SELIQ_OUTBOUND_ALLOW for everyone, plus a provider organisation's list for
// its own tree.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/cidr"
)

// ErrRefused is wrapped by every refusal of the policy: a forbidden
// destination IP, scheme or URL form.
var ErrRefused = errors.New("outbound: refused by policy")

// ErrMalformed is wrapped when a destination cannot be read at all (an
// unparsable URL, no host): bad input rather than a policy decision.
var ErrMalformed = errors.New("outbound: malformed destination")

var (
	// alwaysRefused are destinations no outbound call may reach, whatever
	// is allowed: link-local (where cloud metadata services live), cloud
	// metadata endpoints outside it, "this network", broadcast and the
	// reserved class E.
	alwaysRefused = []netip.Prefix{
		netip.MustParsePrefix("169.254.0.0/16"),     // IPv4 link-local: AWS, GCP, Azure, OpenStack, ECS metadata
		netip.MustParsePrefix("fe80::/10"),          // IPv6 link-local
		netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS IPv6 metadata
		netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
		netip.MustParsePrefix("192.0.0.192/32"),     // Oracle Cloud metadata
		netip.MustParsePrefix("168.63.129.16/32"),   // Azure wire server (host agent)
		netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
		netip.MustParsePrefix("240.0.0.0/4"),        // reserved, and 255.255.255.255
	}
	// privateRanges are refused unless allowed. netip's IsLoopback and
	// IsPrivate cover 127/8, ::1, RFC 1918 and fc00::/7; the rest are
	// internal or unroutable ranges a service may still be reachable on.
	privateRanges = []netip.Prefix{
		netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
		netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
		netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
		netip.MustParsePrefix("192.0.2.0/24"),    // documentation
		netip.MustParsePrefix("198.51.100.0/24"), // documentation
		netip.MustParsePrefix("203.0.113.0/24"),  // documentation
		netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
		netip.MustParsePrefix("2001:db8::/32"),   // documentation
		netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	}
)

// Embeddings of an IPv4 address in IPv6. A translator or relay on the path
// delivers them to the IPv4 address in their last (or, for 6to4, second and
// third) 32 bits, so the IPv4 address is checked too.
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052 well-known prefix
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")  // RFC 8215 local use
	compatible = netip.MustParsePrefix("::/96")           // deprecated IPv4-compatible
	translated = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated
	sixToFour  = netip.MustParsePrefix("2002::/16")       // 6to4
)

// Policy decides which destinations may be dialed. The zero value and nil
// allow public addresses only. A Policy is immutable and safe for
// concurrent use.
type Policy struct {
	allow []netip.Prefix
}

// NewPolicy returns a policy allowing, besides public addresses, the
// loopback and private addresses inside allow. Link-local and metadata
// addresses stay refused even when allow covers them.
func NewPolicy(allow ...netip.Prefix) *Policy {
	return &Policy{allow: cidr.Normalize(allow)}
}

// With returns a policy that also allows extra (a provider organisation's
// ranges on top of the server's).
func (p *Policy) With(extra ...netip.Prefix) *Policy {
	if len(extra) == 0 {
		return p
	}
	return NewPolicy(append(slices.Clone(p.Allowed()), extra...)...)
}

// Allowed returns the ranges the policy allows beyond public addresses.
func (p *Policy) Allowed() []netip.Prefix {
	if p == nil {
		return nil
	}
	return slices.Clone(p.allow)
}

// CheckAddr decides whether a destination IP may be dialed; the error wraps
// ErrRefused and says why (for the server log, not for clients).
func (p *Policy) CheckAddr(a netip.Addr) error {
	a = a.WithZone("").Unmap()
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrRefused)
	}
	for _, d := range destinations(a) {
		if reason := p.refusal(d); reason != "" {
			return fmt.Errorf("%w: %s (%s)", ErrRefused, a, reason)
		}
	}
	return nil
}

// destinations are a and the IPv4 address it embeds, if any.
func destinations(a netip.Addr) []netip.Addr {
	if !a.Is6() {
		return []netip.Addr{a}
	}
	b := a.As16()
	last := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	switch {
	case nat64.Contains(a), translated.Contains(a):
		return []netip.Addr{a, last}
	case nat64Local.Contains(a):
		// RFC 6052 /48: the IPv4 address sits in bits 48-63 and 72-87
		// around the reserved u octet.
		return []netip.Addr{a, netip.AddrFrom4([4]byte{b[6], b[7], b[9], b[10]})}
	case compatible.Contains(a) && !a.IsUnspecified() && !a.IsLoopback():
		return []netip.Addr{a, last}
	case sixToFour.Contains(a):
		return []netip.Addr{a, netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})}
	}
	return []netip.Addr{a}
}

func (p *Policy) refusal(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast():
		return "multicast"
	case a.IsLinkLocalUnicast(), cidr.Contains(alwaysRefused, a):
		return "link-local, metadata or reserved"
	case !a.IsLoopback() && !a.IsPrivate() && !cidr.Contains(privateRanges, a):
		return ""
	case cidr.Contains(p.Allowed(), a):
		return ""
	case a.IsLoopback():
		return "loopback, not in the allowed ranges"
	}
	return "private, not in the allowed ranges"
}

// maxRanges bounds an allowlist; a longer one is a mistake, not a network.
const maxRanges = 64

// ParseRanges parses CIDRs (a bare IP means that one address) into the
// canonical form the policy matches against: masked, IPv4-mapped IPv6
// prefixes turned into IPv4, duplicates dropped. The error names the
// offending entry.
func ParseRanges(list []string) ([]netip.Prefix, error) {
	if len(list) > maxRanges {
		return nil, fmt.Errorf("at most %d ranges", maxRanges)
	}
	return cidr.ParseAll(list)
}

// ParseRangeList parses a comma-separated list (SELIQ_OUTBOUND_ALLOW).
func ParseRangeList(s string) ([]netip.Prefix, error) { return ParseRanges(cidr.Fields(s)) }

// FormatRanges renders prefixes as strings, for settings and the audit log.
func FormatRanges(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// Policies gives the policy an organisation's calls run under
// (outbound/orgallow: the server's ranges plus its provider's; Fixed in
// tests and tools).
type Policies interface {
	For(ctx context.Context, org uuid.UUID) (*Policy, error)
}

// Fixed gives every organisation the same policy: a source for tests and
// tools without provider organisations.
type Fixed struct{ Policy *Policy }

// For returns f's policy whatever the organisation.
func (f Fixed) For(context.Context, uuid.UUID) (*Policy, error) { return f.Policy, nil }
