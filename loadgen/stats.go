package loadgen

import "math"

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
