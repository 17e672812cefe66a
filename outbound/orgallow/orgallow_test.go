package orgallow

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
)

func adminOf(org *ent.Organization, user uuid.UUID, tree []uuid.UUID) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, UserID: user, Role: enum.RoleAdmin,
		HomeOrgID: org.ID, OrgID: org.ID, VisibleOrgIDs: tree, TopLevel: org.ParentID == nil})
}

// A provider's ranges reach every level of its tree and no other tree; the
// server's reach everyone; only a top-level organisation's admin sets them.
func TestPolicyFollowsTheProviderTree(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		mk := func(name string, parent *ent.Organization) *ent.Organization {
			opts := []testenv.OrgOption{testenv.Name(name)}
			if parent != nil {
				opts = append(opts, testenv.Parent(parent.ID))
			}
			return testenv.Org(t, db, opts...)
		}
		provider, other := mk("mssp", nil), mk("other", nil)
		client := mk("client", provider)
		sub := mk("sub", client)
		hash, _ := auth.HashPassword("pw-0123456789")
		user := func(org *ent.Organization) uuid.UUID {
			return testenv.User(t, db, org, enum.RoleAdmin, testenv.PasswordHash(hash)).ID
		}
		svc := New(db.Client, outbound.NewPolicy(netip.MustParsePrefix("127.0.0.0/8")))
		providerAdmin := adminOf(provider, user(provider), []uuid.UUID{provider.ID, client.ID, sub.ID})
		clientAdmin := adminOf(client, user(client), []uuid.UUID{client.ID, sub.ID})

		if _, err := svc.Update(clientAdmin, UpdateInput{AllowedRanges: []string{"10.0.0.0/8"}}); !isCode(err, apperr.Forbidden) {
			t.Fatalf("client admin: %v", err)
		}
		if _, err := svc.Update(providerAdmin, UpdateInput{AllowedRanges: []string{"10.0.0.0/33"}}); !isCode(err, apperr.BadInput) {
			t.Fatalf("bad range: %v", err)
		}
		got, err := svc.Update(providerAdmin, UpdateInput{AllowedRanges: []string{"10.1.2.3/8"}})
		if err != nil || len(got.AllowedRanges) != 1 || got.AllowedRanges[0] != "10.0.0.0/8" || got.ServerAllowedRanges[0] != "127.0.0.0/8" {
			t.Fatalf("update: %+v %v", got, err)
		}
		for _, tt := range []struct {
			org     *ent.Organization
			private bool
		}{{provider, true}, {client, true}, {sub, true}, {other, false}} {
			p, err := svc.For(context.Background(), tt.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.CheckAddr(netip.MustParseAddr("10.9.8.7")) == nil; got != tt.private {
				t.Errorf("%s: 10.9.8.7 allowed=%v, want %v", tt.org.Slug, got, tt.private)
			}
			if p.CheckAddr(netip.MustParseAddr("127.0.0.1")) != nil || p.CheckAddr(netip.MustParseAddr("169.254.169.254")) == nil {
				t.Errorf("%s: server ranges or metadata wrong", tt.org.Slug)
			}
		}
	})
}

func isCode(err error, code apperr.Code) bool {
	var e *apperr.Error
	return errors.As(err, &e) && e.Code == code
}
