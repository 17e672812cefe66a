package alertviews_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/alertviews"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// world is organisation A (a provider) with its client C, an unrelated
// organisation B, and users: admin Alice, analysts Bob and Carol and
// read-only Rita in A; admin Bert in B.
type world struct {
	db                      *storage.DB
	svc                     *alertviews.Service
	a, b, c                 *ent.Organization
	alice, bob, carol, rita *ent.User
	bert                    *ent.User
}

func setup(t *testing.T, db *storage.DB) *world {
	t.Helper()
	org := func(name string, opts ...testenv.OrgOption) *ent.Organization {
		return testenv.Org(t, db, append(opts, testenv.Slug(strings.ToLower(name)), testenv.Name(name))...)
	}
	person := func(o *ent.Organization, handle string, role enum.Role) *ent.User {
		return testenv.User(t, db, o, role, testenv.Handle(handle), testenv.FullName(handle))
	}
	w := &world{db: db, svc: alertviews.New(db.Client)}
	w.a = org("A")
	w.b = org("B")
	w.c = org("C", testenv.Parent(w.a.ID))
	w.alice = person(w.a, "alice", enum.RoleAdmin)
	w.bob = person(w.a, "bob", enum.RoleAnalyst)
	w.carol = person(w.a, "carol", enum.RoleAnalyst)
	w.rita = person(w.a, "rita", enum.RoleReadOnly)
	w.bert = person(w.b, "bert", enum.RoleAdmin)
	return w
}

// as is u acting in its home organisation.
func as(u *ent.User) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.KindUser, UserID: u.ID, Role: u.Role, HomeOrgID: u.OrganizationID,
		OrgID: u.OrganizationID, VisibleOrgIDs: []uuid.UUID{u.OrganizationID}, TopLevel: true,
	})
}

// in is u acting in organisation o (a provider user in a client).
func in(u *ent.User, o *ent.Organization) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.KindUser, UserID: u.ID, Role: u.Role, HomeOrgID: u.OrganizationID,
		OrgID: o.ID, VisibleOrgIDs: []uuid.UUID{o.ID}, TopLevel: true,
	})
}

func ptr[T any](v T) *T { return &v }

func (w *world) create(t *testing.T, ctx context.Context, name string, shared bool) *ent.AlertView {
	t.Helper()
	v, err := w.svc.Create(ctx, alertviews.CreateAlertViewInput{Name: name, Shared: &shared})
	if err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	return v
}

// wantCode checks err is an apperr.Error with code (and field, if given).
func wantCode(t *testing.T, what string, err error, code apperr.Code, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Errorf("%s: %v, want %s", what, err, code)
		return
	}
	if e.Code != code || (field != "" && e.Field != field) {
		t.Errorf("%s: %s %q (%s), want %s %q", what, e.Code, e.Field, e.Message, code, field)
	}
}

func names(vs []*ent.AlertView) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

