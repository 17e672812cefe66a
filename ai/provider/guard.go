package provider

import (
	"net/http"

	"github.com/seliq/seliq/outbound"
)

// ErrBlockedAddress is wrapped by every refusal of the outbound policy: a
// forbidden destination IP, scheme or URL form. It is outbound.ErrRefused.
var ErrBlockedAddress = outbound.ErrRefused

// newGuardedHTTPClient builds the production client on the outbound
// policy. Redirects are returned instead of followed: a provider API has no
// reason to redirect, and the API key header (x-api-key) would follow it to
// the new host.
func newGuardedHTTPClient(p *outbound.Policy) *http.Client {
	return p.Client(outbound.ClientOptions{})
}
