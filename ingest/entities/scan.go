package entities

import (
	"net/netip"
	"slices"
	"strings"
)

// Byte classes.
const (
	clDigit    uint16 = 1 << iota // 0-9
	clHexAlpha                    // a-f A-F
	clAlpha                       // a-z A-Z
	clDomain                      // alnum - . _
	clLocal                       // e-mail local part: alnum . _ % + -
	clURLStop                     // ends a URL
	clV6                          // hex digit, ':' or '.'
	clUser                        // may appear in an unquoted user value
	clRefang1                     // may start a defanged token: [ ( { h f
	clRefang2                     // may follow clRefang1 in a defanged token: . : @ d x
)

var class [256]uint16

func init() {
	for b := 0; b < 256; b++ {
		c := byte(b)
		var m uint16
		switch {
		case c >= '0' && c <= '9':
			m |= clDigit | clDomain | clLocal | clV6 | clUser
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			m |= clHexAlpha | clAlpha | clDomain | clLocal | clV6 | clUser
		case c >= 'g' && c <= 'z', c >= 'G' && c <= 'Z':
			m |= clAlpha | clDomain | clLocal | clUser
		}
		switch c {
		case '-', '_':
			m |= clDomain | clLocal | clUser
		case '.':
			m |= clDomain | clLocal | clV6 | clUser
		case '%', '+':
			m |= clLocal | clUser
		case ':':
			m |= clV6 | clUser
		case '\\', '/', '$', '@', '#', '!', '~', '*', '^':
			m |= clUser
		}
		if c <= ' ' || c >= 0x7f {
			m |= clURLStop
		}
		switch c {
		case '"', '\'', '<', '>', '`', '{', '}', '|', '\\', '^', '[', ']':
			m |= clURLStop
		}
		switch c {
		case '[', '(', '{', 'h', 'H', 'f', 'F':
			m |= clRefang1
		}
		switch c {
		case '.', ':', '@', 'd', 'D', 'x', 'X':
			m |= clRefang2
		}
		class[b] = m
	}
}

func isDigit(c byte) bool    { return class[c]&clDigit != 0 }
func isAlpha(c byte) bool    { return class[c]&clAlpha != 0 }
func isAlnum(c byte) bool    { return class[c]&(clDigit|clAlpha) != 0 }
func isHex(c byte) bool      { return class[c]&(clDigit|clHexAlpha) != 0 }
func isDomainCh(c byte) bool { return class[c]&clDomain != 0 }

// spans is a sorted list of non-overlapping [start, end) ranges of a text
// already claimed by a URL, an e-mail address or an IPv6 address.
type spans [][2]int

func (s *spans) add(a, b int) { *s = append(*s, [2]int{a, b}) }

func (s spans) sort() {
	slices.SortFunc(s, func(x, y [2]int) int { return x[0] - y[0] })
}

// covers reports whether position i lies inside a span.
func (s spans) covers(i int) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		m := (lo + hi) / 2
		if s[m][0] <= i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && i < s[lo-1][1]
}