func activities(t *testing.T, w *world, id uuid.UUID) []*ent.Activity {
	t.Helper()
	got, err := w.db.Client.Activity.Query().Where(activity.EntityID(id)).
		Order(activity.ByCreatedAt(), activity.ByField()).All(auth.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestCreateListUpdateDelete(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		bob := as(w.bob)
		since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
		filters := &schematype.AlertFilter{
			Status: []enum.AlertStatus{enum.AlertStatusNew}, Severity: []enum.Severity{enum.SeverityCritical},
			Since: &since,
		}
		created, err := w.svc.Create(bob, alertviews.CreateAlertViewInput{
			Name: "  critical new  ", Filters: filters, Sort: ptr("-last_seen_at"),
			Columns: []string{"title", "severity", "last_seen_at"},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Run("create stores the normalised view", func(t *testing.T) {
			if created.Name != "critical new" || created.Shared || created.Sort != "-last_seen_at" ||
				created.OwnerID == nil || *created.OwnerID != w.bob.ID || created.OrganizationID != w.a.ID {
				t.Errorf("created = %+v", created)
			}
			if !slices.Equal(created.Columns, []string{"title", "severity", "last_seen_at"}) {
				t.Errorf("columns = %v", created.Columns)
			}
			got, err := w.svc.Get(bob, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Filters.Since == nil || !got.Filters.Since.Equal(since) || got.Filters.Since.Location() != time.UTC {
				t.Errorf("since = %v, want %v in UTC", got.Filters.Since, since)
			}
			if !slices.Equal(got.Filters.Status, filters.Status) || !slices.Equal(got.Filters.Severity, filters.Severity) {
				t.Errorf("filters = %+v", got.Filters)
			}
			acts := activities(t, w, created.ID)
			if len(acts) != 1 || acts[0].Action != "create" || acts[0].EntityType != alertviews.EntityType ||
				acts[0].ActorID == nil || *acts[0].ActorID != w.bob.ID || !strings.Contains(string(acts[0].After), `"critical new"`) {
				t.Errorf("activity = %+v", acts)
			}
		})

		t.Run("list is by name, own and shared", func(t *testing.T) {
			w.create(t, as(w.carol), "b shared by carol", true)
			w.create(t, as(w.carol), "a personal of carol", false)
			w.create(t, bob, "a mine", false)
			w.create(t, bob, "z mine shared", true)
			got, err := w.svc.List(bob)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"a mine", "b shared by carol", "critical new", "z mine shared"}
			if !slices.Equal(names(got), want) {
				t.Errorf("list = %v, want %v", names(got), want)
			}
		})

		t.Run("update changes only the given fields", func(t *testing.T) {
			updated, err := w.svc.Update(bob, created.ID, alertviews.UpdateAlertViewInput{
				Name: ptr(" renamed "), Shared: ptr(true), Sort: ptr("severity"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if updated.Name != "renamed" || !updated.Shared || updated.Sort != "severity" ||
				!slices.Equal(updated.Columns, created.Columns) || !slices.Equal(updated.Filters.Status, filters.Status) {
				t.Errorf("updated = %+v", updated)
			}
			acts := activities(t, w, created.ID)
			var fields []string
			for _, a := range acts[1:] {
				if a.Action != "update" {
					t.Errorf("action %q, want update", a.Action)
				}
				fields = append(fields, a.Field)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, []string{"name", "shared", "sort"}) {
				t.Errorf("recorded fields %v", fields)
			}
		})

		t.Run("an unchanged update writes nothing", func(t *testing.T) {
			before, err := w.svc.Get(bob, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			same := normalisedCopy(before.Filters)
			got, err := w.svc.Update(bob, created.ID, alertviews.UpdateAlertViewInput{
				Name: ptr("renamed"), Filters: &same, Columns: before.Columns,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !got.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("updated_at moved from %v to %v", before.UpdatedAt, got.UpdatedAt)
			}
			if n := len(activities(t, w, created.ID)); n != 4 {
				t.Errorf("%d activities, want 4", n)
			}
		})

		t.Run("empty columns and filters reset them", func(t *testing.T) {
			got, err := w.svc.Update(bob, created.ID, alertviews.UpdateAlertViewInput{
				Columns: []string{}, Filters: &schematype.AlertFilter{},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Columns) != 0 || len(got.Filters.Status) != 0 || got.Filters.Since != nil {
				t.Errorf("got %+v", got)
			}
		})

		t.Run("delete", func(t *testing.T) {
			if err := w.svc.Delete(bob, created.ID); err != nil {
				t.Fatal(err)
			}
			_, err := w.svc.Get(bob, created.ID)
			wantCode(t, "get deleted", err, apperr.NotFound, "")
			wantCode(t, "delete twice", w.svc.Delete(bob, created.ID), apperr.NotFound, "")
			acts := activities(t, w, created.ID)
			last := acts[len(acts)-1]
			if last.Action != "delete" || !strings.Contains(string(last.Before), `"renamed"`) {
				t.Errorf("last activity = %+v", last)
			}
		})
	})
}

// normalisedCopy returns f as a client would send it back: the same
// instants, in another zone.
func normalisedCopy(f schematype.AlertFilter) schematype.AlertFilter {
	if f.Since != nil {
		s := f.Since.In(time.FixedZone("EST", -5*3600))
		f.Since = &s
	}
	return f
}

func TestValidation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		ctx := as(w.bob)
		existing := w.create(t, ctx, "existing", false)
		until := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		since := until.Add(time.Hour)
		tooMany := make([]string, 31)
		for i := range tooMany {
			tooMany[i] = "title"
		}
		tests := []struct {
			name  string
			in    alertviews.CreateAlertViewInput
			field string // "" means valid
		}{
			{"blank name", alertviews.CreateAlertViewInput{Name: "   "}, "name"},
			{"empty name", alertviews.CreateAlertViewInput{Name: ""}, "name"},
			{"name too long", alertviews.CreateAlertViewInput{Name: strings.Repeat("a", 201)}, "name"},
			{"name too long in bytes", alertviews.CreateAlertViewInput{Name: strings.Repeat("é", 101)}, "name"},
			{"name at the limit", alertviews.CreateAlertViewInput{Name: " " + strings.Repeat("a", 200) + " "}, ""},
			{"name at the byte limit", alertviews.CreateAlertViewInput{Name: strings.Repeat("é", 100)}, ""},
			{"name with NUL", alertviews.CreateAlertViewInput{Name: "a\x00b"}, "name"},
			{"name not UTF-8", alertviews.CreateAlertViewInput{Name: "a\xffb"}, "name"},
			{"unknown sort field", alertviews.CreateAlertViewInput{Name: "x", Sort: ptr("name")}, "sort"},
			{"bare minus", alertviews.CreateAlertViewInput{Name: "x", Sort: ptr("-")}, "sort"},
			{"double minus", alertviews.CreateAlertViewInput{Name: "x", Sort: ptr("--severity")}, "sort"},
			{"sort with space", alertviews.CreateAlertViewInput{Name: "x", Sort: ptr("severity ")}, "sort"},
			{"plus prefix", alertviews.CreateAlertViewInput{Name: "x", Sort: ptr("+severity")}, "sort"},
			{"descending sort", alertviews.CreateAlertViewInput{Name: "x", Sort: ptr("-first_seen_at")}, ""},
			{"empty sort", alertviews.CreateAlertViewInput{Name: "x", Sort: ptr("")}, ""},
			{"unknown column", alertviews.CreateAlertViewInput{Name: "x", Columns: []string{"title", "raw"}}, "columns"},
			{"duplicate column", alertviews.CreateAlertViewInput{Name: "x", Columns: []string{"title", "status", "title"}}, "columns"},
			{"too many columns", alertviews.CreateAlertViewInput{Name: "x", Columns: tooMany}, "columns"},
			{"every column", alertviews.CreateAlertViewInput{Name: "x", Columns: []string{
				"id", "title", "severity", "status", "source", "connector", "assignee", "tags", "entities",
				"occurrences", "first_seen_at", "last_seen_at", "event_time", "created_at", "incident",
			}}, ""},
			{"unknown status", alertviews.CreateAlertViewInput{Name: "x", Filters: &schematype.AlertFilter{
				Status: []enum.AlertStatus{"open"},
			}}, "filters.status"},
			{"empty time range", alertviews.CreateAlertViewInput{Name: "x", Filters: &schematype.AlertFilter{
				Since: &since, Until: &until,
			}}, "filters.until"},
		}
		for _, tt := range tests {
			t.Run("create "+tt.name, func(t *testing.T) {
				got, err := w.svc.Create(ctx, tt.in)
				if tt.field == "" {
					if err != nil {
						t.Fatalf("valid input refused: %v", err)
					}
					if got.Name != strings.TrimSpace(tt.in.Name) {
						t.Errorf("name %q", got.Name)
					}
					return
				}
				wantCode(t, tt.name, err, apperr.BadInput, tt.field)
			})
			t.Run("update "+tt.name, func(t *testing.T) {
				upd := alertviews.UpdateAlertViewInput{Name: &tt.in.Name, Sort: tt.in.Sort, Columns: tt.in.Columns, Filters: tt.in.Filters}
				_, err := w.svc.Update(ctx, existing.ID, upd)
				if tt.field == "" {
					if err != nil {
						t.Errorf("valid input refused: %v", err)
					}
					return
				}
				wantCode(t, tt.name, err, apperr.BadInput, tt.field)
			})
		}
	})
}

func TestVisibility(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		bob, carol, alice := as(w.bob), as(w.carol), as(w.alice)
		personal := w.create(t, bob, "bob personal", false)
		shared := w.create(t, bob, "bob shared", true)

		notFound := []struct {
			name string
			run  func(ctx context.Context) error
		}{
			{"get", func(ctx context.Context) error { _, err := w.svc.Get(ctx, personal.ID); return err }},
			{"update", func(ctx context.Context) error {
				_, err := w.svc.Update(ctx, personal.ID, alertviews.UpdateAlertViewInput{Name: ptr("pwned")})
				return err
			}},
			{"delete", func(ctx context.Context) error { return w.svc.Delete(ctx, personal.ID) }},
			{"hide", func(ctx context.Context) error { _, err := w.svc.Hide(ctx, personal.ID); return err }},
			{"unhide", func(ctx context.Context) error { _, err := w.svc.Unhide(ctx, personal.ID); return err }},
			{"set default", func(ctx context.Context) error { _, err := w.svc.SetDefault(ctx, &personal.ID); return err }},
		}
		for _, op := range notFound {
			for who, ctx := range map[string]context.Context{"analyst": carol, "admin": alice} {
				t.Run(op.name+" another's personal view as "+who, func(t *testing.T) {
					wantCode(t, op.name, op.run(ctx), apperr.NotFound, "")
				})
			}
		}
		t.Run("unknown id", func(t *testing.T) {
			_, err := w.svc.Get(bob, uuid.New())
			wantCode(t, "get unknown", err, apperr.NotFound, "")
		})
		t.Run("lists", func(t *testing.T) {
			for who, tt := range map[string]struct {
				ctx  context.Context
				want []string
			}{
				"owner":   {bob, []string{"bob personal", "bob shared"}},
				"analyst": {carol, []string{"bob shared"}},
				"admin":   {alice, []string{"bob shared"}},
			} {
				got, err := w.svc.List(tt.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(names(got), tt.want) {
					t.Errorf("%s lists %v, want %v", who, names(got), tt.want)
				}
			}
			if got, err := w.svc.Get(carol, shared.ID); err != nil || got.ID != shared.ID {
				t.Errorf("carol gets the shared view: %v, %v", got, err)
			}
		})
		t.Run("personal view unchanged", func(t *testing.T) {
			got, err := w.svc.Get(bob, personal.ID)
			if err != nil || got.Name != "bob personal" {
				t.Errorf("got %+v, %v", got, err)
			}
		})
		t.Run("unauthenticated", func(t *testing.T) {
			_, err := w.svc.List(context.Background())
			wantCode(t, "no viewer", err, apperr.Unauthenticated, "")
			conn := viewer.NewContext(context.Background(), &viewer.Viewer{
				Kind: viewer.KindConnector, ConnectorID: uuid.New(), HomeOrgID: w.a.ID, OrgID: w.a.ID,
				VisibleOrgIDs: []uuid.UUID{w.a.ID},
			})
			_, err = w.svc.List(conn)
			wantCode(t, "connector", err, apperr.Unauthenticated, "")
		})
	})
}

func TestSharedEditRights(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		bob := as(w.bob)
		tests := []struct {
			name  string
			ctx   context.Context
			allow bool
		}{
			{"analyst non-owner", as(w.carol), false},
			{"admin non-owner", as(w.alice), true},
			{"owner", bob, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view := w.create(t, bob, "shared "+tt.name, true)
				_, err := w.svc.Update(tt.ctx, view.ID, alertviews.UpdateAlertViewInput{Name: ptr("renamed " + tt.name)})
				if tt.allow && err != nil {
					t.Errorf("update: %v", err)
				}
				if !tt.allow {
					wantCode(t, "update", err, apperr.Forbidden, "")
				}
				got, err := w.svc.Get(bob, view.ID)
				if err != nil {
					t.Fatal(err)
				}
				if renamed := got.Name == "renamed "+tt.name; renamed != tt.allow {
					t.Errorf("name = %q after update allowed=%v", got.Name, tt.allow)
				}
				err = w.svc.Delete(tt.ctx, view.ID)
				if tt.allow && err != nil {
					t.Errorf("delete: %v", err)
				}
				if !tt.allow {
					wantCode(t, "delete", err, apperr.Forbidden, "")
				}
				_, err = w.svc.Get(bob, view.ID)
				if deleted := apperrCode(err) == apperr.NotFound; deleted != tt.allow {
					t.Errorf("deleted = %v (%v), want %v", deleted, err, tt.allow)
				}
			})
		}
		t.Run("admin unsharing hands the view back to its owner", func(t *testing.T) {
			view := w.create(t, bob, "to unshare", true)
			if _, err := w.svc.Update(as(w.alice), view.ID, alertviews.UpdateAlertViewInput{Shared: ptr(false)}); err != nil {
				t.Fatal(err)
			}
			_, err := w.svc.Get(as(w.alice), view.ID)
			wantCode(t, "admin get", err, apperr.NotFound, "")
			if _, err := w.svc.Get(bob, view.ID); err != nil {
				t.Errorf("owner get: %v", err)
			}
		})
	})
}

func apperrCode(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return ""
}

func TestDefault(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		bob, carol := as(w.bob), as(w.carol)
		wantDefault := func(t *testing.T, ctx context.Context, want *ent.AlertView) {
			t.Helper()
			got, err := w.svc.Default(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case want == nil && got != nil:
				t.Errorf("default = %q, want none", got.Name)
			case want != nil && (got == nil || got.ID != want.ID):
				t.Errorf("default = %v, want %q", got, want.Name)
			}
		}
		storedDefault := func(t *testing.T, u *ent.User) *uuid.UUID {
			t.Helper()
			got, err := w.db.Client.User.Get(auth.System(context.Background()), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.DefaultViewID
		}
		own := w.create(t, carol, "carol own", false)
		shared := w.create(t, bob, "bob shared", true)

		t.Run("none at first", func(t *testing.T) { wantDefault(t, carol, nil) })
		t.Run("set and read back", func(t *testing.T) {
			for _, v := range []*ent.AlertView{own, shared} {
				got, err := w.svc.SetDefault(carol, &v.ID)
				if err != nil || got == nil || got.ID != v.ID {
					t.Fatalf("set default %q: %v, %v", v.Name, got, err)
				}
				wantDefault(t, carol, v)
				for _, x := range []*ent.AlertView{own, shared} {
					is, err := w.svc.IsDefault(carol, x)
					if err != nil || is != (x.ID == v.ID) {
						t.Errorf("IsDefault(%q) = %v, %v with default %q", x.Name, is, err, v.Name)
					}
				}
			}
			wantDefault(t, bob, nil) // one user's choice is not another's
		})
		t.Run("clear", func(t *testing.T) {
			got, err := w.svc.SetDefault(carol, nil)
			if err != nil || got != nil {
				t.Fatalf("clear: %v, %v", got, err)
			}
			wantDefault(t, carol, nil)
			if is, err := w.svc.IsDefault(carol, shared); err != nil || is {
				t.Errorf("IsDefault after clear = %v, %v", is, err)
			}
		})
		t.Run("unknown view", func(t *testing.T) {
			id := uuid.New()
			_, err := w.svc.SetDefault(carol, &id)
			wantCode(t, "unknown", err, apperr.NotFound, "")
		})
		t.Run("after delete", func(t *testing.T) {
			doomed := w.create(t, bob, "doomed", true)
			for _, ctx := range []context.Context{bob, carol} {
				if _, err := w.svc.SetDefault(ctx, &doomed.ID); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.svc.Delete(bob, doomed.ID); err != nil {
				t.Fatal(err)
			}
			for _, u := range []*ent.User{w.bob, w.carol} {
				if id := storedDefault(t, u); id != nil {
					t.Errorf("%s still stores default %s", u.Handle, id)
				}
			}
			wantDefault(t, carol, nil)
			wantDefault(t, bob, nil)
		})
		t.Run("after hide", func(t *testing.T) {
			if _, err := w.svc.SetDefault(carol, &shared.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Hide(carol, shared.ID); err != nil {
				t.Fatal(err)
			}
			wantDefault(t, carol, nil)
			if id := storedDefault(t, w.carol); id != nil {
				t.Errorf("carol still stores default %s", id)
			}
			_, err := w.svc.SetDefault(carol, &shared.ID)
			wantCode(t, "default on a hidden view", err, apperr.BadInput, "view_id")
			if _, err := w.svc.Unhide(carol, shared.ID); err != nil {
				t.Fatal(err)
			}
			wantDefault(t, carol, nil) // unhiding does not restore the default
		})
		t.Run("after unshare", func(t *testing.T) {
			if _, err := w.svc.SetDefault(carol, &shared.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Update(bob, shared.ID, alertviews.UpdateAlertViewInput{Shared: ptr(false)}); err != nil {
				t.Fatal(err)
			}
			wantDefault(t, carol, nil)
		})
	})
}

func TestHidden(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		bob, carol, alice := as(w.bob), as(w.carol), as(w.alice)
		shared := w.create(t, bob, "bob shared", true)
		personal := w.create(t, carol, "carol personal", false)
		wantHidden := func(t *testing.T, ctx context.Context, v *ent.AlertView, want bool) {
			t.Helper()
			got, err := w.svc.Hidden(ctx, v)
			if err != nil || got != want {
				t.Errorf("hidden = %v, %v; want %v", got, err, want)
			}
		}
		steps := []struct {
			name      string
			run       func() (*ent.AlertView, error)
			carolHide bool
		}{
			{"hide", func() (*ent.AlertView, error) { return w.svc.Hide(carol, shared.ID) }, true},
			{"hide again", func() (*ent.AlertView, error) { return w.svc.Hide(carol, shared.ID) }, true},
			{"unhide", func() (*ent.AlertView, error) { return w.svc.Unhide(carol, shared.ID) }, false},
			{"unhide again", func() (*ent.AlertView, error) { return w.svc.Unhide(carol, shared.ID) }, false},
			{"hide once more", func() (*ent.AlertView, error) { return w.svc.Hide(carol, shared.ID) }, true},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				got, err := st.run()
				if err != nil || got.ID != shared.ID {
					t.Fatalf("%v, %v", got, err)
				}
				wantHidden(t, carol, shared, st.carolHide)
				wantHidden(t, alice, shared, false)
				wantHidden(t, bob, shared, false)
			})
		}
		t.Run("hidden views stay listed", func(t *testing.T) {
			got, err := w.svc.List(carol)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), []string{"bob shared", "carol personal"}) {
				t.Errorf("list = %v", names(got))
			}
		})
		t.Run("the owner may hide a shared view too", func(t *testing.T) {
			if _, err := w.svc.Hide(bob, shared.ID); err != nil {
				t.Fatal(err)
			}
			wantHidden(t, bob, shared, true)
			if _, err := w.svc.Unhide(bob, shared.ID); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("personal views cannot be hidden", func(t *testing.T) {
			_, err := w.svc.Hide(carol, personal.ID)
			wantCode(t, "hide personal", err, apperr.BadInput, "view_id")
			_, err = w.svc.Unhide(carol, personal.ID)
			wantCode(t, "unhide personal", err, apperr.BadInput, "view_id")
			wantHidden(t, carol, personal, false)
		})
		t.Run("deleting a hidden view", func(t *testing.T) {
			if err := w.svc.Delete(bob, shared.ID); err != nil {
				t.Fatal(err)
			}
			n, err := w.db.Client.User.Query().QueryHiddenViews().Count(auth.System(context.Background()))
			if err != nil || n != 0 {
				t.Errorf("%d hidden flags left (%v)", n, err)
			}
		})
	})
}

