package sim

import (
	"math"
	"slices"
)

// The start-up transient is deleted by MSER-5 (K. P. White Jr., "An
// effective truncation heuristic for bias reduction in simulation output",
// Simulation 69(6), 1997; K. P. White, M. J. Cobb & S. C. Spratt, "A
// comparison of five steady-state truncation heuristics for simulation",
// Proc. Winter Simulation Conference, 2000). An output series is cut into
// batches of five and averaged, Z_1 … Z_m; the rule deletes the first d*
// batches, where d* minimises
//
//	MSER(d) = 1/(m−d)² · Σ_{j=d+1..m} (Z_j − Z̄(d))²,
//
// the squared standard error of the mean of what is kept: deleting more
// removes bias, deleting too much leaves too little to average, and the
// minimum balances the two.
//
// Where to cut. d* is sought in the first half of the series only, so that
// MSER(d) always rests on at least half of it. Near the end of the series
// it rests on a few batches, and a stretch that happens to hold none of the
// rare values carrying the series' variance has a variance near zero,
// which wins. Sought over the whole series, the minimum fell there whenever
// rare values carry the variance: a light load with deterministic service
// serves nearly every request at once, in exactly its service time, and
// the odd one that waits is a spike; the last stretch without a spike, or
// with only small ones, lay near the end, so the rule found no steady state
// at any pilot length and cut nearly the whole pilot from every replication
// (an M/D/8 at 30% load simulated 20 times what it measured).
//
// Whether the pilot shows a steady state. Hoad, Robinson & Davies
// ("Automating warm-up length estimation", J. Oper. Res. Soc. 61(9), 2010,
// §3) take a minimum in the second half to mean that the run is too short;
// but a quiet stretch near the end of a series that has settled makes such
// a minimum too. The question is asked of what is kept instead: a series
// still settling, or drifting for longer than the pilot near saturation,
// has means that change slowly from one stretch to the next. The kept part
// is cut into 40 batches, and their means must pass the von Neumann test of
// serial correlation at 0.1% (L. C. Young, "On randomness in ordered
// sequences", Ann. Math. Stat. 12(3), 1941: C = 1 − Σ(Y_{i+1} − Y_i)² /
// 2Σ(Y_i − Ȳ)² is close to normal with mean 0 and variance (k − 2)/(k² − 1)
// for k independent means), the test batch-means procedures use to tell
// batches long enough to be independent (G. S. Fishman, "Grouping
// observations in digital simulation", Manage. Sci. 24(5), 1978). A minimum
// at the edge of the search, d* = m/2, fails too: the statistic still falls
// as more is deleted. When the longest pilot fails, half of it is deleted,
// the most the rule considers, and the run says that its warm-up did not
// converge.
//
// A series whose batch means are all equal has no transient: it is steady
// from the start, with no warm-up. Equal means exactly equal: latencies are
// rounded to the nanosecond the histograms record before they are batched,
// so that the rounding of float64 clock times does not make a constant
// series vary.
//
// This is the replication/deletion approach (A. M. Law, Simulation Modeling
// and Analysis, 5th ed., 2015, §9.5.2): the warm-up is chosen once, from a
// pilot run started, like every replication, empty and idle, and the same
// number of requests is then deleted from the start of every replication.

// mserBatch is the batch size of MSER-5.
const mserBatch = 5

// The von Neumann test of the kept part: its number of batches, and the
// normal quantile at which it rejects independence (one-sided 0.1%).
//
// Forty batches make the test see drift on the scale of a fortieth of the
// kept part. Measured over seeds 1 to 10 or 20 (pilot requests are the
// mean of all the doublings):
//
//	                     M/M/1 ρ=0.995  ρ=0.998   M/M/1000 ρ=0.95     M/D/8 ρ=0.3
//	                     not converged            not conv.  pilot    pilot
//	before (whole series)    2/10        3/10      0/20      110k     100k–3.1M
//	40 batches, 1%           7/10        9/10      1/20      1.5M     100k
//	40 batches, 0.1%         4/10        9/10      0/20      350k     100k
//	60 batches, 0.1%         9/10       10/10      0/20      780k     100k
//
// At 1% the number in system of a thousand-server queue, which drifts
// over thousands of arrivals in its steady state (a service time is 950
// arrivals there), failed the test now and then however long the pilot;
// at 0.1% with 40 batches it passes, while the queues near saturation fail
// more often than they did before.
const (
	steadyBatches = 40
	steadyZ       = 3.0902
)

// mserSeries collects the batch means of a series, five values at a time.
type mserSeries struct {
	// quantum, when positive, is the resolution of the values: each is
	// rounded to a multiple of it, so that equal values are equal to the
	// bit (see above). The sum is kept in quanta: a sum of five integers,
	// exact, so equal batches have equal means.
	quantum float64
	sum     float64
	n       int
	means   []float64
}

func (s *mserSeries) add(x float64) {
	if s.quantum > 0 {
		x = math.Round(x / s.quantum)
	}
	s.sum += x
	s.n++
	if s.n == mserBatch {
		m := s.sum / mserBatch
		if s.quantum > 0 {
			m *= s.quantum
		}
		s.means = append(s.means, m)
		s.sum, s.n = 0, 0
	}
}

// mser returns the number of batches to delete from the batch means z, and
// whether z shows a steady state: MSER's d* over the first half and true
// when what it keeps passes the test of serial correlation; half the series
// and false when it does not, or when z is too short to tell.
func mser(z []float64) (d int, ok bool) {
	m := len(z)
	if m < 2*steadyBatches {
		return 0, false
	}
	if slices.Min(z) == slices.Max(z) {
		return 0, true
	}
	// Suffix sums of the series less its overall mean: the variance is then
	// a difference of numbers of the size of the variance, not of the
	// squared mean, and keeps its digits.
	var mean float64
	for _, x := range z {
		mean += x
	}
	mean /= float64(m)
	half := m / 2
	best, bestD := 0.0, -1
	var s1, s2 float64
	for i := m - 1; i >= 0; i-- {
		x := z[i] - mean
		s1 += x
		s2 += x * x
		if i > half {
			continue
		}
		kept := float64(m - i)
		v := max(s2-s1*s1/kept, 0) / (kept * kept)
		if bestD < 0 || v <= best {
			best, bestD = v, i // ties go to the shorter deletion
		}
	}
	if bestD == half || serialCorrelated(z[bestD:]) {
		return half, false
	}
	return bestD, true
}

// serialCorrelated reports whether the means of steadyBatches consecutive
// batches of z fail the von Neumann test: whether, one-sided at 0.1%, they
// are positively correlated, as a series that drifts makes them (Young
// 1941). The first len(z) mod steadyBatches values are left out.
func serialCorrelated(z []float64) bool {
	const k = steadyBatches
	b := len(z) / k
	z = z[len(z)-b*k:]
	var y [k]float64
	var mean float64
	for j := range y {
		var s float64
		for _, x := range z[j*b : (j+1)*b] {
			s += x
		}
		y[j] = s / float64(b)
		mean += y[j]
	}
	mean /= k
	var ss, succ float64
	for j := range y {
		ss += (y[j] - mean) * (y[j] - mean)
		if j > 0 {
			succ += (y[j] - y[j-1]) * (y[j] - y[j-1])
		}
	}
	if ss == 0 {
		return false // all equal: nothing drifts
	}
	c := 1 - succ/(2*ss)
	return c > steadyZ*math.Sqrt(float64(k-2)/float64(k*k-1))
}