// overlaps reports whether [a, b) intersects a span.
func (s spans) overlaps(a, b int) bool {
	if s.covers(a) {
		return true
	}
	lo, hi := 0, len(s) // first span starting at or after a
	for lo < hi {
		m := (lo + hi) / 2
		if s[m][0] < a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(s) && s[lo][0] < b
}

// scanText extracts every kind of entity from one text placed at position
// base; it returns the length of the (refanged) text it scanned.
func (c *collector) scanText(s string, base int) int {
	s = refang(s)
	var arr [16][2]int
	sp := spans(arr[:0])
	c.scanURLs(s, base, &sp)
	c.scanEmails(s, base, &sp)
	sp.sort()
	c.scanIPv6(s, base, &sp)
	sp.sort()
	c.scanIPv4(s, base, sp)
	c.scanDomains(s, base, sp)
	c.scanHashes(s, base)
	c.scanKeywords(s, base, sp)
	return len(s)
}

// ---------------------------------------------------------------- refang

// refang undoes the usual defanging of indicators: "[.]", "(.)", "{.}",
// "[dot]" → ".", "[:]" → ":", "[://]" → "://", "[@]" → "@", and a
// "hxxp"/"fxp" scheme → "http"/"ftp". It returns s itself when there is
// nothing to undo.
func refang(s string) string {
	i := nextRefang(s, 0)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	done := 0
	for i >= 0 {
		rep, n, _ := refangAt(s, i)
		b.WriteString(s[done:i])
		b.WriteString(rep)
		done = i + n
		i = nextRefang(s, done)
	}
	b.WriteString(s[done:])
	return b.String()
}

// nextRefang returns the index of the next defanged token at or after i, or
// -1.
func nextRefang(s string, i int) int {
	for ; i+1 < len(s); i++ {
		// Cheap filter on the first two bytes: "[." "(." "{." "[:" "[@" "[d" "hx" "fx".
		if class[s[i]]&clRefang1 == 0 || class[s[i+1]]&clRefang2 == 0 {
			continue
		}
		if _, _, ok := refangAt(s, i); ok {
			return i
		}
	}
	return -1
}

// refangAt reports whether a defanged token starts at s[i], with its
// replacement and length.
func refangAt(s string, i int) (string, int, bool) {
	switch s[i] {
	case '[', '(', '{':
		r := s[i+1:]
		closer := byte(']')
		if s[i] == '(' {
			closer = ')'
		} else if s[i] == '{' {
			closer = '}'
		}
		if len(r) >= 2 && r[0] == '.' && r[1] == closer {
			return ".", 3, true
		}
		if s[i] != '[' {
			return "", 0, false
		}
		switch {
		case len(r) >= 2 && r[1] == ']' && (r[0] == ':' || r[0] == '@'):
			return r[:1], 3, true
		case strings.HasPrefix(r, "://]"):
			return "://", 5, true
		case len(r) >= 4 && r[3] == ']' && strings.EqualFold(r[:3], "dot"):
			return ".", 5, true
		}
	case 'h', 'H':
		if len(s)-i >= 5 && (s[i+1] == 'x' || s[i+1] == 'X') && (s[i+2] == 'x' || s[i+2] == 'X') &&
			(s[i+3] == 'p' || s[i+3] == 'P') && (i == 0 || !isAlpha(s[i-1])) {
			r := s[i+4:]
			if len(r) > 0 && (r[0] == 's' || r[0] == 'S') {
				r = r[1:]
			}
			if strings.HasPrefix(r, "://") || strings.HasPrefix(r, "[:") || strings.HasPrefix(r, "[://]") {
				return "http", 4, true
			}
		}
	case 'f', 'F':
		if len(s)-i >= 6 && (s[i+1] == 'x' || s[i+1] == 'X') && (s[i+2] == 'p' || s[i+2] == 'P') &&
			(i == 0 || !isAlpha(s[i-1])) {
			r := s[i+3:]
			if strings.HasPrefix(r, "://") || strings.HasPrefix(r, "[:") {
				return "ftp", 3, true
			}
		}
	}
	return "", 0, false
}

// asciiLower lower-cases ASCII letters only (so byte offsets are kept); it
// returns s itself when there is nothing to change.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, len(s))
	copy(b, s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

// ---------------------------------------------------------------- URLs

// scanURLs finds http(s)/ftp(s) URLs, adds each with the IP or domain of its
// host, records their spans and returns how many URLs were added.
func (c *collector) scanURLs(s string, base int, sp *spans) int {
	added := 0
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		j += i
		i = j + 3
		k := j
		for k > 0 && isAlpha(s[k-1]) && j-k < 6 {
			k--
		}
		if k > 0 && (isAlnum(s[k-1]) || s[k-1] == '_') {
			continue
		}
		switch sch := s[k:j]; {
		case strings.EqualFold(sch, "http"), strings.EqualFold(sch, "https"),
			strings.EqualFold(sch, "ftp"), strings.EqualFold(sch, "ftps"):
		default:
			continue
		}
		end := j + 3
		if end < len(s) && s[end] == '[' { // IPv6 literal host
			if cl := strings.IndexByte(s[end:min(len(s), end+64)], ']'); cl > 0 {
				end += cl + 1
			}
		}
		for end < len(s) && class[s[end]]&clURLStop == 0 {
			end++
		}
		i = end
		u := trimURL(s[k:end])
		host, ok := urlHost(u[j+3-k:])
		if !ok {
			continue
		}
		sp.add(k, k+len(u))
		c.add(base+k, URL, u)
		added++
		c.addHost(base+k, host)
	}
	return added
}

// addHost adds the IP or domain entity for the host of a URL or hint.
func (c *collector) addHost(pos int, host string) {
	if a, err := netip.ParseAddr(host); err == nil {
		c.addAddr(pos, a)
		return
	}
	if validDomain(host, true) {
		c.add(pos, Domain, asciiLower(host))
	}
}

// trimURL strips trailing punctuation that is almost never part of a URL;
// a closing parenthesis is kept when it balances one inside the URL.
func trimURL(u string) string {
	open := strings.Count(u, "(")
	closed := strings.Count(u, ")")
	for len(u) > 0 {
		switch u[len(u)-1] {
		case '.', ',', ';', ':', '!', '?', '\'', '"', '>', '*', ']':
		case ')':
			if closed <= open {
				return u
			}
			closed--
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// urlHost returns the host of the part of a URL after "://" when it is a
// valid IP literal or host name (and the port, if any, is numeric).
func urlHost(rest string) (string, bool) {
	auth := rest
	if i := strings.IndexAny(auth, "/?#"); i >= 0 {
		auth = auth[:i]
	}
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		auth = auth[i+1:]
	}
	var host, port string
	if strings.HasPrefix(auth, "[") {
		cl := strings.IndexByte(auth, ']')
		if cl < 0 {
			return "", false
		}
		host, port = auth[1:cl], auth[cl+1:]
		if port != "" && port[0] != ':' {
			return "", false
		}
		if z := strings.Index(host, "%25"); z >= 0 {
			host = host[:z] + "%" + host[z+3:]
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return "", false
		}
	} else {
		host = auth
		if i := strings.IndexByte(auth, ':'); i >= 0 {
			host, port = auth[:i], auth[i:]
		}
		host = strings.TrimSuffix(host, ".")
		if host == "" {
			return "", false
		}
		if allDigitsDots(host) {
			if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
				return "", false
			}
		} else if !validHostname(host) {
			return "", false
		}
	}
	if port != "" {
		for i := 1; i < len(port); i++ {
			if !isDigit(port[i]) {
				return "", false
			}
		}
		if len(port) > 6 {
			return "", false
		}
	}
	return host, true
}

func allDigitsDots(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- e-mail

// scanEmails finds local@domain addresses (outside the spans already
// claimed) and adds each with its domain.
func (c *collector) scanEmails(s string, base int, sp *spans) {
	claimed := len(*sp)
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '@')
		if j < 0 {
			break
		}
		j += i
		i = j + 1
		if (*sp)[:claimed].covers(j) {
			continue
		}
		a := j
		for a > 0 && class[s[a-1]]&clLocal != 0 && j-a <= 64 {
			a--
		}
		local := s[a:j]
		if local == "" || len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' ||
			strings.Contains(local, "..") || !hasAlnum(local) {
			continue
		}
		b := j + 1
		for b < len(s) && (isAlnum(s[b]) || s[b] == '.' || s[b] == '-') && b-j <= 254 {
			b++
		}
		dom := strings.TrimRight(s[j+1:b], ".")
		if b < len(s) && (s[b] == '_' || s[b] == '@') || !validDomain(dom, true) {
			continue
		}
		end := j + 1 + len(dom)
		c.add(base+a, Email, asciiLower(s[a:end]))
		c.add(base+j+1, Domain, asciiLower(dom))
		sp.add(a, end)
		i = end
	}
}

func hasAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- IPs

// addAddr adds an address unless it is a placeholder: IPv4-mapped IPv6
// addresses are reported as IPv4.
func (c *collector) addAddr(pos int, a netip.Addr) {
	if a.Is4In6() && a.Zone() == "" {
		a = a.Unmap()
	}
	if junkAddr(a) {
		return
	}
	if a.Is4() {
		c.add(pos, IPv4, a.String())
	} else {
		c.add(pos, IPv6, a.String())
	}
}

// junkAddr reports addresses that are never useful indicators: the
// unspecified addresses, the limited broadcast, and a.0.0.0 (a /8 network
// number, far more often a version string "1.0.0.0").
func junkAddr(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b == [4]byte{255, 255, 255, 255} || b[1] == 0 && b[2] == 0 && b[3] == 0
	}
	return false
}

