package builtin

import (
	"net/netip"
	"strings"
)

// maxProfileEntries bounds each list of an asset profile that is used.
const maxProfileEntries = 500

// orgProfile is an AssetProfile ready for lookups.
type orgProfile struct {
	domains  []string
	networks []netip.Prefix
	admins   map[string]bool // admin hosts and accounts, lower-cased
	scanners map[string]bool
	adminNet []netip.Prefix // admin hosts given as addresses or ranges
	scanNet  []netip.Prefix
}

func compileProfile(p AssetProfile) orgProfile {
	o := orgProfile{admins: map[string]bool{}, scanners: map[string]bool{}}
	for _, d := range head(p.Domains, maxProfileEntries) {
		if d = strings.ToLower(strings.Trim(strings.TrimSpace(d), ".")); d != "" {
			o.domains = append(o.domains, d)
		}
	}
	o.networks = prefixes(p.Networks)
	names := func(list []string, set map[string]bool) []netip.Prefix {
		var nets []netip.Prefix
		for _, v := range head(list, maxProfileEntries) {
			v = strings.ToLower(strings.TrimSpace(v))
			if pf, ok := parsePrefix(v); ok {
				nets = append(nets, pf)
				continue
			}
			if v != "" {
				set[v] = true
			}
		}
		return nets
	}
	o.adminNet = names(p.AdminHosts, o.admins)
	names(p.AdminAccounts, o.admins)
	o.scanNet = names(p.Scanners, o.scanners)
	return o
}

func head[T any](s []T, n int) []T { return s[:min(len(s), n)] }

func prefixes(vs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range head(vs, maxProfileEntries) {
		if p, ok := parsePrefix(strings.TrimSpace(v)); ok {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefix reads a CIDR range or a single address.
func parsePrefix(v string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(v); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

func inPrefixes(v string, ps []netip.Prefix) bool {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ownAddr: the organisation's own address ranges (egress included).
func (o orgProfile) ownAddr(v string) bool { return inPrefixes(v, o.networks) }

// ownDomain: one of the organisation's domains or a subdomain.
func (o orgProfile) ownDomain(d string) bool {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	for _, s := range o.domains {
		if d == s || strings.HasSuffix(d, "."+s) {
			return true
		}
	}
	return false
}

// nameForms are the ways a host or account is written: as given, without a
// Windows domain ("CORP\\adm"), without the UPN or DNS suffix when that is
// one of the organisation's domains (so "jump-01.evil.test" is not
// "jump-01").
func (o orgProfile) nameForms(v string) []string {
	v = strings.ToLower(strings.TrimSpace(v))
	forms := []string{v}
	if _, after, ok := strings.Cut(v, `\`); ok {
		forms = append(forms, after)
		v = after
	}
	if before, dom, ok := strings.Cut(v, "@"); ok && o.ownDomain(dom) {
		forms = append(forms, before)
	} else if before, dom, ok := strings.Cut(v, "."); ok && o.ownDomain(dom) {
		forms = append(forms, before)
	}
	return forms
}

func (o orgProfile) match(v string, set map[string]bool, nets []netip.Prefix) bool {
	if inPrefixes(strings.TrimSpace(v), nets) {
		return true
	}
	for _, f := range o.nameForms(v) {
		if set[f] {
			return true
		}
	}
	return false
}

// admin: one of the organisation's admin hosts or accounts.
func (o orgProfile) admin(v string) bool { return o.match(v, o.admins, o.adminNet) }

// scanner: one of the organisation's scanners.
func (o orgProfile) scanner(v string) bool { return o.match(v, o.scanners, o.scanNet) }
