package server_test

// Email out through the API: the settings and the test message on both
// surfaces, and every notification kind produced by its event and
// delivered per the user's preferences on both channels, checked as the
// SMTP server received it.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/smtpfake"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

const publicURL = "https://seliq.example.test"

// startWithMail serves env with loopback reachable and fake's certificate
// trusted.
func startWithMail(t *testing.T, db *storage.DB, fake *smtpfake.Server) *apitest.Env {
	return apitest.Start(t, db, apitest.Options{OutboundAllow: "127.0.0.0/8", Configure: func(c *server.Config) {
		c.Mail.RootCAs = fake.CertPool
		c.Mail.PublicURL = publicURL
	}})
}

// inbox is what fake received for to whose subject contains subject.
func inbox(fake *smtpfake.Server, to, subject string) []smtpfake.Message {
	var out []smtpfake.Message
	for _, m := range fake.Messages() {
		p, err := m.Parsed()
		if err != nil || !slices.Contains(m.To, to) || !strings.Contains(p.Header.Get("Subject"), subject) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// waitMail waits until to received n messages about subject.
func waitMail(t *testing.T, fake *smtpfake.Server, to, subject string, n int) []smtpfake.Message {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, to+" receives "+subject, func() bool { return len(inbox(fake, to, subject)) >= n })
	got := inbox(fake, to, subject)
	if len(got) != n {
		t.Fatalf("%s received %d messages about %q, want %d", to, len(got), subject, n)
	}
	return got
}

// count is how many of c's notifications are of kind.
func count(t *testing.T, s *suite, c *apitest.Client, kind string) int {
	t.Helper()
	n := 0
	for _, it := range s.rest(t, c, http.MethodGet, "/api/v1/notifications?limit=500", nil, http.StatusOK).Items() {
		if it["kind"] == kind {
			n++
		}
	}
	return n
}

func TestEmailSettingsAndNotifications(t *testing.T) {
	t.Parallel() // independent: its own servers and databases
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		fake := smtpfake.Start(t, smtpfake.Options{Mode: smtpfake.StartTLS, Username: "soc", Password: "s3cret"})
		env := startWithMail(t, db, fake)
		s := newSuite(t, env, newCoverage())

		t.Run("settings", func(t *testing.T) {
			got := s.rest(t, s.admin, http.MethodGet, "/api/v1/settings/email", nil, http.StatusOK)
			if got.Body["source"] != "none" || got.Body["smtp_password_set"] != false {
				t.Fatalf("fresh settings: %s", got.Raw)
			}
			set := s.rest(t, s.admin, http.MethodPatch, "/api/v1/settings/email", map[string]any{
				"smtp_host": "127.0.0.1", "smtp_port": fake.Port, "smtp_tls": "starttls", "smtp_username": "soc",
				"smtp_password": "s3cret", "from_address": "soc@provider.test"}, http.StatusOK)
			if set.Body["smtp_password_set"] != true || set.Body["smtp_tls"] != "starttls" || set.Body["source"] != "organization" {
				t.Fatalf("patched settings: %s", set.Raw)
			}
			if strings.Contains(string(set.Raw), "s3cret") {
				t.Fatalf("the password came back: %s", set.Raw)
			}
			wantLoc(t, s.admin.Do(http.MethodPatch, "/api/v1/settings/email", map[string]any{"smtp_host": "localhost"}), "smtp_password")
			wantLoc(t, s.admin.Do(http.MethodPatch, "/api/v1/settings/email", map[string]any{"smtp_host": "169.254.169.254", "smtp_password": "x"}), "smtp_host")
			s.rest(t, s.analyst, http.MethodGet, "/api/v1/settings/email", nil, http.StatusForbidden)
			s.rest(t, s.analyst, http.MethodPatch, "/api/v1/settings/email", map[string]any{"smtp_port": 25}, http.StatusForbidden)
			s.rest(t, s.reader, http.MethodPost, "/api/v1/settings/email/test", map[string]any{"to": "x@example.com"}, http.StatusForbidden)

			res := s.rest(t, s.admin, http.MethodPost, "/api/v1/settings/email/test", map[string]any{"to": "ops@example.com"}, http.StatusOK)
			if res.Body["ok"] != true || res.Body["message"] != "the server accepted the message" {
				t.Fatalf("test message: %s", res.Raw)
			}
			waitMail(t, fake, "ops@example.com", "Test message", 1)
			wantLoc(t, s.admin.Do(http.MethodPost, "/api/v1/settings/email/test", map[string]any{"to": "two@example.com, three@example.com"}), "to")

			g := s.gql(t, s.admin, `{ emailSettings { smtpHost smtpTls smtpPasswordSet source } }`, nil)
			if dig(g, "emailSettings", "smtpTls") != "STARTTLS" || dig(g, "emailSettings", "smtpHost") != "127.0.0.1" {
				t.Fatalf("GraphQL settings: %v", g)
			}
			g = s.gql(t, s.admin, `mutation { updateEmailSettings(input: {fromAddress: "alerts@provider.test"}) { fromAddress } }`, nil)
			if dig(g, "updateEmailSettings", "fromAddress") != "alerts@provider.test" {
				t.Fatalf("GraphQL update: %v", g)
			}
			g = s.gql(t, s.admin, `mutation { sendTestEmail(to: "gql@example.com") { ok message } }`, nil)
			if dig(g, "sendTestEmail", "ok") != true {
				t.Fatalf("GraphQL test message: %v", g)
			}
			s.gqlErr(t, s.analyst, `{ emailSettings { smtpHost } }`, nil, "FORBIDDEN")

			// Per organisation: a client organisation has its own (none yet),
			// and its settings do not change the provider's.
			s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Client Mail", "slug": "client-mail"}, http.StatusCreated)
			client := s.admin.As("client-mail")
			if got := s.rest(t, client, http.MethodGet, "/api/v1/settings/email", nil, http.StatusOK); got.Body["source"] != "none" || got.Body["smtp_host"] != "" {
				t.Fatalf("the client organisation sees %s", got.Raw)
			}
			s.rest(t, client, http.MethodPatch, "/api/v1/settings/email", map[string]any{"smtp_host": "smtp.client.example", "from_address": "soc@client.example"}, http.StatusOK)
			if got := s.rest(t, s.admin, http.MethodGet, "/api/v1/settings/email", nil, http.StatusOK); got.Body["smtp_host"] != "127.0.0.1" {
				t.Fatalf("the client's change reached the provider: %s", got.Raw)
			}
		})

		readerHandle := s.rest(t, s.reader, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK).String("handle")
		prefs := func(c *apitest.Client, kind string, inApp, email bool) {
			t.Helper()
			s.rest(t, c, http.MethodPatch, "/api/v1/users/me/notification-prefs", map[string]any{kind: map[string]any{"in_app": inApp, "email": email}}, http.StatusOK)
		}
		// kinds checks one event against the four combinations of the
		// reader's two channels: an in-app row and a message exactly when
		// each is on.
		kinds := func(t *testing.T, kind, subject string, event func(i int)) {
			t.Helper()
			for i, c := range []struct{ inApp, email bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
				prefs(s.reader, kind, c.inApp, c.email)
				rows, mails := count(t, s, s.reader, kind), len(inbox(fake, apitest.ReaderEmail, subject))
				event(i)
				wantMails := mails
				if c.email {
					wantMails++
					waitMail(t, fake, apitest.ReaderEmail, subject, wantMails)
				}
				wantRows := rows
				if c.inApp {
					wantRows++
				}
				if got := count(t, s, s.reader, kind); got != wantRows {
					t.Fatalf("%s with in_app=%v: %d notifications, want %d", kind, c.inApp, got, wantRows)
				}
				if !c.email {
					// The event's transaction has committed and queued what it
					// queued; a message sent anyway would arrive with the next
					// one, which the next round's count catches.
					continue
				}
			}
			// The last round emailed nothing: the count stayed.
			prefs(s.reader, kind, true, true)
			event(99)
			all := waitMail(t, fake, apitest.ReaderEmail, subject, 3)
			if len(all) != 3 {
				t.Fatalf("%s: a message was sent with email off", kind)
			}
		}

		var incident string
		t.Run("assigned", func(t *testing.T) {
			kinds(t, "assigned", "Something was assigned to you", func(int) {
				incident = s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Payroll phish", "assignee_id": s.readerID}, http.StatusCreated).String("id")
			})
			m := inbox(fake, apitest.ReaderEmail, "Something was assigned to you")[0]
			p, _ := m.Parsed()
			if !strings.HasPrefix(p.Header.Get("Message-Id"), "<notification.") || !strings.HasSuffix(p.Header.Get("Message-Id"), "@seliq.example.test>") {
				t.Fatalf("Message-ID %q", p.Header.Get("Message-Id"))
			}
			if !strings.Contains(string(m.Data), publicURL+"/api/v1/incidents/") {
				t.Fatalf("no link to the incident:\n%s", m.Data)
			}
		})

		t.Run("assigned alert", func(t *testing.T) {
			// An alert assigned by someone else, alone or in a bulk action,
			// notifies its assignee on each channel their preference turns
			// on; a bulk action is one notification, not one per alert.
			key := s.admin.ConnectorKey(t, "assign-edr")
			alertIDs := make([]string, 7)
			for i := range alertIDs {
				alertIDs[i] = env.Ingest(t, key, fmt.Sprintf("Beaconing host %d", i))
			}
			const subject = "Something was assigned to you"
			latest := func(t *testing.T) map[string]any {
				t.Helper()
				for _, it := range s.rest(t, s.reader, http.MethodGet, "/api/v1/notifications?limit=500", nil, http.StatusOK).Items() {
					if it["kind"] == "assigned" {
						return it // newest first
					}
				}
				t.Fatal("no assigned notification")
				return nil
			}
			assignOne := func(id string) {
				s.rest(t, s.analyst, http.MethodPatch, "/api/v1/alerts/"+id, map[string]any{"assignee_id": s.readerID}, http.StatusOK)
			}
			assignBulk := func(ids ...string) {
				res := s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/bulk", map[string]any{"alert_ids": ids, "action": "assign", "changes": map[string]any{"assignee_id": s.readerID}}, http.StatusOK)
				if num(res.Body["updated"]) != float64(len(ids)) {
					t.Fatalf("bulk assign: %s", res.Raw)
				}
			}
			cases := []struct {
				name          string
				inApp, email  bool
				assign        func()
				title, entity string
			}{
				{name: "single, both channels", inApp: true, email: true, assign: func() { assignOne(alertIDs[0]) }, title: "Assigned to you: alert “Beaconing host 0”", entity: alertIDs[0]},
				{name: "bulk, both channels", inApp: true, email: true, assign: func() { assignBulk(alertIDs[1], alertIDs[2], alertIDs[3]) }, title: "Assigned to you: 3 alerts, among them alert “Beaconing host"},
				{name: "single, in-app only", inApp: true, assign: func() { assignOne(alertIDs[4]) }, title: "Assigned to you: alert “Beaconing host 4”", entity: alertIDs[4]},
				// Had the previous round emailed, this round's exact count
				// would be one over.
				{name: "bulk, email only", email: true, assign: func() { assignBulk(alertIDs[5], alertIDs[6]) }},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					prefs(s.reader, "assigned", tc.inApp, tc.email)
					rows, mails := count(t, s, s.reader, "assigned"), len(inbox(fake, apitest.ReaderEmail, subject))
					tc.assign()
					wantRows := rows
					if tc.inApp {
						wantRows++
					}
					if got := count(t, s, s.reader, "assigned"); got != wantRows {
						t.Fatalf("%d assigned notifications, want %d", got, wantRows)
					}
					if tc.inApp {
						n := latest(t)
						if !strings.HasPrefix(n["title"].(string), tc.title) || n["entity_type"] != "alert" || (tc.entity != "" && n["entity_id"] != tc.entity) {
							t.Fatalf("notification: %v", n)
						}
					}
					if tc.email {
						got := waitMail(t, fake, apitest.ReaderEmail, subject, mails+1)
						if data := string(got[len(got)-1].Data); !strings.Contains(data, publicURL+"/api/v1/alerts/") || !strings.Contains(data, "Beaconing host") {
							t.Fatalf("the message does not name and link the alert:\n%s", data)
						}
					}
				})
			}
			prefs(s.reader, "assigned", true, true)
			// Assigning oneself, alone or in bulk, notifies nobody; an
			// unchanged assignee is no new assignment.
			before := count(t, s, s.analyst, "assigned")
			s.rest(t, s.analyst, http.MethodPatch, "/api/v1/alerts/"+alertIDs[0], map[string]any{"assignee_id": s.analystID}, http.StatusOK)
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/alerts/bulk", map[string]any{"alert_ids": alertIDs[1:3], "action": "assign", "changes": map[string]any{"assignee_id": s.analystID}}, http.StatusOK)
			if got := count(t, s, s.analyst, "assigned"); got != before {
				t.Fatalf("self-assignment notified the actor: %d, was %d", got, before)
			}
			readerRows := count(t, s, s.reader, "assigned")
			assignOne(alertIDs[4])
			if got := count(t, s, s.reader, "assigned"); got != readerRows {
				t.Fatal("re-assigning an alert to its assignee notified them again")
			}
		})

		t.Run("mentioned", func(t *testing.T) {
			kinds(t, "mentioned", "You were mentioned", func(i int) {
				s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+incident+"/notes", map[string]any{"body": "@" + readerHandle + " look"}, http.StatusCreated)
			})
		})

		t.Run("incident_status", func(t *testing.T) {
			// The reader is assigned; the admin is told as a member of the group.
			group := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups", map[string]any{"name": "Tier 2"}, http.StatusCreated).String("id")
			s.rest(t, s.admin, http.MethodPut, "/api/v1/groups/"+group+"/members", map[string]any{"user_ids": []string{s.adminID}}, http.StatusOK)
			s.rest(t, s.analyst, http.MethodPatch, "/api/v1/incidents/"+incident, map[string]any{"group_id": group}, http.StatusOK)
			statuses, n := []string{"in_progress", "pending"}, 0
			adminBefore := count(t, s, s.admin, "incident_status")
			kinds(t, "incident_status", "An incident's status changed", func(int) {
				s.rest(t, s.analyst, http.MethodPatch, "/api/v1/incidents/"+incident, map[string]any{"status": statuses[n%2]}, http.StatusOK)
				n++
			})
			if got := count(t, s, s.admin, "incident_status"); got != adminBefore+5 {
				t.Fatalf("the group member got %d status notifications, want %d", got, adminBefore+5)
			}
			// Whoever changes the status is not told.
			if n := count(t, s, s.analyst, "incident_status"); n != 0 {
				t.Fatalf("the actor was notified %d times", n)
			}
		})

		t.Run("critical_alert", func(t *testing.T) {
			group := s.rest(t, s.admin, http.MethodPost, "/api/v1/groups", map[string]any{"name": "On duty"}, http.StatusCreated).String("id")
			s.rest(t, s.admin, http.MethodPut, "/api/v1/groups/"+group+"/members", map[string]any{"user_ids": []string{s.readerID}}, http.StatusOK)
			s.gqlErr(t, s.analyst, `mutation($g: ID) { setOnDutyGroup(groupId: $g) { onDutyGroupId } }`, map[string]any{"g": group}, "FORBIDDEN")
			g := s.gql(t, s.admin, `mutation($g: ID) { setOnDutyGroup(groupId: $g) { onDutyGroupId } }`, map[string]any{"g": group})
			if dig(g, "setOnDutyGroup", "onDutyGroupId") != group {
				t.Fatalf("on duty: %v", g)
			}
			if g := s.gql(t, s.reader, `{ notificationSettings { onDutyGroupId } }`, nil); dig(g, "notificationSettings", "onDutyGroupId") != group {
				t.Fatalf("notification settings: %v", g)
			}
			// The same setting over REST, beside the email settings.
			const path = "/api/v1/settings/notifications"
			if got := s.rest(t, s.reader, http.MethodGet, path, nil, http.StatusOK); got.Body["on_duty_group_id"] != group {
				t.Fatalf("GET %s: %s", path, got.Raw)
			}
			s.rest(t, s.analyst, http.MethodPatch, path, map[string]any{"on_duty_group_id": nil}, http.StatusForbidden)
			s.rest(t, s.reader, http.MethodPatch, path, map[string]any{"on_duty_group_id": nil}, http.StatusForbidden)
			wantLoc(t, s.admin.Do(http.MethodPatch, path, map[string]any{"on_duty_group_id": "00000000-0000-4000-8000-000000000000"}), "on_duty_group_id")
			// A group of a client organisation is not one of this one.
			clientGroup := s.rest(t, s.admin.As("client-mail"), http.MethodPost, "/api/v1/groups", map[string]any{"name": "Client on duty"}, http.StatusCreated).String("id")
			wantLoc(t, s.admin.Do(http.MethodPatch, path, map[string]any{"on_duty_group_id": clientGroup}), "on_duty_group_id")
			for _, step := range []struct {
				body map[string]any
				want any
			}{
				{map[string]any{}, group}, // left out: kept
				{map[string]any{"on_duty_group_id": nil}, nil},
				{map[string]any{"on_duty_group_id": group}, group},
			} {
				if got := s.rest(t, s.admin, http.MethodPatch, path, step.body, http.StatusOK); got.Body["on_duty_group_id"] != step.want {
					t.Fatalf("PATCH %v: %s", step.body, got.Raw)
				}
			}
			if g := s.gql(t, s.admin, `mutation($g: ID) { updateNotificationSettings(input: {onDutyGroupId: $g}) { onDutyGroupId } }`, map[string]any{"g": group}); dig(g, "updateNotificationSettings", "onDutyGroupId") != group {
				t.Fatalf("GraphQL updateNotificationSettings: %v", g)
			}
			// Each change is in the activity log (an unchanged value is none):
			// the GraphQL set, the clearing and the setting again.
			changes, err := db.Client.Activity.Query().Where(activity.Field("on_duty_group_id")).Count(auth.System(context.Background()))
			if err != nil || changes != 3 {
				t.Fatalf("%d on-duty changes in the activity log (%v), want 3", changes, err)
			}
			key := s.admin.ConnectorKey(t, "edr")
			hostile := `Pay now at http://evil.example.com/<b>x</b>`
			kinds(t, "critical_alert", "A critical alert arrived", func(i int) {
				env.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": fmt.Sprintf("%s #%d", hostile, i), "severity": "critical"}, http.StatusAccepted)
			})
			// A high alert tells nobody.
			before := count(t, s, s.reader, "critical_alert")
			env.Ingest(t, key, "only high")
			if count(t, s, s.reader, "critical_alert") != before {
				t.Fatal("a high alert was notified as critical")
			}
			m := inbox(fake, apitest.ReaderEmail, "A critical alert arrived")[0]
			if strings.Contains(string(m.Data), "evil.example.com") || strings.Contains(string(m.Data), "http://evil") {
				t.Fatalf("the alert's link came through:\n%s", m.Data)
			}
		})

		t.Run("features", func(t *testing.T) {
			list := s.rest(t, s.reader, http.MethodGet, "/api/v1/settings/features", nil, http.StatusOK)
			var keys []string
			for _, f := range list.Items() {
				keys = append(keys, f["key"].(string))
			}
			if !slices.Equal(keys, []string{"email_notifications", "ai_chat"}) {
				t.Fatalf("features: %s", list.Raw)
			}
			s.rest(t, s.reader, http.MethodPatch, "/api/v1/settings/features/no_such_flag", map[string]any{"enabled": false}, http.StatusNotFound)
			off := s.rest(t, s.reader, http.MethodPatch, "/api/v1/settings/features/email_notifications", map[string]any{"enabled": false}, http.StatusOK)
			if off.Body["value"] != false || off.Body["enabled"] != false || off.Body["default"] != true {
				t.Fatalf("turned off: %s", off.Raw)
			}
			// Off: the mention is in the app, and no message follows.
			prefs(s.reader, "mentioned", true, true)
			mails, rows := len(inbox(fake, apitest.ReaderEmail, "You were mentioned")), count(t, s, s.reader, "mentioned")
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+incident+"/notes", map[string]any{"body": "@" + readerHandle + " muted by flag"}, http.StatusCreated)
			if count(t, s, s.reader, "mentioned") != rows+1 {
				t.Fatal("the in-app notification went missing")
			}
			g := s.gql(t, s.reader, `mutation { setFeature(key: "email_notifications", enabled: true) { enabled } }`, nil)
			if dig(g, "setFeature", "enabled") != true {
				t.Fatalf("GraphQL toggle: %v", g)
			}
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+incident+"/notes", map[string]any{"body": "@" + readerHandle + " back on"}, http.StatusCreated)
			got := waitMail(t, fake, apitest.ReaderEmail, "You were mentioned", mails+1)
			if strings.Contains(string(got[len(got)-1].Data), "muted by flag") {
				t.Fatal("the mention made while the flag was off was emailed")
			}
			s.gql(t, s.reader, `{ features { key enabled organizationAllows } }`, nil)
			s.rest(t, env.Anonymous(), http.MethodGet, "/api/v1/settings/features", nil, http.StatusUnauthorized)
		})

		t.Run("contacts", func(t *testing.T) {
			s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations/"+s.providerOrgID+"/contacts",
				map[string]any{"name": "CISO", "email": "ciso@client.test", "notify_incidents": true}, http.StatusCreated)
			s.rest(t, s.admin, http.MethodPost, "/api/v1/organizations/"+s.providerOrgID+"/contacts",
				map[string]any{"name": "Quiet", "email": "quiet@client.test", "notify_incidents": false}, http.StatusCreated)
			id := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Ransomware on FS01"}, http.StatusCreated).String("id")
			waitMail(t, fake, "ciso@client.test", "was opened", 1)
			s.rest(t, s.analyst, http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"status": "closed", "disposition": "true_positive"}, http.StatusOK)
			waitMail(t, fake, "ciso@client.test", "was closed", 1)
			if n := len(inbox(fake, "quiet@client.test", "")); n != 0 {
				t.Fatalf("a contact without notify_incidents got %d messages", n)
			}
		})

		t.Run("reports", func(t *testing.T) {
			// The contacts above receive reports (notify_reports is on by
			// default): a client report reaches them attached, an internal
			// one does not.
			id := s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Reported incident"}, http.StatusCreated).String("id")
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+id+"/reports", map[string]any{"kind": "internal", "format": "markdown"}, http.StatusAccepted)
			s.rest(t, s.analyst, http.MethodPost, "/api/v1/incidents/"+id+"/reports", map[string]any{"kind": "client", "format": "markdown"}, http.StatusAccepted)
			got := waitMail(t, fake, "ciso@client.test", "A security report is ready", 1)
			data := string(got[0].Data)
			if !strings.Contains(data, "Content-Disposition: attachment") || !strings.Contains(data, ".md") {
				t.Fatalf("the report is not attached:\n%s", data)
			}
			waitMail(t, fake, "quiet@client.test", "A security report is ready", 1)
		})

		t.Run("coverage", s.checkCoverage("email", "features"))
	})
}
