// Command inlinelists rewrites gqlgen's generated executor so that object
// lists are marshalled by graph.marshalList, which keeps gqlgen's
// goroutine per element only for lists whose elements may wait (see
// graph/lists.go). make generate runs it after gqlgen; it fails when it
// finds nothing to rewrite, so a gqlgen whose output changed is noticed
// rather than silently left concurrent.
//
// Usage: go run ./graph/internal/inlinelists graph/generated.go
package main

import (
	"fmt"
	"os"
	"regexp"
)

// call is gqlgen's list marshalling as its templates write it, inside a
// marshal function whose parameters are ctx, sel and v.
var call = regexp.MustCompile(`graphql\.MarshalSliceConcurrently\(ctx, len\(v\), (\d+), (true|false), `)

// rewrite returns src with every call replaced and how many there were.
func rewrite(src []byte) ([]byte, int) {
	n := len(call.FindAllIndex(src, -1))
	return call.ReplaceAll(src, []byte("marshalList(ctx, sel, len(v), $1, $2, ")), n
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: inlinelists FILE")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, n := rewrite(src)
	if n == 0 {
		fmt.Fprintf(os.Stderr, "inlinelists: no graphql.MarshalSliceConcurrently call in %s: gqlgen's output changed; update the pattern\n", path)
		os.Exit(1)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
