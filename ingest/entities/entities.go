// Package entities extracts indicators (IPs, domains, URLs, hashes, CVEs,
// e-mail addresses, users, hostnames) from alert attributes and free text.
//
// Precision matters more than recall: every candidate found by a cheap
// scanner is validated (net/netip for addresses, an embedded TLD list for
// domains, strict boundaries for hashes) and anything doubtful is dropped.
// Nothing here touches the network.
package entities

import (
	"slices"
	"strings"
)

// Entity is one indicator. Type is one of the constants below; Value is
// normalised: lower-case for domains, hostnames, e-mails and hashes,
// upper-case for CVEs ("CVE-2024-1234"), canonical net/netip form for IPs
// (IPv4-mapped IPv6 addresses become IPv4), URLs as given (refanged) but
// trimmed of trailing punctuation, users as given but trimmed.
type Entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Entity types.
const (
	IPv4     = "ipv4"
	IPv6     = "ipv6"
	Domain   = "domain"
	URL      = "url"
	Hostname = "hostname"
	User     = "user"
	MD5      = "md5"
	SHA1     = "sha1"
	SHA256   = "sha256"
	CVE      = "cve"
	Email    = "email"
	// FileName is a file's name as a mapper read it (an email's
	// attachment); never found in free text, where names are ambiguous.
	FileName = "filename"
)

// MaxEntities bounds the number of entities returned by one call.
const MaxEntities = 200

// maxScanBytes bounds the text scanned by one call: the free texts (and
// unknown hint values) of Extract, the decoded string values of ExtractJSON.
const maxScanBytes = 1 << 20

// Hint keys, in the order their entities are emitted.
var hintKeys = [...]string{"host", "user", "src_ip", "dst_ip", "domain", "url", "file_hash", "email_from", "email_to"}

