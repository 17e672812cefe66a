package analysis

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestAssetProfileSetting(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"), testenv.Name("Acme"))
		admin, _ := testenv.UserContext(t, db, org, enum.RoleAdmin, testenv.Handle("root"))
		analyst, _ := testenv.UserContext(t, db, org, enum.RoleAnalyst, testenv.Handle("ada"))
		s := New(db.Client, &recorder{}, nil, nil)

		empty, err := s.AssetProfile(analyst)
		if err != nil || empty.Domains == nil || len(empty.Domains)+len(empty.Networks) != 0 {
			t.Fatalf("default profile %+v, %v", empty, err)
		}
		got, err := s.UpdateAssetProfile(admin, UpdateAssetProfileInput{
			Domains: []string{"Example.COM.", "example.com"}, Networks: []string{"10.0.0.0/8", "203.0.113.7/28", "::ffff:198.51.100.1"},
			AdminHosts: []string{"jump-01"}, Scanners: []string{"10.0.9.50"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := builtin.AssetProfile{Domains: []string{"example.com"}, Networks: []string{"10.0.0.0/8", "203.0.113.0/28", "198.51.100.1"},
			AdminHosts: []string{"jump-01"}, AdminAccounts: []string{}, Scanners: []string{"10.0.9.50"}}
		if !equalProfile(*got, want) {
			t.Fatalf("saved %+v, want %+v", *got, want)
		}
		// A list left out is kept; an empty list clears.
		got, err = s.UpdateAssetProfile(admin, UpdateAssetProfileInput{AdminAccounts: []string{"svc_backup"}, Scanners: []string{}})
		if err != nil || !slices.Equal(got.Domains, want.Domains) || !slices.Equal(got.AdminAccounts, []string{"svc_backup"}) || len(got.Scanners) != 0 {
			t.Fatalf("patch: %+v, %v", got, err)
		}
		read, err := s.AssetProfile(analyst)
		if err != nil || !equalProfile(*read, *got) {
			t.Fatalf("read %+v, %v", read, err)
		}

		for _, tc := range []struct {
			in    UpdateAssetProfileInput
			field string
		}{
			{UpdateAssetProfileInput{Networks: []string{"10.0.0.0/8", "10.0.0.300/8"}}, "networks.1"},
			{UpdateAssetProfileInput{Domains: []string{"https://example.com"}}, "domains.0"},
			{UpdateAssetProfileInput{Domains: []string{"*.example.com"}}, "domains.0"},
			{UpdateAssetProfileInput{AdminHosts: []string{"jump 01"}}, "admin_hosts.0"},
			{UpdateAssetProfileInput{AdminAccounts: []string{""}}, "admin_accounts.0"},
			{UpdateAssetProfileInput{Scanners: make([]string, maxProfileEntries+1)}, "scanners"},
		} {
			_, err := s.UpdateAssetProfile(admin, tc.in)
			if ae, ok := apperr.As(err); !ok || ae.Code != apperr.BadInput || ae.Field != tc.field {
				t.Errorf("%+v: error %v, want invalid %s", tc.in, err, tc.field)
			}
		}
		if after, _ := s.AssetProfile(analyst); !equalProfile(*after, *got) {
			t.Errorf("a refused update changed the profile: %+v", after)
		}
		if _, err := s.UpdateAssetProfile(analyst, UpdateAssetProfileInput{Domains: []string{"evil.test"}}); !isCode(err, apperr.Forbidden) {
			t.Errorf("analyst update: %v, want forbidden", err)
		}
		if _, err := s.UpdateAssetProfile(context.Background(), UpdateAssetProfileInput{}); !isCode(err, apperr.Forbidden) {
			t.Errorf("anonymous update: %v, want forbidden", err)
		}
		n, err := db.Client.Activity.Query().Where(activity.EntityType("asset_profile"), activity.Action("update")).Count(admin)
		if err != nil || n != 2 {
			t.Errorf("activity entries %d, %v, want 2", n, err)
		}

		// Another organisation neither sees nor changes it.
		other := testenv.Org(t, db, testenv.Slug("globex"), testenv.Name("Globex"))
		theirAdmin, _ := testenv.UserContext(t, db, other, enum.RoleAdmin, testenv.Handle("boss"))
		theirs, err := s.AssetProfile(theirAdmin)
		if err != nil || len(theirs.Domains) != 0 {
			t.Fatalf("other organisation reads %+v, %v", theirs, err)
		}
		if _, err := s.UpdateAssetProfile(theirAdmin, UpdateAssetProfileInput{Domains: []string{"globex.test"}}); err != nil {
			t.Fatal(err)
		}
		if mine, _ := s.AssetProfile(analyst); !slices.Equal(mine.Domains, []string{"example.com"}) {
			t.Fatalf("another organisation's update changed ours: %+v", mine)
		}
	})
}

func isCode(err error, c apperr.Code) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Code == c
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func equalProfile(a, b builtin.AssetProfile) bool {
	return slices.Equal(a.Domains, b.Domains) && slices.Equal(a.Networks, b.Networks) && slices.Equal(a.AdminHosts, b.AdminHosts) &&
		slices.Equal(a.AdminAccounts, b.AdminAccounts) && slices.Equal(a.Scanners, b.Scanners)
}

// TestAnalysisUsesProfileAndScopedHistory: the stored profile reaches the
// analyst (the organisation's scanner is benign, its egress address no
// IOC), vendor techniques are passed on, and closures of the same rule on
// another host do not count as history.
func TestAnalysisUsesProfileAndScopedHistory(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"), testenv.Name("Acme"))
		admin, _ := testenv.UserContext(t, db, org, enum.RoleAdmin, testenv.Handle("root"))
		q := &recorder{}
		s := New(db.Client, q, nil, nil)
		analyse := func(a *ent.Alert) *ent.Analysis {
			t.Helper()
			q.args = nil
			if _, err := s.AnalyseAlert(admin, a.ID, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.run(context.Background(), q.args[0]); err != nil {
				t.Fatal(err)
			}
			got, err := s.LatestForAlert(admin, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		mk := func(title, host string, status enum.AlertStatus, d *enum.Disposition, mitre []string, ents ...schematype.Entity) *ent.Alert {
			a, err := db.Client.Alert.Create().SetTitle(title).SetSource("wazuh").SetSeverity(enum.SeverityMedium).
				SetStatus(status).SetNillableDisposition(d).SetFingerprint("fp:" + host + ":" + title).SetMitre(mitre).
				SetEntities(append([]schematype.Entity{{Type: "hostname", Value: host}}, ents...)).Save(admin)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		scan := mk("Multiple SMB logon attempts", "app-07", enum.AlertStatusNew, nil, []string{"T1110"},
			schematype.Entity{Type: "ipv4", Value: "10.0.9.50"}, schematype.Entity{Type: "ipv4", Value: "203.0.113.5"})
		before := analyse(scan)
		if before.Verdict == "likely_benign" {
			t.Fatalf("without a profile the scan is %s", before.Verdict)
		}
		if _, err := s.UpdateAssetProfile(admin, UpdateAssetProfileInput{Networks: []string{"10.0.0.0/8", "203.0.113.0/28"}, Scanners: []string{"10.0.9.50"}}); err != nil {
			t.Fatal(err)
		}
		after := analyse(scan)
		if after.Verdict != "likely_benign" || strings.Contains(jsonOf(after.Result["iocs"]), "203.0.113.5") {
			t.Fatalf("with the profile: %s, iocs %s", after.Verdict, jsonOf(after.Result["iocs"]))
		}

		// Twelve false positives of the same rule on another host say
		// nothing about this one; three on this host do.
		fp := enum.DispositionFalsePositive
		for range 12 {
			mk("Suspicious scheduled task created", "web-01", enum.AlertStatusClosed, &fp, nil)
		}
		target := mk("Suspicious scheduled task created", "db-01", enum.AlertStatusNew, nil, []string{"T1053.005"})
		got := analyse(target)
		if strings.Contains(jsonOf(got.Result["reasons"]), "false positive") || !strings.Contains(jsonOf(got.Result["techniques"]), "T1053.005") {
			t.Fatalf("history from another host counted or vendor technique lost: %s %s", jsonOf(got.Result["reasons"]), jsonOf(got.Result["techniques"]))
		}
		for range 3 {
			mk("Suspicious scheduled task created", "db-01", enum.AlertStatusClosed, &fp, nil)
		}
		if got := analyse(target); got.Verdict != "likely_benign" {
			t.Fatalf("history on the same host: %s %s", got.Verdict, jsonOf(got.Result["reasons"]))
		}
	})
}
