package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLoadConfigPprofAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true},
		{"127.0.0.1:6060", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{"127.0.0.2:0", true},
		{"0.0.0.0:6060", false},
		{":6060", false},
		{"10.0.0.5:6060", false},
		{"example.com:6060", false},
		{"127.0.0.1", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			cfg, err := LoadConfig([]string{"-pprof-addr", tc.addr})
			if tc.ok != (err == nil) {
				t.Fatalf("LoadConfig(-pprof-addr %q) error = %v, want ok=%v", tc.addr, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "SELIQ_PPROF_ADDR") {
				t.Fatalf("error %q does not name the setting", err)
			}
			if tc.ok && cfg.PprofAddr != tc.addr {
				t.Fatalf("PprofAddr = %q", cfg.PprofAddr)
			}
		})
	}
}

func TestPprofServerServesProfiles(t *testing.T) {
	srv := httptest.NewServer(PprofServer().Handler)
	defer srv.Close()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", path, res.StatusCode, len(body))
		}
	}
}
