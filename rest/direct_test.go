package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/rest"
	"github.com/seliq/seliq/storage"
)

const alertsPath = "/api/v1/alerts"

// TestAlertListIsDirect: every field of the alert list's items has a
// writer; a field added to Alert without one would quietly put the
// route back on the projection.
func TestAlertListIsDirect(t *testing.T) {
	if !rest.IsDirect(t, http.MethodGet, alertsPath) {
		t.Fatal("GET /api/v1/alerts is not a direct list: a field of its items has no writer in rest/direct.go")
	}
	if rest.IsDirect(t, http.MethodGet, "/api/v1/incidents") {
		t.Fatal("the incident list is direct, but direct.go writes alerts only")
	}
}

// seedVaried writes alerts whose fields take every form the encoder
// writes: set and unset, empty and null lists, characters gqlgen and
// encoding/json escape, every severity, status and disposition, and a
// reference of each kind.
func seedVaried(t *testing.T, db *storage.DB, orgID uuid.UUID) {
	t.Helper()
	ctx := auth.System(context.Background())
	org, err := db.Client.Organization.Get(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := testenv.Connector(t, db, org, "generic")
	user := testenv.User(t, db, org, enum.RoleAnalyst)
	inc, err := db.Client.Incident.Create().SetOrganizationID(orgID).SetNumber(7).SetTitle(`"quoted" <b>&</b>`).
		SetSeverity(enum.SeverityCritical).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 5, 4, 3, 123456000, time.UTC)
	odd := "tab\there \"q\" back\\slash nl\n cr\r ctl\x01\x1f <script>&amp; é ✓ \u2028 😀"
	severities := []enum.Severity{enum.SeverityCritical, enum.SeverityHigh, enum.SeverityMedium, enum.SeverityLow, enum.SeverityInfo}
	statuses := []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged, enum.AlertStatusInProgress, enum.AlertStatusResolved, enum.AlertStatusClosed}
	dispositions := []enum.Disposition{enum.DispositionTruePositive, enum.DispositionFalsePositive, enum.DispositionBenign, enum.DispositionDuplicate}
	for i := range 12 {
		fp := fmt.Sprintf("varied-%d", i)
		c := db.Client.Alert.Create().SetOrganizationID(orgID).SetSource("generic").SetTitle(fmt.Sprintf("%s %d", odd, i)).
			SetSeverity(severities[i%len(severities)]).SetStatus(statuses[i%len(statuses)]).
			SetFingerprint(fp).SetDedupKey(fp).SetFirstSeenAt(now).SetLastSeenAt(now.Add(-time.Duration(i) * time.Minute)).SetIngestedAt(now).
			SetOccurrences(i + 1)
		switch i % 3 {
		case 0: // everything set
			c.SetConnectorID(conn.ID).SetAssigneeID(user.ID).SetIncidentID(inc.ID).SetExternalID("ext-" + odd).
				SetDescription(odd).SetTags([]string{"edr", odd, ""}).SetMitre([]string{"T1059", "T1071.004"}).
				SetEntities([]schematype.Entity{{Type: "ipv4", Value: "203.0.113.7"}, {Type: "user", Value: odd}}).
				SetAttributes(map[string]string{"rule": odd, "host": "web-1", "<k>": "&"}).
				SetDisposition(dispositions[i%len(dispositions)]).SetEventTime(now.Add(-time.Second)).
				SetAcknowledgedAt(now.Add(time.Second)).SetResolvedAt(now.Add(time.Hour)).
				SetSuppressed(true).SetSuppressionReason("maintenance " + odd).
				SetRaw(json.RawMessage(`{"vendor": {"id": 1, "text": "<x>&é"}, "list": [1, 2.5, null, true]}`))
		case 1: // empty lists and maps
			c.SetTags([]string{}).SetMitre([]string{}).SetEntities([]schematype.Entity{}).SetAttributes(map[string]string{}).
				SetEventTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
		}
		if err := c.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDirectListMatchesProjection: the alert list's body is, byte for
// byte, what the projection makes of the same operation's GraphQL result,
// on both databases, for pages with and without raw, ordered, filtered,
// paged with a cursor and empty; and it was written directly.
func TestDirectListMatchesProjection(t *testing.T) {
	t.Parallel()
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		me := admin.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		seedVaried(t, db, uuid.MustParse(me.String("organization_id")))

		queries := []string{
			"",
			"limit=1",
			"limit=5&sort=-severity",
			"include=raw",
			"include=raw&limit=3&sort=title",
			"status=resolved,new&severity=critical",
			"tag=edr",
			"q=script",
			"assignee_id=" + uuid.NewString(), // no match: an empty page
		}
		next := ""
		for i, q := range queries {
			t.Run(q, func(t *testing.T) {
				compare(t, admin, q)
				if i == 1 {
					next = admin.Must(t, http.MethodGet, alertsPath+"?"+q, nil, http.StatusOK).String("next_cursor")
				}
			})
		}
		if next == "" {
			t.Fatal("the first page of 1 has no next cursor")
		}
		t.Run("second page", func(t *testing.T) { compare(t, admin, "limit=4&cursor="+next) })
	})
}

// compare gets the alert list with query q over REST and the route's
// operation over GraphQL, and checks that the REST body is the projection
// of the GraphQL result and that it was written directly. The server's
// jobs may still be writing the new alerts (their analyses), so the
// GraphQL result is read before and after the REST one, and the three are
// compared once the two GraphQL reads agree.
func compare(t *testing.T, c *apitest.Client, q string) {
	t.Helper()
	op, vars := rest.Operation(t, http.MethodGet, alertsPath, httptest.NewRequest(http.MethodGet, alertsPath+"?"+q, nil))
	projected := func() []byte {
		g := c.Do(http.MethodPost, "/graphql", map[string]any{"query": op, "variables": vars})
		var res struct {
			Data   json.RawMessage `json:"data"`
			Errors []any           `json:"errors"`
		}
		if err := json.Unmarshal(g.Raw, &res); err != nil || len(res.Errors) > 0 {
			t.Fatalf("GraphQL: %v %s", err, g.Raw)
		}
		return rest.Projected(t, http.MethodGet, alertsPath, res.Data)
	}
	for attempt := 0; ; attempt++ {
		want := projected()
		before := rest.DirectPages()
		got := c.Do(http.MethodGet, alertsPath+"?"+q, nil)
		if got.Status != http.StatusOK {
			t.Fatalf("REST: %d %s", got.Status, got.Raw)
		}
		if rest.DirectPages() == before {
			t.Fatal("the page was not written directly")
		}
		if again := projected(); !bytes.Equal(again, want) && attempt < 100 {
			continue // the alerts changed meanwhile
		}
		body := bytes.TrimSuffix(got.Raw, []byte("\n"))
		if !bytes.Equal(body, want) {
			i := 0
			for i < min(len(body), len(want)) && body[i] == want[i] {
				i++
			}
			from := max(0, i-80)
			t.Fatalf("REST body differs from the projection at byte %d of %d (want %d)\n got: …%s\nwant: …%s",
				i, len(body), len(want), body[from:min(len(body), i+80)], want[from:min(len(want), i+80)])
		}
		return
	}
}
