package busy

import (
	"context"
	"testing"
	"time"
)

// waitAsync runs Wait in a goroutine; its result arrives on the channel.
func waitAsync(t *Tracker, ctx context.Context, limit time.Duration) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() { out <- t.Wait(ctx, limit) }()
	return out
}

// returned reports whether a result is on ch within d.
func returned(ch <-chan time.Duration, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

const grace = 20 * time.Millisecond

// holdsUntil checks that a Wait started now does not return while work is
// in flight, and returns once end, which ends it, is called; it returns
// what Wait returned.
func holdsUntil(t *testing.T, tr *Tracker, end func()) time.Duration {
	t.Helper()
	done := waitAsync(tr, context.Background(), time.Hour)
	if returned(done, 5*grace) {
		t.Fatal("Wait returned while work was in flight")
	}
	end()
	select {
	case got := <-done:
		return got
	case <-time.After(time.Minute):
		t.Fatal("Wait did not return after the work ended")
		return 0
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, tr *Tracker)
	}{
		{"idle returns at once", func(t *testing.T, tr *Tracker) {
			if got := tr.Wait(context.Background(), time.Hour); got > grace {
				t.Fatalf("waited %v on an idle tracker", got)
			}
		}},
		{"work in flight holds the wait until it ends and grace passes", func(t *testing.T, tr *Tracker) {
			end := tr.Begin()
			var ended time.Time
			got := holdsUntil(t, tr, func() {
				ended = time.Now()
				end()
				end() // a second call is harmless
			})
			if got < 5*grace {
				t.Fatalf("waited %v, less than the time work was in flight", got)
			}
			if after := time.Since(ended); after < grace {
				t.Fatalf("returned %v after the work ended, within grace (%v)", after, grace)
			}
		}},
		{"overlapping work: the wait ends after the last", func(t *testing.T, tr *Tracker) {
			end1, end2 := tr.Begin(), tr.Begin()
			end1()
			holdsUntil(t, tr, end2)
		}},
		{"work starting within grace restarts the wait", func(t *testing.T, tr *Tracker) {
			tr.Begin()()
			holdsUntil(t, tr, tr.Begin())
		}},
		{"limit bounds the wait", func(t *testing.T, tr *Tracker) {
			end := tr.Begin()
			defer end()
			if got := tr.Wait(context.Background(), 3*grace); got < 3*grace || got > time.Minute {
				t.Fatalf("waited %v with a limit of %v", got, 3*grace)
			}
		}},
		{"a cancelled context ends the wait", func(t *testing.T, tr *Tracker) {
			end := tr.Begin()
			defer end()
			ctx, cancel := context.WithCancel(context.Background())
			done := waitAsync(tr, ctx, time.Hour)
			cancel()
			if !returned(done, time.Minute) {
				t.Fatal("Wait did not return when its context ended")
			}
		}},
		{"no limit: no wait", func(t *testing.T, tr *Tracker) {
			end := tr.Begin()
			defer end()
			if got := tr.Wait(context.Background(), 0); got != 0 {
				t.Fatalf("waited %v with limit 0", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, New(grace)) })
	}
}

// QuietFor is true only with no work in flight and none ended within d.
func TestQuietFor(t *testing.T) {
	const d = time.Hour // no test runs that long: work that ended counts as recent
	tests := []struct {
		name string
		work func(tr *Tracker) (end func())
		want bool
		// wantNow is QuietFor(0): false only while work is in flight.
		wantNow bool
	}{
		{"never busy", func(*Tracker) func() { return func() {} }, true, true},
		{"in flight", func(tr *Tracker) func() { return tr.Begin() }, false, false},
		{"ended within d", func(tr *Tracker) func() { tr.Begin()(); return func() {} }, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(0)
			defer tc.work(tr)()
			if got := tr.QuietFor(d); got != tc.want {
				t.Errorf("QuietFor(%v) = %v, want %v", d, got, tc.want)
			}
			if got := tr.QuietFor(0); got != tc.wantNow {
				t.Errorf("QuietFor(0) = %v, want %v", got, tc.wantNow)
			}
		})
	}
}

func TestNilTracker(t *testing.T) {
	var tr *Tracker
	if !tr.QuietFor(time.Hour) {
		t.Error("nil tracker is not quiet")
	}
	tr.Begin()()
	if got := tr.Wait(context.Background(), time.Hour); got != 0 {
		t.Fatalf("nil tracker waited %v", got)
	}
}