// parseIPLoose parses an address, optionally bracketed or with a port.
func parseIPLoose(v string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr(), true
	}
	if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
		if a, err := netip.ParseAddr(v[1 : len(v)-1]); err == nil && a.Is6() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// scanIPv6 finds IPv6 addresses (with zone or embedded IPv4) outside the
// claimed spans and claims their own spans.
func (c *collector) scanIPv6(s string, base int, sp *spans) {
	claimed := *sp
	n := len(s)
	for i := 0; i < n; {
		if class[s[i]]&clV6 == 0 {
			i++
			continue
		}
		st := i
		colons := 0
		for i < n && class[s[i]]&clV6 != 0 {
			if s[i] == ':' {
				colons++
			}
			i++
		}
		en := i
		if colons < 2 {
			continue
		}
		// "Source:fe80::1": the run starts inside a word; drop the word tail.
		if st > 0 && (isAlnum(s[st-1]) || s[st-1] == '_') {
			k := strings.IndexByte(s[st:en], ':')
			if k+1 < en-st && s[st+k+1] == ':' {
				continue
			}
			st += k + 1
		} else if st+1 < en && s[st] == ':' && s[st+1] != ':' {
			st++
		}
		for en > st && s[en-1] == '.' {
			en--
		}
		if en-st >= 2 && s[en-1] == ':' && s[en-2] != ':' {
			en--
		}
		if en-st < 3 {
			continue
		}
		if st > 0 && s[st-1] == ']' { // PowerShell "[Math]::Add"
			continue
		}
		addr := s[st:en]
		end := en
		if end < n && s[end] == '%' { // zone
			z := end + 1
			for z < n && (isAlnum(s[z]) || s[z] == '_' || s[z] == '-' || s[z] == '.') && z-end <= 32 {
				z++
			}
			for z > end+1 && s[z-1] == '.' {
				z--
			}
			if z > end+1 {
				end = z
			}
		}
		if end < n && (isAlnum(s[end]) || s[end] == '_') {
			continue
		}
		if claimed.overlaps(st, end) || !plausibleV6(addr) {
			continue
		}
		a, err := netip.ParseAddr(s[st:end])
		if err != nil || !a.Is6() {
			continue
		}
		sp.add(st, end)
		c.addAddr(base+st, a)
	}
}

