package model

import (
	"math"
)

// MMc is an M/M/c queue: Poisson arrivals at rate Lambda, C identical
// servers with exponential service at rate Mu each, one FIFO queue of
// unlimited length. All times are in seconds, rates per second.
//
// The formulas are those of Gross, Shortle, Thompson & Harris, Fundamentals
// of Queueing Theory, 4th ed., 2008, §2.3 (M/M/c), with Erlang C as in
// ErlangC. They hold only when the queue is stable, Utilization() < 1;
// otherwise the means are +Inf.
type MMc struct {
	Lambda float64 // arrival rate
	Mu     float64 // service rate of one server (1 / mean service time)
	C      int     // number of servers
}

// OfferedLoad is a = λ/μ, the mean number of busy servers, in Erlangs.
func (q MMc) OfferedLoad() float64 { return q.Lambda / q.Mu }

// Utilization is ρ = λ/(cμ), the fraction of time a server is busy.
func (q MMc) Utilization() float64 { return q.Lambda / (float64(q.C) * q.Mu) }

// Stable reports whether ρ < 1, so that the queue has a steady state.
func (q MMc) Stable() bool { return q.Utilization() < 1 }

// WaitProbability is Erlang C: the probability an arrival waits at all
// (PASTA: arrivals see the time-average state).
func (q MMc) WaitProbability() float64 { return ErlangC(q.OfferedLoad(), q.C) }

// MeanWait is Wq = C(c, a) / (cμ - λ) (Gross et al. 2008, §2.3).
func (q MMc) MeanWait() float64 {
	if !q.Stable() {
		return math.Inf(1)
	}
	return q.WaitProbability() / (float64(q.C)*q.Mu - q.Lambda)
}

// MeanResponse is W = Wq + 1/μ, the mean sojourn: wait plus service.
func (q MMc) MeanResponse() float64 { return q.MeanWait() + 1/q.Mu }

// MeanQueueLength is Lq = λWq (Little's law, Little 1961).
func (q MMc) MeanQueueLength() float64 { return q.Lambda * q.MeanWait() }

// MeanInSystem is L = λW = Lq + a (Little's law).
func (q MMc) MeanInSystem() float64 { return q.Lambda * q.MeanResponse() }

// waitRate is θ = cμ - λ: given that an arrival waits, its wait is
// exponential with this rate (Gross et al. 2008, §2.3, the M/M/c waiting
// time distribution Wq(t) = 1 - C·e^{-(cμ-λ)t}).
func (q MMc) waitRate() float64 { return float64(q.C)*q.Mu - q.Lambda }

// ResponseSurvival is P(T > t) for the sojourn T = Wq + S of a FIFO M/M/c
// queue. Wq is 0 with probability 1-C and Exp(θ) with probability C,
// independent of the service time S ~ Exp(μ); so P(T > t) =
// (1-C)e^{-μt} + C·P(S + Exp(θ) > t), the second term being the
// hypoexponential survival (θe^{-μt} - μe^{-θt})/(θ - μ) (Gross et al. 2008,
// §2.3, the M/M/c sojourn distribution W(t)).
//
// It is evaluated as e^{-μt} + μ·g(t) with g as in twoRates, which is the
// same function but neither cancels when θ is close to μ nor overflows when
// e^{-μt} underflows, and is exact at θ = μ.
func (q MMc) ResponseSurvival(t float64) float64 {
	if !q.Stable() {
		return 1
	}
	return sojournSurvival(q.Mu, q.waitRate(), q.WaitProbability(), t)
}

// ResponseDensity is the density of the sojourn T at t, the derivative of
// 1 - ResponseSurvival: (1-C)μe^{-μt} + C·μθ·g(t).
func (q MMc) ResponseDensity(t float64) float64 {
	if !q.Stable() {
		return 0
	}
	return sojournDensity(q.Mu, q.waitRate(), q.WaitProbability(), t)
}

// ResponseQuantile is the p-quantile of the sojourn time, 0 < p < 1.
func (q MMc) ResponseQuantile(p float64) float64 {
	if !q.Stable() {
		return math.Inf(1)
	}
	return quantile(q.sojourn(), p, q.MeanResponse(), q.ResponseVariance())
}

// sojourn is the survival function and density of the sojourn, with Erlang
// C computed once rather than at every point.
func (q MMc) sojourn() survivalFunc {
	mu, theta, c := q.Mu, q.waitRate(), q.WaitProbability()
	return func(t float64) (float64, float64) {
		return sojournSurvival(mu, theta, c, t), sojournDensity(mu, theta, c, t)
	}
}

// sojournSurvival is P(T > t) for service rate mu, conditional wait rate
// theta and wait probability c (see ResponseSurvival).
func sojournSurvival(mu, theta, c, t float64) float64 {
	if t <= 0 {
		return 1
	}
	return math.Exp(-mu*t) + c*mu*twoRates(mu, theta, t)
}

// sojournDensity is the density matching sojournSurvival.
func sojournDensity(mu, theta, c, t float64) float64 {
	if t < 0 {
		return 0
	}
	return (1-c)*mu*math.Exp(-mu*t) + c*mu*theta*twoRates(mu, theta, t)
}

// ResponseVariance is the variance of the sojourn: 1/μ² for the service and
// 2C/θ² - (C/θ)² for the wait, which is 0 or Exp(θ) and independent of it.
func (q MMc) ResponseVariance() float64 {
	if !q.Stable() {
		return math.Inf(1)
	}
	c, theta := q.WaitProbability(), q.waitRate()
	return 1/(q.Mu*q.Mu) + 2*c/(theta*theta) - (c/theta)*(c/theta)
}

// twoRates is g(t) = (e^{-at} - e^{-bt})/(b - a) for rates a, b > 0, written
// as t·e^{-min(a,b)t}·φ(|b-a|t) with φ(x) = (1 - e^{-x})/x from Expm1: no
// cancellation when a ≈ b, the limit t·e^{-at} at a = b, and no overflow.
func twoRates(a, b, t float64) float64 {
	x := math.Abs(b-a) * t
	phi := 1.0
	if x > 1e-300 {
		phi = -math.Expm1(-x) / x
	}
	return t * math.Exp(-min(a, b)*t) * phi
}
