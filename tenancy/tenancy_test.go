package tenancy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/tenancy"
)

// tree is root → {mid, sib}, mid → {leaf1, leaf2}, plus an unrelated "other".
type tree struct {
	root, mid, sib, leaf1, leaf2, other uuid.UUID
}

func buildTree(t *testing.T, db *storage.DB) tree {
	t.Helper()
	mk := func(slug string, parent *uuid.UUID) uuid.UUID {
		opts := []testenv.OrgOption{testenv.Slug(slug)}
		if parent != nil {
			opts = append(opts, testenv.Parent(*parent))
		}
		return testenv.Org(t, db, opts...).ID
	}
	var tr tree
	tr.root = mk("root", nil)
	tr.mid = mk("mid", &tr.root)
	tr.sib = mk("sib", &tr.root)
	tr.leaf1 = mk("leaf1", &tr.mid)
	tr.leaf2 = mk("leaf2", &tr.mid)
	tr.other = mk("other", nil)
	return tr
}

func sameSet(a, b []uuid.UUID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	cmp := func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) }
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

func wantCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	return e
}

func TestSubtree(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		tr := buildTree(t, db)
		unknown := uuid.New()
		tests := []struct {
			name string
			id   uuid.UUID
			want []uuid.UUID
		}{
			{"root", tr.root, []uuid.UUID{tr.root, tr.mid, tr.sib, tr.leaf1, tr.leaf2}},
			{"middle", tr.mid, []uuid.UUID{tr.mid, tr.leaf1, tr.leaf2}},
			{"childless middle", tr.sib, []uuid.UUID{tr.sib}},
			{"leaf", tr.leaf1, []uuid.UUID{tr.leaf1}},
			{"other tree", tr.other, []uuid.UUID{tr.other}},
			{"unknown", unknown, []uuid.UUID{unknown}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// No viewer in the context: Subtree must work before a scope exists.
				got, err := tenancy.Subtree(context.Background(), db.Client, tt.id)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 0 || got[0] != tt.id {
					t.Errorf("Subtree = %v, want %s first", got, tt.id)
				}
				if !sameSet(got, tt.want) {
					t.Errorf("Subtree = %v, want %v", got, tt.want)
				}
			})
		}
	})
}

func TestApply(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		tr := buildTree(t, db)
		tests := []struct {
			name        string
			home        uuid.UUID
			target      string
			wantOrg     uuid.UUID
			wantVisible []uuid.UUID
			forbidden   bool
		}{
			{name: "empty target", home: tr.mid, target: "", wantOrg: tr.mid, wantVisible: []uuid.UUID{tr.mid, tr.leaf1, tr.leaf2}},
			{name: "root home", home: tr.root, target: "", wantOrg: tr.root, wantVisible: []uuid.UUID{tr.root, tr.mid, tr.sib, tr.leaf1, tr.leaf2}},
			{name: "child by slug", home: tr.mid, target: "leaf1", wantOrg: tr.leaf1, wantVisible: []uuid.UUID{tr.leaf1}},
			{name: "child by id", home: tr.mid, target: tr.leaf2.String(), wantOrg: tr.leaf2, wantVisible: []uuid.UUID{tr.leaf2}},
			{name: "grandchild by slug", home: tr.root, target: "leaf2", wantOrg: tr.leaf2, wantVisible: []uuid.UUID{tr.leaf2}},
			{name: "middle from root", home: tr.root, target: "mid", wantOrg: tr.mid, wantVisible: []uuid.UUID{tr.mid, tr.leaf1, tr.leaf2}},
			{name: "home by slug", home: tr.mid, target: "mid", wantOrg: tr.mid, wantVisible: []uuid.UUID{tr.mid, tr.leaf1, tr.leaf2}},
			{name: "home by id", home: tr.leaf1, target: tr.leaf1.String(), wantOrg: tr.leaf1, wantVisible: []uuid.UUID{tr.leaf1}},
			{name: "sibling", home: tr.mid, target: "sib", forbidden: true},
			{name: "sibling by id", home: tr.mid, target: tr.sib.String(), forbidden: true},
			{name: "parent", home: tr.mid, target: "root", forbidden: true},
			{name: "parent by id", home: tr.leaf1, target: tr.mid.String(), forbidden: true},
			{name: "leaf's sibling", home: tr.leaf1, target: "leaf2", forbidden: true},
			{name: "other tree", home: tr.root, target: "other", forbidden: true},
			{name: "unknown slug", home: tr.root, target: "nope", forbidden: true},
			{name: "unknown id", home: tr.root, target: uuid.NewString(), forbidden: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := &viewer.Viewer{Kind: viewer.KindUser, UserID: uuid.New(), Role: enum.RoleAdmin, HomeOrgID: tt.home}
				err := tenancy.Apply(ctx, db.Client, v, tt.target)
				if tt.forbidden {
					e := wantCode(t, err, apperr.Forbidden)
					// Unknown and out-of-scope organisations get the same answer.
					if want := `organisation "` + tt.target + `" is not within your scope`; e.Message != want {
						t.Errorf("message = %q, want %q", e.Message, want)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if v.OrgID != tt.wantOrg || !sameSet(v.VisibleOrgIDs, tt.wantVisible) || v.HomeOrgID != tt.home {
					t.Errorf("viewer org %s visible %v, want %s %v", v.OrgID, v.VisibleOrgIDs, tt.wantOrg, tt.wantVisible)
				}
			})
		}
	})
}

