// Package moments accumulates the count, mean and variance of a stream of
// values, and the Student t confidence interval of their mean: the
// statistics the simulator computes across replications and the load
// generator over requests.
package moments

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Moments accumulates values by Welford's update (B. P. Welford, "Note on a
// method for calculating corrected sums of squares and products",
// Technometrics 4(3), 1962), which does not lose digits the way a sum of
// squares does when the spread is small next to the mean. The zero value
// is empty. A NaN is no value and is not counted.
type Moments struct {
	n    int64
	mean float64
	m2   float64 // sum of squared deviations from the mean
}

// Add counts x.
func (m *Moments) Add(x float64) {
	if math.IsNaN(x) {
		return
	}
	m.n++
	d := x - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (x - m.mean)
}

// Merge adds the values of o, by the pairwise update of Chan, Golub &
// LeVeque ("Algorithms for computing the sample variance", Am. Stat. 37(3),
// 1983).
func (m *Moments) Merge(o Moments) {
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

// N is the number of values.
func (m *Moments) N() int64 { return m.n }

// Mean is their mean; NaN with none.
func (m *Moments) Mean() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.mean
}

// Sum is their sum.
func (m *Moments) Sum() float64 { return m.mean * float64(m.n) }

// Variance is the sample variance, n − 1 in the denominator; NaN below two
// values.
func (m *Moments) Variance() float64 {
	if m.n < 2 {
		return math.NaN()
	}
	return m.m2 / float64(m.n-1)
}

// SD is the sample standard deviation; NaN below two values.
func (m *Moments) SD() float64 { return math.Sqrt(m.Variance()) }

// CV is the coefficient of variation, SD over mean; NaN below two values or
// with a zero mean.
func (m *Moments) CV() float64 {
	if m.n < 2 || m.mean == 0 {
		return math.NaN()
	}
	return m.SD() / m.mean
}

// HalfWidth is the half-width of the level (0.95 for 95%) confidence
// interval of the mean of independent, nearly normal values,
// t_{n−1,(1+level)/2}·s/√n (A. M. Law, Simulation Modeling and Analysis,
// 5th ed., 2015, §9.4.1); NaN below two values.
func (m *Moments) HalfWidth(level float64) float64 {
	if m.n < 2 {
		return math.NaN()
	}
	return StudentT(m.n-1, (1+level)/2) * m.SD() / math.Sqrt(float64(m.n))
}

// StudentT is the p-quantile of Student's t with nu degrees of freedom.
func StudentT(nu int64, p float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(nu)}.Quantile(p)
}

// Of is the Moments of n values with the given mean and sample variance,
// to merge summaries kept elsewhere.
func Of(n int64, mean, variance float64) Moments {
	m := Moments{n: n, mean: mean}
	if n > 1 {
		m.m2 = variance * float64(n-1)
	}
	return m
}
