package testenv

import (
	"testing"
	"time"
)

// pollInterval is how often Poll re-checks its condition.
const pollInterval = 10 * time.Millisecond

// Poll calls cond until it returns true or timeout has passed, and reports
// whether it did. It is for what tests cannot be signalled about: another
// process (the database, a job runner) or a state only visible by asking.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}

// Eventually fails t unless cond returns true within timeout; what says
// what was waited for.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("%s: not within %v", what, timeout)
	}
}