func TestCrossOrganisation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		bert := as(w.bert)
		foreign := w.create(t, bert, "B shared", true)
		if foreign.OrganizationID != w.b.ID {
			t.Fatalf("B's view stamped %s", foreign.OrganizationID)
		}
		alice := as(w.alice)
		ops := []struct {
			name string
			run  func() error
		}{
			{"get", func() error { _, err := w.svc.Get(alice, foreign.ID); return err }},
			{"update", func() error {
				_, err := w.svc.Update(alice, foreign.ID, alertviews.UpdateAlertViewInput{Name: ptr("pwned")})
				return err
			}},
			{"delete", func() error { return w.svc.Delete(alice, foreign.ID) }},
			{"hide", func() error { _, err := w.svc.Hide(alice, foreign.ID); return err }},
			{"set default", func() error { _, err := w.svc.SetDefault(alice, &foreign.ID); return err }},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) { wantCode(t, op.name, op.run(), apperr.NotFound, "") })
		}
		got, err := w.svc.List(alice)
		if err != nil || len(got) != 0 {
			t.Errorf("A lists %v, %v", names(got), err)
		}
		if got, err := w.svc.Get(bert, foreign.ID); err != nil || got.Name != "B shared" {
			t.Errorf("B's view after A's attempts: %+v, %v", got, err)
		}
	})
}

