package loadgen

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/kendallqn/kendall/internal/clock"
	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/moments"
)

// schedule keeps a Pacer's schedule in one vegeta attack. It is the
// vegeta.Pacer the attacker is given: instead of returning a wait for
// vegeta to time.Sleep, which overshoots by up to a millisecond and cannot
// be interrupted, it waits itself, precisely and interruptibly, and returns
// a wait of zero. It stops the attack when the next hit would be due at or
// after the end, at the latest grace after the end, or when done is closed.
//
// It keeps its own index of the next hit, rather than vegeta's count of the
// hits sent, because not every hit due is sent. A hit more than skipAfter
// behind its due time is skipped: a generator that cannot keep up would
// otherwise send every hit of its backlog however late, for as long as the
// backlog lasts, long past the end of the run (at a rate far beyond the
// machine's, for ever). And a hit that comes due while slots.max requests
// are in flight is skipped: waiting for a slot would let the target set
// the pace. Skipped hits are counted as not sent, by reason, and the run
// is then not trustworthy (judge).
//
// It also watches the attack keep its schedule. vegeta's attack loop calls
// Pace right after it has handed the previous hit to a worker, so the
// elapsed time it passes is when that hit went out: the schedule measures
// each hit's lag behind its due time, and the gaps between the hits actually
// sent.
type schedule struct {
	pacer       *Pacer
	warmup, end time.Duration // the measurement window: [warmup, end)
	skipAfter   time.Duration
	grace       time.Duration // how long past the end the hits due before it are still sent
	slots       *inFlight     // shared by the schedules of an attack
	done        <-chan struct{}
	timer       clock.Timer
	next        uint64 // index of the next hit to send or skip
	pending     bool   // a hit was handed to vegeta; its send is observed at the next Pace
	lastDue     time.Duration
	prevSent    time.Duration // when the previous hit in the window went out; -1 if none
	mu          sync.Mutex    // guards what follows, read by progress reports
	sent        int64
	inWindow    int64
	notSent     notSent         // of the hits due during the window
	notSentWarm notSent         // of the hits due during the warm-up
	gaps        moments.Moments // seconds
	lag         *hdrhistogram.Histogram
	maxLag      time.Duration
}

// notSent counts the hits skipped, by reason.
type notSent struct {
	behind int64 // the generator was more than skipAfter behind them
	atCap  int64 // they came due while the requests in flight were at the cap
}

func (n notSent) total() int64 { return n.behind + n.atCap }

// Why hits are skipped.
const (
	skipBehind = iota
	skipAtCap
)

var _ vegeta.Pacer = (*schedule)(nil)

func newSchedule(p *Pacer, warmup, end, skipAfter, grace time.Duration, slots *inFlight, done <-chan struct{}) *schedule {
	return &schedule{
		pacer:     p,
		warmup:    warmup,
		end:       end,
		skipAfter: skipAfter,
		grace:     grace,
		slots:     slots,
		done:      done,
		timer:     clock.NewTimer(),
		prevSent:  -1,
		lag:       hdrhistogram.New(1000, latency.Highest, 2), // 1 µs to hours, 1%
	}
}

// Pace implements vegeta.Pacer. It returns when the next hit is to be
// sent, having taken a slot for it, or when the attack is to stop.
func (s *schedule) Pace(elapsed time.Duration, _ uint64) (time.Duration, bool) {
	if s.pending {
		s.pending = false
		s.observe(elapsed, s.lastDue)
	}
	origin := time.Now().Add(-elapsed) // when vegeta's attack began, from which the hits are due
	for {
		select {
		case <-s.done:
			return 0, true
		default:
		}
		now := time.Since(origin)
		if now >= s.end+s.grace {
			// The hits due before the end that the generator did not
			// reach were not sent: at the cap if it is reached, else
			// because the generator was behind. Until then, a hit due
			// before the end is sent: one sent within grace (the lag
			// allowed) of its due time is on time, and a generator a
			// few milliseconds behind must not lose the last hits of
			// its run.
			why := skipBehind
			if s.slots.full() != nil {
				why = skipAtCap
			}
			s.skip(s.end, why)
			return 0, true
		}
		due := s.pacer.At(s.next)
		if due >= s.end {
			return 0, true
		}
		if now-due > s.skipAfter {
			s.skip(now-s.skipAfter, skipBehind)
			continue
		}
		if due > now {
			if !clock.WaitUntil(s.timer, origin.Add(due), s.done) {
				return 0, true
			}
			continue // and look again: the run may be over, the slots taken
		}
		if !s.slots.acquire() {
			s.waitForSlot(origin, due)
			continue
		}
		s.lastDue, s.pending = due, true
		s.next++
		return 0, false
	}
}

// slotPoll is the longest waitForSlot waits before it counts the hits that
// came due meanwhile, so that progress reports count them as they pass.
const slotPoll = 100 * time.Millisecond

// waitForSlot is called when hit s.next, due at due, finds every slot
// taken. It waits for one to free, or for the end or done, but no longer
// than slotPoll, and skips that hit and every other that came due
// meanwhile.
func (s *schedule) waitForSlot(origin time.Time, due time.Duration) {
	freed := s.slots.full()
	if freed == nil {
		return // one freed since: try again
	}
	wake := time.NewTimer(min(time.Until(origin.Add(s.end)), slotPoll))
	select {
	case <-freed:
	case <-s.done:
	case <-wake.C:
	}
	wake.Stop()
	s.skip(max(time.Since(origin), due+1), skipAtCap)
}

// skip passes over the hits due before t (but not past the end), counting
// them as not sent for why.
func (s *schedule) skip(t time.Duration, why int) {
	from := s.next
	s.next = s.pacer.skip(s.next, min(t, s.warmup))
	warm := int64(s.next - from)
	from = s.next
	s.next = s.pacer.skip(s.next, min(t, s.end))
	window := int64(s.next - from)
	s.mu.Lock()
	defer s.mu.Unlock()
	if why == skipAtCap {
		s.notSentWarm.atCap += warm
		s.notSent.atCap += window
	} else {
		s.notSentWarm.behind += warm
		s.notSent.behind += window
	}
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
	return scheduleStats{sent: s.sent, inWindow: s.inWindow, notSent: s.notSent, notSentWarm: s.notSentWarm, gaps: s.gaps, maxLag: s.maxLag, lag: s.lag}
}

type scheduleStats struct {
	sent, inWindow int64   // hits sent, and sent during the window
	notSent        notSent // hits due during the window, not sent
	notSentWarm    notSent // hits due during the warm-up, not sent
	gaps           moments.Moments
	maxLag         time.Duration
	lag            *hdrhistogram.Histogram // ns
}

func (s *schedule) close() { s.timer.Close() }
