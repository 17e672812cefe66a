package layout

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The architecture page is the map a newcomer reads first, so it must
// match the tree: it names every package, and every path it names exists.

// documentedEnt are ent's own subpackages worth naming; the rest of ent/ is
// generated per entity and described as a whole.
var documentedEnt = map[string]bool{"ent": true, "ent/schema": true, "ent/rule": true, "ent/schematype": true}

var codeSpan = regexp.MustCompile("`([^`]+)`")

func architecture(t *testing.T) (doc string, root string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatalf("docs/ARCHITECTURE.md: %v", err)
	}
	return string(b), root
}

// spans are the code spans of doc, with a trailing slash removed.
func spans(doc string) map[string]bool {
	out := map[string]bool{}
	for _, m := range codeSpan.FindAllStringSubmatch(doc, -1) {
		out[strings.TrimSuffix(m[1], "/")] = true
	}
	return out
}

func TestArchitectureNamesEveryPackage(t *testing.T) {
	doc, _ := architecture(t)
	named := spans(doc)
	for pkg := range imports(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		if under(pkg, module+"/ent") && !documentedEnt[rel] {
			continue
		}
		if rel == "" || named[rel] {
			continue
		}
		t.Errorf("docs/ARCHITECTURE.md does not name package %s (as `%s`)", pkg, rel)
	}
}

// A span that looks like a path in the repository (it has a slash, or ends
// in a file extension) must exist; `pkg/sub.Symbol` is checked as pkg/sub.
func TestArchitecturePathsExist(t *testing.T) {
	doc, root := architecture(t)
	path := regexp.MustCompile(`^[a-z][a-z0-9_./-]*$`)
	file := regexp.MustCompile(`\.(go|graphql|md|yml|sql)$`)
	for span := range spans(doc) {
		if !path.MatchString(span) || (!strings.Contains(span, "/") && !file.MatchString(span)) {
			continue
		}
		p := span
		if !file.MatchString(p) {
			if i := strings.LastIndex(p, "/"); strings.Contains(p[i+1:], ".") {
				p = p[:i+1+strings.Index(p[i+1:], ".")]
			}
		}
		if strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("docs/ARCHITECTURE.md names `%s`, which does not exist: %v", span, err)
		}
	}
}
