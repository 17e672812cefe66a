// Package reqctx carries facts about the HTTP request (client address, user
// agent) to code that runs behind GraphQL and cannot see the request.
package reqctx

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/seliq/seliq/internal/cidr"
)

// Info describes the request.
type Info struct {
	ClientIP  string
	UserAgent string
}

type key struct{}

// Middleware records the request's Info in its context with the TCP peer as
// the client address: forwarded headers are client-set, so none is trusted.
func Middleware(next http.Handler) http.Handler { return Trusting(nil)(next) }

// Trusting records the request's Info, the client address resolved by
// ClientIP with trusted as the proxies allowed to name the client. Every
// reader of the client address (rate limits, sessions, the access log) reads
// this one value.
func Trusting(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info := Info{ClientIP: ClientIP(r, trusted), UserAgent: r.UserAgent()}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, info)))
		})
	}
}

// NewContext returns ctx carrying info: for work that outlives its request
// (a WebSocket's later re-authentication) and must still see its client.
func NewContext(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request's Info (zero outside an HTTP request).
func From(ctx context.Context) Info {
	i, _ := ctx.Value(key{}).(Info)
	return i
}

type recheckKey struct{}

// Recheck marks ctx as a re-authentication the server makes by itself (a
// long-lived connection checked again when its session may have gone idle
// or its user changed), not a use of the credential by its holder: it does
// not count as the session's last use, or it would keep an idle session
// alive.
func Recheck(ctx context.Context) context.Context {
	return context.WithValue(ctx, recheckKey{}, true)
}

// IsRecheck reports whether ctx was marked by Recheck.
func IsRecheck(ctx context.Context) bool {
	b, _ := ctx.Value(recheckKey{}).(bool)
	return b
}

// ClientIP is the request's client address. X-Forwarded-For and X-Real-IP
// count only when the TCP peer is a trusted proxy; X-Forwarded-For is read
// from the right, skipping trusted hops, because only the entries our own
// proxies appended are genuine: anything to their left is what the client
// sent. With no trusted proxies it is the TCP peer.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !cidr.Contains(trusted, peer) {
		return peer.String()
	}
	if hops := forwardedFor(r.Header); len(hops) > 0 {
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseAddr(hops[i])
			if !ok {
				break // garbage left of our proxies: the last hop they vouch for
			}
			client = hop
			if !cidr.Contains(trusted, hop) {
				break
			}
		}
		return client.String()
	}
	if real, ok := parseAddr(r.Header.Get("X-Real-IP")); ok {
		return real.String()
	}
	return peer.String()
}

// forwardedFor lists every X-Forwarded-For entry, across repeated headers,
// in order.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(v, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				hops = append(hops, hop)
			}
		}
	}
	return hops
}

// parseAddr reads an address with or without a port ("1.2.3.4",
// "1.2.3.4:80", "[::1]:80"), IPv4-mapped IPv6 as IPv4.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
