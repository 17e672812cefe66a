package gqlserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/graph"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/reqctx"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/loaders"
	"github.com/seliq/seliq/realtime/live"
	"github.com/seliq/seliq/resolvers"
	"github.com/seliq/seliq/tenancy"
)

// Limits bound the cost of one operation: complexity scores each list by
// the rows it may return (see complexity.go). The largest REST page (500
// organisations with their parents and children) scores about 137,000;
// rest.TestRoutesPassTheLimits keeps every route within the limit. The
// limits on the document itself are in limits.go.
const (
	MaxComplexity = 200000
	MaxDepth      = 12
)

// publicRootFields may be called without credentials.
var publicRootFields = map[string]bool{"login": true, "completeMFALogin": true}

// enrolOnlyRootFields are all an enrol-only session (a user without MFA
// in an organisation that requires it) may call: who am I, enrol, log out.
var enrolOnlyRootFields = map[string]bool{"me": true, "enrolTOTP": true, "confirmTOTP": true, "logout": true}

// Config configures the handler.
type Config struct {
	Resolvers      *resolvers.Resolver
	Logger         *slog.Logger
	AllowedOrigins []string
	// OperationContext, when set, prepares each operation's context (e.g. a
	// per-request cache).
	OperationContext func(context.Context) context.Context
	// Loaders, when set, are what each response's batched loaders of
	// nested objects read from (package loaders).
	Loaders *loaders.Sources
	// Timeout bounds the execution of one query or mutation, or of one
	// subscription event (DefaultTimeout when zero).
	Timeout time.Duration
	// Authenticate resolves the credentials a WebSocket client sends in
	// connection_init's payload (browsers cannot set headers on a WebSocket).
	Authenticate func(ctx context.Context, authorization, org string) (*viewer.Viewer, error)
	// Connections, when set, tracks WebSockets and SSE streams by user: it
	// caps them and closes them when the user's principal changes.
	Connections *stream.Conns
}

// NewSchema returns the executable schema with its directives wired.
func NewSchema(r *resolvers.Resolver) graphql.ExecutableSchema {
	return graph.NewExecutableSchema(graph.Config{
		Resolvers: r,
		Directives: graph.DirectiveRoot{
			HasRole: func(ctx context.Context, _ any, next graphql.Resolver, role enum.Role) (any, error) {
				v := viewer.FromContext(ctx)
				if v == nil {
					return nil, apperr.New(apperr.Unauthenticated, "authentication required")
				}
				if !v.HasRole(role) {
					return nil, apperr.New(apperr.Forbidden, "requires the %s role", role)
				}
				return next(ctx)
			},
		},
		Complexity: complexity(),
	})
}

// NewServer returns the gqlgen server behind /graphql.
func NewServer(cfg Config, es graphql.ExecutableSchema) *handler.Server {
	srv := handler.New(es)
	// WebSocket first: it must see the upgrade request before the GET transport.
	srv.AddTransport(&stream.Websocket{
		AllowedOrigins: cfg.AllowedOrigins,
		InitFunc:       initFunc(cfg.Authenticate),
		InitTimeout:    10 * time.Second,
		KeepAlive:      15 * time.Second,
		ShareKey:       stream.ShareKey,
		Conns:          cfg.Connections,
	})
	srv.AddTransport(transport.Options{})
	// Server-sent events, for clients that cannot open a WebSocket: a POST
	// with Accept: text/event-stream; it must precede the plain POST.
	sse := stream.SSE{Conns: cfg.Connections, Principal: ssePrincipal(cfg.Authenticate)}
	srv.AddTransport(jsonBody{sse})
	// The same over GET (EventSource); it must precede the plain GET.
	srv.AddTransport(sseGET{sse})
	srv.AddTransport(httpTransport{method: http.MethodGet, log: cfg.Logger})
	srv.AddTransport(httpTransport{method: http.MethodPost, log: cfg.Logger})
	srv.AddTransport(noSingleConnection{})
	// Persisted queries first: the document limits must see the query it
	// looks up.
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	configure(srv, cfg)
	srv.AroundOperations(currentViewer(cfg.Authenticate, cfg.Logger))
	return srv
}

