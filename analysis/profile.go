package analysis

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// profileKey is the settings document of the organisation's asset profile.
const profileKey = "asset_profile"

// Bounds on an asset profile.
const (
	maxProfileEntries = 500 // per list
	maxProfileValue   = 255 // characters per entry
)

// UpdateAssetProfileInput replaces the lists it carries; a list left out
// keeps its value, an empty list clears it.
type UpdateAssetProfileInput struct {
	Domains       []string `json:"domains"`
	Networks      []string `json:"networks"`
	AdminHosts    []string `json:"admin_hosts"`
	AdminAccounts []string `json:"admin_accounts"`
	Scanners      []string `json:"scanners"`
}

// AssetProfile returns the acting organisation's asset profile (empty
// lists when it never set one).
func (s *Service) AssetProfile(ctx context.Context) (*builtin.AssetProfile, error) {
	p, err := loadProfile(ctx, s.client)
	return &p, err
}

func loadProfile(ctx context.Context, c *ent.Client) (builtin.AssetProfile, error) {
	var p builtin.AssetProfile
	if _, err := settingstore.Load(ctx, c, profileKey, &p); err != nil {
		return p, err
	}
	return nonNilProfile(p), nil
}

func nonNilProfile(p builtin.AssetProfile) builtin.AssetProfile {
	for _, l := range []*[]string{&p.Domains, &p.Networks, &p.AdminHosts, &p.AdminAccounts, &p.Scanners} {
		if *l == nil {
			*l = []string{}
		}
	}
	return p
}

// UpdateAssetProfile changes the asset profile (admins only); the change
// is recorded in the activity log.
func (s *Service) UpdateAssetProfile(ctx context.Context, in UpdateAssetProfileInput) (*builtin.AssetProfile, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || !v.IsAdmin() {
		return nil, apperr.New(apperr.Forbidden, "only administrators change the asset profile")
	}
	var out builtin.AssetProfile
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		cur, err := loadProfile(ctx, c)
		if err != nil {
			return err
		}
		next, err := applyProfile(cur, in)
		if err != nil {
			return err
		}
		if err := settingstore.Save(ctx, c, profileKey, next); err != nil {
			return err
		}
		out = next
		return audit.Record(ctx, c, audit.Entry{EntityType: "asset_profile", EntityID: v.OrgID, Action: "update", Before: cur, After: next})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// applyProfile validates the lists the input carries and returns the
// updated profile; the first bad entry is reported by its field and index.
func applyProfile(cur builtin.AssetProfile, in UpdateAssetProfileInput) (builtin.AssetProfile, error) {
	lists := []struct {
		field string
		in    []string
		out   *[]string
		check func(string) (string, error)
	}{
		{"domains", in.Domains, &cur.Domains, checkDomain},
		{"networks", in.Networks, &cur.Networks, checkNetwork},
		{"admin_hosts", in.AdminHosts, &cur.AdminHosts, checkName},
		{"admin_accounts", in.AdminAccounts, &cur.AdminAccounts, checkName},
		{"scanners", in.Scanners, &cur.Scanners, checkName},
	}
	for _, l := range lists {
		if l.in == nil {
			continue
		}
		if len(l.in) > maxProfileEntries {
			return cur, apperr.Invalid(l.field, "at most %d entries", maxProfileEntries)
		}
		out := make([]string, 0, len(l.in))
		seen := map[string]bool{}
		for i, v := range l.in {
			n, err := l.check(strings.TrimSpace(v))
			if err != nil {
				return cur, apperr.Invalid(fmt.Sprintf("%s.%d", l.field, i), "%v", err)
			}
			if !seen[strings.ToLower(n)] {
				seen[strings.ToLower(n)] = true
				out = append(out, n)
			}
		}
		*l.out = out
	}
	return nonNilProfile(cur), nil
}

func checkName(v string) (string, error) {
	switch {
	case v == "":
		return "", fmt.Errorf("must not be empty")
	case len(v) > maxProfileValue:
		return "", fmt.Errorf("at most %d characters", maxProfileValue)
	case strings.ContainsAny(v, " \t\r\n\x00"):
		return "", fmt.Errorf("%q must be one host, address or account name without spaces", v)
	}
	return v, nil
}

// checkDomain accepts a DNS name (no scheme, no wildcard), lower-cased.
func checkDomain(v string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(v, "."))
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") {
		return "", fmt.Errorf("%q is not a domain name like example.com", v)
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%q is not a domain name like example.com", v)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", fmt.Errorf("%q is not a domain name like example.com", v)
			}
		}
	}
	return d, nil
}

// checkNetwork accepts a CIDR range or a single address, in canonical form.
func checkNetwork(v string) (string, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked().String(), nil
	}
	if a, err := netip.ParseAddr(v); err == nil && a.Zone() == "" {
		return a.Unmap().String(), nil
	}
	return "", fmt.Errorf("%q is not an address range like 10.0.0.0/8 or an address", v)
}
