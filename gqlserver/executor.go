package gqlserver

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/loaders"
)

// configurable is what handler.Server and executor.Executor share, so the
// HTTP endpoint and the REST layer get the very same limits and checks.
type configurable interface {
	Use(graphql.HandlerExtension)
	AroundFields(graphql.FieldMiddleware)
	SetErrorPresenter(graphql.ErrorPresenterFunc)
	SetRecoverFunc(graphql.RecoverFunc)
	SetQueryCache(graphql.Cache[*ast.QueryDocument])
	SetParserTokenLimit(int)
	AroundOperations(graphql.OperationMiddleware)
	AroundResponses(graphql.ResponseMiddleware)
	AroundRootFields(graphql.RootFieldMiddleware)
}

func configure(x configurable, cfg Config) {
	cache := lru.New[*ast.QueryDocument](1000)
	x.SetQueryCache(cache)
	// Before gqlgen parses and validates: validation is quadratic in
	// repeated fields (see limits.go). The parser's own limit backs it up.
	x.Use(documentLimits{cache: cache})
	x.SetParserTokenLimit(MaxTokens)
	x.Use(extension.Introspection{})
	x.Use(pageLimits{})
	x.Use(extension.FixedComplexityLimit(MaxComplexity))
	x.Use(depthLimit{max: MaxDepth})
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	x.AroundResponses(deadline(timeout))
	if cfg.Loaders != nil {
		x.AroundRootFields(withLoaders(*cfg.Loaders))
	}
	x.AroundFields(guardField)
	x.Use(fieldGuard{})
	x.SetErrorPresenter(presentError(cfg.Logger))
	x.SetRecoverFunc(recoverFunc(cfg.Logger))
	if cfg.OperationContext != nil {
		x.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			return next(cfg.OperationContext(ctx))
		})
	}
}

// NewExecutor returns an in-process executor for the REST layer.
func NewExecutor(cfg Config, es graphql.ExecutableSchema) *executor.Executor {
	e := executor.New(es)
	configure(e, cfg)
	return e
}

// withLoaders gives each root field of a query or a mutation its own
// batched loaders (REST's routes are one root field each). A mutation's
// fields run one after another, so each reads nested objects after its own
// change and none sees another's cached ones. A subscription gets none: its
// events, minutes apart, must not share a cache, and each is one object.
func withLoaders(src loaders.Sources) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if oc := graphql.GetOperationContext(ctx); oc == nil || oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
			return next(ctx)
		}
		return next(loaders.With(ctx, loaders.New(src)))
	}
}
