package auth

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/apitoken"
	"github.com/seliq/seliq/ent/session"
	"github.com/seliq/seliq/realtime/hub"
)

// PrincipalChange says that a user's standing changed: a credential was
// revoked (logout, token revocation, password change or reset), or the user
// was deactivated, deleted or given another role. Whoever holds something
// derived from the user's credentials (an open WebSocket or SSE stream, a
// cached viewer) must drop it or authenticate again.
type PrincipalChange struct {
	// UserID is the user; uuid.Nil when the change is to an organisation
	// (OrgChanged) and may concern any of its users.
	UserID uuid.UUID
	// OrgID is the organisation of an organisation's change.
	OrgID uuid.UUID
	// CredentialID is the one session or API token revoked; uuid.Nil when
	// anything about the user may have changed.
	CredentialID uuid.UUID
}

// Revocation is what Revoke ends for one user. Every field is optional:
// a Revocation with only UserID and OrgID just announces a change (a role
// or status change).
type Revocation struct {
	UserID uuid.UUID
	OrgID  uuid.UUID // the user's home organisation, where the signal is recorded
	// Session and Token end one credential (logout, revoking a token).
	Session, Token uuid.UUID
	// AllSessions ends every session of the user but KeepSession (a user's
	// own password change keeps the session it was made with).
	AllSessions bool
	KeepSession uuid.UUID
	// AllAPITokens revokes every API token of the user.
	AllAPITokens bool
}

// Revoke deletes the credentials r names and records the PrincipalChange in
// the realtime outbox with client. Pass the client of the transaction making
// the change, so the signal exists exactly when the change does: every
// replica then receives it (Revocations) and closes what the user had open.
func Revoke(ctx context.Context, client *ent.Client, r Revocation) error {
	sys := System(ctx)
	if r.Session != uuid.Nil {
		if err := client.Session.DeleteOneID(r.Session).Exec(sys); err != nil && !ent.IsNotFound(err) {
			return fmt.Errorf("end session: %w", err)
		}
	}
	if r.Token != uuid.Nil {
		if _, err := client.APIToken.Delete().Where(apitoken.ID(r.Token), apitoken.UserID(r.UserID)).Exec(sys); err != nil {
			return fmt.Errorf("revoke API token: %w", err)
		}
	}
	if r.AllSessions {
		q := client.Session.Delete().Where(session.UserID(r.UserID))
		if r.KeepSession != uuid.Nil {
			q.Where(session.IDNEQ(r.KeepSession))
		}
		if _, err := q.Exec(sys); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
	}
	if r.AllAPITokens {
		if _, err := client.APIToken.Delete().Where(apitoken.UserID(r.UserID)).Exec(sys); err != nil {
			return fmt.Errorf("revoke API tokens: %w", err)
		}
	}
	credential := r.UserID
	switch {
	case r.AllSessions || r.AllAPITokens:
	case r.Session != uuid.Nil:
		credential = r.Session
	case r.Token != uuid.Nil:
		credential = r.Token
	}
	uid := r.UserID
	return hub.Record(sys, client, hub.Event{
		OrganizationID: r.OrgID, Topic: hub.TopicPrincipal, Kind: hub.KindUpdated,
		EntityID: credential, UserID: &uid,
	})
}

// Revocations is the revocation mechanism: the one place that tells this
// replica "this principal changed" (see PrincipalChange), whichever replica
// made the change. Revoke records the signal in the realtime outbox in the
// change's transaction; every replica's hub reads it after commit (woken in
// process, by PostgreSQL NOTIFY, or by its one-second poll, so a lost
// NOTIFY delays it by a second at most and loses nothing) and hands it to
// Revocations, which calls each subscriber. Transports subscribe to close
// the user's open connections; a cache of viewers subscribes to evict them.
type Revocations struct {
	hub *hub.Hub
}

// NewRevocations returns Revocations fed by h's outbox.
func NewRevocations(h *hub.Hub) *Revocations { return &Revocations{hub: h} }

// Subscribe calls fn for every change from now on. fn runs on the hub's
// dispatcher: it must not block (start a goroutine for slow work).
// The returned function unsubscribes.
func (r *Revocations) Subscribe(fn func(PrincipalChange)) (unsubscribe func()) {
	return r.hub.Watch(hub.TopicPrincipal, func(e hub.Event) {
		if e.UserID == nil {
			fn(PrincipalChange{OrgID: e.OrganizationID})
			return
		}
		c := PrincipalChange{UserID: *e.UserID}
		if e.EntityID != *e.UserID {
			c.CredentialID = e.EntityID
		}
		fn(c)
	})
}
