package sim

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
// minimum balances the two. A minimum in the second half of the series means
// the run is too short to show a steady state (K. Hoad, S. Robinson & R.
// Davies, "Automating warm-up length estimation", J. Oper. Res. Soc. 61(9),
// 2010, §3), and the pilot is lengthened.
//
// This is the replication/deletion approach (A. M. Law, Simulation Modeling
// and Analysis, 5th ed., 2015, §9.5.2): the warm-up is chosen once, from a
// pilot run started, like every replication, empty and idle, and the same
// number of requests is then deleted from the start of every replication.

// mserBatch is the batch size of MSER-5.
const mserBatch = 5

// mserSeries collects the batch means of a series, five values at a time.
type mserSeries struct {
	sum   float64
	n     int
	means []float64
}

func (s *mserSeries) add(x float64) {
	s.sum += x
	s.n++
	if s.n == mserBatch {
		s.means = append(s.means, s.sum/mserBatch)
		s.sum, s.n = 0, 0
	}
}

// mser returns the number of batches d* that MSER deletes from the batch
// means z, and whether it found a steady state (d* in the first half).
func mser(z []float64) (d int, ok bool) {
	m := len(z)
	if m < 10 {
		return 0, false
	}
	// Suffix sums of the series less its overall mean: the variance is then
	// a difference of numbers of the size of the variance, not of the
	// squared mean, and keeps its digits.
	var mean float64
	for _, x := range z {
		mean += x
	}
	mean /= float64(m)
	best, bestD := 0.0, -1
	var s1, s2 float64
	// The last few batches are not candidates: with so few values left the
	// statistic says nothing.
	const minKept = 5
	for i := m - 1; i >= 0; i-- {
		x := z[i] - mean
		s1 += x
		s2 += x * x
		kept := float64(m - i)
		if m-i < minKept {
			continue
		}
		ss := max(s2-s1*s1/kept, 0)
		v := ss / (kept * kept)
		if bestD < 0 || v <= best {
			best, bestD = v, i // ties go to the shorter deletion
		}
	}
	return bestD, bestD <= m/2
}
