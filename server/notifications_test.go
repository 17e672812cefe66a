package server_test

// The notification feed and preferences, on both surfaces.

import (
	"net/http"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestNotificationRoutes(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		s := newSuite(t, env, newCoverage())
		me := s.rest(t, s.reader, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		readerHandle := me.String("handle")
		inc := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing wave"}, http.StatusCreated).String("id")
		mention := func(body string) {
			t.Helper()
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+inc+"/notes", map[string]any{"body": body}, http.StatusCreated)
		}
		mention("@" + readerHandle + " please confirm the sender is blocked")
		mention("@" + readerHandle + " and the second wave too")

		t.Run("feed", func(t *testing.T) {
			res := s.rest(t, s.reader, http.MethodGet, "/api/v1/notifications?unread=true", nil, http.StatusOK)
			items := res.Items()
			if len(items) != 2 || items[0]["kind"] != "mentioned" || items[0]["entity_id"] != inc || items[0]["read_at"] != nil {
				t.Fatalf("unread feed: %s", res.Raw)
			}
			if items[0]["body"] != "@"+readerHandle+" and the second wave too" {
				t.Fatalf("newest first: %v", items[0]["body"])
			}
			if others := s.rest(t, s.analyst, http.MethodGet, "/api/v1/notifications", nil, http.StatusOK); len(others.Items()) != 0 {
				t.Fatalf("the analyst sees the reader's notifications: %s", others.Raw)
			}
			// Read-only users read and mark their own notifications.
			read := s.rest(t, s.reader, http.MethodPost, "/api/v1/notifications/"+items[1]["id"].(string)+"/read", nil, http.StatusOK)
			if read.Body["read_at"] == nil {
				t.Fatalf("mark read: %s", read.Raw)
			}
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/notifications/"+items[0]["id"].(string)+"/read", nil, http.StatusNotFound)
			s.rest(t, s.reader, http.MethodPost, "/api/v1/notifications/"+fakeID+"/read", nil, http.StatusNotFound)
			hist := s.rest(t, s.reader, http.MethodGet, "/api/v1/notifications/history", nil, http.StatusOK)
			if len(hist.Items()) != 1 || hist.Items()[0]["id"] != items[1]["id"] {
				t.Fatalf("history: %s", hist.Raw)
			}
			all := s.rest(t, s.reader, http.MethodPost, "/api/v1/notifications/read-all", nil, http.StatusOK)
			if num(all.Body["updated"]) != 1 {
				t.Fatalf("read-all: %s", all.Raw)
			}
			if unread := s.rest(t, s.reader, http.MethodGet, "/api/v1/notifications?unread=true", nil, http.StatusOK); len(unread.Items()) != 0 {
				t.Fatalf("unread after read-all: %s", unread.Raw)
			}
			wantLoc(t, s.rest(t, s.reader, http.MethodGet, "/api/v1/notifications/history?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", nil, http.StatusUnprocessableEntity), "query:until")
			s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/notifications", nil, http.StatusUnauthorized)
			s.rest(t, env.Anonymous(), http.MethodPost, "/api/v1/notifications/read-all", nil, http.StatusUnauthorized)
		})

		t.Run("graphql", func(t *testing.T) {
			mention("@" + readerHandle + " third")
			g := s.gql(t, s.reader, `{ notifications(unread: true) { totalCount edges { node { id kind title entityType } } } }`, nil)
			n := nodes(g["notifications"])
			if len(n) != 1 || n[0]["title"] != "You were mentioned on incident #1 “Phishing wave”" || n[0]["kind"] != "MENTIONED" || n[0]["entityType"] != "incident" {
				t.Fatalf("GraphQL feed: %v", g)
			}
			s.gql(t, s.reader, `mutation($id: ID!) { markNotificationRead(id: $id) { readAt } }`, map[string]any{"id": n[0]["id"]})
			s.gql(t, s.reader, `mutation { markAllNotificationsRead { updated } }`, nil)
			h := s.gql(t, s.reader, `{ notificationHistory(first: 10) { totalCount } }`, nil)
			if dig(h, "notificationHistory", "totalCount") != float64(3) {
				t.Fatalf("GraphQL history: %v", h)
			}
			s.gqlErr(t, env.Anonymous(), `{ notifications { totalCount } }`, nil, "UNAUTHENTICATED")
		})

		t.Run("prefs", func(t *testing.T) {
			p := s.rest(t, s.reader, http.MethodGet, "/api/v1/users/me/notification-prefs", nil, http.StatusOK)
			if dig(p.Body, "mentioned", "in_app") != true || dig(p.Body, "incident_status", "email") != false || dig(p.Body, "connector_failing", "in_app") != true {
				t.Fatalf("defaults: %s", p.Raw)
			}
			up := s.rest(t, s.reader, http.MethodPatch, "/api/v1/users/me/notification-prefs", map[string]any{"mentioned": map[string]any{"in_app": false}}, http.StatusOK)
			if dig(up.Body, "mentioned", "in_app") != false || dig(up.Body, "mentioned", "email") != true {
				t.Fatalf("patch: %s", up.Raw)
			}
			before := len(s.rest(t, s.reader, http.MethodGet, "/api/v1/notifications", nil, http.StatusOK).Items())
			mention("@" + readerHandle + " muted")
			if after := len(s.rest(t, s.reader, http.MethodGet, "/api/v1/notifications", nil, http.StatusOK).Items()); after != before {
				t.Fatalf("a muted kind still notified in the app (%d → %d)", before, after)
			}
			g := s.gql(t, s.reader, `mutation { updateNotificationPrefs(input: {mentioned: {inApp: true}, slaBreach: {email: false}}) { mentioned { inApp } slaBreach { email inApp } } }`, nil)
			if dig(g, "updateNotificationPrefs", "slaBreach", "email") != false || dig(g, "updateNotificationPrefs", "mentioned", "inApp") != true {
				t.Fatalf("GraphQL prefs: %v", g)
			}
			s.gql(t, s.reader, `{ notificationPrefs { assigned { inApp email } } }`, nil)
			// automation_failed (a trigger disabled after repeated failures)
			// is read and edited like every other kind, on both surfaces.
			if dig(p.Body, "automation_failed", "in_app") != true || dig(p.Body, "automation_failed", "email") != true {
				t.Fatalf("automation_failed defaults: %s", p.Raw)
			}
			af := s.rest(t, s.reader, http.MethodPatch, "/api/v1/users/me/notification-prefs", map[string]any{"automation_failed": map[string]any{"email": false}}, http.StatusOK)
			if dig(af.Body, "automation_failed", "email") != false || dig(af.Body, "automation_failed", "in_app") != true {
				t.Fatalf("patch automation_failed: %s", af.Raw)
			}
			g = s.gql(t, s.reader, `mutation { updateNotificationPrefs(input: {automationFailed: {inApp: false, email: true}}) { automationFailed { inApp email } } }`, nil)
			if dig(g, "updateNotificationPrefs", "automationFailed", "inApp") != false || dig(g, "updateNotificationPrefs", "automationFailed", "email") != true {
				t.Fatalf("GraphQL automationFailed: %v", g)
			}
			g = s.gql(t, s.reader, `{ notificationPrefs { automationFailed { inApp email } } }`, nil)
			if dig(g, "notificationPrefs", "automationFailed", "inApp") != false {
				t.Fatalf("GraphQL read automationFailed: %v", g)
			}
			if r := s.rest(t, s.reader, http.MethodGet, "/api/v1/users/me/notification-prefs", nil, http.StatusOK); dig(r.Body, "automation_failed", "in_app") != false {
				t.Fatalf("REST read automation_failed: %s", r.Raw)
			}
			wantLoc(t, s.rest(t, s.reader, http.MethodPatch, "/api/v1/users/me/notification-prefs", map[string]any{"automation_failed": map[string]any{"email": "no"}}, http.StatusUnprocessableEntity), "automation_failed")
			wantLoc(t, s.rest(t, s.reader, http.MethodPatch, "/api/v1/users/me/notification-prefs", map[string]any{"mentioned": map[string]any{"in_app": "yes"}}, http.StatusUnprocessableEntity), "mentioned")
			s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/users/me/notification-prefs", nil, http.StatusUnauthorized)
		})
		t.Run("coverage", s.checkCoverage("notifications"))
	})
}
