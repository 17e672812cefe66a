package builtin

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// maxMatched bounds the matched text quoted in a Technique.
const maxMatched = 80

type keyword struct {
	text   string
	prefix bool // matches any word starting with text
}

type pattern struct {
	literal string // every match starts with it: a cheap pre-check
	re      *regexp.Regexp
}

type compiledTechnique struct {
	id, name, tactic string
	keywords         []keyword
	patterns         []pattern
}

// catalog is the compiled technique table; built once, read-only after.
type catalog struct {
	techniques []compiledTechnique
	byID       map[string]int
}

var techniques = mustCompileCatalog(techniqueTable)

func mustCompileCatalog(rules []techniqueRule) *catalog {
	c, err := compileCatalog(rules)
	if err != nil {
		panic(err)
	}
	return c
}

func compileCatalog(rules []techniqueRule) (*catalog, error) {
	c := &catalog{byID: make(map[string]int, len(rules))}
	for _, r := range rules {
		if _, dup := c.byID[r.ID]; dup {
			return nil, fmt.Errorf("technique %s listed twice", r.ID)
		}
		if _, ok := tacticWeights[r.Tactic]; !ok {
			return nil, fmt.Errorf("technique %s: unknown tactic %q", r.ID, r.Tactic)
		}
		ct := compiledTechnique{id: r.ID, name: r.Name, tactic: r.Tactic}
		for _, k := range r.Keywords {
			text, prefix := strings.CutSuffix(k, "*")
			if text == "" || text != strings.ToLower(text) {
				return nil, fmt.Errorf("technique %s: keyword %q must be non-empty lower case", r.ID, k)
			}
			ct.keywords = append(ct.keywords, keyword{text: text, prefix: prefix})
		}
		for _, p := range r.Patterns {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("technique %s: pattern %q: %w", r.ID, p, err)
			}
			lit, _ := re.LiteralPrefix()
			if len(lit) < 2 {
				return nil, fmt.Errorf("technique %s: pattern %q must start with a literal of 2+ characters", r.ID, p)
			}
			ct.patterns = append(ct.patterns, pattern{literal: lit, re: re})
		}
		c.byID[r.ID] = len(c.techniques)
		c.techniques = append(c.techniques, ct)
	}
	return c, nil
}

// match returns the techniques found in the lower-cased text, most
// damaging tactic first.
func (c *catalog) match(text string) []Technique {
	var out []Technique
	seen := make(map[string]bool)
	tri := newTrigrams(text)
	for _, t := range c.techniques {
		if m, ok := t.find(text, tri); ok {
			out = append(out, t.technique(m))
			seen[t.id] = true
		}
	}
	for _, id := range vendorTechniqueIDs(text) {
		if i, ok := c.byID[id]; ok && !seen[id] {
			out = append(out, c.techniques[i].technique("vendor tag "+id))
			seen[id] = true
		}
	}
	out = slices.DeleteFunc(out, func(t Technique) bool { return hasSubTechnique(t.ID, seen) })
	sortTechniques(out)
	return out
}

func (t compiledTechnique) technique(matched string) Technique {
	return Technique{ID: t.id, Name: t.name, Tactic: t.tactic, Matched: matched}
}

// find returns the text that revealed the technique.
func (t compiledTechnique) find(text string, tri *trigrams) (string, bool) {
	for _, k := range t.keywords {
		if !tri.mayContain(k.text) {
			continue
		}
		if i, j := findWord(text, k); i >= 0 {
			return clip(text[i:j], maxMatched), true
		}
	}
	for _, p := range t.patterns {
		if !tri.mayContain(p.literal) || !strings.Contains(text, p.literal) {
			continue
		}
		if loc := p.re.FindStringIndex(text); loc != nil {
			return clip(text[loc[0]:loc[1]], maxMatched), true
		}
	}
	return "", false
}

// findWord finds k in s at word boundaries (a boundary is only required
// next to a word character of k), extending a prefix keyword to the end of
// its word.
func findWord(s string, k keyword) (int, int) {
	needLeft := isWordByte(k.text[0])
	needRight := !k.prefix && isWordByte(k.text[len(k.text)-1])
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], k.text)
		if i < 0 {
			return -1, -1
		}
		i += off
		end := i + len(k.text)
		leftOK := !needLeft || i == 0 || !isWordByte(s[i-1])
		rightOK := !needRight || end == len(s) || !isWordByte(s[end])
		if leftOK && rightOK {
			for k.prefix && end < len(s) && isWordByte(s[end]) {
				end++
			}
			return i, end
		}
		off = i + 1
	}
	return -1, -1
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b >= 'A' && b <= 'Z'
}

// vendorTechniqueIDs finds ATT&CK IDs ("t1059.001", "attack.t1003") that
// vendors and Sigma rules put in their payloads, upper-cased, in order.
func vendorTechniqueIDs(text string) []string {
	var ids []string
	for i := 0; i+5 <= len(text); i++ {
		if text[i] != 't' || i > 0 && isAlnum(text[i-1]) || !digits(text, i+1, 4) {
			continue
		}
		end := i + 5
		if end+4 <= len(text) && text[end] == '.' && digits(text, end+1, 3) {
			end += 4
		}
		if end < len(text) && isAlnum(text[end]) || end == i+5 && digits(text, end+1, 1) && text[end] == '.' {
			continue // longer token, or a malformed sub-technique ("t1027.01")
		}
		id := strings.ToUpper(text[i:end])
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		i = end - 1
	}
	return ids
}

func digits(s string, from, n int) bool {
	if from+n > len(s) {
		return false
	}
	for i := from; i < from+n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(b byte) bool { return isWordByte(b) && b != '_' }

// hasSubTechnique reports whether a sub-technique of id was also seen, in
// which case the parent adds nothing.
func hasSubTechnique(id string, seen map[string]bool) bool {
	if strings.Contains(id, ".") {
		return false
	}
	for other := range seen {
		if strings.HasPrefix(other, id+".") {
			return true
		}
	}
	return false
}

// sortTechniques orders by tactic weight (most damaging first), then ID.
func sortTechniques(ts []Technique) {
	slices.SortStableFunc(ts, func(a, b Technique) int {
		if c := cmp.Compare(tacticWeights[b.Tactic], tacticWeights[a.Tactic]); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// trigrams is a Bloom-like set of the text's 3-byte sequences: a keyword
// whose first three bytes are absent cannot occur, which spares most of
// the substring searches.
type trigrams [1 << 16 / 64]uint64

func newTrigrams(text string) *trigrams {
	var t trigrams
	for i := 0; i+3 <= len(text); i++ {
		h := trigramHash(text[i], text[i+1], text[i+2])
		t[h/64] |= 1 << (h % 64)
	}
	return &t
}

func (t *trigrams) mayContain(s string) bool {
	if len(s) < 3 {
		return true
	}
	h := trigramHash(s[0], s[1], s[2])
	return t[h/64]&(1<<(h%64)) != 0
}

func trigramHash(a, b, c byte) uint32 {
	return (uint32(a)<<16 | uint32(b)<<8 | uint32(c)) * 2654435761 >> 16
}

// LookupTechnique returns the technique of the table with the given ATT&CK
// id ("T1059.001"), for validating ids that come from elsewhere (a model's
// answer).
func LookupTechnique(id string) (Technique, bool) {
	i, ok := techniques.byID[id]
	if !ok {
		return Technique{}, false
	}
	t := techniques.techniques[i]
	return Technique{ID: t.id, Name: t.name, Tactic: t.tactic}, true
}
