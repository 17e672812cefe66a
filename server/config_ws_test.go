package server

import "testing"

// SELIQ_WS_MAX_CONNECTIONS_PER_USER defaults to 20 and must be a positive
// number.
func TestLoadConfigWSMaxConnectionsPerUser(t *testing.T) {
	tests := []struct {
		env     string
		want    int
		wantErr bool
	}{
		{"", 20, false},
		{"5000", 5000, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"many", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("SELIQ_WS_MAX_CONNECTIONS_PER_USER", tt.env)
			cfg, err := LoadConfig(nil)
			if (err != nil) != tt.wantErr || (err == nil && cfg.WSMaxConnectionsPerUser != tt.want) {
				t.Errorf("LoadConfig with SELIQ_WS_MAX_CONNECTIONS_PER_USER=%q: %d, err %v", tt.env, cfg.WSMaxConnectionsPerUser, err)
			}
		})
	}
}
