package viewer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// TestUserAndAdmin: only a person acts as a user; only an administrator
// passes Admin, anyone else is refused with the reason given.
func TestUserAndAdmin(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v         *viewer.Viewer
		user      apperr.Code // "" when allowed
		admin     apperr.Code
		adminText string
	}{
		{"nobody", nil, apperr.Unauthenticated, apperr.Unauthenticated, "a user session or API token is required"},
		{"connector", &viewer.Viewer{Kind: viewer.KindConnector, Role: enum.RoleAdmin}, apperr.Unauthenticated, apperr.Unauthenticated, "a user session or API token is required"},
		{"job", &viewer.Viewer{Kind: viewer.KindJob, Role: enum.RoleAnalyst}, apperr.Unauthenticated, apperr.Unauthenticated, "a user session or API token is required"},
		{"read-only user", &viewer.Viewer{Kind: viewer.KindUser, Role: enum.RoleReadOnly}, "", apperr.Forbidden, "only administrators do this"},
		{"analyst", &viewer.Viewer{Kind: viewer.KindUser, Role: enum.RoleAnalyst}, "", apperr.Forbidden, "only administrators do this"},
		{"admin", &viewer.Viewer{Kind: viewer.KindUser, Role: enum.RoleAdmin}, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.v != nil {
				ctx = viewer.NewContext(ctx, tc.v)
			}
			check := func(what string, got *viewer.Viewer, err error, want apperr.Code, text string) {
				var ae *apperr.Error
				switch {
				case want == "" && (err != nil || got != tc.v):
					t.Fatalf("%s: %v, %v; want the viewer", what, got, err)
				case want != "" && (!errors.As(err, &ae) || ae.Code != want || (text != "" && ae.Message != text) || got != nil):
					t.Fatalf("%s: %v, %v; want %s %q", what, got, err, want, text)
				}
			}
			u, err := viewer.User(ctx)
			check("User", u, err, tc.user, "")
			a, err := viewer.Admin(ctx, "only administrators do this")
			check("Admin", a, err, tc.admin, tc.adminText)
		})
	}
}