// Extract returns the deduplicated entities found in the hints and the free
// texts, in a stable order (hints first, then by first appearance), at most
// MaxEntities.
//
// Hints are facts a connector mapper already knows for sure, keyed by
// "host", "user", "src_ip", "dst_ip", "domain", "url", "file_hash",
// "email_from" or "email_to" (keys are matched case-insensitively). A hint
// is still validated: an unparsable src_ip yields nothing. A host hint is
// a Hostname (or an IP), and the same name found in the texts is not
// repeated as a Domain. Values under any other key are scanned like free
// text, after the known hints and before the texts, in key order.
//
// Work is bounded: at most 1 MiB of text (unknown hint values and texts
// together) is scanned; the rest is ignored.
func Extract(hints map[string]string, texts ...string) []Entity {
	c := newCollector()
	budget := maxScanBytes
	if len(hints) > 0 {
		keys := make([]string, 0, len(hints))
		for k := range hints {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		c.hintMode = true
		for _, hk := range hintKeys {
			for _, k := range keys {
				if strings.EqualFold(strings.TrimSpace(k), hk) {
					c.addHint(hk, hints[k])
				}
			}
		}
		c.hintMode = false
		for _, k := range keys {
			if !isHintKey(k) {
				budget = c.scanBudget(hints[k], budget)
			}
		}
	}
	for _, t := range texts {
		budget = c.scanBudget(t, budget)
	}
	return c.result()
}

func isHintKey(k string) bool {
	k = strings.TrimSpace(k)
	for _, hk := range hintKeys {
		if strings.EqualFold(k, hk) {
			return true
		}
	}
	return false
}

// scanBudget scans t (truncated to the remaining budget) and returns the
// budget left.
func (c *collector) scanBudget(t string, budget int) int {
	if budget <= 0 || t == "" {
		return budget
	}
	if len(t) > budget {
		t = t[:budget]
	}
	c.base += c.scanText(t, c.base) + 1
	return budget - len(t)
}

// addHint records the entities of one trusted attribute.
func (c *collector) addHint(key, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	switch key {
	case "host":
		if c.addIPString(refang(v)) {
			return
		}
		h := strings.TrimSuffix(v, ".")
		if validHostname(h) {
			c.add(0, Hostname, asciiLower(h))
		}
	case "user":
		if validUser(v) {
			c.add(0, User, v)
		}
	case "src_ip", "dst_ip":
		c.addIPString(refang(v))
	case "domain":
		v = refang(v)
		if c.addIPString(v) {
			return
		}
		d := strings.TrimSuffix(v, ".")
		if strings.IndexByte(d, '.') > 0 && validHostname(d) {
			c.add(0, Domain, asciiLower(d))
		}
	case "url":
		v = refang(v)
		if len(v) > maxScanBytes {
			return
		}
		if strings.Contains(v, "://") {
			var sp spans
			if c.scanURLs(v, 0, &sp) > 0 {
				return
			}
		}
		if strings.IndexFunc(v, isSpaceRune) < 0 {
			c.add(0, URL, v)
		}
	case "file_hash":
		if len(v) <= 4096 {
			c.scanHashes(v, 0)
		}
	case "email_from", "email_to":
		if len(v) <= 64<<10 {
			var sp spans
			c.scanEmails(refang(v), 0, &sp)
		}
	}
}

func isSpaceRune(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

// addIPString adds v as an IP entity when it is an address (optionally with
// a port); it reports whether v was an address at all (junk addresses such
// as 0.0.0.0 are recognised but not added).
func (c *collector) addIPString(v string) bool {
	a, ok := parseIPLoose(v)
	if !ok {
		return false
	}
	c.addAddr(0, a)
	return true
}

type cand struct {
	pos int
	e   Entity
}

type candKey struct{ t, v string }

// collector accumulates deduplicated candidates with the position of their
// first appearance; result() orders and bounds them.
type collector struct {
	cands    []cand
	index    map[candKey]int
	hintMode bool // every add gets position -1 (before any text)
	base     int  // position of the next text
}

func newCollector() *collector {
	return &collector{cands: make([]cand, 0, 16)}
}

const indexThreshold = 24

func (c *collector) add(pos int, typ, val string) {
	if val == "" {
		return
	}
	if c.hintMode {
		pos = -1
	}
	k := candKey{typ, val}
	if c.index != nil {
		if typ == User {
			k.v = asciiLower(val)
		}
		if i, ok := c.index[k]; ok {
			if pos < c.cands[i].pos {
				c.cands[i].pos = pos
			}
			return
		}
	} else {
		for i := range c.cands {
			e := &c.cands[i].e
			if e.Type == typ && (e.Value == val || typ == User && strings.EqualFold(e.Value, val)) {
				if pos < c.cands[i].pos {
					c.cands[i].pos = pos
				}
				return
			}
		}
	}
	c.cands = append(c.cands, cand{pos, Entity{typ, val}})
	if c.index != nil {
		c.index[k] = len(c.cands) - 1
	} else if len(c.cands) > indexThreshold {
		c.index = make(map[candKey]int, 2*len(c.cands))
		for i, cd := range c.cands {
			kk := candKey{cd.e.Type, cd.e.Value}
			if cd.e.Type == User {
				kk.v = asciiLower(cd.e.Value)
			}
			c.index[kk] = i
		}
	}
}

func (c *collector) result() []Entity {
	// Order by first position, then insertion; sort small pointer-free keys.
	type ord struct{ pos, idx int32 }
	keys := make([]ord, len(c.cands))
	for i, cd := range c.cands {
		keys[i] = ord{int32(cd.pos), int32(i)}
	}
	slices.SortFunc(keys, func(a, b ord) int {
		if a.pos != b.pos {
			return int(a.pos - b.pos)
		}
		return int(a.idx - b.idx)
	})
	// A name the connector reported as a hostname is not repeated as a domain.
	var hosts map[string]bool
	for _, cd := range c.cands {
		if cd.e.Type == Hostname {
			if hosts == nil {
				hosts = make(map[string]bool)
			}
			hosts[cd.e.Value] = true
		}
	}
	out := make([]Entity, 0, min(len(c.cands), MaxEntities))
	for _, k := range keys {
		if len(out) == MaxEntities {
			break
		}
		e := c.cands[k.idx].e
		if e.Type == Domain && hosts[e.Value] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// ExtractAlert is the extraction ingest runs on a mapped alert: the
// mapper's attributes as hints with the texts (title, description), then
// what the original document holds beyond them (ExtractJSON), merged.
func ExtractAlert(hints map[string]string, raw []byte, texts ...string) []Entity {
	return Merge(Extract(hints, texts...), ExtractJSON(raw))
}

// Merge appends the entities of more not already in base, with the rules
// a single extraction applies: users compare case-insensitively, a name
// known as a hostname is not repeated as a domain, and the total is
// bounded by MaxEntities.
func Merge(base, more []Entity) []Entity {
	type key struct{ typ, val string }
	norm := func(e Entity) key {
		if e.Type == User {
			return key{e.Type, strings.ToLower(e.Value)}
		}
		return key{e.Type, e.Value}
	}
	seen := make(map[key]bool, len(base)+len(more))
	hosts := make(map[string]bool)
	for _, e := range slices.Concat(base, more) {
		if e.Type == Hostname {
			hosts[e.Value] = true
		}
	}
	out := make([]Entity, 0, min(len(base)+len(more), MaxEntities))
	for _, e := range slices.Concat(base, more) {
		k := norm(e)
		if seen[k] || (e.Type == Domain && hosts[e.Value]) {
			continue
		}
		seen[k] = true
		out = append(out, e)
		if len(out) == MaxEntities {
			break
		}
	}
	return out
}
