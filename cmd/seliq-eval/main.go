// Command seliq-eval measures the built-in analyst on the evaluation set in
// ai/eval: it prints the agreement with the expert's labels (tuned part,
// held-out part, all; per vendor) and the worst misses. With -check it
// exits with status 1 when a figure misses its target.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/seliq/seliq/ai/eval"
)

func main() {
	misses := flag.Int("misses", 15, "worst misses to list")
	check := flag.Bool("check", false, "exit 1 when the figures over all cases miss a target")
	heldOut := flag.Bool("held-out-misses", false, "also list the held-out part's misses (for a final report; never tune on them)")
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
	if *check {
		if short := r.Figures(func(eval.Result) bool { return true }).Shortfalls(); len(short) > 0 {
			for _, s := range short {
				fmt.Fprintln(os.Stderr, "below target:", s)
			}
			os.Exit(1)
		}
	}
}
