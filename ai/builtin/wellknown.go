package builtin

import (
	_ "embed"
	"encoding/json"
	"net/netip"
	"strings"
)

// wellknown.json lists well-known benign infrastructure (with where each
// group comes from) and the public anti-malware test files.
//
//go:embed wellknown.json
var wellKnownJSON []byte

// Categories of well-known infrastructure.
const (
	wkService     = "service"
	wkMail        = "mail"
	wkUserContent = "user_content"
	wkResolver    = "resolver"
	wkCDN         = "cdn"
	wkScanner     = "scanner"
	wkReference   = "reference"
)

type wellKnownSet struct {
	domains   map[string]string // domain → category (most specific entry wins)
	prefixes  []wkPrefix
	testFiles map[string]bool
}

type wkPrefix struct {
	prefix   netip.Prefix
	category string
}

var wellKnown = mustParseWellKnown(wellKnownJSON)

func mustParseWellKnown(b []byte) *wellKnownSet {
	var doc struct {
		Groups []struct {
			Category, Kind, Source string
			Values                 []string
		}
		TestFiles struct{ Values []string } `json:"test_files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		panic("wellknown.json: " + err.Error())
	}
	s := &wellKnownSet{domains: map[string]string{}, testFiles: map[string]bool{}}
	for _, g := range doc.Groups {
		if g.Source == "" {
			panic("wellknown.json: a group without its source")
		}
		for _, v := range g.Values {
			switch g.Kind {
			case "domain":
				s.domains[strings.ToLower(v)] = g.Category
			case "address":
				p, err := netip.ParsePrefix(v)
				if err != nil {
					a := netip.MustParseAddr(v)
					p = netip.PrefixFrom(a, a.BitLen())
				}
				s.prefixes = append(s.prefixes, wkPrefix{p, g.Category})
			default:
				panic("wellknown.json: unknown kind " + g.Kind)
			}
		}
	}
	for _, h := range doc.TestFiles.Values {
		s.testFiles[strings.ToLower(h)] = true
	}
	return s
}

// domain returns the category of d or of its closest listed parent.
func (s *wellKnownSet) domain(d string) (string, bool) {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	for d != "" {
		if c, ok := s.domains[d]; ok {
			return c, true
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			break
		}
		d = rest
	}
	return "", false
}

// addr returns the category of the listed range holding a.
func (s *wellKnownSet) addr(v string) (string, bool) {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return "", false
	}
	a = a.Unmap()
	for _, p := range s.prefixes {
		if p.prefix.Contains(a) {
			return p.category, true
		}
	}
	return "", false
}
