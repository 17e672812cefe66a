package builtin

import (
	"strings"
)

// impersonatedBrands are the brands phishing most often imitates (Check
// Point Research's quarterly Brand Phishing Reports, 2023–2025), by the
// label of their real domain.
var impersonatedBrands = []string{
	"microsoft", "office365", "outlook", "onedrive", "sharepoint", "google", "apple", "icloud", "amazon",
	"paypal", "docusign", "dropbox", "adobe", "linkedin", "facebook", "instagram", "whatsapp", "netflix",
	"fedex", "wellsfargo", "github", "coinbase", "binance",
}

// homoglyphs undo the character swaps look-alike domains use.
var homoglyphs = strings.NewReplacer("rn", "m", "vv", "w", "0", "o", "1", "l", "3", "e", "5", "s", "_", "")

// lookalike reports whether domain imitates one of the organisation's
// domains or a much-impersonated brand without being it: a run of its
// labels' hyphen-separated tokens, with homoglyphs undone, spells the
// imitated label (of five letters or more), and the domain is neither the
// real one nor well known.
func lookalike(domain string, own []string) (string, bool) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", false
	}
	if _, ok := wellKnown.domain(domain); ok {
		return "", false
	}
	for _, o := range own {
		if domain == o || strings.HasSuffix(domain, "."+o) {
			return "", false
		}
	}
	var tokens []string
	for _, l := range labels[:len(labels)-1] {
		for _, t := range strings.Split(l, "-") {
			if t != "" && len(tokens) < 12 {
				tokens = append(tokens, homoglyphs.Replace(t))
			}
		}
	}
	registrable := labels[len(labels)-2]
	spells := func(target string) bool {
		for i := range tokens {
			joined := ""
			for _, t := range tokens[i:] {
				if joined += t; joined == target {
					return true
				}
				if len(joined) >= len(target) {
					break
				}
			}
		}
		return false
	}
	for _, o := range own {
		ol := strings.Split(o, ".")
		if len(ol) < 2 {
			continue
		}
		if label := ol[len(ol)-2]; len(label) >= 5 && spells(homoglyphs.Replace(label)) {
			return o, true
		}
	}
	for _, b := range impersonatedBrands {
		if registrable != b && spells(b) {
			return b, true
		}
	}
	return "", false
}
