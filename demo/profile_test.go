package demo

import (
	"slices"
	"testing"

	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestEnsureAssetProfile(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("demo"), testenv.Name("Demo"))
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin, testenv.Handle("root"))
		if err := ensureAssetProfile(ctx, db.Client); err != nil {
			t.Fatal(err)
		}
		svc := analysis.New(db.Client, nil, nil, nil)
		p, err := svc.AssetProfile(ctx)
		if err != nil || !slices.Equal(p.Domains, demoAssetProfile.Domains) || !slices.Equal(p.Scanners, demoAssetProfile.Scanners) {
			t.Fatalf("demo profile %+v, %v", p, err)
		}
		// An admin's own profile survives another demo run.
		if _, err := svc.UpdateAssetProfile(ctx, analysis.UpdateAssetProfileInput{Domains: []string{"corp.test"}}); err != nil {
			t.Fatal(err)
		}
		if err := ensureAssetProfile(ctx, db.Client); err != nil {
			t.Fatal(err)
		}
		if p, _ := svc.AssetProfile(ctx); !slices.Equal(p.Domains, []string{"corp.test"}) {
			t.Fatalf("a second run replaced the admin's profile: %+v", p)
		}
	})
}
