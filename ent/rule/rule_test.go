package rule_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// world is two unrelated tenants A and B (B has a child B1), each with a user.
type world struct {
	a, b, b1     *ent.Organization
	userA, userB *ent.User
	groupB       *ent.Group
}

var system = privacy.DecisionContext(context.Background(), privacy.Allow)

func setup(t *testing.T, db *storage.DB) world {
	t.Helper()
	c := db.Client
	var w world
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.a, err = c.Organization.Create().SetName("A").SetSlug("a").Save(system)
	must(err)
	w.b, err = c.Organization.Create().SetName("B").SetSlug("b").Save(system)
	must(err)
	w.b1, err = c.Organization.Create().SetName("B1").SetSlug("b1").SetParentID(w.b.ID).Save(system)
	must(err)
	w.userA, err = c.User.Create().SetOrganizationID(w.a.ID).SetEmail("a@a.test").SetHandle("a").SetPasswordHash("x").Save(system)
	must(err)
	w.userB, err = c.User.Create().SetOrganizationID(w.b.ID).SetEmail("b@b.test").SetHandle("b").SetPasswordHash("x").Save(system)
	must(err)
	w.groupB, err = c.Group.Create().SetOrganizationID(w.b.ID).SetName("tier 1").Save(system)
	must(err)
	return w
}

func as(role enum.Role, u *ent.User, visible ...uuid.UUID) context.Context {
	if len(visible) == 0 {
		visible = []uuid.UUID{u.OrganizationID}
	}
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.KindUser, UserID: u.ID, Role: role, HomeOrgID: u.OrganizationID,
		OrgID: u.OrganizationID, VisibleOrgIDs: visible,
	})
}

func wantDenied(t *testing.T, what string, err, cause error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: allowed, want denied", what)
		return
	}
	if !errors.Is(err, privacy.Deny) {
		t.Errorf("%s: %v, want a privacy denial", what, err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("%s: %v, want %v", what, err, cause)
	}
}

