package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Profiles are served on loopback only; any other address is refused at
// configuration time rather than exposed.
func TestCheckPprofAddr(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{"0.0.0.0:6060", false},
		{":6060", false},
		{"10.0.0.5:6060", false},
		{"example.com:6060", false},
		{"127.0.0.1", false}, // no port
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if err := checkPprofAddr(tt.addr); (err == nil) != tt.ok {
				t.Errorf("checkPprofAddr(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
}

// LoadConfig leaves profiling off unless asked, and refuses a public address.
func TestLoadConfigPprof(t *testing.T) {
	tests := []struct {
		env     string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"127.0.0.1:6061", "127.0.0.1:6061", false},
		{"0.0.0.0:6061", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("SELIQ_PPROF_ADDR", tt.env)
			cfg, err := LoadConfig(nil)
			if (err != nil) != tt.wantErr || (err == nil && cfg.PprofAddr != tt.want) {
				t.Errorf("LoadConfig with SELIQ_PPROF_ADDR=%q: addr %q err %v", tt.env, cfg.PprofAddr, err)
			}
		})
	}
}

// The handler serves the index and nothing outside /debug/pprof/.
func TestPprofHandler(t *testing.T) {
	h := pprofHandler()
	for path, want := range map[string]int{"/debug/pprof/": http.StatusOK, "/api/v1/alerts": http.StatusNotFound} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}
