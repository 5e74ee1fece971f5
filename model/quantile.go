package model

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// survivalFunc returns P(T > t) and the density of T at t.
type survivalFunc func(t float64) (survival, density float64)

// quantile solves P(T > t) = 1 - p for t, the p-quantile of a positive
// random variable T with the given mean and variance, given its survival
// function and density.
//
// The root is bracketed from the start: Markov's inequality, P(T >= t) <=
// E[T]/t, puts it at or below E[T]/(1-p). Within the bracket it is Newton's
// method on h(t) = ln P(T > t) - ln(1 - p), starting from the quantile of
// the gamma distribution with the same mean and variance and safeguarded by
// bisection whenever a Newton step would leave the bracket or fails to
// halve the previous step (Press et al., Numerical Recipes, 3rd ed., 2007,
// §9.4, "rtsafe"); the bracket shrinks at every step. Working on the
// logarithm makes exponential tails linear, so Newton converges in a few
// steps even at p = 0.999; the bisection, geometric while the bracket spans
// orders of magnitude, copes with the jumps of deterministic service times
// and with heavy tails whose gamma guess is far off.
func quantile(f survivalFunc, p, mean, variance float64) float64 {
	if !(mean > 0) || math.IsInf(mean, 0) {
		return mean // +Inf when unstable; nothing to search
	}
	target := 1 - p
	logTarget := math.Log(target)
	lo, hi := 0.0, mean/target // S(lo) > target >= S(hi)
	for k := 0; k < 64; k++ {  // only the inversion's noise can make Markov's bound fail
		if s, _ := f(hi); s <= target {
			break
		}
		lo, hi = hi, 2*hi
	}
	t := min(max(gammaGuess(mean, variance, p), hi*1e-9), hi)
	if t <= lo {
		t = (lo + hi) / 2
	}
	const relTol = 1e-10
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
		if !(next > lo && next < hi) || math.Abs(next-t) > prevStep/2 {
			if lo > 0 && hi > 4*lo {
				next = math.Sqrt(lo * hi) // bisect the orders of magnitude
			} else {
				next = (lo + hi) / 2
			}
		}
		step := math.Abs(next - t)
		if step <= relTol*next || hi-lo <= relTol*hi {
			return next
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
