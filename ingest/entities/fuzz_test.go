package entities

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	benchAlert,
	"hxxps://login.micros0ft-helpdesk[.]com/verify?id=8842 it-support@micros0ft-helpdesk.com",
	"Failed password for invalid user oracle from 198.51.100.23 port 50122 ssh2",
	"fe80::1%eth0 ::ffff:192.0.2.1 [2001:db8::1]:443 Src:2001:db8:1::5 00:11:22:33:44:55:66:77",
	"http://[2001:db8::2]:8443/x https://user:pw@intranet/ (https://example.net/a_(b)).",
	"Account Name:\t\tWS01$\r\n<Data Name=\"TargetUserName\">svc</Data> sudo:   deploy : TTY=pts/0",
	"CVE-2021-44228 cve-2019-0708 SHA256=EF92B778BAFE771E89245B89ECBC08A44A4E166C06659911881F383D4473E94F",
	"user=\"John Smith\" acct='x' user= logname= [.] (.) {.} [:] [@] [dot] hXXp[://]evil fxp:",
}

var knownTypes = map[string]bool{
	IPv4: true, IPv6: true, Domain: true, URL: true, Hostname: true, User: true,
	MD5: true, SHA1: true, SHA256: true, CVE: true, Email: true,
}

// checkEntities asserts the invariants every result must hold.
func checkEntities(t *testing.T, got []Entity) {
	t.Helper()
	if got == nil {
		t.Fatal("nil result")
	}
	if len(got) > MaxEntities {
		t.Fatalf("%d entities > MaxEntities", len(got))
	}
	seen := make(map[Entity]bool, len(got))
	for _, e := range got {
		if !knownTypes[e.Type] {
			t.Fatalf("unknown type in %+v", e)
		}
		if e.Value == "" {
			t.Fatalf("empty value in %+v", e)
		}
		key := e
		if e.Type == User {
			key.Value = strings.ToLower(e.Value)
		}
		if seen[key] {
			t.Fatalf("duplicate %+v", e)
		}
		seen[key] = true
		switch e.Type {
		case IPv4, IPv6:
			a, err := netip.ParseAddr(e.Value)
			if err != nil || a.String() != e.Value || a.Is4() != (e.Type == IPv4) || junkAddr(a) {
				t.Fatalf("bad address %+v (%v)", e, err)
			}
		case MD5, SHA1, SHA256:
			want := map[string]int{MD5: 32, SHA1: 40, SHA256: 64}[e.Type]
			if len(e.Value) != want || strings.Trim(e.Value, "0123456789abcdef") != "" {
				t.Fatalf("bad hash %+v", e)
			}
		case CVE:
			if !strings.HasPrefix(e.Value, "CVE-") {
				t.Fatalf("bad CVE %+v", e)
			}
		case Domain, Hostname, Email:
			if e.Value != strings.ToLower(e.Value) {
				t.Fatalf("not lower-case %+v", e)
			}
		case URL:
			if strings.ContainsAny(e.Value, " \t\r\n") {
				t.Fatalf("URL with space %+v", e)
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "WS01.corp.example.com", `CORP\alice`, "10.0.0.1:443")
	}
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, text, hostHint, userHint, ipHint string) {
		hints := map[string]string{"host": hostHint, "user": userHint, "src_ip": ipHint, "url": text, "file_hash": text, "email_to": text, "other": hostHint}
		got := Extract(hints, text, userHint)
		checkEntities(t, got)
		if again := Extract(hints, text, userHint); !reflect.DeepEqual(got, again) {
			t.Fatalf("not deterministic:\n%v\n%v", got, again)
		}
		checkEntities(t, Extract(nil, text))
	})
}

func FuzzExtractJSON(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(`{"message":` + quoteJSON(s) + `,"host":{"name":"WS01"},"user":"bob","x":[1,"10.0.0.1",null]}`))
	}
	f.Add([]byte(`{"a":"\ud83d\ude00\u0040\"","b":[[[{"user":{"name":"x"}}]]]`))
	f.Add([]byte(`"\u12`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		got := ExtractJSON(doc)
		checkEntities(t, got)
		if again := ExtractJSON(doc); !reflect.DeepEqual(got, again) {
			t.Fatalf("not deterministic:\n%v\n%v", got, again)
		}
	})
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
