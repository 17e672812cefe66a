// Package apperr defines the errors the domain returns to API callers. Each
// carries a stable code; GraphQL puts it in extensions.code and REST maps it
// to an HTTP status, so both surfaces agree.
package apperr

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Code is the stable, documented error code.
type Code string

// The codes, with the HTTP status REST answers with.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadInput        Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	TooLarge        Code = "PAYLOAD_TOO_LARGE"
	RateLimited     Code = "RATE_LIMITED"
	// Unavailable: a dependency (the database) cannot answer right now;
	// retry after RetryAfter.
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL"
	// BadRequest: the request itself could not be read (malformed JSON,
	// a bad query string), before any field was looked at.
	BadRequest Code = "BAD_REQUEST"
	// Timeout: the operation ran past its deadline and was stopped.
	Timeout Code = "TIMEOUT"
	// QueryTooExpensive: a query's size, estimated cost or running time is
	// over its limit; narrowing it helps, retrying does not.
	QueryTooExpensive Code = "QUERY_TOO_EXPENSIVE"
)

var statuses = map[Code]int{
	Unauthenticated:   http.StatusUnauthorized,
	Forbidden:         http.StatusForbidden,
	NotFound:          http.StatusNotFound,
	BadInput:          http.StatusUnprocessableEntity,
	Conflict:          http.StatusConflict,
	TooLarge:          http.StatusRequestEntityTooLarge,
	RateLimited:       http.StatusTooManyRequests,
	Unavailable:       http.StatusServiceUnavailable,
	Internal:          http.StatusInternalServerError,
	BadRequest:        http.StatusBadRequest,
	Timeout:           http.StatusGatewayTimeout,
	QueryTooExpensive: http.StatusUnprocessableEntity,
}

// HTTPStatus returns the status REST answers a code with.
func (c Code) HTTPStatus() int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is a domain error safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input field for BadInput (snake_case, as
	// REST clients send it).
	Field string
	// RetryAfter is set for RateLimited and Unavailable.
	RetryAfter time.Duration
	// Details are machine-readable facts about the error (a query's line and
	// column); GraphQL shows them in extensions, REST in the detail's ctx.
	Details map[string]any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// New returns an error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports bad input in one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a missing (or invisible) object. Objects of another
// organisation are reported the same way, so their existence does not leak.
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// SetRetryAfter sets the Retry-After header when e carries a delay: whole
// seconds, rounded up and at least one, so a sub-second wait never reads
// "retry now".
func (e *Error) SetRetryAfter(h http.Header) {
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.RetryAfter.Seconds())))))
	}
}
