package directory_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// mfa_enabled is read-only: it is true exactly when the organisation
// requires MFA (mfa_enforced). Sending the value it will have is accepted
// (a read-modify-write round trip), any other is refused naming the field,
// with nothing written.
func TestOrganizationMfaEnabledMirrorsMfaEnforced(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		prov := testenv.Org(t, db, testenv.Slug("mfa-provider"))
		admin := testenv.User(t, db, prov, enum.RoleAdmin)
		d := directory.New(db.Client)
		ctx := testenv.As(admin, prov)
		on, off := true, false

		refused := func(t *testing.T, err error) {
			t.Helper()
			if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput || e.Field != "mfa_enabled" {
				t.Fatalf("err = %v, want a 422 naming mfa_enabled", err)
			}
		}
		_, err := d.CreateOrganization(ctx, directory.CreateOrganizationInput{Name: "A", Slug: "mfa-a", MfaEnabled: &on})
		refused(t, err)
		if n := db.Client.Organization.Query().CountX(auth.System(context.Background())); n != 1 {
			t.Fatalf("a refused create wrote an organisation: %d organisations", n)
		}
		client, err := d.CreateOrganization(ctx, directory.CreateOrganizationInput{Name: "A", Slug: "mfa-a", MfaEnabled: &on, MfaEnforced: &on})
		if err != nil || !client.MfaEnabled || !client.MfaEnforced {
			t.Fatalf("create enforcing MFA: %+v, %v", client, err)
		}
		// The provider's viewer reaching its new client.
		v := *viewer.FromContext(ctx)
		v.VisibleOrgIDs = []uuid.UUID{prov.ID, client.ID}
		ctx = viewer.NewContext(context.Background(), &v)

		cases := []struct {
			name              string
			in                directory.UpdateOrganizationInput
			refused           bool
			enabled, enforced bool
		}{
			{name: "enabled off while enforced", in: directory.UpdateOrganizationInput{MfaEnabled: &off}, refused: true, enabled: true, enforced: true},
			{name: "round trip of the current value", in: directory.UpdateOrganizationInput{MfaEnabled: &on}, enabled: true, enforced: true},
			{name: "enforced off takes enabled with it", in: directory.UpdateOrganizationInput{MfaEnforced: &off}, enabled: false, enforced: false},
			{name: "enabled on alone", in: directory.UpdateOrganizationInput{MfaEnabled: &on, Name: ptr("changed")}, refused: true, enabled: false, enforced: false},
			{name: "enabled on beside enforced on", in: directory.UpdateOrganizationInput{MfaEnabled: &on, MfaEnforced: &on}, enabled: true, enforced: true},
			{name: "enabled off beside enforced on", in: directory.UpdateOrganizationInput{MfaEnabled: &off, MfaEnforced: &off, Name: ptr("changed")}, enabled: false, enforced: false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := d.UpdateOrganization(ctx, client.ID, tc.in)
				if tc.refused {
					refused(t, err)
				} else if err != nil {
					t.Fatal(err)
				}
				got := db.Client.Organization.GetX(auth.System(context.Background()), client.ID)
				if got.MfaEnabled != tc.enabled || got.MfaEnforced != tc.enforced {
					t.Fatalf("stored mfa_enabled=%v mfa_enforced=%v, want %v %v", got.MfaEnabled, got.MfaEnforced, tc.enabled, tc.enforced)
				}
				if tc.refused && got.Name == "changed" {
					t.Fatal("a refused update wrote the other fields")
				}
			})
		}

		// A database written when mfa_enabled was a setting of its own is
		// brought to the mirror by the migration.
		sys := auth.System(context.Background())
		db.Client.Organization.UpdateOneID(client.ID).SetMfaEnabled(true).SetMfaEnforced(false).ExecX(sys)
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := db.Client.Organization.GetX(sys, client.ID); got.MfaEnabled {
			t.Fatal("the migration left mfa_enabled on for an organisation that does not require MFA")
		}
	})
}

func ptr[T any](v T) *T { return &v }