func TestNoViewer(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		c, ctx := db.Client, context.Background()
		ops := []struct {
			name string
			run  func() error
		}{
			{"query users", func() error { _, err := c.User.Query().All(ctx); return err }},
			{"count users", func() error { _, err := c.User.Query().Count(ctx); return err }},
			{"get user", func() error { _, err := c.User.Get(ctx, w.userA.ID); return err }},
			{"query groups", func() error { _, err := c.Group.Query().All(ctx); return err }},
			{"query sessions", func() error { _, err := c.Session.Query().All(ctx); return err }},
			{"query api tokens", func() error { _, err := c.APIToken.Query().All(ctx); return err }},
			{"query connectors", func() error { _, err := c.Connector.Query().All(ctx); return err }},
			{"query organizations", func() error { _, err := c.Organization.Query().All(ctx); return err }},
			{"create group", func() error {
				return c.Group.Create().SetOrganizationID(w.a.ID).SetName("g").Exec(ctx)
			}},
			{"update user", func() error { return c.User.UpdateOneID(w.userA.ID).SetName("x").Exec(ctx) }},
			{"bulk update users", func() error { _, err := c.User.Update().SetName("x").Save(ctx); return err }},
			{"delete user", func() error { return c.User.DeleteOneID(w.userA.ID).Exec(ctx) }},
			{"bulk delete groups", func() error { _, err := c.Group.Delete().Exec(ctx); return err }},
			{"create organization", func() error { return c.Organization.Create().SetName("x").SetSlug("x").Exec(ctx) }},
			{"update organization", func() error { return c.Organization.UpdateOneID(w.a.ID).SetName("x").Exec(ctx) }},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) { wantDenied(t, op.name, op.run(), rule.ErrNoViewer) })
		}
		// Nothing was changed.
		if n, err := c.User.Query().Where(user.Name("x")).Count(system); err != nil || n != 0 {
			t.Errorf("%d users renamed (%v)", n, err)
		}
		if n, err := c.Group.Query().Count(system); err != nil || n != 1 {
			t.Errorf("%d groups, want 1 (%v)", n, err)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		c := db.Client
		ctxA := as(enum.RoleAdmin, w.userA)

		t.Run("queries see only A", func(t *testing.T) {
			users, err := c.User.Query().All(ctxA)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 1 || users[0].ID != w.userA.ID {
				t.Errorf("users = %v, want only A's", users)
			}
			// An explicit predicate on B does not widen the filter.
			users, err = c.User.Query().Where(user.OrganizationID(w.b.ID)).All(ctxA)
			if err != nil || len(users) != 0 {
				t.Errorf("users of B = %v, %v; want none", users, err)
			}
			if _, err := c.User.Get(ctxA, w.userB.ID); !ent.IsNotFound(err) {
				t.Errorf("get B's user: %v, want not found", err)
			}
			if n, err := c.Group.Query().Count(ctxA); err != nil || n != 0 {
				t.Errorf("A counts %d groups (%v), want 0", n, err)
			}
			// Reaching B's rows through an edge is filtered as well.
			orgUsers, err := c.Organization.Query().Where(organization.ID(w.a.ID)).QueryUsers().All(ctxA)
			if err != nil || len(orgUsers) != 1 || orgUsers[0].ID != w.userA.ID {
				t.Errorf("A's users via edge = %v, %v", orgUsers, err)
			}
		})

		t.Run("updates and deletes of B's rows affect nothing", func(t *testing.T) {
			if err := c.User.UpdateOneID(w.userB.ID).SetName("pwned").Exec(ctxA); !ent.IsNotFound(err) {
				t.Errorf("update B's user: %v, want not found", err)
			}
			if err := c.User.DeleteOneID(w.userB.ID).Exec(ctxA); !ent.IsNotFound(err) {
				t.Errorf("delete B's user: %v, want not found", err)
			}
			if err := c.Group.UpdateOneID(w.groupB.ID).SetName("pwned").Exec(ctxA); !ent.IsNotFound(err) {
				t.Errorf("update B's group: %v, want not found", err)
			}
			if err := c.Group.DeleteOneID(w.groupB.ID).Exec(ctxA); !ent.IsNotFound(err) {
				t.Errorf("delete B's group: %v, want not found", err)
			}
			n, err := c.User.Update().Where(user.ID(w.userB.ID)).SetName("pwned").Save(ctxA)
			if err != nil || n != 0 {
				t.Errorf("bulk update of B's user: %d, %v; want 0", n, err)
			}
			n, err = c.User.Delete().Where(user.ID(w.userB.ID)).Exec(ctxA)
			if err != nil || n != 0 {
				t.Errorf("bulk delete of B's user: %d, %v; want 0", n, err)
			}
			// A bulk update without predicates touches only A's rows.
			n, err = c.User.Update().SetTimezone("Europe/Paris").Save(ctxA)
			if err != nil || n != 1 {
				t.Errorf("bulk update: %d, %v; want 1", n, err)
			}
			b, err := c.User.Get(system, w.userB.ID)
			if err != nil {
				t.Fatalf("B's user is gone: %v", err)
			}
			if b.Name == "pwned" || b.Timezone != "UTC" {
				t.Errorf("B's user was changed: %+v", b)
			}
			if g, err := c.Group.Get(system, w.groupB.ID); err != nil || g.Name != "tier 1" {
				t.Errorf("B's group: %+v, %v", g, err)
			}
		})

		t.Run("creates are stamped with the acting organisation", func(t *testing.T) {
			g, err := c.Group.Create().SetName("A team").Save(ctxA)
			if err != nil {
				t.Fatal(err)
			}
			if g.OrganizationID != w.a.ID {
				t.Errorf("group stamped with %s, want %s", g.OrganizationID, w.a.ID)
			}
			g, err = c.Group.Create().SetName("A team 2").SetOrganizationID(w.a.ID).Save(ctxA)
			if err != nil || g.OrganizationID != w.a.ID {
				t.Errorf("explicit own organisation: %v, %v", g, err)
			}
		})

		t.Run("creating a row of B is denied", func(t *testing.T) {
			err := c.User.Create().SetOrganizationID(w.b.ID).SetEmail("x@b.test").SetHandle("x").SetPasswordHash("x").Exec(ctxA)
			wantDenied(t, "create B's user", err, rule.ErrTenant)
			err = c.Group.Create().SetOrganizationID(w.b.ID).SetName("intruders").Exec(ctxA)
			wantDenied(t, "create B's group", err, rule.ErrTenant)
			// Even from a provider acting in B's child: rows are confined to
			// the acting organisation, not its subtree.
			ctxB := as(enum.RoleAdmin, w.userB, w.b.ID, w.b1.ID)
			err = c.Group.Create().SetOrganizationID(w.b1.ID).SetName("child").Exec(ctxB)
			wantDenied(t, "create in a child organisation without acting in it", err, rule.ErrTenant)
			if n, err := c.User.Query().Where(user.Email("x@b.test")).Count(system); err != nil || n != 0 {
				t.Errorf("denied user exists: %d, %v", n, err)
			}
		})
	})
}