// TestClientOrganisation has a provider admin act in a client organisation:
// views are the client's rows, the admin's choices stay on its home row.
func TestClientOrganisation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		inC := in(w.alice, w.c)
		home := as(w.alice)
		view := w.create(t, inC, "client queue", true)
		other := w.create(t, inC, "client other", true)
		if view.OrganizationID != w.c.ID {
			t.Fatalf("view stamped %s, want the client %s", view.OrganizationID, w.c.ID)
		}
		if _, err := w.svc.SetDefault(inC, &view.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Hide(inC, other.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := w.svc.Default(inC); err != nil || got == nil || got.ID != view.ID {
			t.Errorf("default in client = %v, %v", got, err)
		}
		if hidden, err := w.svc.Hidden(inC, other); err != nil || !hidden {
			t.Errorf("hidden in client = %v, %v", hidden, err)
		}
		if got, err := w.svc.Default(home); err != nil || got != nil {
			t.Errorf("default at home = %v, %v; want none (the view is the client's)", got, err)
		}
		if got, err := w.svc.List(home); err != nil || len(got) != 0 {
			t.Errorf("home lists %v, %v", names(got), err)
		}
		if err := w.svc.Delete(inC, view.ID); err != nil {
			t.Fatal(err)
		}
		u, err := w.db.Client.User.Get(auth.System(context.Background()), w.alice.ID)
		if err != nil || u.DefaultViewID != nil {
			t.Errorf("alice's default after delete = %v, %v", u.DefaultViewID, err)
		}
	})
}

