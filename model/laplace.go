package model

import (
	"math"
	"math/cmplx"
)

// euler inverts Laplace transforms numerically by the EULER algorithm of
// Abate and Whitt: the Bromwich integral discretized by the trapezoidal rule
// (the Fourier-series method), and the alternating tail of that series
// summed by Euler summation, the binomial average of its last m+1 partial
// sums (J. Abate and W. Whitt, "Numerical inversion of Laplace transforms of
// probability distributions", ORSA Journal on Computing 7(1), 1995,
// pp. 36–43; and "The Fourier-series method for inverting transforms of
// probability distributions", Queueing Systems 10, 1992, §1–§2).
//
// The discretization error is about e^{-A} on a function bounded by 1
// (A = 22: 3e-10) and the round-off about e^{A/2}·ε (1e-11). The truncation
// error depends on the distribution: with n = 24 terms before Euler
// summation it is below 1e-13 for the smooth, spread-out latencies of a few
// exponential stations (Abate and Whitt's own A = 18.4, n = 15, m = 11 gave
// 2e-4 relative error at the 99.9th percentile of a six-station chain);
// it falls slowly at the kinks that deterministic service times put in a
// distribution, and needs many more terms for a latency concentrated far
// from zero, such as the sum of hundreds of visits, whose terms stop
// alternating smoothly. So the number of terms is not fixed: it is doubled
// until two successive estimates agree (see survival).
type euler struct {
	a      float64
	levels []eulerLevel // increasing numbers of terms; each uses the nodes of the last
}

// eulerLevel is one choice of n with its precomputed weights: 1/2 for the
// k = 0 term, 1 up to n, then the binomial tail sum_{j >= k-n} C(m, j)/2^m;
// and the (-1)^k of the alternating series.
type eulerLevel struct {
	n       int
	weights []float64
}

const (
	eulerA = 22
	eulerM = 16
	// eulerTol is the agreement between successive levels at which the
	// truncation error is taken as negligible beside the discretization
	// error; absolute, on a survival probability.
	eulerTol = 1e-11
)

// eulerInverter is the one inverter: n = 24, 48, ..., 1536.
var eulerInverter = newEuler(eulerA, eulerM, 24, 7)

func newEuler(a float64, m, n0, levels int) *euler {
	binom := make([]float64, m+1)
	binom[0] = 1
	for j := 1; j <= m; j++ {
		binom[j] = binom[j-1] * float64(m-j+1) / float64(j)
	}
	e := &euler{a: a}
	for l, n := 0, n0; l < levels; l, n = l+1, 2*n {
		w := make([]float64, n+m+1)
		for k := range w {
			switch {
			case k == 0:
				w[k] = 0.5
			case k <= n:
				w[k] = 1
			default:
				var tail float64
				for j := k - n; j <= m; j++ {
					tail += binom[j]
				}
				w[k] = tail / math.Pow(2, float64(m))
			}
			if k%2 == 1 {
				w[k] = -w[k]
			}
		}
		e.levels = append(e.levels, eulerLevel{n: n, weights: w})
	}
	return e
}

// startLevel is the level to begin with for a time t of a distribution
// with standard deviation sd (0: unknown), and rough tells whether it has
// kinks. Starting high saves the levels that would certainly be too few:
// for a concentrated distribution about 8 terms per standard deviation of
// t are needed, for a kinked one several hundred.
func (e *euler) startLevel(t, sd float64, rough bool) int {
	need := 0.0
	if sd > 0 {
		need = 8 * t / sd
	}
	if rough {
		need = max(need, 384)
	}
	for i, l := range e.levels {
		if float64(l.n) >= need {
			return i
		}
	}
	return len(e.levels) - 1
}

// survival inverts, at t > 0, the Laplace–Stieltjes transform lst of a
// positive random variable T: P(T > t), the inverse of (1 - lst(z))/z, and
// the density of T, the inverse of lst(z), from the same evaluations. It
// starts at level start and doubles the terms until two successive levels
// agree within eulerTol, or the levels run out. The transform is evaluated
// once per node: the nodes z_k = (A + 2kπi)/(2t) do not depend on n.
func (e *euler) survival(t float64, lst func(z complex128) complex128, start int) (survival, density float64) {
	scale := math.Exp(e.a/2) / t
	var surv, dens []float64 // the terms, kept for the next level
	estimate := func(l eulerLevel) (s, d float64) {
		for len(surv) < len(l.weights) {
			k := len(surv)
			z := complex(e.a/(2*t), float64(k)*math.Pi/t)
			v := lst(z)
			surv = append(surv, real((1-v)/z))
			dens = append(dens, real(v))
		}
		for k, w := range l.weights {
			s += w * surv[k]
			d += w * dens[k]
		}
		return s * scale, d * scale
	}
	prev := math.NaN() // the level below start, to compare with
	if start > 0 {
		prev, _ = estimate(e.levels[start-1])
	}
	for i := start; i < len(e.levels); i++ {
		survival, density = estimate(e.levels[i])
		if math.Abs(survival-prev) <= eulerTol {
			break
		}
		prev = survival
	}
	return survival, density
}

// invert returns the survival function and density of shift + R, where R is
// the positive random variable whose Laplace–Stieltjes transform is lst and
// whose standard deviation is sd (0: unknown). Taking a known constant
// shift out before inverting keeps the jump it would cause out of the
// Fourier series.
func (e *euler) invert(shift, sd float64, rough bool, lst func(z complex128) complex128) survivalFunc {
	return func(t float64) (float64, float64) {
		t -= shift
		if t <= 0 {
			return 1, 0
		}
		v, d := e.survival(t, lst, e.startLevel(t, sd, rough))
		// Just past a constant part left in lst (a transform with e^{-zΔ}
		// and e^{zΔ} in it), the large z of the inversion can make 0·∞:
		// the survival function is right-continuous, so read it a little
		// further on, where the transform is finite.
		for tries := 0; math.IsNaN(v) && tries < 30; tries++ {
			t *= 1.5
			v, d = e.survival(t, lst, e.startLevel(t, sd, rough))
		}
		return v, d
	}
}

// expLST is the Laplace–Stieltjes transform of Exp(rate): rate/(rate + z).
func expLST(rate float64, z complex128) complex128 {
	return complex(rate, 0) / (complex(rate, 0) + z)
}

// erlangLST is the transform of the Erlang-k with the given phase rate:
// (rate/(rate + z))^k.
func erlangLST(k int, rate float64, z complex128) complex128 {
	return pow(expLST(rate, z), k)
}

// pow is x^n for a small non-negative integer n by repeated squaring,
// cheaper and more exact than math.Pow or cmplx.Pow for the counts of
// calls, and exact for x in {0, 1}.
func pow[T float64 | complex128](x T, n int) T {
	r := T(1)
	for n > 0 {
		if n&1 == 1 {
			r *= x
		}
		x *= x
		n >>= 1
	}
	return r
}

// detLST is the transform of a constant d: e^{-zd}.
func detLST(d float64, z complex128) complex128 { return cmplx.Exp(-z * complex(d, 0)) }
