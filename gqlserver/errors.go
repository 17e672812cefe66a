// Package gqlserver builds the GraphQL HTTP handler: transports, limits, the role
// directive, authentication of root fields and the error presenter that gives
// every error a stable extensions.code.
package gqlserver

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/storage"
)

// Classify maps any error the domain or the data layer returns to an
// apperr.Error. Unknown errors become INTERNAL with a generic message (the
// cause is logged, never shown).
func Classify(err error) *apperr.Error {
	if e, ok := apperr.As(err); ok {
		return e
	}
	if e, ok := storage.AsUnavailable(err); ok {
		return e // database down or busy: 503 with Retry-After
	}
	var (
		nf *ent.NotFoundError
		ve *ent.ValidationError
		ce *ent.ConstraintError
	)
	switch {
	case errors.Is(err, rule.ErrNoViewer):
		return apperr.New(apperr.Unauthenticated, "authentication required")
	case errors.Is(err, rule.ErrReadOnly):
		return apperr.New(apperr.Forbidden, "read-only users cannot change data")
	case errors.Is(err, privacy.Deny):
		return apperr.New(apperr.Forbidden, "not allowed")
	case errors.As(err, &nf):
		return apperr.NotFoundf("%s", strings.TrimPrefix(nf.Error(), "ent: ")) // "user not found"
	case errors.As(err, &ve):
		return apperr.Invalid(SnakeCase(ve.Name), "%s", ve.Unwrap().Error())
	case errors.As(err, &ce):
		return apperr.New(apperr.Conflict, "conflicts with an existing record")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apperr.New(apperr.Internal, "request cancelled or timed out")
	}
	return &apperr.Error{Code: apperr.Internal, Message: "internal error"}
}

// SnakeCase turns a GraphQL or Go name (organizationID, userIDs) into the
// snake_case REST clients use (organization_id, user_ids).
func SnakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1]) && i > 0 && unicode.IsUpper(rs[i-1])
			if prevLower || (nextLower && !(rs[i+1] == 's' && i+2 == len(rs))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// presentError is gqlgen's ErrorPresenter.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var already *gqlerror.Error
		if errors.As(err, &already) && already.Extensions["code"] != nil && already.Err == nil {
			return gerr // parse and validation errors come coded from gqlgen
		}
		e := Classify(err)
		if t, ok := timedOut(ctx); ok {
			// Whatever the resolver made of its cancelled context.
			e = t.apperr()
		} else if e.Code == apperr.Internal {
			if in := inputError(ctx, err); in != nil {
				e = in
			} else {
				log.ErrorContext(ctx, "graphql resolver error", "error", err, "path", gerr.Path.String())
			}
		}
		gerr.Message = e.Message
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		gerr.Extensions["code"] = string(e.Code)
		if e.Field != "" {
			gerr.Extensions["field"] = e.Field
		}
		if e.RetryAfter > 0 {
			gerr.Extensions["retryAfter"] = int(e.RetryAfter.Seconds())
		}
		for k, v := range e.Details {
			if _, taken := gerr.Extensions[k]; !taken {
				gerr.Extensions[k] = v
			}
		}
		return gerr
	}
}

// timedOut reports whether ctx ended at the operation's deadline.
func timedOut(ctx context.Context) (timeoutError, bool) {
	var t timeoutError
	return t, ctx.Err() != nil && errors.As(context.Cause(ctx), &t)
}

// inputError recognises an argument value that could not be decoded into its
// Go type (an ID that is not a UUID, a malformed Time or Cursor). gqlgen
// reports it wrapped with the argument's path below the field being
// resolved, which resolver errors never carry. It is the caller's mistake:
// BAD_USER_INPUT naming the argument (inside "input", the input field).
func inputError(ctx context.Context, err error) *apperr.Error {
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) || gerr.Err == nil {
		return nil
	}
	at := graphql.GetPath(ctx)
	if len(gerr.Path) <= len(at) || !slices.Equal(gerr.Path[:len(at)], at) {
		return nil
	}
	below := gerr.Path[len(at):]
	var parts []string
	for i, el := range below {
		switch p := el.(type) {
		case ast.PathName:
			if i == 0 && p == "input" && len(below) > 1 {
				continue
			}
			parts = append(parts, SnakeCase(string(p)))
		case ast.PathIndex:
			parts = append(parts, strconv.Itoa(int(p)))
		}
	}
	return apperr.Invalid(strings.Join(parts, "."), "%s", gerr.Err.Error())
}
