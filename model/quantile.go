package model

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// survivalFunc returns P(T > t) and the density of T at t.
type survivalFunc func(t float64) (survival, density float64)

// quantile solves P(T > t) = 1 - p for t, the p-quantile of a positive
// random variable T, given its survival function and density and a first
// guess.
//
// It is Newton's method on h(t) = ln P(T > t) - ln(1 - p), safeguarded by a
// bracket that shrinks at every step and bisection whenever a Newton step
// would leave it or fails to halve the previous step (Press et al.,
// Numerical Recipes, 3rd ed., 2007, §9.4, "rtsafe"); until the root is
// bracketed, a step that would leave the known side doubles or halves t
// instead. Working on the logarithm makes exponential tails linear, so
// Newton converges in a few steps even at p = 0.999 from a good guess; the
// bisection copes with the jumps of deterministic service times.
func quantile(f survivalFunc, p, guess float64) float64 {
	target := 1 - p
	logTarget := math.Log(target)
	if !(guess > 0) || math.IsInf(guess, 0) {
		guess = 1
	}
	const relTol = 1e-10
	lo, hi := 0.0, math.Inf(1) // S(lo) > target >= S(hi)
	t := guess
	prevStep := math.Inf(1)
	for range 300 {
		s, d := f(t)
		if s > target {
			lo = t
		} else {
			hi = t
		}
		if s == target {
			return t
		}
		next := math.NaN()
		if s > 0 && d > 0 {
			next = t + (math.Log(s)-logTarget)*s/d // Newton on ln S
		}
		bracketed := !math.IsInf(hi, 1)
		if !(next > lo && next < hi) || (bracketed && math.Abs(next-t) > prevStep/2) {
			switch {
			case !bracketed:
				next = 2 * t
			case lo == 0:
				next = hi / 2
			default:
				next = (lo + hi) / 2
			}
		}
		step := math.Abs(next - t)
		if step <= relTol*next || (bracketed && hi-lo <= relTol*hi) {
			return next
		}
		if next > guess*1e12 {
			return math.Inf(1) // the tail never comes down: no finite quantile
		}
		prevStep, t = step, next
	}
	return t
}

// gammaGuess is the p-quantile of the gamma distribution with the given
// mean and variance: a first guess for quantile that is close for the
// sums of exponential-like sojourns a latency is made of.
func gammaGuess(mean, variance, p float64) float64 {
	if !(variance > 0) || !(mean > 0) || math.IsInf(variance, 0) {
		return mean
	}
	shape := mean * mean / variance
	if shape > 1e4 { // nearly normal; the gamma quantile is slow to find there
		return mean + math.Sqrt(variance)*distuv.UnitNormal.Quantile(p)
	}
	return distuv.Gamma{Alpha: shape, Beta: mean / variance}.Quantile(p)
}
