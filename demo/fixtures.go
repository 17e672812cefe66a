package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// The demo company is a fixed inventory of people and machines, so the same
// hosts and users recur across connectors and alerts correlate as they would
// in a real estate. Which of them an alert names, and every number in it,
// comes from the run's seeded generator.

const (
	adDomain   = "CORP"
	dnsSuffix  = "corp.example.com"
	mailDomain = "example.com"
)

// asset is one machine of the demo company.
type asset struct {
	name   string // FIN-LT-042, web-prod-03
	ip     string // its 10.x address
	os     string // windows, macos or linux
	owner  string // primary user of a workstation; "" for servers
	server bool
}

// fqdn is the machine's DNS name in the corporate domain.
func (a asset) fqdn() string { return a.name + "." + dnsSuffix }

// estate is the demo company's inventory.
type estate struct {
	users        []string // a.khan, p.nowak …
	workstations []asset
	servers      []asset
}

var (
	firstInitials = []string{"a", "p", "r", "k", "h", "j", "m", "l", "s", "e", "t", "n", "o", "d", "f", "g", "i", "b", "c", "v", "y", "z", "w", "u"}
	surnames      = []string{
		"khan", "nowak", "gomez", "mueller", "wong", "smith", "rossi", "chen", "okafor", "dubois", "nguyen", "patel",
		"larsen", "silva", "ahmed", "kowalski", "tanaka", "oconnor", "martin", "ivanova", "cohen", "hussain", "schmidt", "bianchi",
		"garcia", "jensen", "novak", "haddad", "murphy", "fischer", "moreau", "santos", "kim", "becker", "costa", "virtanen",
		"lopez", "yilmaz", "andersen", "ricci", "weber", "kaur", "sato", "brown", "dijkstra", "petrov", "mendes", "osei",
	}
	departments     = []string{"FIN", "HR", "ENG", "SALES", "MKT", "LEGAL", "OPS", "IT", "EXEC", "SUPPORT"}
	serviceAccounts = []string{"svc_backup", "svc_sql", "svc_deploy", "svc_jenkins", "svc_monitor", "svc_sccm"}
	// Attempted logins on internet-facing machines use names like these.
	bruteForceNames = []string{"admin", "root", "oracle", "test", "ubuntu", "pi", "postgres", "git", "user", "ftpuser", "support", "guest"}
)

// company is built once; it depends on nothing but the lists above.
var company = sync.OnceValue(buildEstate)

func buildEstate() *estate {
	e := &estate{}
	for i, s := range surnames {
		e.users = append(e.users, firstInitials[i%len(firstInitials)]+"."+s)
	}
	kinds := []struct{ code, os string }{{"LT", "windows"}, {"LT", "windows"}, {"WS", "windows"}, {"LT", "windows"}, {"MBP", "macos"}}
	for i, u := range e.users {
		d := i % len(departments)
		k := kinds[i%len(kinds)]
		e.workstations = append(e.workstations, asset{
			name:  fmt.Sprintf("%s-%s-%03d", departments[d], k.code, 3+(i*37)%180),
			ip:    fmt.Sprintf("10.%d.%d.%d", 20+d, 1+i%4, 10+i),
			os:    k.os,
			owner: u,
		})
	}
	servers := []struct {
		prefix string
		n      int
		subnet int
		os     string
	}{
		{"web-prod", 6, 10, "linux"}, {"api-prod", 4, 10, "linux"}, {"db-prod", 3, 11, "linux"}, {"db-stg", 1, 11, "linux"},
		{"k8s-node", 8, 12, "linux"}, {"jenkins", 1, 13, "linux"}, {"gitlab", 1, 13, "linux"}, {"bastion", 1, 14, "linux"},
		{"vpn-gw", 2, 14, "linux"}, {"mail", 1, 15, "linux"}, {"DC", 2, 0, "windows"}, {"FS", 2, 0, "windows"},
		{"SQL-FIN", 1, 0, "windows"}, {"EXCH", 1, 0, "windows"},
	}
	host := 4
	for _, s := range servers {
		for n := 1; n <= s.n; n++ {
			host++
			e.servers = append(e.servers, asset{
				name:   fmt.Sprintf("%s-%02d", s.prefix, n),
				ip:     fmt.Sprintf("10.%d.0.%d", s.subnet, host),
				os:     s.os,
				server: true,
			})
		}
	}
	return e
}

// gen draws everything an alert needs from the run's seeded generator.
type gen struct {
	r   *rand.Rand
	co  *estate
	now time.Time
}