// plausibleV6 rejects colon-hex strings that parse as IPv6 but are almost
// always something else: MAC/EUI-64 addresses ("00:11:22:33:44:55:66:77")
// and short scope operators ("a::b"). One group of 3+ hex digits or an
// embedded IPv4 address is required ("::1" aside).
func plausibleV6(s string) bool {
	if s == "::1" || strings.IndexByte(s, '.') >= 0 {
		return true
	}
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			run = 0
			continue
		}
		run++
		if run >= 3 {
			return true
		}
	}
	return false
}

// scanIPv4 finds dotted-quad IPv4 addresses outside the claimed spans.
func (c *collector) scanIPv4(s string, base int, sp spans) {
	n := len(s)
	for i := 0; i < n; {
		if !isDigit(s[i]) {
			i++
			continue
		}
		st := i
		for i < n && (isDigit(s[i]) || s[i] == '.') {
			i++
		}
		en := i
		if st > 0 && (isAlnum(s[st-1]) || s[st-1] == '.' || s[st-1] == '_') {
			continue
		}
		if en < n && (isAlnum(s[en]) || s[en] == '_') {
			continue
		}
		for en > st && s[en-1] == '.' {
			en--
		}
		if i-en > 1 || strings.Count(s[st:en], ".") != 3 {
			continue
		}
		if sp.covers(st) || !dottedQuad(s[st:en]) {
			continue
		}
		a, err := netip.ParseAddr(s[st:en])
		if err != nil || !a.Is4() || versionContext(s, st) || junkAddr(a) {
			continue
		}
		c.add(base+st, IPv4, s[st:en]) // netip accepts only the canonical dotted form
	}
}

