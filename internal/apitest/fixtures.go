package apitest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/testenv"
)

// The passwords of the users Team creates, and of users NewUser creates.
const (
	AnalystEmail    = "analyst@provider.test"
	AnalystPassword = "analyst-password-1"
	ReaderEmail     = "reader@provider.test"
	ReaderPassword  = "reader-password-01"
	UserPassword    = "a-long-password-1"
)

// Must sends a REST request like Do and fails t unless the status is want.
func (c *Client) Must(t testing.TB, method, path string, body any, want int) *Response {
	t.Helper()
	res := c.Do(method, path, body)
	if res.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.Status, want, res.Raw)
	}
	return res
}

// CreateUser creates a user over REST in c's acting organisation and
// returns its id; an empty password leaves the user to set one.
func (c *Client) CreateUser(t testing.TB, email, role, password string) string {
	t.Helper()
	body := map[string]any{"email": email, "role": role}
	if password != "" {
		body["password"] = password
	}
	res := c.Must(t, http.MethodPost, "/api/v1/users", body, http.StatusCreated)
	if res.String("email") != email || res.String("role") != role {
		t.Fatalf("created user: %s", res.Raw)
	}
	return res.String("id")
}

// NewUser creates a user with UserPassword as admin, in admin's acting
// organisation, and returns a client logged in as them with their id.
func (e *Env) NewUser(t testing.TB, admin *Client, email, role string) (*Client, string) {
	t.Helper()
	id := admin.CreateUser(t, email, role, UserPassword)
	return e.Login(email, UserPassword), id
}

// ConnectorKey creates a generic connector named name in c's acting
// organisation and returns its key.
func (c *Client) ConnectorKey(t testing.TB, name string) string {
	t.Helper()
	return c.Must(t, http.MethodPost, "/api/v1/connectors", map[string]any{"name": name, "type": "generic"}, http.StatusCreated).String("api_key")
}

// Ingest posts one high-severity alert through key's connector and returns
// its id.
func (e *Env) Ingest(t testing.TB, key, title string) string {
	t.Helper()
	res := e.Connector(key).Must(t, http.MethodPost, "/api/v1/alerts/ingest", map[string]any{"title": title, "severity": "high"}, http.StatusAccepted)
	var out struct{ Results []struct{ ID string } }
	if err := json.Unmarshal(res.Raw, &out); err != nil || len(out.Results) != 1 {
		t.Fatalf("ingest: %v: %s", err, res.Raw)
	}
	return out.Results[0].ID
}

// Team is the provider organisation's bootstrap admin with an analyst and
// a read-only user, each logged in.
type Team struct {
	Admin, Analyst, Reader       *Client
	AdminID, AnalystID, ReaderID string
	OrgID                        string // the provider organisation
}

// Team creates the analyst (AnalystEmail) and the reader (ReaderEmail) and
// logs everyone in.
func (e *Env) Team(t testing.TB) *Team {
	t.Helper()
	tm := &Team{Admin: e.Admin()}
	me := tm.Admin.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
	tm.AdminID, tm.OrgID = me.String("id"), me.String("organization_id")
	tm.AnalystID = tm.Admin.CreateUser(t, AnalystEmail, "analyst", AnalystPassword)
	tm.ReaderID = tm.Admin.CreateUser(t, ReaderEmail, "read_only", ReaderPassword)
	tm.Analyst = e.Login(AnalystEmail, AnalystPassword)
	tm.Reader = e.Login(ReaderEmail, ReaderPassword)
	return tm
}

// EventCursor returns a subscription cursor after which every event
// written from now on is delivered, however late the server registers the
// subscription: the hub replays what it missed. Cursor 0 would mean "from
// registration", so an empty outbox first gets an event (a logout's).
func (e *Env) EventCursor(t testing.TB) string {
	t.Helper()
	h := e.Srv.Hub
	if h.LastID() == 0 {
		e.Admin().Must(t, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusNoContent)
		testenv.Eventually(t, 10*time.Second, "the hub dispatches the logout", func() bool { return h.LastID() > 0 })
	}
	return strconv.FormatInt(h.LastID(), 10)
}