func TestActIn(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		tr := buildTree(t, db)
		base := &viewer.Viewer{Kind: viewer.KindUser, UserID: uuid.New(), Role: enum.RoleAdmin, HomeOrgID: tr.root}
		if err := tenancy.Apply(ctx, db.Client, base, ""); err != nil {
			t.Fatal(err)
		}
		vctx := viewer.NewContext(ctx, base)
		orig := *base
		orig.VisibleOrgIDs = slices.Clone(base.VisibleOrgIDs)

		t.Run("descendant", func(t *testing.T) {
			got, err := tenancy.ActIn(vctx, db.Client, tr.mid)
			if err != nil {
				t.Fatal(err)
			}
			v := viewer.FromContext(got)
			if v == base || v.OrgID != tr.mid || v.HomeOrgID != tr.root || v.UserID != base.UserID ||
				!sameSet(v.VisibleOrgIDs, []uuid.UUID{tr.mid, tr.leaf1, tr.leaf2}) {
				t.Errorf("scoped viewer = %+v", v)
			}
			if base.OrgID != orig.OrgID || !slices.Equal(base.VisibleOrgIDs, orig.VisibleOrgIDs) {
				t.Errorf("ActIn changed the caller's viewer: %+v", base)
			}
			// From the narrowed scope, going further down works, going up not.
			if _, err := tenancy.ActIn(got, db.Client, tr.leaf2); err != nil {
				t.Errorf("mid → leaf2: %v", err)
			}
			wantCode(t, mustErr(tenancy.ActIn(got, db.Client, tr.sib)), apperr.NotFound)
			wantCode(t, mustErr(tenancy.ActIn(got, db.Client, tr.root)), apperr.NotFound)
		})
		t.Run("current organisation", func(t *testing.T) {
			got, err := tenancy.ActIn(vctx, db.Client, tr.root)
			if err != nil {
				t.Fatal(err)
			}
			if got != vctx {
				t.Error("acting in the current organisation should return the same context")
			}
		})
		t.Run("out of scope", func(t *testing.T) {
			for _, id := range []uuid.UUID{tr.other, uuid.New()} {
				e := wantCode(t, mustErr(tenancy.ActIn(vctx, db.Client, id)), apperr.NotFound)
				if e.Message != "organization "+id.String()+" not found" {
					t.Errorf("message = %q", e.Message)
				}
			}
		})
		t.Run("no viewer", func(t *testing.T) {
			wantCode(t, mustErr(tenancy.ActIn(ctx, db.Client, tr.root)), apperr.Unauthenticated)
		})
	})
}

func mustErr[T any](_ T, err error) error { return err }