// dottedQuad is a cheap pre-check before netip parsing: four dot-separated
// fields of 1–3 digits, none above 255.
func dottedQuad(s string) bool {
	fields, v, digits := 1, 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			if digits == 0 {
				return false
			}
			fields, v, digits = fields+1, 0, 0
			continue
		}
		v = v*10 + int(s[i]-'0')
		digits++
		if digits > 3 || v > 255 {
			return false
		}
	}
	return fields == 4 && digits > 0
}

// versionContext reports whether the number at s[st:] follows a word such
// as "version" or "build" ("Version=4.0.0.0", "build 10.0.1.2").
func versionContext(s string, st int) bool {
	p := st
	for p > 0 && st-p < 3 {
		switch s[p-1] {
		case ' ', '\t', '=', ':', '"', '\'':
			p--
			continue
		}
		break
	}
	e := p
	for p > 0 && isAlpha(s[p-1]) && e-p < 16 {
		p--
	}
	var buf [16]byte
	switch string(foldWord(buf[:], s[p:e])) {
	case "version", "ver", "v", "build", "release", "rev", "revision", "fileversion", "productversion", "firmware", "fw", "kernel":
		return true
	}
	return false
}

// ---------------------------------------------------------------- domains

// scanDomains finds bare domain names outside the claimed spans.
func (c *collector) scanDomains(s string, base int, sp spans) {
	n := len(s)
	for i := 0; i < n; {
		if !isDomainCh(s[i]) {
			i++
			continue
		}
		st := i
		dot := false
		for i < n && isDomainCh(s[i]) {
			dot = dot || s[i] == '.'
			i++
		}
		en := i
		if !dot {
			continue
		}
		if st > 0 {
			switch s[st-1] {
			case '$', '%', '@', '&': // variables, e-mail leftovers
				continue
			}
		}
		if en < n {
			switch s[en] {
			case '(', '=', '@', '$', '%': // calls, assignments, variables
				continue
			}
		}
		for st < en && (s[st] == '.' || s[st] == '-') {
			st++
		}
		for en > st && (s[en-1] == '.' || s[en-1] == '-') {
			en--
		}
		if en-st < 4 || sp.covers(st) {
			continue
		}
		d := s[st:en]
		if validDomain(d, false) {
			c.add(base+st, Domain, asciiLower(d))
		}
	}
}

