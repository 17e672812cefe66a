package builtin

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/seliq/seliq/ingest/entities"
)

// maxEntities bounds the entities considered per alert.
const maxEntities = 200

// reservedSuffixes are DNS suffixes that only exist inside organisations.
var reservedSuffixes = []string{"local", "lan", "internal", "corp", "home.arpa", "localdomain", "intranet", "intra"}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// splitEntities deduplicates the entities and separates IOCs (things to
// block or hunt for) from assets (the organisation's own hosts, users and
// addresses); see the package comment for the rule.
func splitEntities(in []Entity) (iocs, assets []Entity) {
	ents := dedupeEntities(in)
	own := ownDomains(ents)
	for _, e := range ents {
		if isAsset(e, own) {
			assets = append(assets, e)
		} else {
			iocs = append(iocs, e)
		}
	}
	return iocs, assets
}

func dedupeEntities(in []Entity) []Entity {
	seen := make(map[Entity]bool, len(in))
	var out []Entity
	for _, e := range in {
		e.Type = strings.ToLower(strings.TrimSpace(e.Type))
		e.Value = strings.TrimSpace(e.Value)
		if e.Type == "" || e.Value == "" {
			continue
		}
		if e.Type == entities.IPv4 || e.Type == entities.IPv6 {
			if a, err := netip.ParseAddr(e.Value); err == nil {
				a = a.Unmap()
				e.Value = a.String()
				if a.Is4() {
					e.Type = entities.IPv4
				}
			}
		}
		key := Entity{Type: e.Type, Value: strings.ToLower(e.Value)}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, e)
		if len(out) == maxEntities {
			break
		}
	}
	return out
}

// ownDomains infers the organisation's domains from user principal names
// and fully qualified hostnames.
func ownDomains(ents []Entity) []string {
	var own []string
	add := func(d string) {
		d = strings.ToLower(strings.Trim(d, "."))
		if strings.Contains(d, ".") && !slices.Contains(own, d) {
			own = append(own, d)
		}
	}
	for _, e := range ents {
		switch e.Type {
		case entities.User:
			if _, d, ok := strings.Cut(e.Value, "@"); ok {
				add(d)
			}
		case entities.Hostname:
			if _, d, ok := strings.Cut(e.Value, "."); ok {
				add(d)
			}
		}
	}
	return own
}

func isAsset(e Entity, own []string) bool {
	switch e.Type {
	case entities.Hostname, entities.User:
		return true
	case entities.IPv4, entities.IPv6:
		return isInternalIP(e.Value)
	case entities.Domain:
		return isOwnDomain(e.Value, own)
	case entities.Email:
		_, d, _ := strings.Cut(e.Value, "@")
		return isOwnDomain(d, own)
	case entities.URL:
		u, err := url.Parse(e.Value)
		if err != nil || u.Hostname() == "" {
			return false
		}
		return isInternalIP(u.Hostname()) || isOwnDomain(u.Hostname(), own)
	}
	return false
}

// isInternalIP reports whether s is an address that cannot be an external
// indicator: private, loopback, link-local, multicast, unspecified, CGNAT.
func isInternalIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

func isOwnDomain(d string, own []string) bool {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if d == "" {
		return false
	}
	if isInternalIP(d) {
		return true
	}
	for _, s := range reservedSuffixes {
		if d == s || strings.HasSuffix(d, "."+s) {
			return true
		}
	}
	for _, s := range own {
		if d == s || strings.HasSuffix(d, "."+s) {
			return true
		}
	}
	return false
}

// valuesOf returns the values of the entities of the given types, in order.
func valuesOf(ents []Entity, types ...string) []string {
	var out []string
	for _, e := range ents {
		if slices.Contains(types, e.Type) {
			out = append(out, e.Value)
		}
	}
	return out
}