func TestReadOnly(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		c := db.Client
		ro := as(enum.RoleReadOnly, w.userA)

		if _, err := c.User.Query().All(ro); err != nil {
			t.Errorf("read-only query: %v", err)
		}
		wantDenied(t, "create group", c.Group.Create().SetName("g").Exec(ro), rule.ErrReadOnly)
		wantDenied(t, "update self", c.User.UpdateOneID(w.userA.ID).SetName("x").Exec(ro), rule.ErrReadOnly)
		wantDenied(t, "delete self", c.User.DeleteOneID(w.userA.ID).Exec(ro), rule.ErrReadOnly)

		tok, err := c.APIToken.Create().SetName("ro").SetPrefix("sqt_").SetTokenHash([]byte("h")).
			SetUserID(w.userA.ID).Save(ro)
		if err != nil {
			t.Fatalf("read-only user creating an API token: %v", err)
		}
		if tok.OrganizationID != w.a.ID {
			t.Errorf("token stamped with %s, want %s", tok.OrganizationID, w.a.ID)
		}
		if err := c.APIToken.DeleteOneID(tok.ID).Exec(ro); err != nil {
			t.Errorf("read-only user deleting the token: %v", err)
		}
		// The exemption is for API tokens only, not for the tenant rule.
		err = c.APIToken.Create().SetName("ro").SetPrefix("sqt_").SetTokenHash([]byte("h2")).
			SetUserID(w.userB.ID).SetOrganizationID(w.b.ID).Exec(ro)
		wantDenied(t, "token in B", err, rule.ErrTenant)

		for _, role := range []enum.Role{enum.RoleAnalyst, enum.RoleAdmin} {
			if err := c.Group.Create().SetName("g " + string(role)).Exec(as(role, w.userA)); err != nil {
				t.Errorf("%s creating a group: %v", role, err)
			}
		}
	})
}

func TestOrganizations(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		c := db.Client
		ids := func(ctx context.Context) ([]uuid.UUID, error) {
			got, err := c.Organization.Query().IDs(ctx)
			slices.SortFunc(got, func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
			return got, err
		}
		sorted := func(v ...uuid.UUID) []uuid.UUID {
			slices.SortFunc(v, func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
			return v
		}
		tests := []struct {
			name    string
			visible []uuid.UUID
			want    []uuid.UUID
		}{
			{"own only", []uuid.UUID{w.a.ID}, []uuid.UUID{w.a.ID}},
			{"provider and child", []uuid.UUID{w.b.ID, w.b1.ID}, []uuid.UUID{w.b.ID, w.b1.ID}},
			{"child only", []uuid.UUID{w.b1.ID}, []uuid.UUID{w.b1.ID}},
			{"unknown id", []uuid.UUID{uuid.New()}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := ids(as(enum.RoleReadOnly, w.userA, tt.visible...))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, sorted(tt.want...)) {
					t.Errorf("visible organisations = %v, want %v", got, tt.want)
				}
			})
		}

		t.Run("empty scope is denied", func(t *testing.T) {
			ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, UserID: w.userA.ID,
				Role: enum.RoleAdmin, HomeOrgID: w.a.ID, OrgID: w.a.ID})
			_, err := c.Organization.Query().All(ctx)
			wantDenied(t, "query with no visible organisations", err, rule.ErrTenant)
		})

		t.Run("mutations", func(t *testing.T) {
			admin := as(enum.RoleAdmin, w.userA)
			if err := c.Organization.UpdateOneID(w.b.ID).SetName("pwned").Exec(admin); !ent.IsNotFound(err) {
				t.Errorf("update invisible organisation: %v, want not found", err)
			}
			if err := c.Organization.UpdateOneID(w.a.ID).SetName("A renamed").Exec(admin); err != nil {
				t.Errorf("update own organisation: %v", err)
			}
			if err := c.Organization.Create().SetName("New").SetSlug("new").Exec(admin); err != nil {
				t.Errorf("admin creating an organisation: %v", err)
			}
			analyst := as(enum.RoleAnalyst, w.userA)
			wantDenied(t, "analyst creating an organisation", c.Organization.Create().SetName("N2").SetSlug("n2").Exec(analyst), nil)
			wantDenied(t, "read-only renaming", c.Organization.UpdateOneID(w.a.ID).SetName("x").Exec(as(enum.RoleReadOnly, w.userA)), rule.ErrReadOnly)
			if b, err := c.Organization.Get(system, w.b.ID); err != nil || b.Name != "B" {
				t.Errorf("B = %+v, %v", b, err)
			}
		})
	})
}
