package stream_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// TestSharedSubscriptionsKeepViewersApart: subscriptions with the same
// document share an execution only within one organisation and role, so
// each of these subscribers, all with alertSub, gets its own organisation's
// events, and per-user subscriptions are never shared across users.
func TestSharedSubscriptionsKeepViewersApart(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		if res := admin.Do(http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme"}); res.Status != http.StatusCreated {
			t.Fatalf("create org: %d %s", res.Status, res.Raw)
		}
		ana, _ := env.NewUser(t, admin, "ana@seliq.test", "analyst")
		bob, _ := env.NewUser(t, admin, "bob@seliq.test", "admin")
		homeKey := admin.ConnectorKey(t, "home EDR")
		acmeKey := admin.As("acme").ConnectorKey(t, "acme EDR")
		p := protocols[0]
		connect := func(authorization, org string) *client {
			c := mustDial(t, env, p, "")
			payload := map[string]any{"Authorization": authorization}
			if org != "" {
				payload["X-Seliq-Org"] = org
			}
			c.mustSend("connection_init", "", payload)
			c.expect("connection_ack", "")
			return c
		}

		t.Run("alertEvents by organisation and role", func(t *testing.T) {
			adminHome, bobHome := connect(admin.Authorization, ""), connect(bob.Authorization, "")
			anaHome, adminAcme := connect(ana.Authorization, ""), connect(admin.Authorization, "acme")
			for _, c := range []*client{adminHome, bobHome, anaHome, adminAcme} {
				c.subscribe("s", alertSub, nil)
				// Joined to its group once a later message is answered.
				c.query("sync", meQuery)
			}
			// The groups: home admins, home analysts, acme admins.
			awaitSharedLive(t, env, homeKey, admin.Authorization, "")
			awaitSharedLive(t, env, homeKey, ana.Authorization, "")
			awaitSharedLive(t, env, acmeKey, admin.Authorization, "acme")
			// next skips awaitSharedLive's probes.
			next := func(c *client) alertEvent {
				for {
					if e := decodeAlert(t, c.next("s", latency)); !strings.HasPrefix(e.Alert.Title, "probe ") {
						return e
					}
				}
			}
			home := env.Ingest(t, homeKey, "home's alert")
			for name, c := range map[string]*client{"admin": adminHome, "bob": bobHome, "ana": anaHome} {
				if e := next(c); e.Alert.ID != home || e.Alert.Title != "home's alert" {
					t.Fatalf("%s got %+v, want home's alert %s", name, e, home)
				}
			}
			// In order: had home's event reached acme's subscriber, it would
			// come first.
			acme := env.Ingest(t, acmeKey, "acme's alert")
			if e := next(adminAcme); e.Alert.ID != acme || e.Alert.Title != "acme's alert" {
				t.Fatalf("the admin acting in acme got %+v, want only acme's alert %s", e, acme)
			}
		})

		t.Run("notificationAdded by user", func(t *testing.T) {
			// Not shared (per user): resuming from a cursor, no wait for it to register.
			const sub = `subscription($after: String) { notificationAdded(after: $after) { notification { body } } }`
			adminFeed, bobFeed := connect(admin.Authorization, ""), connect(bob.Authorization, "")
			from := resumeVars(t, env)
			adminFeed.subscribe("n", sub, from)
			bobFeed.subscribe("n", sub, from)
			inc := ana.Do(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing"}).String("id")
			mention := func(who *apitest.Client, text string) string {
				t.Helper()
				body := "@" + who.Do(http.MethodGet, "/api/v1/users/me", nil).String("handle") + " " + text
				if res := ana.Do(http.MethodPost, "/api/v1/incidents/"+inc+"/notes", map[string]any{"body": body}); res.Status != http.StatusCreated {
					t.Fatalf("note: %d %s", res.Status, res.Raw)
				}
				return body
			}
			body := func(e event) string {
				var n struct{ Notification struct{ Body string } }
				if err := json.Unmarshal(e.Data["notificationAdded"], &n); err != nil {
					t.Fatal(err)
				}
				return n.Notification.Body
			}
			forBob := mention(bob, "for bob")
			if got := body(bobFeed.next("n", latency)); got != forBob {
				t.Fatalf("bob got %q, want %q", got, forBob)
			}
			forAdmin := mention(admin, "for the admin")
			if got := body(adminFeed.next("n", latency)); got != forAdmin {
				t.Fatalf("the admin got %q first, want only his own %q", got, forAdmin)
			}
		})
	})
}
