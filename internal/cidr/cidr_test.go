package cidr

import (
	"net/netip"
	"slices"
	"testing"
)

func TestParseAll(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: []string{}},
		{in: "10.0.0.0/8, 192.0.2.7", want: []string{"10.0.0.0/8", "192.0.2.7/32"}},
		{in: "10.1.2.3/8,10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},
		{in: "fd00::1", want: []string{"fd00::1/128"}},
		{in: "10.0.0.0/8, nonsense", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseAll(Fields(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		var strs []string
		for _, p := range got {
			strs = append(strs, p.String())
		}
		if !slices.Equal(strs, tt.want) && !(len(strs) == 0 && len(tt.want) == 0) {
			t.Errorf("%q: %v, want %v", tt.in, strs, tt.want)
		}
	}
}

func TestContains(t *testing.T) {
	ps, err := ParseAll([]string{"10.0.0.0/8", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"10.9.8.7": true, "11.0.0.1": false, "2001:db8::5": true, "::1": false} {
		if got := Contains(ps, netip.MustParseAddr(addr)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", addr, got, want)
		}
	}
}
