// Package clock waits precisely: the timers that the emulated services hold
// their workers on (package emulate) and that the load generator paces its
// sends by (package loadgen), where Go's own timers overshoot by up to a
// millisecond.
package clock

import (
	"math"
	"time"
)

// A Timer sleeps for a duration with as little overshoot as the platform
// allows. Each one is used by one goroutine at a time: a worker of an
// emulated service, or the pacing loop of an attack.
//
// Go's own timers are not precise enough to emulate millisecond service
// times: on Linux the runtime waits for them in epoll_wait, whose timeout is
// in whole milliseconds, so time.Sleep(d) returns between 0 and about 1.1 ms
// late. Measured on the 2-core development machine (Go 1.26, exponential
// durations of mean 5 ms, 1, 8 and 32 sleeping goroutines, another
// process busy on the same cores): time.Sleep
// overshot by 0.53 to 0.69 ms on average (+11% to +14% on the mean), a
// timerfd (timer_linux.go) by 0.09 to 0.16 ms (+2% to +3%), and nanosleep(2)
// in a blocked thread by 0.14 to 0.34 ms with outliers of 10 to 27 ms when
// threads pile up. Sleeping to a deadline minus a margin and then spinning
// was exact when idle but burns CPU and got worse, not better, with 32
// spinners on 2 cores (p99 5.9 ms).
//
// BenchmarkHold (package emulate) reproduces the comparison for the two
// timers kept, with and without the overshoot debt of the emulated
// workers: per wait, time.Sleep 0.54 to 0.62 ms late (+11% to +12% on the
// mean of 5 ms service times), the timerfd 0.08 to 0.10 ms (+1.6% to
// +1.8%); with the debt, the realized mean is within 0.04% of the drawn one
// for either (one worker, 400 service times), the timerfd's individual
// service times being the more faithful.
type Timer interface {
	// Sleep returns after d has passed.
	Sleep(d time.Duration)
	// Close releases the timer's resources.
	Close()
	// Kind names the mechanism, for reports: "timerfd", or "go".
	Kind() string
}

// GoTimer is the portable fallback: time.Sleep.
type GoTimer struct{}

var _ Timer = GoTimer{}

func (GoTimer) Sleep(d time.Duration) { time.Sleep(d) }
func (GoTimer) Close()                {}
func (GoTimer) Kind() string          { return "go" }

// coarseAbove is the wait beyond which WaitUntil first sleeps on a Go timer
// that can be interrupted, up to coarseMargin before the deadline, and only
// then on the precise timer, which cannot.
const (
	coarseAbove  = 100 * time.Millisecond
	coarseMargin = 3 * time.Millisecond
)

// WaitUntil sleeps until deadline on t. It returns false, early, when done
// is closed during the part of a long wait that can be interrupted; the last
// few milliseconds of a wait always run to the end. A nil done never closes.
func WaitUntil(t Timer, deadline time.Time, done <-chan struct{}) bool {
	left := time.Until(deadline)
	if left > coarseAbove {
		coarse := time.NewTimer(left - coarseMargin)
		select {
		case <-done:
			coarse.Stop()
			return false
		case <-coarse.C:
		}
		left = time.Until(deadline)
	}
	if left > 0 {
		t.Sleep(left)
	}
	return true
}

// FromSeconds converts float seconds, the unit of the math, to a Duration,
// the unit of timers, saturating at the longest Duration instead of
// overflowing.
func FromSeconds(s float64) time.Duration {
	ns := s * 1e9
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
