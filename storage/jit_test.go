package storage

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestJITOffUnlessTheURLSaysOtherwise(t *testing.T) {
	tests := []struct{ url, want string }{
		{"postgres://u@localhost/db", "off"},
		{"postgres://u@localhost/db?jit=on", "on"},
		{"postgres://u@localhost/db?sslmode=disable&jit=off", "off"},
	}
	for _, tc := range tests {
		cfg, err := pgxpool.ParseConfig(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		withoutJIT(cfg)
		if got := cfg.ConnConfig.RuntimeParams["jit"]; got != tc.want {
			t.Errorf("%s: jit = %q, want %q", tc.url, got, tc.want)
		}
	}
}