// validHostname checks host-name syntax: dot-separated labels of letters,
// digits, '-' and '_', 1–63 bytes each, 253 in all, no label starting or
// ending with '-'.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	ls := 0
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			l := i - ls
			if l == 0 || l > 63 || h[ls] == '-' || h[i-1] == '-' {
				return false
			}
			ls = i + 1
			continue
		}
		if c := h[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validDomain checks a domain name: two or more labels of letters, digits
// and '-', and a last label on the embedded TLD list. strong is set when the
// context already says "this is a host" (a URL, an e-mail address); in free
// text, TLDs that double as file extensions or field names ("install.sh",
// "user.name") need a "www." or a known second level ("co.in"), and names in
// mixed case ("System.Net", "found.Click") are refused.
func validDomain(d string, strong bool) bool {
	if len(d) < 3 || len(d) > 253 {
		return false
	}
	labels, ls, last, prev := 0, 0, "", ""
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			if c := d[i]; !isAlnum(c) && c != '-' {
				return false
			}
			continue
		}
		l := d[ls:i]
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		prev, last = last, l
		ls = i + 1
	}
	if labels < 2 {
		return false
	}
	var buf [24]byte
	if len(last) > len(buf) {
		return false
	}
	for i := 0; i < len(last); i++ {
		c := last[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	tld := buf[:len(last)]
	kind, ok := tlds[string(tld)]
	if !ok {
		if len(tld) < 5 || string(tld[:4]) != "xn--" {
			return false
		}
	}
	if strong {
		return true
	}
	if !caseConsistent(d) {
		return false
	}
	if kind == tldAmbiguous {
		first := d[:strings.IndexByte(d, '.')]
		if strings.EqualFold(first, "www") {
			return true
		}
		return labels >= 3 && slds[asciiLower(prev)]
	}
	return true
}

// caseConsistent reports whether all letters after the first are in one
// case ("Google.com" and "EVIL.COM" are, "System.Net" is not).
func caseConsistent(d string) bool {
	up, lo := false, false
	for i := 1; i < len(d); i++ {
		c := d[i]
		up = up || c >= 'A' && c <= 'Z'
		lo = lo || c >= 'a' && c <= 'z'
	}
	return !(up && lo)
}

// ---------------------------------------------------------------- hashes

// scanHashes finds MD5/SHA-1/SHA-256 hex digests: a run of exactly 32, 40
// or 64 hex digits not touching a letter, digit or dotted name, neither all
// digits, all letters nor one repeated character, and not an import hash.
func (c *collector) scanHashes(s string, base int) {
	n := len(s)
	for i := 0; i < n; {
		if !isHex(s[i]) {
			i++
			continue
		}
		st := i
		for i < n && isHex(s[i]) {
			i++
		}
		var typ string
		switch i - st {
		case 32:
			typ = MD5
		case 40:
			typ = SHA1
		case 64:
			typ = SHA256
		default:
			continue
		}
		if st > 0 && isAlnum(s[st-1]) || i < n && isAlnum(s[i]) {
			continue
		}
		if st > 1 && s[st-1] == '.' && isAlnum(s[st-2]) {
			continue
		}
		h := s[st:i]
		digits, letters, same := false, false, true
		for k := 0; k < len(h); k++ {
			if isDigit(h[k]) {
				digits = true
			} else {
				letters = true
			}
			same = same && h[k]|0x20 == h[0]|0x20
		}
		if !digits || !letters || same {
			continue
		}
		if fingerprintContext(s, st) {
			continue
		}
		c.add(base+st, typ, asciiLower(h))
	}
}

// fingerprintKeys label hex digests that are not file hashes: import
// hashes and TLS/SSH client fingerprints.
var fingerprintKeys = map[string]bool{
	"imphash": true, "pehash": true, "ja3": true, "ja3s": true, "ja3_hash": true, "ja3s_hash": true,
	"hassh": true, "hasshserver": true, "hassh_server": true, "ja4": true, "ja4s": true,
}

// fingerprintContext reports whether the digest at s[st:] follows a
// fingerprint label ("IMPHASH=…", "JA3 …", "ja3s: …").
func fingerprintContext(s string, st int) bool {
	p := st
	for p > 0 && st-p < 3 && (s[p-1] == '=' || s[p-1] == ':' || s[p-1] == ' ' || s[p-1] == '"') {
		p--
	}
	e := p
	for p > 0 && (isAlnum(s[p-1]) || s[p-1] == '_') && e-p < 16 {
		p--
	}
	var buf [16]byte
	return fingerprintKeys[string(foldWord(buf[:], s[p:e]))]
}

// ---------------------------------------------------------------- keywords

// hasPrefixFold reports whether s[i:] starts with p, ignoring the case of
// ASCII letters; p must be lower-case.
func hasPrefixFold(s string, i int, p string) bool {
	if len(s)-i < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		c := s[i+k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[k] {
			return false
		}
	}
	return true
}

// foldWord lower-cases w into buf (ASCII only); it returns nil when w does
// not fit.
func foldWord[T string | []byte](buf []byte, w T) []byte {
	if len(w) > len(buf) {
		return nil
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(w)]
}

// scanKeywords is one pass over s for the case-insensitive keywords: CVE
// identifiers, user keys ("user=", "Account Name:") and the sshd, PAM and
// sudo phrases that name a user.
func (c *collector) scanKeywords(s string, base int, sp spans) {
	for i := 0; i < len(s); i++ {
		switch s[i] | 0x20 { // lower-cases letters; no other byte maps onto a letter
		case 'c':
			if hasPrefixFold(s, i, "cve-") {
				i = c.cveAt(s, i, base) - 1
			}
		case 'u':
			if hasPrefixFold(s, i, "user") {
				i = c.userKeyAt(s, i, 4, base, sp) - 1
			} else if hasPrefixFold(s, i, "usr") {
				i = c.userKeyAt(s, i, 3, base, sp) - 1
			}
		case 'a':
			if hasPrefixFold(s, i, "account") {
				i = c.userKeyAt(s, i, 7, base, sp) - 1
			} else if hasPrefixFold(s, i, "acct") {
				i = c.userKeyAt(s, i, 4, base, sp) - 1
			}
		case 'p':
			if hasPrefixFold(s, i, "password for ") {
				c.userBeforeFrom(s, i+13, base)
			} else if hasPrefixFold(s, i, "publickey for ") {
				c.userBeforeFrom(s, i+14, base)
			}
		case 'k':
			if hasPrefixFold(s, i, "keyboard-interactive/pam for ") {
				c.userBeforeFrom(s, i+29, base)
			}
		case 's':
			if hasPrefixFold(s, i, "sudo:") {
				c.sudoUser(s, i+5, base)
			}
		}
	}
}

// cveAt reads a CVE identifier (CVE-YYYY- and 4 to 7 digits) at s[j:]; it
// returns where scanning resumes.
func (c *collector) cveAt(s string, j, base int) int {
	if j > 0 && isAlnum(s[j-1]) {
		return j + 4
	}
	p := j + 4
	if p+9 > len(s) {
		return p
	}
	y := s[p : p+4]
	if !isDigit(y[0]) || !isDigit(y[1]) || !isDigit(y[2]) || !isDigit(y[3]) || s[p+4] != '-' ||
		y < "1999" || y > "2099" {
		return p
	}
	q := p + 5
	e := q
	for e < len(s) && isDigit(s[e]) {
		e++
	}
	if e-q < 4 || e-q > 7 || e < len(s) && (isAlpha(s[e]) || s[e] == '_') {
		return e
	}
	v := s[j:e]
	if v[:4] != "CVE-" {
		v = "CVE-" + s[p:e]
	}
	c.add(base+j, CVE, v)
	return e
}

// Keys whose value is a user name ("user=alice", "Account Name: bob",
// `<Data Name="TargetUserName">carol</Data>`).
var userKeys = map[string]bool{
	"user": true, "username": true, "user_name": true, "user name": true, "user.name": true,
	"usr": true, "suser": true, "duser": true, "src_user": true, "dst_user": true, "srcuser": true, "dstuser": true,
	"target_user": true, "targetuser": true, "targetusername": true, "subjectusername": true,
	"target_user_name": true, "subject_user_name": true, "targetaccount": true,
	"account name": true, "account_name": true, "accountname": true, "samaccountname": true,
	"acct": true, "logon account": true,
}

// userKeyAt handles an anchor ("user", "account", ...) of length n at
// s[j:]: when the word around it is a user key followed by a value, or is
// "user" in "for user X" / "invalid user X", the value is a user. It returns
// where scanning resumes.
func (c *collector) userKeyAt(s string, j, n, base int, sp spans) int {
	ws, we := j, j+n
	for ws > 0 && (isAlpha(s[ws-1]) || s[ws-1] == '_' || s[ws-1] == '.') && j-ws < 32 {
		ws--
	}
	for we < len(s) && (isAlpha(s[we]) || s[we] == '_' || s[we] == '.') && we-j < 32 {
		we++
	}
	for we > j+n && s[we-1] == '.' {
		we--
	}
	next := we
	if ws < j && s[ws] == '.' || sp.covers(j) {
		return next
	}
	var buf [64]byte
	key := foldWord(buf[:], s[ws:we])
	if key == nil {
		return next
	}
	if w := string(key); (w == "user" || w == "account") && hasPrefixFold(s, we, " name") &&
		(we+5 == len(s) || !isAlpha(s[we+5])) {
		key = foldWord(buf[:], s[ws:we+5])
		we += 5
	} else if w == "account" && ws >= 6 && hasPrefixFold(s, ws-6, "logon ") {
		key = append(buf[:0], "logon account"...)
	}
	if !isUserKey(key) {
		return next
	}
	if v, p, ok := keyedValue(s, we); ok {
		c.addUser(base+p, v)
		return max(next, p)
	}
	if string(key) == "user" && we+1 < len(s) && s[we] == ' ' && s[we+1] != ' ' {
		switch w := precedingWord(s, ws); {
		case w == "for", w == "invalid", w == "illegal":
			e := we + 1
			for e < len(s) && class[s[e]]&clUser != 0 && s[e] != ':' {
				e++
			}
			if v := strings.TrimRight(s[we+1:e], ".,"); v != "from" && v != "by" {
				c.addUser(base+we+1, v)
			}
		}
	}
	return next
}

func isUserKey(k []byte) bool {
	if userKeys[string(k)] {
		return true
	}
	for d := len(k) - 1; d >= 0; d-- {
		if k[d] == '.' {
			last := k[d+1:]
			if string(last) != "user" && userKeys[string(last)] {
				return true
			}
			return d >= 5 && string(k[d-5:]) == ".user.name"
		}
	}
	return false
}

// userBeforeFrom reads the user of "Accepted password for root from ...".
func (c *collector) userBeforeFrom(s string, p, base int) {
	e := p
	for e < len(s) && class[s[e]]&clUser != 0 {
		e++
	}
	if v := s[p:e]; !strings.EqualFold(v, "invalid") && hasPrefixFold(s, e, " from ") {
		c.addUser(base+p, v)
	}
}

// sudoUser reads the user of "sudo:    alice : TTY=pts/0 ; PWD=/home/alice ;
// USER=root ; COMMAND=/bin/bash".
func (c *collector) sudoUser(s string, p, base int) {
	for p < len(s) && s[p] == ' ' {
		p++
	}
	e := p
	for e < len(s) && class[s[e]]&clUser != 0 && s[e] != ':' {
		e++
	}
	if e == p || e >= len(s) || s[e] != ' ' {
		return
	}
	k := e
	for k < len(s) && s[k] == ' ' {
		k++
	}
	if k+1 < len(s) && s[k] == ':' && s[k+1] == ' ' {
		c.addUser(base+p, s[p:e])
	}
}

// keyedValue reads the value after a key ending at p: `key=value`,
// `key: value`, `key="value"` or the XML form `key">value<`.
func keyedValue(s string, p int) (string, int, bool) {
	if strings.HasPrefix(s[p:], "\">") {
		st := p + 2
		e := strings.IndexByte(s[st:min(len(s), st+257)], '<')
		if e < 0 {
			return "", 0, false
		}
		return strings.TrimSpace(s[st : st+e]), st, true
	}
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	if p >= len(s) || s[p] != '=' && s[p] != ':' {
		return "", 0, false
	}
	p++
	if s[p-1] == ':' { // "Account Name:\t\talice"; but "logname= uid=0" has no value
		for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
			p++
		}
	}
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		q := s[p]
		p++
		e := p
		for e < len(s) && s[e] != q && s[e] != '\n' && e-p <= 256 {
			e++
		}
		if e >= len(s) || s[e] != q {
			return "", 0, false
		}
		return strings.TrimSpace(s[p:e]), p, true
	}
	e := p
	for e < len(s) && class[s[e]]&clUser != 0 && e-p <= 256 {
		e++
	}
	if e < len(s) && s[e] == '=' { // the next "key=" rather than a value
		return "", 0, false
	}
	return strings.TrimRight(s[p:e], ".:"), p, true
}

