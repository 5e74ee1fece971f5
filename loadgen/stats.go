package loadgen

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// moments accumulates the count, mean and variance of a stream of values
// with Welford's update (B. P. Welford, "Note on a method for calculating
// corrected sums of squares and products", Technometrics 4(3), 1962), which
// does not lose precision the way the sum of squares does when the mean is
// large against the spread. The zero value is empty.
type moments struct {
	n    int64
	mean float64
	m2   float64 // sum of squared deviations from the mean
}

func (m *moments) add(x float64) {
	m.n++
	d := x - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (x - m.mean)
}

// variance is the sample variance (n−1 in the denominator); NaN below two
// values.
func (m *moments) variance() float64 {
	if m.n < 2 {
		return math.NaN()
	}
	return m.m2 / float64(m.n-1)
}

// cv is the coefficient of variation, standard deviation over mean; NaN
// below two values.
func (m *moments) cv() float64 {
	if m.n < 2 || m.mean == 0 {
		return math.NaN()
	}
	return math.Sqrt(m.variance()) / m.mean
}

// merge adds the values of o, by the pairwise update of Chan, Golub &
// LeVeque ("Algorithms for computing the sample variance", Am. Stat. 37(3),
// 1983).
func (m *moments) merge(o moments) {
	if o.n == 0 {
		return
	}
	if m.n == 0 {
		*m = o
		return
	}
	n := m.n + o.n
	d := o.mean - m.mean
	m.mean += d * float64(o.n) / float64(n)
	m.m2 += o.m2 + d*d*float64(m.n)*float64(o.n)/float64(n)
	m.n = n
}

// Batches is the number of batches MeanHalfWidth divides a run into.
const Batches = 10

// batchMeansHalfWidth is the 95% confidence half-width of the mean latency
// of a run, by batch means (A. M. Law, Simulation Modeling and Analysis,
// 5th ed., 2015, §9.5.3): the measurement window, second by second, is cut
// into Batches consecutive batches of whole seconds; each batch's mean
// latency is one observation, and the interval is Student t on those,
// t_{k-1, 0.975}·s/√k. Latencies of nearby requests are correlated (they
// meet the same queues), so the spread of the individual latencies would
// understate the uncertainty; batches of a second or more are far less
// correlated. NaN when the window has fewer than two seconds with requests.
func batchMeansHalfWidth(series []Point) float64 {
	var secs []Point
	for _, p := range series {
		if !p.Warmup && p.Successes > 0 && p.Mean != nil {
			secs = append(secs, p)
		}
	}
	k := min(Batches, len(secs))
	if k < 2 {
		return math.NaN()
	}
	size := len(secs) / k
	secs = secs[len(secs)-k*size:] // whole batches, the latest seconds
	var m moments
	for b := 0; b < k; b++ {
		var sum float64
		var n int64
		for _, p := range secs[b*size : (b+1)*size] {
			sum += *p.Mean * float64(p.Successes)
			n += p.Successes
		}
		m.add(sum / float64(n))
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(k - 1)}.Quantile(0.975)
	return t * math.Sqrt(m.variance()/float64(k))
}
