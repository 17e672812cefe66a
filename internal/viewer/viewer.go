// Package viewer carries who is making a request, and in which organisation,
// through the context. It has no dependencies so that the data layer's
// privacy rules, the auth middleware and the resolvers can all share it.
package viewer

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
)

// Kind says how the caller authenticated.
type Kind int

const (
	// KindUser is a human behind a session token or a personal API token.
	KindUser Kind = iota + 1
	// KindConnector is a security tool authenticated by its connector key.
	KindConnector
	// KindJob is background work (a report render, an analysis) acting in
	// one organisation on behalf of whoever queued it.
	KindJob
)

// Viewer is the authenticated caller and the organisation scope it acts in.
type Viewer struct {
	Kind        Kind
	UserID      uuid.UUID // zero for connectors
	ConnectorID uuid.UUID // zero for users
	Role        enum.Role
	HomeOrgID   uuid.UUID
	// TopLevel is true when the home organisation has no parent: its admins
	// are provider admins (they create client organisations, rename slugs).
	TopLevel bool
	// OrgID is the organisation the request acts in: the home organisation,
	// or a client organisation picked with X-Seliq-Org.
	OrgID uuid.UUID
	// VisibleOrgIDs is OrgID and every organisation below it. Organisation
	// reads are limited to it; tenant-owned rows are limited to OrgID alone.
	VisibleOrgIDs []uuid.UUID
	// SessionID or TokenID identifies the credential (for logout, last-used).
	SessionID uuid.UUID
	TokenID   uuid.UUID
	// SessionEnds, for a session, is when it ends unless used again before:
	// the earliest of its expiry, its organisation's maximum age and idle
	// deadline (zero for other credentials). Long-lived connections close
	// at it (gqlserver/stream.Conns).
	SessionEnds time.Time
	// EnrolOnly is set on a session whose user has no MFA while its home
	// or acting organisation requires it: the session may only enrol (see
	// gqlserver's requireViewer), so a password alone reaches nothing.
	EnrolOnly bool
	// Picked is true when the request named its organisation (X-Seliq-Org):
	// a named scope wins over a tree-wide roll-up.
	Picked bool
	// Tree, set only by ForTree, widens reads of the tree-readable entities
	// (alerts, incidents) to these organisations for aggregates across a
	// provider's tree; the privacy rules refuse every write by such a viewer.
	Tree []uuid.UUID
}

// CanSee reports whether organisation id is within the viewer's scope.
func (v *Viewer) CanSee(id uuid.UUID) bool { return slices.Contains(v.VisibleOrgIDs, id) }

// IsAdmin reports whether the viewer holds the admin role.
func (v *Viewer) IsAdmin() bool { return v.Role == enum.RoleAdmin }

// IsProviderAdmin reports whether the viewer administers a top-level
// (provider) organisation.
func (v *Viewer) IsProviderAdmin() bool { return v.IsAdmin() && v.TopLevel }

// CanWrite reports whether the viewer may change anything at all.
func (v *Viewer) CanWrite() bool { return v.Role == enum.RoleAdmin || v.Role == enum.RoleAnalyst }

type ctxKey struct{}

// NewContext returns a context carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer, or nil when the request is anonymous.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

// Home returns ctx with the viewer acting in its home organisation. A user's
// own record and credentials live there, whichever client organisation the
// request targets.
func Home(ctx context.Context) context.Context {
	v := FromContext(ctx)
	if v == nil || v.OrgID == v.HomeOrgID {
		return ctx
	}
	home := *v
	home.OrgID = v.HomeOrgID
	return NewContext(ctx, &home)
}

// ForJob returns ctx acting in organisation orgID as background work, the
// system principal of that organisation: it reads and writes that
// organisation's rows only, as an analyst would, and the privacy rules
// refuse a job viewer that reaches any further. It is the one way every
// job (renders, analyses, timers, triggers, e-mail, polls) acts: see the
// jobs package.
func ForJob(ctx context.Context, orgID uuid.UUID) context.Context {
	return NewContext(ctx, &Viewer{
		Kind: KindJob, Role: enum.RoleAnalyst,
		HomeOrgID: orgID, OrgID: orgID, VisibleOrgIDs: []uuid.UUID{orgID},
	})
}

// ForTree returns ctx reading the aggregates of the viewer's whole tree,
// and the tree's organisations (the provider's own first), when the viewer
// may: a user of a top-level (provider) organisation acting in it without
// naming an organisation. Otherwise it returns ok false and the caller
// answers for the acting organisation alone. The returned viewer is
// read-only and, by ent/rule, reads only alerts and incidents more widely;
// it is the one way to widen tenancy (metrics, the MSSP SLA queue).
func ForTree(ctx context.Context) (tree context.Context, orgs []uuid.UUID, ok bool) {
	v := FromContext(ctx)
	if v == nil || v.Kind != KindUser || !v.TopLevel || v.Picked || v.OrgID != v.HomeOrgID ||
		len(v.VisibleOrgIDs) == 0 || v.VisibleOrgIDs[0] != v.OrgID {
		return ctx, nil, false
	}
	w := *v
	w.Role = enum.RoleReadOnly
	w.Tree = slices.Clone(v.VisibleOrgIDs)
	return NewContext(ctx, &w), w.Tree, true
}

// InTree returns ctx acting, read-only, in orgID alone, one organisation of
// the tree ctx's viewer reads (see ForTree): the row per client
// organisation of a roll-up. It returns nil when orgID is outside the tree.
func InTree(ctx context.Context, orgID uuid.UUID) context.Context {
	v := FromContext(ctx)
	if v == nil || !slices.Contains(v.Tree, orgID) {
		return nil
	}
	w := *v
	w.Role, w.Tree = enum.RoleReadOnly, nil
	w.OrgID, w.VisibleOrgIDs = orgID, []uuid.UUID{orgID}
	return NewContext(ctx, &w)
}