// precedingWord returns the lower-case word before the space at s[ws-1]
// (up to 8 letters), or "".
func precedingWord(s string, ws int) string {
	e := ws
	if e == 0 || s[e-1] != ' ' {
		return ""
	}
	e--
	p := e
	for p > 0 && isAlpha(s[p-1]) && e-p < 8 {
		p--
	}
	switch w := s[p:e]; {
	case strings.EqualFold(w, "for"):
		return "for"
	case strings.EqualFold(w, "invalid"):
		return "invalid"
	case strings.EqualFold(w, "illegal"):
		return "illegal"
	}
	return ""
}

func (c *collector) addUser(pos int, v string) {
	if validUser(v) {
		c.add(pos, User, v)
	}
}

// validUser rejects empty and placeholder values, numbers, variables and
// anything too long to be an account name.
func validUser(v string) bool {
	if v == "" || len(v) > 128 || strings.Contains(v, "://") || strings.IndexFunc(v, isControl) >= 0 {
		return false
	}
	switch v[0] {
	case '$', '%', '<', '{', '(', '[':
		return false
	}
	if len(v) > 4 && (v[0] == 'S' || v[0] == 's') && v[1:4] == "-1-" { // a SID, not a name
		return false
	}
	letter := false
	for i := 0; i < len(v); i++ {
		if isAlpha(v[i]) || v[i] >= 0x80 {
			letter = true
			break
		}
	}
	if !letter {
		return false
	}
	switch strings.ToLower(v) {
	case "-", "n/a", "na", "null", "(null)", "none", "unknown", "undefined", "nil", "empty", "anonymous logon", "name":
		return false
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
