package testenv

import (
	"time"

	"github.com/riverqueue/river/rivertype"
)

// RetryAfter is a River retry policy that retries a failed job after a
// fixed delay, so that a test of retries waits milliseconds instead of
// River's backoff.
type RetryAfter time.Duration

// NextRetry is when the failed job runs again.
func (d RetryAfter) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(d)) }