func TestReadOnly(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		shared := w.create(t, as(w.bob), "bob shared", true)
		rita := as(w.rita)
		writes := []struct {
			name string
			run  func() error
		}{
			{"create", func() error { _, err := w.svc.Create(rita, alertviews.CreateAlertViewInput{Name: "x"}); return err }},
			{"hide", func() error { _, err := w.svc.Hide(rita, shared.ID); return err }},
			{"set default", func() error { _, err := w.svc.SetDefault(rita, &shared.ID); return err }},
			{"clear default", func() error { _, err := w.svc.SetDefault(rita, nil); return err }},
		}
		for _, op := range writes {
			t.Run(op.name, func(t *testing.T) {
				if err := op.run(); !errors.Is(err, rule.ErrReadOnly) {
					t.Errorf("%s: %v, want the read-only denial", op.name, err)
				}
			})
		}
		got, err := w.svc.List(rita)
		if err != nil || !slices.Equal(names(got), []string{"bob shared"}) {
			t.Errorf("read-only list = %v, %v", names(got), err)
		}
		if hidden, err := w.svc.Hidden(rita, shared); err != nil || hidden {
			t.Errorf("hidden = %v, %v", hidden, err)
		}
	})
}

// TestCache checks the per-request cache answers like the direct queries,
// costs two queries for a whole list, and is cleared by writes.
func TestCache(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := setup(t, db)
		var queries atomic.Int64
		counted := ent.NewClient(ent.Driver(dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL),
			func(context.Context, ...any) { queries.Add(1) })))
		svc := alertviews.New(counted)
		bob := as(w.bob)
		carol := as(w.carol)
		var list []*ent.AlertView
		for _, name := range []string{"v1", "v2", "v3", "v4", "v5"} {
			list = append(list, w.create(t, bob, name, true))
		}
		list = append(list, w.create(t, carol, "carol personal", false))
		if _, err := w.svc.Hide(carol, list[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetDefault(carol, &list[2].ID); err != nil {
			t.Fatal(err)
		}
		flags := func(t *testing.T, ctx context.Context) (hidden, def []bool) {
			t.Helper()
			for _, v := range list {
				h, err := svc.Hidden(ctx, v)
				if err != nil {
					t.Fatal(err)
				}
				d, err := svc.IsDefault(ctx, v)
				if err != nil {
					t.Fatal(err)
				}
				hidden, def = append(hidden, h), append(def, d)
			}
			return hidden, def
		}
		queries.Store(0)
		wantHidden, wantDefault := flags(t, carol)
		direct := queries.Load()
		if !slices.Equal(wantHidden, []bool{false, true, false, false, false, false}) ||
			!slices.Equal(wantDefault, []bool{false, false, true, false, false, false}) {
			t.Fatalf("direct flags: hidden %v, default %v", wantHidden, wantDefault)
		}
		cached := alertviews.WithCache(carol)
		queries.Store(0)
		gotHidden, gotDefault := flags(t, cached)
		if !slices.Equal(gotHidden, wantHidden) || !slices.Equal(gotDefault, wantDefault) {
			t.Errorf("cached flags: hidden %v, default %v", gotHidden, gotDefault)
		}
		if n := queries.Load(); n != 2 {
			t.Errorf("cached flags of %d views took %d queries, want 2", len(list), n)
		}
		t.Logf("%d views: %d queries direct, %d cached", len(list), direct, queries.Load())

		t.Run("concurrent resolvers share one load", func(t *testing.T) {
			fresh := alertviews.WithCache(carol)
			queries.Store(0)
			got := make([]bool, len(list))
			var wg sync.WaitGroup
			for i, v := range list {
				wg.Go(func() {
					h, err := svc.Hidden(fresh, v)
					if err != nil {
						t.Error(err)
					}
					got[i] = h
				})
			}
			wg.Wait()
			if !slices.Equal(got, wantHidden) {
				t.Errorf("hidden %v, want %v", got, wantHidden)
			}
			if n := queries.Load(); n != 2 {
				t.Errorf("%d queries, want 2", n)
			}
		})

		if _, err := svc.Hide(cached, list[2].ID); err != nil {
			t.Fatal(err)
		}
		gotHidden, gotDefault = flags(t, cached)
		if !gotHidden[2] || gotDefault[2] {
			t.Errorf("after hiding the default: hidden %v, default %v", gotHidden, gotDefault)
		}
		// Another caller sharing the cache gets its own entry.
		if h, err := svc.Hidden(viewer.NewContext(cached, viewer.FromContext(bob)), list[1]); err != nil || h {
			t.Errorf("bob's flag = %v, %v", h, err)
		}
	})
}
