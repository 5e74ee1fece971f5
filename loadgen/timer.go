package loadgen

import (
	"time"
)

// A preciseTimer sleeps for a duration with as little overshoot as the
// platform allows. Each one is used by one goroutine at a time: a worker of
// an emulated service, or the pacing loop of an attack.
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
// BenchmarkHold reproduces the comparison for the two timers kept, with and
// without the overshoot debt of holder: per wait, time.Sleep 0.54 to 0.62
// ms late (+11% to +12% on the mean of 5 ms service times), the timerfd
// 0.08 to 0.10 ms (+1.6% to +1.8%); with the debt, the realized mean is
// within 0.04% of the drawn one for either (one worker, 400 service times),
// the timerfd's individual service times being the more faithful.
type preciseTimer interface {
	// sleep returns after d has passed.
	sleep(d time.Duration)
	// close releases the timer's resources.
	close()
	// kind names the mechanism, for reports.
	kind() string
}

// goTimer is the portable fallback: time.Sleep.
type goTimer struct{}

func (goTimer) sleep(d time.Duration) { time.Sleep(d) }
func (goTimer) close()                {}
func (goTimer) kind() string          { return "go" }

// coarseAbove is the wait beyond which waitUntil first sleeps on a Go timer
// that can be interrupted, up to coarseMargin before the deadline, and only
// then on the precise timer, which cannot.
const (
	coarseAbove  = 100 * time.Millisecond
	coarseMargin = 3 * time.Millisecond
)

// waitUntil sleeps until deadline on t. It returns false, early, when done
// is closed during the part of a long wait that can be interrupted; the last
// few milliseconds of a wait always run to the end. A nil done never closes.
func waitUntil(t preciseTimer, deadline time.Time, done <-chan struct{}) bool {
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
		t.sleep(left)
	}
	return true
}

// maxDebt bounds the overshoot a worker carries forward: the larger of
// minMaxDebt and twice the mean service time. Timer overshoot (about 0.1 ms
// with a timerfd, up to 1.1 ms with Go's timers) and the wake-up delays of
// a machine short of CPU (measured up to 30 ms at the 99th percentile with
// the race detector on and four CPU-bound processes on two cores) are
// repaid by the next service times, so the work the service does, and with
// it its utilization, stays the one asked for. A stall longer than the cap
// is not repaid: it shows in the realized service times every report
// prints.
const minMaxDebt = 5 * time.Millisecond

func maxDebtFor(mean time.Duration) time.Duration { return max(minMaxDebt, 2*mean) }

// holder realizes service times on one worker: it holds the worker until a
// deadline and carries its overshoot forward.
type holder struct {
	timer   preciseTimer
	debt    time.Duration // held beyond the drawn service times so far, in [0, maxDebt]
	maxDebt time.Duration
}

// hold keeps the worker, granted at start, for the service time d less the
// debt carried from its earlier service times, and returns how long it was
// actually held, counted from start. Over many service times the realized
// total differs from the drawn total by at most maxDebt unless a single
// overshoot exceeds it: the mean is realized exactly, and each service time
// is off by its timer's jitter, not by its bias.
//
// It returns completed false, early, when done is closed before the service
// time is over: the request was cut short, and neither its answer nor its
// held time may pass for a service time realized. The debt is left as it
// was.
func (h *holder) hold(start time.Time, d time.Duration, done <-chan struct{}) (held time.Duration, completed bool) {
	if want := d - h.debt; want > 0 && !waitUntil(h.timer, start.Add(want), done) {
		return time.Since(start), false
	}
	held = time.Since(start)
	h.debt = min(max(h.debt+held-d, 0), h.maxDebt)
	return held, true
}
