package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/kendallqn/kendall/internal/clock"
	"github.com/kendallqn/kendall/internal/random"
)

// Arrivals is the process by which requests arrive.
type Arrivals int

const (
	// Poisson arrivals: independent exponential gaps of mean 1/rate, the
	// arrival process the queueing model assumes. The zero value.
	Poisson Arrivals = iota
	// Constant arrivals: evenly spaced, one every 1/rate.
	Constant
)

func (a Arrivals) String() string {
	switch a {
	case Poisson:
		return "poisson"
	case Constant:
		return "constant"
	}
	return fmt.Sprintf("Arrivals(%d)", int(a))
}

// ParseArrivals reads "poisson" or "constant".
func ParseArrivals(s string) (Arrivals, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "poisson", "exponential":
		return Poisson, nil
	case "constant", "uniform", "even":
		return Constant, nil
	}
	return 0, fmt.Errorf("unknown arrival process %q; use poisson (the model's assumption) or constant", s)
}

// Pacer is a vegeta.Pacer whose hits follow an absolute schedule: hit k (0,
// 1, 2, ...) is due at the sum of the first k+1 gaps from the start of the
// attack, never at a gap after the previous hit was actually sent. A hit sent
// late therefore does not delay the ones after it, and the offered load is
// the one asked for: for Poisson arrivals, a Poisson process of rate Rate.
//
// The gaps of Poisson arrivals come from a random stream fixed by the seed,
// so two pacers with the same seed give the same schedule. A Pacer is safe
// for concurrent use.
type Pacer struct {
	arrivals Arrivals
	rate     float64 // hits per second
	seed     uint64
	stream   int // which of the seed's arrival streams

	mu   sync.Mutex
	rng  *rand.Rand
	n    uint64  // hits scheduled so far
	last float64 // due time of hit n-1 (after a skip, the time skipped to), in seconds from the start
}

var _ vegeta.Pacer = (*Pacer)(nil)

// NewPacer returns a pacer of the given arrival process and rate, in hits per
// second; seed fixes the schedule of Poisson arrivals.
func NewPacer(arrivals Arrivals, rate float64, seed uint64) *Pacer {
	return newPacer(arrivals, rate, seed, 0)
}

// newPacer returns the pacer of arrival stream number stream under seed: an
// attack gives each of its targets its own stream.
func newPacer(arrivals Arrivals, rate float64, seed uint64, stream int) *Pacer {
	p := &Pacer{arrivals: arrivals, rate: rate, seed: seed, stream: stream}
	p.reset()
	return p
}

func (p *Pacer) reset() {
	p.rng = random.Labelled(p.seed, "arrivals", p.stream)
	p.n, p.last = 0, 0
}

func (p *Pacer) String() string {
	return fmt.Sprintf("%s{%g hits/s}", p.arrivals, p.rate)
}

// At returns the time, from the start of the attack, at which hit k is due.
// Asking for the hits in increasing order costs one gap each; asking for an
// earlier hit than the last one regenerates the schedule from its seed.
func (p *Pacer) At(k uint64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.at(k)
}

func (p *Pacer) at(k uint64) time.Duration {
	if k+1 < p.n {
		p.reset()
	}
	if p.arrivals == Constant {
		// Computed, not summed, so that no rounding accumulates: hit
		// rate−1 is due at exactly 1 s.
		return clock.FromSeconds(float64(k+1) / p.rate)
	}
	for p.n <= k {
		p.last += p.gap()
		p.n++
	}
	return clock.FromSeconds(p.last)
}

// skip passes over the hits from next on that are due before t, and
// returns the index of the first hit due at or after t: next itself if it
// is. A schedule asks for its hits in order, and calls skip only with next
// the hit it would ask for.
//
// Skipping costs the same whatever the number of hits skipped, so that a
// generator far behind a schedule of millions of hits a second catches up
// at once. Evenly spaced, the index is computed. Poisson, the number of
// hits skipped after hit next is drawn at once: the arrivals of a Poisson
// process of rate λ in an interval of length τ are Poisson(λτ) in number,
// independent of those before, and the first arrival after t comes an
// Exp(λ) gap after t whatever came before, by the memorylessness of the
// exponential (Kleinrock, Queueing Systems Vol. 1, 1975, §2.4). The hits
// after t are then a new sample path of the same process, no longer the one
// At gives for them from the seed: a schedule that skips has already
// failed to keep the one fixed in advance.
func (p *Pacer) skip(next uint64, t time.Duration) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	due := p.at(next) // for Poisson arrivals, leaves p.n = next+1 and p.last = due
	if due >= t {
		return next
	}
	if p.arrivals == Constant {
		// Hit k is due at (k+1)/rate: the guess is corrected against at,
		// whose rounding it must agree with.
		k := max(next+1, uint64(max(math.Ceil(t.Seconds()*p.rate)-1, 0)))
		for k > next+1 && p.at(k-1) >= t {
			k--
		}
		for p.at(k) < t {
			k++
		}
		return k
	}
	// Poisson sampling by the transformed rejection of W. Hörmann, "The
	// transformed rejection method for generating Poisson random
	// variables", Insurance: Mathematics and Economics 12(1), 1993 (gonum's
	// distuv.Poisson, for λτ of 10 or more).
	more := distuv.Poisson{Lambda: p.rate * (t - due).Seconds(), Src: p.rng}.Rand()
	p.n = next + 1 + uint64(more)
	p.last = t.Seconds() // the next gap is drawn from t
	return p.n
}

// gap draws the next gap of Poisson arrivals, in seconds.
func (p *Pacer) gap() float64 {
	// Exponential gaps by the ziggurat method of math/rand/v2 (Marsaglia &
	// Tsang, "The ziggurat method for generating random variables", J.
	// Stat. Softw. 5(8), 2000): the gaps of a Poisson process of rate λ are
	// independent Exp(λ) (Kleinrock, Queueing Systems Vol. 1, 1975, §2.4).
	return p.rng.ExpFloat64() / p.rate
}

// Pace implements vegeta.Pacer: the wait until hit number hits is due,
// counted from elapsed. A hit that is already due is sent at once (wait 0).
func (p *Pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if !(p.rate > 0) || math.IsInf(p.rate, 0) {
		return 0, true
	}
	due := p.At(hits)
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate implements vegeta.Pacer: the mean rate, in hits per second.
func (p *Pacer) Rate(time.Duration) float64 { return p.rate }
