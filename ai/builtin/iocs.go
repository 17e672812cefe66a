package builtin

import (
	"cmp"
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
// addresses); see the package comment for the rule. It knows nothing of
// where a value sat: classifyEntities does.
func splitEntities(in []Entity) (iocs, assets []Entity) {
	c := classifyEntities(in, iocContext{})
	return c.iocs, c.assets
}

// iocContext is what decides whether an entity is an indicator besides its
// value: the organisation's profile, where values sat in the payload and
// the values that came only from a decoded command.
type iocContext struct {
	profile orgProfile
	fields  *rawFields
	hidden  map[Entity]bool
}

// classified is the outcome of classifyEntities.
type classified struct {
	iocs     []Entity    // ranked, best first
	ranked   []RankedIOC // the same, with rank and reason
	assets   []Entity
	excluded []Excluded
}

// Bounds on the lists kept per alert.
const (
	maxExcluded = 30
	maxReasonKV = 2000 // payload values searched for an IOC's field
)

func classifyEntities(in []Entity, c iocContext) classified {
	ents := dedupeEntities(in)
	for i, e := range ents {
		if e.Type == entities.Hostname && c.remoteHost(e.Value) {
			ents[i].Type = entities.Domain
		}
	}
	own := ownDomains(ents)
	var out classified
	exclude := func(e Entity, why string) {
		if len(out.excluded) < maxExcluded {
			out.excluded = append(out.excluded, Excluded{Type: e.Type, Value: e.Value, Reason: why})
		}
	}
	for _, e := range ents {
		if isAsset(e, own) || c.ownAsset(e) {
			out.assets = append(out.assets, e)
			continue
		}
		if why := c.notIndicator(e); why != "" {
			exclude(e, why)
			continue
		}
		out.ranked = append(out.ranked, c.rank(e, own))
	}
	slices.SortStableFunc(out.ranked, func(a, b RankedIOC) int { return cmp.Compare(b.Rank, a.Rank) })
	for _, r := range out.ranked {
		out.iocs = append(out.iocs, Entity{Type: r.Type, Value: r.Value})
	}
	return out
}

// ownAsset: the profile says the value is the organisation's.
func (c iocContext) ownAsset(e Entity) bool {
	p := c.profile
	switch e.Type {
	case entities.IPv4, entities.IPv6:
		return p.ownAddr(e.Value) || p.admin(e.Value) || p.scanner(e.Value)
	case entities.Domain:
		return p.ownDomain(e.Value)
	case entities.Email:
		_, d, _ := strings.Cut(e.Value, "@")
		return p.ownDomain(d)
	case entities.URL:
		u, err := url.Parse(e.Value)
		return err == nil && u.Hostname() != "" && (p.ownDomain(u.Hostname()) || p.ownAddr(u.Hostname()))
	}
	return false
}

// notIndicator says why an external-looking value is still no IOC, or "".
func (c iocContext) notIndicator(e Entity) string {
	switch e.Type {
	case entities.CVE:
		return "a vulnerability, context rather than an indicator"
	case entities.IPv4, entities.IPv6:
		if cat, ok := wellKnown.addr(e.Value); ok {
			return "well-known " + cat + " address"
		}
		if c.onlyIn(e.Value, classID) {
			return "part of a record id or version, not an address"
		}
	case entities.Domain:
		if cat, ok := wellKnown.domain(e.Value); ok {
			return "well-known " + cat + " domain"
		}
		if c.onlyIn(e.Value, classRef) {
			return "only in reference links"
		}
	case entities.URL:
		u, err := url.Parse(e.Value)
		if err != nil || u.Hostname() == "" {
			return "a path on the reporting server, not a location elsewhere"
		}
		if c.onlyIn(e.Value, classRef) {
			return "a reference link (console, documentation or schema)"
		}
		cat, ok := wellKnown.domain(u.Hostname())
		switch {
		case ok && cat == wkUserContent && strings.Trim(u.EscapedPath(), "/") != "":
		case ok:
			return "a link to a well-known " + cat + " site"
		}
	case entities.Email:
		if c.onlyIn(e.Value, classID) {
			return "part of a message id"
		}
	case entities.MD5, entities.SHA1, entities.SHA256:
		if wellKnown.testFiles[strings.ToLower(e.Value)] {
			return "a public anti-malware test file"
		}
		if c.onlyIn(e.Value, classID) || c.onlyIn(e.Value, classRef) {
			return "a record id or fingerprint, not a file hash"
		}
	}
	return ""
}

// remoteHosts are the fields naming a host the monitored one talked to:
// Suricata's http.hostname and tls.sni, DNS query names, URL hosts.
var remoteHostFields = [][2]string{{"http", "hostname"}, {"tls", "sni"}, {"dns", "rrname"}, {"url", "domain"}, {"destination", "domain"}}

// remoteHost: a name the extraction read as a monitored host is in fact
// the remote end of a connection (a web or TLS server, a DNS query).
func (c iocContext) remoteHost(v string) bool {
	if c.fields == nil || !strings.Contains(v, ".") || isOwnDomain(v, nil) || c.profile.ownDomain(v) {
		return false
	}
	lv := strings.ToLower(v)
	for _, kv := range head(c.fields.values, maxReasonKV) {
		if kv.value != lv {
			continue
		}
		for _, f := range remoteHostFields {
			if kv.parent == f[0] && kv.key == f[1] || kv.key == f[1] && f[0] == "tls" {
				return true
			}
		}
	}
	return false
}

// onlyIn: the value sits in fields of the class and in no plain field.
func (c iocContext) onlyIn(v string, class int) bool {
	if c.fields == nil {
		return false
	}
	lv := strings.ToLower(v)
	var in *strings.Builder
	switch class {
	case classID:
		in = &c.fields.idText
	case classRef:
		in = &c.fields.refText
	}
	return strings.Contains(in.String(), lv) && !strings.Contains(c.fields.plain.String(), lv)
}

// Rank bases by type: a file hash or full URL pins an artefact down; an
// address or domain is broader; a sender address is one of many.
var rankBase = map[string]int{
	entities.SHA256: 9, entities.SHA1: 8, entities.MD5: 7, entities.URL: 8,
	entities.Domain: 6, entities.IPv4: 6, entities.IPv6: 6, entities.Email: 6,
}

// strongKeys are payload fields whose values are what happened rather
// than context around it.
var strongKeys = []string{
	"commandline", "cmdline", "processcommandline", "parentcommandline", "proccmdline", "process",
	"maliciousprocessarguments", "url", "urlstring", "full", "original", "destip", "dstip", "ip", "ipaddress",
	"srcip", "query", "rrname", "hostname", "sha256", "sha1", "md5", "sha256string", "sha1string", "md5string",
	"from", "sender", "text", "emailaddress", "fdsip", "sip",
}

// rank scores an IOC and says why it is one.
func (c iocContext) rank(e Entity, own []string) RankedIOC {
	r := RankedIOC{Type: e.Type, Value: e.Value, Rank: rankBase[e.Type]}
	where := c.fieldOf(e.Value)
	switch {
	case c.hidden[e]:
		r.Rank += 2
		r.Reason = "decoded from an encoded PowerShell command"
	case where != "":
		r.Reason = "in the payload's " + where + " field"
		if slices.Contains(strongKeys, where) {
			r.Rank += 2
		}
	default:
		r.Reason = "in the alert text"
	}
	host := e.Value
	switch e.Type {
	case entities.URL:
		if u, err := url.Parse(e.Value); err == nil {
			host = u.Hostname()
		}
	case entities.Email:
		_, host, _ = strings.Cut(e.Value, "@")
	}
	if target, ok := lookalike(host, append(slices.Clone(own), c.profile.domains...)); ok {
		r.Rank += 3
		r.Reason += "; look-alike of " + target
	} else if cat, ok := wellKnown.domain(host); ok && e.Type != entities.Domain {
		r.Reason += "; on a " + strings.ReplaceAll(cat, "_", "-") + " host"
	}
	r.Reason = e.Type + " " + r.Reason
	return r
}

// fieldOf names the first plain payload field holding v.
func (c iocContext) fieldOf(v string) string {
	if c.fields == nil {
		return ""
	}
	lv := strings.ToLower(v)
	for _, kv := range head(c.fields.values, maxReasonKV) {
		if strings.Contains(kv.value, lv) {
			return kv.key
		}
	}
	return ""
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