func newGen(r *rand.Rand, now time.Time) *gen {
	return &gen{r: r, co: company(), now: now.UTC()}
}

// pick returns a uniformly chosen element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted is anything that carries a relative frequency.
type weighted interface{ weight() int }

// choose returns an element of xs with probability proportional to its weight.
func choose[T weighted](r *rand.Rand, xs []T) T {
	total := 0
	for _, x := range xs {
		total += x.weight()
	}
	n := r.IntN(total)
	for _, x := range xs {
		if n -= x.weight(); n < 0 {
			return x
		}
	}
	return xs[len(xs)-1]
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) user() string           { return pick(g.r, g.co.users) }
func (g *gen) workstation() asset     { return pick(g.r, g.co.workstations) }
func (g *gen) server() asset          { return pick(g.r, g.co.servers) }
func (g *gen) serviceAccount() string { return pick(g.r, serviceAccounts) }

// serverOf returns a server whose name starts with one of prefixes.
func (g *gen) serverOf(prefixes ...string) asset {
	var match []asset
	for _, s := range g.co.servers {
		for _, p := range prefixes {
			if strings.HasPrefix(s.name, p) {
				match = append(match, s)
			}
		}
	}
	return pick(g.r, match)
}

// windowsHost is a Windows workstation (or, now and then, a Windows server).
func (g *gen) windowsHost() asset {
	if g.chance(0.15) {
		return g.serverOf("DC", "FS", "SQL-FIN", "EXCH")
	}
	for {
		if w := g.workstation(); w.os == "windows" {
			return w
		}
	}
}

// externalIP is an address in the documentation ranges (RFC 5737).
func (g *gen) externalIP() string {
	return fmt.Sprintf("%s.%d", pick(g.r, []string{"192.0.2", "198.51.100", "203.0.113"}), 1+g.r.IntN(254))
}

func (g *gen) port() int { return 49152 + g.r.IntN(16383) }

func (g *gen) hex(bytes int) string {
	b := make([]byte, bytes)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return hex.EncodeToString(b)
}

func (g *gen) sha256() string { return g.hex(32) }
func (g *gen) sha1() string   { return g.hex(20) }
func (g *gen) md5() string    { return g.hex(16) }

// uuid formats 16 random bytes as a version-4 UUID.
func (g *gen) uuid() string {
	h := []byte(g.hex(16))
	h[12] = '4'
	h[16] = "89ab"[g.r.IntN(4)]
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// digits returns n random decimal digits, the first non-zero.
func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	b[0] = byte('1' + g.r.IntN(9))
	return string(b)
}

// knownHash is the SHA-256 standing for a named sample, the same in every
// run, so that one malware family's alerts share their indicator.
func knownHash(name string) string {
	sum := sha256.Sum256([]byte("seliq-demo:" + name))
	return hex.EncodeToString(sum[:])
}

// badDomain is an attacker-controlled name under a reserved domain (RFC 2606).
func (g *gen) badDomain() string {
	return pick(g.r, []string{
		"cdn-jquery-update.example.net", "login-microsoftonline.example.org", "invoice-portal.example.net",
		"secure-docusign.example.com", "dropbox-share.example.org", "update-check.example.net", "pastebin-raw.example.org",
		"api-telemetry.example.net", "wp-content-cdn.example.com", "onedrive-files.example.org", "office365-verify.example.com",
		"payroll-hr.example.net", "sharepoint-docs.example.org", "zoom-update.example.net", "tracking-dhl.example.com",
	})
}

// eventTimes returns n times in (now-span, now], ascending, denser in
// business hours the way human-driven detections are.
func (g *gen) eventTimes(n int, span time.Duration) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = g.eventTime(span)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func (g *gen) eventTime(span time.Duration) time.Time {
	// Always two draws, so that the rest of an alert does not depend on
	// the clock: the same seed gives the same hosts, hashes and ids.
	t := g.now.Add(-time.Duration(g.r.Int64N(int64(span))))
	if keep := g.chance(0.4); busy(t) || keep {
		return t.Truncate(time.Millisecond)
	}
	// Most detections follow people: move a night-time one into the day.
	if day := t.Add(-12 * time.Hour); g.now.Sub(day) < span {
		t = day
	} else {
		t = t.Add(12 * time.Hour)
	}
	return t.Truncate(time.Millisecond)
}

// busy reports whether t falls in European/US office hours on a weekday.
func busy(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday && t.Hour() >= 7 && t.Hour() < 20
}
