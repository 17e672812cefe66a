package eval

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/seliq/seliq/ai/builtin"
)

// Targets are the figures the analyst must reach (issue 22).
var Targets = Figures{
	VerdictExact: 0.85, MaliciousCalledBenign: 0, BenignRecognised: 0.80,
	TechniqueF1: 0.80, IOCPrecision: 0.95, IOCRecall: 0.95,
}

// Result is one case's outcome.
type Result struct {
	Case     Case
	Verdict  string // the analyst's verdict mapped onto the expert's
	Analysis builtin.Analysis
	// Technique and IOC counts: true positives, false positives, false
	// negatives, with the values for the misses report.
	TechTP, TechFP, TechFN int
	IOCTP, IOCFP, IOCFN    int
	ExtraTech, MissedTech  []string
	ExtraIOC, MissedIOC    []string
	Err                    error
}

// Figures are the measures over a group of cases.
type Figures struct {
	Cases                 int
	VerdictExact          float64
	MaliciousCalledBenign int
	Benign, BenignHit     int
	BenignRecognised      float64
	TechniqueP            float64
	TechniqueR            float64
	TechniqueF1           float64
	IOCPrecision          float64
	IOCRecall             float64
	Errors                int
}

// Report is the outcome of a run.
type Report struct {
	Results []Result
}

// Run ingests and analyses every case with the profile.
func Run(cases []Case, p builtin.AssetProfile) Report {
	var r Report
	for _, c := range cases {
		r.Results = append(r.Results, runOne(c, p))
	}
	return r
}

func runOne(c Case, p builtin.AssetProfile) Result {
	res := Result{Case: c}
	a, err := Ingest(c)
	if err != nil {
		res.Err = err
		return res
	}
	res.Analysis = builtin.AnalyzeAlert(a, builtin.Context{Profile: p})
	res.Verdict = ExpertVerdict(res.Analysis.Verdict)
	var got []string
	for _, t := range res.Analysis.Techniques {
		got = append(got, t.ID)
	}
	res.TechTP, res.ExtraTech, res.MissedTech = compare(got, c.Label.Techniques, strings.ToUpper)
	res.TechFP, res.TechFN = len(res.ExtraTech), len(res.MissedTech)
	got = got[:0]
	for _, e := range res.Analysis.IOCs {
		got = append(got, e.Value)
	}
	res.IOCTP, res.ExtraIOC, res.MissedIOC = compare(got, c.Label.IOCs, NormIOC)
	res.IOCFP, res.IOCFN = len(res.ExtraIOC), len(res.MissedIOC)
	return res
}

// ExpertVerdict maps the analyst's verdict onto the expert's three.
func ExpertVerdict(v string) string {
	switch v {
	case builtin.VerdictLikelyMalicious:
		return Malicious
	case builtin.VerdictLikelyBenign:
		return Benign
	}
	return Suspicious
}

// NormIOC normalises an indicator for comparison: IP addresses in
// canonical form, URLs as given, everything else lower-cased.
func NormIOC(v string) string {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().String()
	}
	if strings.Contains(v, "://") {
		return v
	}
	return strings.ToLower(v)
}

// compare returns the matches, the values only in got and those only in want.
func compare(got, want []string, norm func(string) string) (tp int, extra, missed []string) {
	w := map[string]bool{}
	for _, v := range want {
		w[norm(v)] = true
	}
	g := map[string]bool{}
	for _, v := range got {
		n := norm(v)
		if g[n] {
			continue
		}
		g[n] = true
		if w[n] {
			tp++
		} else {
			extra = append(extra, v)
		}
	}
	for _, v := range want {
		if !g[norm(v)] {
			missed = append(missed, v)
		}
	}
	return tp, extra, missed
}

// Figures computes the measures over the results that pass keep.
func (r Report) Figures(keep func(Result) bool) Figures {
	var f Figures
	var exact, ttp, tfp, tfn, itp, ifp, ifn int
	for _, res := range r.Results {
		if !keep(res) {
			continue
		}
		f.Cases++
		if res.Err != nil {
			f.Errors++
		}
		want := res.Case.Label.Verdict
		if res.Verdict == want {
			exact++
		}
		if want == Malicious && res.Verdict == Benign {
			f.MaliciousCalledBenign++
		}
		if want == Benign {
			f.Benign++
			if res.Verdict == Benign {
				f.BenignHit++
			}
		}
		ttp, tfp, tfn = ttp+res.TechTP, tfp+res.TechFP, tfn+res.TechFN
		itp, ifp, ifn = itp+res.IOCTP, ifp+res.IOCFP, ifn+res.IOCFN
	}
	f.VerdictExact = ratio(exact, f.Cases)
	f.BenignRecognised = ratio(f.BenignHit, f.Benign)
	f.TechniqueP, f.TechniqueR = ratio(ttp, ttp+tfp), ratio(ttp, ttp+tfn)
	if f.TechniqueP+f.TechniqueR > 0 {
		f.TechniqueF1 = 2 * f.TechniqueP * f.TechniqueR / (f.TechniqueP + f.TechniqueR)
	}
	f.IOCPrecision, f.IOCRecall = ratio(itp, itp+ifp), ratio(itp, itp+ifn)
	return f
}

// ratio is n/d, 1 for an empty group (nothing to get wrong).
func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

