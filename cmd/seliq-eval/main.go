// Command seliq-eval measures the built-in analyst on the evaluation set in
// ai/eval: it prints the agreement with the expert's labels (tuned part,
// held-out part, all; per vendor) and the worst misses. With -check it
// exits with status 1 when a figure misses its target.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"

	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"

	"github.com/seliq/seliq/ai/eval"
)

func main() {
	misses := flag.Int("misses", 15, "worst misses to list")
	check := flag.Bool("check", false, "exit 1 when the figures over all cases miss a target")
	heldOut := flag.Bool("held-out-misses", false, "also list the held-out part's misses (for a final report; never tune on them)")
	database := flag.String("database", "", "also list the analyses analysts flagged as inaccurate in this database (SELIQ_DATABASE_URL form), per organisation")
	flag.Parse()
	cases, err := eval.Cases()
	if err != nil {
		fmt.Fprintln(os.Stderr, "seliq-eval:", err)
		os.Exit(2)
	}
	p, err := eval.Profile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "seliq-eval:", err)
		os.Exit(2)
	}
	r := eval.Run(cases, p)
	r.Write(os.Stdout, *misses)
	if *heldOut {
		r.WriteHeldOutMisses(os.Stdout, *misses)
	}
	if *database != "" {
		if err := writeFlagged(context.Background(), os.Stdout, *database); err != nil {
			fmt.Fprintln(os.Stderr, "seliq-eval:", err)
			os.Exit(2)
		}
	}
	if *check {
		if short := r.Figures(func(eval.Result) bool { return true }).Shortfalls(); len(short) > 0 {
			for _, s := range short {
				fmt.Fprintln(os.Stderr, "below target:", s)
			}
			os.Exit(1)
		}
	}
}

// writeFlagged lists every organisation's analyses flagged as inaccurate:
// the alerts the set should learn from next.
func writeFlagged(ctx context.Context, w io.Writer, url string) error {
	db, err := storage.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	var lines []string
	err = jobs.ForEachOrganization(ctx, db.Client, func(ctx context.Context, org uuid.UUID) error {
		list, err := analysis.Flagged(ctx, db.Client)
		for _, f := range list {
			lines = append(lines, fmt.Sprintf("  org %s  %s  %-16s %-18s %q (analysis %s, %s)", org, f.AlertID, f.Source, f.Verdict, f.Title, f.AnalysisID, f.Model))
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nanalyses flagged as inaccurate: %d\n", len(lines))
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return nil
}
