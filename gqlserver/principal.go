package gqlserver

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/reqctx"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/tenancy"
)

// authenticateFunc resolves credentials into a viewer (auth.Service.Authenticate).
type authenticateFunc func(ctx context.Context, authorization, org string) (*viewer.Viewer, error)

// credential is what a long-lived connection authenticated with, kept to
// authenticate it again: when an operation starts on it and when its
// user's principal changes.
type credential struct {
	authorization, org string
	// client is the request that opened the connection: re-authenticating
	// later (a principal change) checks the IP allowlist against it.
	client reqctx.Info
}

type credentialKey struct{}

// errRightsChanged closes a connection whose credential still holds but no
// longer grants what it did when the connection opened.
var errRightsChanged = apperr.New(apperr.Forbidden, "your role or organisations changed; reconnect")

// connectionPrincipal is the stream.Principal of a connection opened by
// v with cred. The rule for closing it: 4401 when the credential no longer
// authenticates (logout, revoked token, password change or reset,
// deactivation, deletion); 4403 when it does but the role, the home or
// acting organisation or the organisations in reach changed (a demotion,
// an organisation moved): the client reconnects to get its current rights.
func connectionPrincipal(authenticate authenticateFunc, v *viewer.Viewer, cred credential) stream.Principal {
	return stream.Principal{
		UserID: v.UserID,
		Ends:   v.SessionEnds,
		Check: func(ctx context.Context) (time.Time, error) {
			if reqctx.From(ctx).ClientIP == "" {
				ctx = reqctx.NewContext(ctx, cred.client)
			}
			now, err := authenticate(reqctx.Recheck(ctx), cred.authorization, cred.org)
			if err != nil {
				return time.Time{}, err
			}
			if !sameRights(v, now) {
				return time.Time{}, errRightsChanged
			}
			return now.SessionEnds, nil
		},
	}
}

func sameRights(a, b *viewer.Viewer) bool {
	return a.UserID == b.UserID && a.Role == b.Role && a.EnrolOnly == b.EnrolOnly && a.HomeOrgID == b.HomeOrgID && a.TopLevel == b.TopLevel &&
		a.OrgID == b.OrgID && slices.Equal(a.VisibleOrgIDs, b.VisibleOrgIDs)
}

// ssePrincipal is the principal of a server-sent events stream: the
// request's viewer, authenticated by the HTTP middleware from its headers.
func ssePrincipal(authenticate authenticateFunc) func(r *http.Request) (stream.Principal, bool) {
	return func(r *http.Request) (stream.Principal, bool) {
		v := viewer.FromContext(r.Context())
		if v == nil || v.Kind != viewer.KindUser || authenticate == nil {
			return stream.Principal{}, false
		}
		cred := credential{authorization: r.Header.Get("Authorization"), org: r.Header.Get(tenancy.HeaderOrg), client: reqctx.From(r.Context())}
		return connectionPrincipal(authenticate, v, cred), true
	}
}

// currentViewer is the execution-time check of long-lived connections:
// each operation started on a WebSocket authenticates the connection's
// credential again and runs as the user's current self (role, status,
// organisations), or fails if the credential no longer holds. Requests
// authenticated per request (HTTP, SSE, REST) carry no credential here.
func currentViewer(authenticate authenticateFunc, log *slog.Logger) graphql.OperationMiddleware {
	present := presentError(log)
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		cred, ok := ctx.Value(credentialKey{}).(credential)
		if !ok || authenticate == nil {
			return next(ctx)
		}
		v, err := authenticate(ctx, cred.authorization, cred.org)
		if err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{present(ctx, err)}})
		}
		return next(viewer.NewContext(ctx, v))
	}
}
