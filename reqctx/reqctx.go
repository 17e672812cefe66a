// Package reqctx carries facts about the HTTP request (client address, user
// agent) to code that runs behind GraphQL and cannot see the request.
package reqctx

import (
	"context"
	"net"
	"net/http"
)

// Info describes the request.
type Info struct {
	ClientIP  string
	UserAgent string
}

type key struct{}

// Middleware records the request's Info in its context. The client address is
// the TCP peer: forwarded headers are not trusted, as they are client-set.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		ctx := context.WithValue(r.Context(), key{}, Info{ClientIP: ip, UserAgent: r.UserAgent()})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// From returns the request's Info (zero outside an HTTP request).
func From(ctx context.Context) Info {
	i, _ := ctx.Value(key{}).(Info)
	return i
}
