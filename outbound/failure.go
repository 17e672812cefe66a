package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
)

// Category is what a client may learn of a failed outbound call. The
// error itself (a foreign body, a dial error naming an address and port)
// goes to the server log only.
type Category string

// The categories.
const (
	Refused     Category = "refused"      // by the outbound policy
	TimedOut    Category = "timed_out"    // dial, TLS or response took too long
	Unreachable Category = "unreachable"  // connection refused, no route, unknown host
	TLSFailure  Category = "tls"          // handshake or certificate
	HTTPStatus  Category = "http_status"  // the destination answered a non-2xx status
	BadResponse Category = "bad_response" // an answer that could not be read
	Failed      Category = "failed"       // anything else
)

// ErrBadResponse marks an answer that arrived but could not be used
// (malformed JSON, wrong content type, oversize); wrap it so Classify
// reports BadResponse.
var ErrBadResponse = errors.New("outbound: bad response")

// StatusError is implemented by errors carrying the HTTP status the
// destination answered.
type StatusError interface {
	error
	HTTPStatus() int
}

// Failure is a classified outbound error.
type Failure struct {
	Category Category
	// Status is the HTTP status for HTTPStatus.
	Status int
}

// Message is the failure in words, for clients.
func (f Failure) Message() string {
	switch f.Category {
	case Refused:
		return "refused by the outbound policy"
	case TimedOut:
		return "timed out"
	case Unreachable:
		return "connection refused or unreachable"
	case TLSFailure:
		return "TLS handshake or certificate failure"
	case HTTPStatus:
		return fmt.Sprintf("HTTP status %d", f.Status)
	case BadResponse:
		return "unreadable response"
	}
	return "failed"
}

// Logged classifies err for the client and logs it whole, with its
// category, under msg and args: what every caller of an outbound service
// does with a failure it reports.
func Logged(ctx context.Context, log *slog.Logger, msg string, err error, args ...any) Failure {
	f := Classify(err)
	log.WarnContext(ctx, msg, append(args, "category", f.Category, "err", err)...)
	return f
}

// Classify sorts an outbound error into its category.
func Classify(err error) Failure {
	var se StatusError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case err == nil:
		return Failure{}
	case errors.Is(err, ErrRefused), errors.Is(err, ErrMalformed):
		return Failure{Category: Refused}
	case errors.As(err, &se) && se.HTTPStatus() > 0:
		return Failure{Category: HTTPStatus, Status: se.HTTPStatus()}
	case errors.Is(err, ErrBadResponse):
		return Failure{Category: BadResponse}
	case isTLS(err):
		return Failure{Category: TLSFailure}
	case isTimeout(err):
		return Failure{Category: TimedOut}
	case errors.As(err, &dnsErr), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.As(err, &opErr) && opErr.Op == "dial":
		return Failure{Category: Unreachable}
	}
	return Failure{Category: Failed}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func isTLS(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	// net/http reports a plain-HTTP answer to a TLS client as a bare
	// error; it is a TLS misconfiguration all the same.
	if strings.Contains(err.Error(), "HTTP response to HTTPS client") {
		return true
	}
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}