// initFunc authenticates a WebSocket at connection_init, before any
// operation starts. Credentials in the payload ({"Authorization": "Bearer
// ..." or "Token ...", "X-Seliq-Org": "..."}) win over the upgrade
// request's headers; a connection with neither is refused, as is one whose
// credentials are bad (4401) or whose organisation is out of reach (4403).
// The credential stays with the connection: every operation authenticates
// it again (currentViewer), and so does a change of the user's principal,
// which closes the connection if it no longer holds (connectionPrincipal).
func initFunc(authenticate authenticateFunc) stream.InitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, error) {
		ctx = live.WithSubscriptionLimit(ctx, live.MaxSubscriptionsPerConnection)
		cred := credential{authorization: payloadString(p, "Authorization"), org: payloadString(p, "X-Seliq-Org")}
		if cred.authorization == "" {
			h := stream.UpgradeHeader(ctx)
			cred = credential{authorization: strings.TrimSpace(h.Get("Authorization")), org: strings.TrimSpace(h.Get(tenancy.HeaderOrg))}
		}
		cred.client = reqctx.From(ctx)
		if cred.authorization == "" {
			err := apperr.New(apperr.Unauthenticated, "authentication required: send Authorization in connection_init's payload")
			return refuse(stream.CloseUnauthorized, err)
		}
		if authenticate == nil {
			return refuse(stream.CloseUnauthorized, apperr.New(apperr.Unauthenticated, "authentication is not configured"))
		}
		v, err := authenticate(ctx, cred.authorization, cred.org)
		if err != nil {
			e := Classify(err)
			return refuse(stream.CloseCodeFor(e), e)
		}
		ctx = context.WithValue(ctx, credentialKey{}, cred)
		ctx = stream.WithPrincipal(ctx, connectionPrincipal(authenticate, v, cred))
		return viewer.NewContext(ctx, v), nil
	}
}

// refuse answers a refused connection_init with the close code and reason;
// graphql-ws clients treat 4401 as fatal and retry 4403.
func refuse(code int, err error) (context.Context, error) {
	msg := err.Error()
	if e, ok := apperr.As(err); ok {
		msg = e.Message
	}
	return nil, &stream.InitError{Code: code, Reason: msg, Err: err}
}

// payloadString reads a key of the init payload case-insensitively, as
// clients spell header names differently.
func payloadString(p transport.InitPayload, key string) string {
	for k, v := range p {
		if s, ok := v.(string); ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return apperr.New(apperr.Internal, "internal error")
	}
}

// guardField is a subscription's field middleware: startEventClock and
// requireViewer in one, as gqlgen wraps every field of every row in a
// closure per middleware.
func guardField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	startEventClock(ctx, fc)
	if err := requireViewer(ctx, fc); err != nil {
		return nil, err
	}
	return next(ctx)
}

// guardQueryField is a query's or mutation's field middleware: they have
// no event clock to start. A root field's result goes through the
// operation's result hook, when it has one (WithResultHook).
func guardQueryField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if !rootField(fc) {
		return next(ctx)
	}
	if err := requireViewer(ctx, fc); err != nil {
		return nil, err
	}
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	if hook, ok := ctx.Value(resultHookKey{}).(ResultHook); ok {
		return hook(ctx, res)
	}
	return res, nil
}

// ResultHook receives a root field's resolved value before gqlgen writes
// it, with the field's context (its batched loaders included), and returns
// the value gqlgen writes in its place.
type ResultHook func(ctx context.Context, res any) (any, error)

type resultHookKey struct{}

// WithResultHook has the operations executed with ctx hand their root
// field's value to hook: the REST layer encodes some lists itself, past
// gqlgen's marshalling of every field of every row.
func WithResultHook(ctx context.Context, hook ResultHook) context.Context {
	return context.WithValue(ctx, resultHookKey{}, hook)
}

// rootField reports whether fc is a field of a root type; only root types
// are named so, nested fields carry their own type.
func rootField(fc *graphql.FieldContext) bool {
	if fc == nil {
		return false
	}
	switch fc.Object {
	case "Query", "Mutation", "Subscription":
		return true
	}
	return false
}

// fieldGuard installs guardQueryField in place of the executor's middleware
// chain for queries and mutations: the chain gqlgen composes from
// AroundFields allocates a closure on every field of every row (a page of
// 50 alerts resolves thousands), and only a subscription needs guardField.
// guardField is the chain's one middleware, so nothing else is skipped.
type fieldGuard struct{}

func (fieldGuard) ExtensionName() string                   { return "FieldGuard" }
func (fieldGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (fieldGuard) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation != nil && oc.Operation.Operation != ast.Subscription {
		oc.ResolverMiddleware = guardQueryField
	}
	return nil
}

// requireViewer refuses every root field but the public ones when the
// caller is not an authenticated user, before any resolver runs.
func requireViewer(ctx context.Context, fc *graphql.FieldContext) error {
	if !rootField(fc) {
		return nil
	}
	// Introspection is public: the schema is published with the source, and
	// the playground needs it before the user has pasted a token.
	if publicRootFields[fc.Field.Name] || strings.HasPrefix(fc.Field.Name, "__") {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if v.EnrolOnly && !enrolOnlyRootFields[fc.Field.Name] {
		return auth.ErrEnrolOnly
	}
	return nil
}
