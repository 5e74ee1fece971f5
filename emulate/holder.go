package emulate

import (
	"time"

	"github.com/kendallqn/kendall/internal/clock"
)

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
	timer   clock.Timer
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
	if want := d - h.debt; want > 0 && !clock.WaitUntil(h.timer, start.Add(want), done) {
		return time.Since(start), false
	}
	held = time.Since(start)
	h.debt = min(max(h.debt+held-d, 0), h.maxDebt)
	return held, true
}
