package main

import "testing"

func TestRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		n              int
	}{
		{"gqlgen's call", "ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {",
			"ret := marshalList(ctx, sel, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {", 1},
		{"worker limit and no panic handler kept", "graphql.MarshalSliceConcurrently(ctx, len(v), 8, true, f)", "marshalList(ctx, sel, len(v), 8, true, f)", 1},
		{"two calls", "graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, a) graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, b)",
			"marshalList(ctx, sel, len(v), 0, false, a) marshalList(ctx, sel, len(v), 0, false, b)", 2},
		{"another shape left alone", "graphql.MarshalSliceConcurrently(ctx, n, 0, false, f)", "graphql.MarshalSliceConcurrently(ctx, n, 0, false, f)", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, n := rewrite([]byte(tc.in))
			if string(out) != tc.want || n != tc.n {
				t.Fatalf("rewrite(%q) = %q, %d; want %q, %d", tc.in, out, n, tc.want, tc.n)
			}
		})
	}
}
