package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Dial timeouts of every outbound connection.
const (
	DialTimeout         = 10 * time.Second
	TLSHandshakeTimeout = 10 * time.Second
	// MaxRedirects bounds the hops a client following redirects takes.
	MaxRedirects = 5
)

// Dialer returns a dialer that checks, in Control, every address it is
// about to connect to. Control runs for each attempt right before connect,
// after resolution, so whatever DNS answered (a rebinding answer included)
// is checked as dialed, and a refused address gets no packet. SMTP and
// other non-HTTP clients dial through it.
func (p *Policy) Dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   DialTimeout,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: unparsable address %q", ErrRefused, address)
			}
			return p.CheckAddr(ap.Addr())
		},
	}
}

// DialContext dials through Dialer after refusing malformed or refused
// hosts up front (net.Conn for SMTP and the like).
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if err := p.CheckHost(host); err != nil {
		return nil, err
	}
	return p.Dialer().DialContext(ctx, network, address)
}

// Transport returns an HTTP transport dialing through the policy. Proxy is
// nil on purpose: through a proxy the dialer would check the proxy, not the
// destination.
func (p *Policy) Transport() *http.Transport {
	return &http.Transport{
		DialContext:           p.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   TLSHandshakeTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// ClientOptions tune Client.
type ClientOptions struct {
	// FollowRedirects follows up to MaxRedirects hops, each URL checked by
	// the policy and each connection by the dialer. Off, a redirect is
	// returned as the response: a client sending a secret (an API key in
	// a header net/http does not strip) must not follow one.
	FollowRedirects bool
	// Timeout bounds a whole exchange; zero leaves it to the context.
	Timeout time.Duration
}

// errTooManyRedirects ends a redirect chain longer than MaxRedirects.
var errTooManyRedirects = errors.New("outbound: too many redirects")

// Client returns an HTTP client whose every connection, redirects
// included, goes through the policy.
func (p *Policy) Client(o ClientOptions) *http.Client {
	c := &http.Client{Transport: p.Transport(), Timeout: o.Timeout}
	if !o.FollowRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= MaxRedirects {
			return errTooManyRedirects
		}
		_, err := p.CheckURL(req.URL.String())
		return err
	}
	return c
}
