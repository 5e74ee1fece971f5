package model

import "math"

// survivalFunc returns P(T > t) and the density of T at t.
type survivalFunc func(t float64) (survival, density float64)

// quantile solves P(T > t) = 1 - p for t, the p-quantile of a positive
// random variable T, given its survival function and density and a guess of
// the scale of T (its mean serves).
//
// It is Newton's method on h(t) = ln P(T > t) - ln(1 - p), safeguarded by a
// bracket that shrinks at every step and bisection whenever a Newton step
// would leave it (Press et al., Numerical Recipes, 3rd ed., 2007, §9.4,
// "rtsafe"). Working on the logarithm makes exponential tails linear, so
// Newton converges in a few steps even at p = 0.999; the bisection fallback
// copes with the jumps of deterministic service times.
func quantile(f survivalFunc, p, guess float64) float64 {
	target := 1 - p
	logTarget := math.Log(target)
	if !(guess > 0) || math.IsInf(guess, 0) {
		guess = 1
	}

	// Bracket the root: S(lo) > target >= S(hi).
	lo, hi := 0.0, guess
	s, d := f(hi)
	for s > target {
		lo = hi
		hi *= 2
		if hi > guess*1e12 {
			return math.Inf(1) // the tail never comes down: no finite quantile
		}
		s, d = f(hi)
	}

	const relTol = 1e-13
	t := hi
	prevStep := math.Inf(1)
	for range 200 {
		var next float64
		if s > 0 && d > 0 {
			next = t + (math.Log(s)-logTarget)*s/d // Newton on ln S
		}
		// Bisect when the Newton step leaves the bracket or is not at least
		// halving the step before it (slow convergence, as at a jump).
		if !(next > lo && next < hi) || math.Abs(next-t) > prevStep/2 {
			next = (lo + hi) / 2
		}
		step := math.Abs(next - t)
		prevStep = step
		t = next
		s, d = f(t)
		if s > target {
			lo = t
		} else {
			hi = t
		}
		if s == target || step <= relTol*t || hi-lo <= relTol*hi {
			break
		}
	}
	return t
}
