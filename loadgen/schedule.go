package loadgen

import (
	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/moments"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// schedule keeps a Pacer's schedule in one vegeta attack. It is the
// vegeta.Pacer the attacker is given: instead of returning a wait for
// vegeta to time.Sleep, which overshoots by up to a millisecond and cannot
// be interrupted, it waits itself, precisely and interruptibly, and returns
// a wait of zero. It stops the attack when the next hit would be due at or
// after the end, or when done is closed.
//
// It also watches the attack keep its schedule. vegeta's attack loop calls
// Pace right after it has handed the previous hit to a worker, so the
// elapsed time it passes is when that hit went out: the schedule measures
// each hit's lag behind its due time, and the gaps between the hits actually
// sent.
type schedule struct {
	pacer          *Pacer
	warmup, end    time.Duration // the measurement window: [warmup, end)
	done           <-chan struct{}
	timer          preciseTimer
	lastDue        time.Duration
	prevSent       time.Duration // when the previous hit in the window went out; -1 if none
	mu             sync.Mutex    // guards what follows, read by progress reports
	sent, inWindow int64
	gaps           moments.Moments // seconds
	lag            *hdrhistogram.Histogram
	maxLag         time.Duration
}

var _ vegeta.Pacer = (*schedule)(nil)

func newSchedule(p *Pacer, warmup, end time.Duration, done <-chan struct{}) *schedule {
	return &schedule{
		pacer:    p,
		warmup:   warmup,
		end:      end,
		done:     done,
		timer:    newPreciseTimer(),
		prevSent: -1,
		lag:      hdrhistogram.New(1000, latency.Highest, 2), // 1 µs to hours, 1%
	}
}

// Pace implements vegeta.Pacer.
func (s *schedule) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits > 0 {
		s.observe(elapsed, s.lastDue)
	}
	select {
	case <-s.done:
		return 0, true
	default:
	}
	due := s.pacer.At(hits)
	if due >= s.end {
		return 0, true
	}
	s.lastDue = due
	if wait := due - elapsed; wait > 0 {
		if !waitUntil(s.timer, time.Now().Add(wait), s.done) {
			return 0, true
		}
	}
	return 0, false
}

// Rate implements vegeta.Pacer.
func (s *schedule) Rate(elapsed time.Duration) float64 { return s.pacer.Rate(elapsed) }

// observe records a hit due at due that went out at sent. The gaps are those
// between consecutive hits both sent during the window.
func (s *schedule) observe(sent, due time.Duration) {
	lag := max(sent-due, 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	latency.Record(s.lag, lag)
	s.maxLag = max(s.maxLag, lag)
	if sent < s.warmup || sent >= s.end {
		return
	}
	s.inWindow++
	if s.prevSent >= 0 {
		s.gaps.Add((sent - s.prevSent).Seconds())
	}
	s.prevSent = sent
}

// stats returns what the schedule has measured so far. The lag histogram
// is shared, to be read once the attack is over.
func (s *schedule) stats() scheduleStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return scheduleStats{sent: s.sent, inWindow: s.inWindow, gaps: s.gaps, maxLag: s.maxLag, lag: s.lag}
}

type scheduleStats struct {
	sent, inWindow int64 // hits sent, and sent during the window
	gaps           moments.Moments
	maxLag         time.Duration
	lag            *hdrhistogram.Histogram // ns
}

func (s *schedule) close() { s.timer.close() }
