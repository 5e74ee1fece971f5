package sim

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence intervals come from independent replications (Law 2015,
// §9.4.1): each replication gives one estimate X_i of a figure, and with n
// replications the interval is X̄ ± t_{n−1, (1+level)/2} · s/√n, where s is
// the sample standard deviation of the X_i and t the Student t quantile.
// The X_i are independent because each replication has its own random
// stream and starts empty, and close to normal because each is an average
// (or a quantile) of many requests, which is what the t interval needs.

// summary accumulates the estimates of one figure across replications, by
// Welford's update (B. P. Welford, "Note on a method for calculating
// corrected sums of squares and products", Technometrics 4(3), 1962), which
// does not lose digits when the spread is small next to the mean.
type summary struct {
	n    int
	mean float64
	m2   float64
}

func (s *summary) add(x float64) {
	if math.IsNaN(x) {
		return
	}
	s.n++
	d := x - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (x - s.mean)
}

// sd is the sample standard deviation, with n − 1 in the denominator.
func (s *summary) sd() float64 {
	if s.n < 2 {
		return math.NaN()
	}
	return math.Sqrt(s.m2 / float64(s.n-1))
}

// halfWidth is the half-width of the level confidence interval of the mean,
// NaN with fewer than two estimates.
func (s *summary) halfWidth(level float64) float64 {
	if s.n < 2 {
		return math.NaN()
	}
	return studentT(s.n-1, (1+level)/2) * s.sd() / math.Sqrt(float64(s.n))
}

// value is the mean of the estimates, NaN with none.
func (s *summary) value() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.mean
}

// studentT is the p-quantile of Student's t with nu degrees of freedom.
func studentT(nu int, p float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(nu)}.Quantile(p)
}
