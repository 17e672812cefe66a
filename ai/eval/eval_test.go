package eval

import (
	"bytes"
	"strings"
	"testing"

	"github.com/seliq/seliq/ai/builtin"
)

// TestTargets runs the whole evaluation set and fails when a figure drops
// below its target, on the tuned part, the held-out part or all cases. The
// table goes to the log line by line, so CI's filtered log shows it.
func TestTargets(t *testing.T) {
	cases, err := Cases()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Profile()
	if err != nil {
		t.Fatal(err)
	}
	r := Run(cases, p)
	var b bytes.Buffer
	r.Write(&b, 0)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		t.Log(line)
	}
	for name, keep := range map[string]func(Result) bool{"tuned": tuned, "held-out": heldOut, "all": all} {
		for _, s := range r.Figures(keep).Shortfalls() {
			t.Errorf("%s: %s", name, s)
		}
	}
}

// TestSetShape: the set keeps the shape the issue asks for.
func TestSetShape(t *testing.T) {
	cases, err := Cases()
	if err != nil {
		t.Fatal(err)
	}
	vendors := map[string]bool{}
	ids := map[string]bool{}
	var benign, held int
	for _, c := range cases {
		if ids[c.ID] {
			t.Errorf("case id %s used twice", c.ID)
		}
		ids[c.ID] = true
		vendors[c.Vendor] = true
		if c.Source == "" {
			t.Errorf("%s: no source cited", c.ID)
		}
		switch c.Label.Verdict {
		case Benign:
			benign++
		case Malicious, Suspicious:
		default:
			t.Errorf("%s: verdict %q", c.ID, c.Label.Verdict)
		}
		for _, id := range c.Label.Techniques {
			if _, ok := builtin.LookupMatrix(id); !ok {
				t.Errorf("%s: technique %s is not in the ATT&CK matrix", c.ID, id)
			}
		}
		if c.HeldOut {
			held++
		}
	}
	if len(cases) < 120 || len(vendors) < 12 {
		t.Errorf("%d cases from %d sources, want at least 120 from 12", len(cases), len(vendors))
	}
	if f := float64(benign) / float64(len(cases)); f < 0.3 || f > 0.4 {
		t.Errorf("benign share %.2f, want about a third", f)
	}
	if f := float64(held) / float64(len(cases)); f < 0.24 || f > 0.26 {
		t.Errorf("held-out share %.2f, want a quarter", f)
	}
}

func TestNormIOC(t *testing.T) {
	for in, want := range map[string]string{
		"Evil.Example.NET":         "evil.example.net",
		"::ffff:198.51.100.1":      "198.51.100.1",
		"https://x.test/A?b=C":     "https://x.test/A?b=C",
		"ABCDEF0123456789abcdef01": "abcdef0123456789abcdef01",
	} {
		if got := NormIOC(in); got != want {
			t.Errorf("NormIOC(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkEval is the cost of the whole evaluation (126 alerts, ingest
// mapping and extraction included).
func BenchmarkEval(b *testing.B) {
	cases, _ := Cases()
	p, _ := Profile()
	for b.Loop() {
		Run(cases, p)
	}
}
