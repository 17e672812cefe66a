package main

import (
	"fmt"
	"slices"
	"testing"
)

func TestParseLSN(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{in: "0/0", want: 0},
		{in: "16/B374D848", want: 0x16_B374D848},
		{in: "ffffffff/ffffffff", want: 1<<64 - 1},
		{in: "0/1a", want: 0x1a},
		{in: "", wantErr: true},
		{in: "16", wantErr: true},
		{in: "/1", wantErr: true},
		{in: "1/", wantErr: true},
		{in: "1/2/3", wantErr: true},
		{in: "g/1", wantErr: true},
		{in: "-1/1", wantErr: true},
		{in: "+1/1", wantErr: true},
		{in: "100000000/0", wantErr: true},
	} {
		got, err := parseLSN(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseLSN(%q) = %#x, %v; want %#x (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzParseLSN: any text is refused or read as the position that prints
// back as it (in PostgreSQL's upper-case form, any case accepted).
func FuzzParseLSN(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "ffffffff/ffffffff", "1/2/3", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseLSN(s)
		if err != nil {
			return
		}
		back, err := parseLSN(fmt.Sprintf("%X/%X", n>>32, uint32(n)))
		if err != nil || back != n {
			t.Fatalf("%q read as %#x, which prints back as %#x (%v)", s, n, back, err)
		}
	})
}

func TestPGWritesFigures(t *testing.T) {
	before := pgWrites{lsn: "1/00000000", fpi: 100, checkpoints: 3}
	after := pgWrites{lsn: "1/01000000", fpi: 2100, checkpoints: 4}
	f := figures{}
	if err := pgWritesFigures(before, after, 4000, "ingest", f); err != nil {
		t.Fatal(err)
	}
	want := figures{"ingest_wal_mb_per_1k": 16777216.0 / 1e6 / 4, "ingest_fpi_per_1k": 500, "ingest_checkpoints": 1}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %v, want %v", k, f[k], v)
		}
	}
	for k := range f {
		if !slices.ContainsFunc(metrics, func(m metric) bool { return m.key == k }) {
			t.Errorf("%s has no row in the report", k)
		}
	}
	if err := pgWritesFigures(after, before, 4000, "ingest", figures{}); err == nil {
		t.Error("a WAL position that went back: no error")
	}
	empty := figures{}
	if err := pgWritesFigures(before, after, 0, "ingest", empty); err != nil || len(empty) != 0 {
		t.Errorf("no alerts accepted: %v, %v; want no figures", empty, err)
	}
}