// Shortfalls lists the targets f misses.
func (f Figures) Shortfalls() []string {
	var out []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	t := Targets
	check(f.Errors == 0, "%d cases failed to ingest", f.Errors)
	check(f.VerdictExact >= t.VerdictExact, "verdict exact %.1f%% < %.0f%%", 100*f.VerdictExact, 100*t.VerdictExact)
	check(f.MaliciousCalledBenign <= t.MaliciousCalledBenign, "malicious called benign %d > %d", f.MaliciousCalledBenign, t.MaliciousCalledBenign)
	check(f.BenignRecognised >= t.BenignRecognised, "benign recognised %.1f%% < %.0f%%", 100*f.BenignRecognised, 100*t.BenignRecognised)
	check(f.TechniqueF1 >= t.TechniqueF1, "technique F1 %.2f < %.2f", f.TechniqueF1, t.TechniqueF1)
	check(f.IOCPrecision >= t.IOCPrecision, "IOC precision %.2f < %.2f", f.IOCPrecision, t.IOCPrecision)
	check(f.IOCRecall >= t.IOCRecall, "IOC recall %.2f < %.2f", f.IOCRecall, t.IOCRecall)
	return out
}

func all(Result) bool       { return true }
func tuned(r Result) bool   { return !r.Case.HeldOut }
func heldOut(r Result) bool { return r.Case.HeldOut }

// Write prints the table (tuned part, held-out part, all), the per-vendor
// rows over all cases and the worst misses of the tuned part (held-out
// misses are not shown, so that nobody tunes on them; WriteHeldOutMisses
// lists them for a final report).
func (r Report) Write(w io.Writer, misses int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "part\tcases\tverdict exact\tmal→benign\tbenign recognised\ttech F1 (P/R)\tIOC P\tIOC R\t")
	row := func(name string, f Figures) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%d\t%d/%d %.0f%%\t%.2f (%.2f/%.2f)\t%.2f\t%.2f\t\n", name, f.Cases, 100*f.VerdictExact,
			f.MaliciousCalledBenign, f.BenignHit, f.Benign, 100*f.BenignRecognised, f.TechniqueF1, f.TechniqueP, f.TechniqueR, f.IOCPrecision, f.IOCRecall)
	}
	row("tuned", r.Figures(tuned))
	row("held-out", r.Figures(heldOut))
	row("all", r.Figures(all))
	t := Targets
	fmt.Fprintf(tw, "target\t\t≥%.0f%%\t%d\t≥%.0f%%\t≥%.2f\t≥%.2f\t≥%.2f\t\n", 100*t.VerdictExact, t.MaliciousCalledBenign, 100*t.BenignRecognised, t.TechniqueF1, t.IOCPrecision, t.IOCRecall)
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t")
	fmt.Fprintln(tw, "vendor\tcases\tverdict exact\tmal→benign\tbenign recognised\ttech F1 (P/R)\tIOC P\tIOC R\t")
	var vendors []string
	for _, res := range r.Results {
		if !slices.Contains(vendors, res.Case.Vendor) {
			vendors = append(vendors, res.Case.Vendor)
		}
	}
	for _, v := range vendors {
		row(v, r.Figures(func(res Result) bool { return res.Case.Vendor == v }))
	}
	tw.Flush()
	if misses > 0 {
		fmt.Fprintln(w, "\nworst misses:")
		for _, m := range r.Worst(misses, tuned) {
			fmt.Fprintln(w, "  "+m.Describe())
		}
	}
}

// WriteHeldOutMisses lists the misses of the held-out part.
func (r Report) WriteHeldOutMisses(w io.Writer, misses int) {
	fmt.Fprintln(w, "\nheld-out misses:")
	for _, m := range r.Worst(misses, heldOut) {
		fmt.Fprintln(w, "  "+m.Describe())
	}
}

// badness orders misses: a malicious alert called benign first, then a
// verdict two steps off, one step off, then technique and IOC errors.
func (res Result) badness() int {
	if res.Err != nil {
		return 1000
	}
	rank := map[string]int{Benign: 0, Suspicious: 1, Malicious: 2}
	d := rank[res.Case.Label.Verdict] - rank[res.Verdict]
	b := 0
	switch {
	case res.Case.Label.Verdict == Malicious && res.Verdict == Benign:
		b = 500
	case d != 0:
		b = 100 * max(d, -d)
		if d > 0 {
			b += 10 // missing danger is worse than overcaution
		}
	}
	return b + 3*(res.TechFP+res.TechFN) + 2*(res.IOCFP+res.IOCFN)
}

// Worst returns up to n results that pass keep with a miss, worst first.
func (r Report) Worst(n int, keep func(Result) bool) []Result {
	var out []Result
	for _, res := range r.Results {
		if keep(res) && res.badness() > 0 {
			out = append(out, res)
		}
	}
	slices.SortStableFunc(out, func(a, b Result) int { return cmp.Compare(b.badness(), a.badness()) })
	return out[:min(n, len(out))]
}

// Describe is one line on what a result got wrong.
func (res Result) Describe() string {
	c := res.Case
	held := ""
	if c.HeldOut {
		held = " [held-out]"
	}
	if res.Err != nil {
		return fmt.Sprintf("%s%s: %v", c.ID, held, res.Err)
	}
	s := fmt.Sprintf("%s%s (%s): verdict %s, expert %s", c.ID, held, c.Vendor, res.Analysis.Verdict, c.Label.Verdict)
	if len(res.ExtraTech)+len(res.MissedTech) > 0 {
		s += fmt.Sprintf("; techniques +%v -%v", res.ExtraTech, res.MissedTech)
	}
	if len(res.ExtraIOC)+len(res.MissedIOC) > 0 {
		s += fmt.Sprintf("; IOCs +%v -%v", res.ExtraIOC, res.MissedIOC)
	}
	if len(res.Analysis.Reasons) > 0 {
		top := res.Analysis.Reasons[0]
		s += fmt.Sprintf("; top reason %s %+.2f %q", top.Signal, top.Weight, top.Detail)
	}
	return s
}
