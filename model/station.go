package model

import (
	"math"

	"github.com/kendallqn/kendall/topology"
)

// station is one service of a topology evaluated at its arrival rate: a
// queue with Servers workers and the service's service-time distribution.
//
// With exponential service times it is an exact M/M/c queue (MMc). With any
// other distribution it is an M/G/c queue, which has no exact solution for
// c > 1; there the wait is approximated, and the station says so.
type station struct {
	lambda  float64 // arrival rate
	ca2     float64 // squared coefficient of variation of the interarrival times: 1 for Poisson
	servers int
	service serviceTime
	mmc     MMc // the exponential queue with the same mean, for Erlang C

	stable   bool
	exact    bool    // exponential service: every figure is exact
	pWait    float64 // probability an arrival waits
	meanWait float64
	theta    float64 // rate of the exponential wait, given that one waits
	pk       bool    // single server, general service: Pollaczek–Khinchine
}

// newStation evaluates service s with the given workers at arrival rate
// lambda; ca2 is the squared coefficient of variation of the arrivals'
// interarrival times (1 for Poisson arrivals), for the approximations of
// stations fed by the non-Poisson departures of others.
func newStation(s *topology.Service, lambda float64, servers int, ca2 float64) station {
	st := station{
		lambda:  lambda,
		ca2:     ca2,
		servers: servers,
		service: newServiceTime(s.MeanSeconds(), s.Distribution),
		mmc:     MMc{Lambda: lambda, Mu: 1 / s.MeanSeconds(), C: servers},
	}
	st.exact = st.service.exponential()
	st.stable = st.mmc.Stable()
	if !st.stable {
		st.pWait, st.meanWait = 1, math.Inf(1)
		return st
	}
	if lambda == 0 {
		return st // never visited: no wait, and the transforms below divide by λ
	}
	c, rho, m, scv := float64(servers), st.mmc.Utilization(), st.service.mean, st.service.scv
	switch {
	case st.exact:
		st.pWait = st.mmc.WaitProbability()
		st.meanWait = st.mmc.MeanWait()
		st.theta = c*st.mmc.Mu - lambda
	case servers == 1:
		// M/G/1: an arrival waits with probability ρ (PASTA), and the mean
		// wait is the Pollaczek–Khinchine formula Wq = ρ·m·(1 + cs²)/(2(1 - ρ))
		// (Kleinrock, Queueing Systems Vol. 1, 1975, ch. 5); the whole wait
		// distribution follows from the P–K transform (waitLST). Exact for a
		// single station; a network of them is still approximate, because
		// what leaves an M/G/1 queue is not Poisson.
		st.pk = true
		st.pWait = rho
		st.meanWait = rho * m * (1 + scv) / (2 * (1 - rho))
	default:
		// M/G/c: the Allen–Cunneen approximation scales the M/M/c wait by
		// (ca² + cs²)/2, with ca² = 1 for Poisson arrivals (A. O. Allen,
		// Probability, Statistics, and Queueing Theory, 2nd ed., 1990, §6;
		// Bolch et al., Queueing Networks and Markov Chains, 2nd ed., 2006,
		// §6.3, GI/G/m). The wait keeps the M/M/c shape: zero with
		// probability 1 - C, else exponential with the mean that gives
		// the approximated Wq.
		st.pWait = st.mmc.WaitProbability()
		st.meanWait = st.mmc.MeanWait() * (1 + scv) / 2
		if st.meanWait > 0 {
			st.theta = st.pWait / st.meanWait
		}
	}
	return st
}

func (st *station) meanResponse() float64 { return st.meanWait + st.service.mean }

// method says how a station's figures are computed, for the labels on
// them (labels.go). Exact means exact for this station fed by Poisson
// arrivals; whether its arrivals are Poisson is the network's question.
type method struct {
	queue      string // the queue the station is taken to be, e.g. "M/M/c"
	wait       string // how P(wait) and the mean wait are computed
	waitExact  bool
	shape      string // how the sojourn's distribution (the percentiles) is computed
	shapeExact bool
}

// method describes how st's figures are computed. It must change with the
// formulas above: the labels on every figure rest on it.
func (st *station) method() method {
	switch {
	case st.exact:
		return method{
			queue: "M/M/c",
			wait:  "Erlang C, M/M/c", waitExact: true,
			shape: "the M/M/c sojourn distribution", shapeExact: true,
		}
	case st.pk:
		m := method{queue: "M/G/1 (Pollaczek–Khinchine)", wait: "Pollaczek–Khinchine, M/G/1", waitExact: true,
			shape: "the Pollaczek–Khinchine transform, inverted numerically", shapeExact: true}
		if st.service.kind == topology.Lognormal {
			m.shape, m.shapeExact = "the Pollaczek–Khinchine transform of a phase-type fit to the lognormal", false
		}
		return m
	default:
		return method{queue: "M/G/c", wait: "Allen–Cunneen, M/G/c", shape: "an exponential wait with the approximated mean"}
	}
}

// sojournVariance is the variance of wait plus service, which are
// independent. For the M/G/1 wait it uses Takács's second moment,
// E[Wq²] = 2·E[Wq]² + λE[S³]/(3(1 - ρ)) (L. Takács, Introduction to the
// Theory of Queues, 1962, ch. 2; Kleinrock Vol. 1, ch. 5, exercise);
// otherwise the wait is 0 or exponential with rate θ, so
// E[Wq²] = 2C/θ².
func (st *station) sojournVariance() float64 {
	m := st.service.mean
	v := st.service.scv * m * m
	var w2 float64
	switch {
	case !st.stable:
		return math.Inf(1)
	case st.pk:
		rho := st.lambda * m
		w2 = 2*st.meanWait*st.meanWait + st.lambda*st.service.thirdMoment()/(3*(1-rho))
	case st.theta > 0:
		w2 = 2 * st.pWait / (st.theta * st.theta)
	}
	return v + w2 - st.meanWait*st.meanWait
}

// waitLST is the Laplace–Stieltjes transform of the wait in queue.
func (st *station) waitLST(z complex128) complex128 {
	if st.pk {
		// The Pollaczek–Khinchine transform equation for the M/G/1 wait,
		// W*(z) = (1 - ρ)z / (z - λ(1 - B*(z))) (Kleinrock, Queueing
		// Systems Vol. 1, 1975, ch. 5).
		rho := complex(st.lambda*st.service.mean, 0)
		lam := complex(st.lambda, 0)
		return (1 - rho) * z / (z - lam*(1-st.service.lst(z)))
	}
	if st.pWait == 0 || st.theta == 0 {
		return 1
	}
	// Wq = 0 with probability 1 - C, else Exp(θ): (1 - C) + C·θ/(θ + z).
	return complex(1-st.pWait, 0) + complex(st.pWait, 0)*expLST(st.theta, z)
}

// sojournLST is the transform of the sojourn, wait plus own service, which
// are independent under FIFO.
func (st *station) sojournLST(z complex128) complex128 {
	return st.waitLST(z) * st.service.lst(z)
}

// shift is the constant part of the sojourn: the whole service time when it
// is deterministic, else 0.
func (st *station) shift() float64 {
	if st.service.kind == topology.Deterministic {
		return st.service.mean
	}
	return 0
}

// residualLST is the transform of the sojourn less its shift.
func (st *station) residualLST(z complex128) complex128 {
	switch {
	case st.exact:
		// The hot case, in one division: (1 - C + Cθ/(θ+z))·μ/(μ+z)
		// = μ(θ + (1-C)z) / ((θ+z)(μ+z)).
		mu, theta := st.mmc.Mu, st.theta
		num := complex(mu, 0) * (complex(theta, 0) + complex(1-st.pWait, 0)*z)
		return quo(num, (complex(theta, 0)+z)*(complex(mu, 0)+z))
	case st.service.kind == topology.Deterministic:
		return st.waitLST(z)
	default:
		return st.sojournLST(z)
	}
}

// quo is a/b by a·conj(b)/|b|²: the transforms' values are of moderate
// size, so the overflow guards of Go's complex division are not needed,
// and it is the inner loop of every end-to-end inversion.
func quo(a, b complex128) complex128 {
	br, bi := real(b), imag(b)
	d := br*br + bi*bi
	return complex((real(a)*br+imag(a)*bi)/d, (imag(a)*br-real(a)*bi)/d)
}

// rough reports whether the sojourn's distribution has kinks, which the
// Laplace inversion needs many terms for: deterministic service does that.
func (st *station) rough() bool { return st.service.kind == topology.Deterministic }

// survival returns P(sojourn > t) and the sojourn's density: in closed form
// for the exact M/M/c, by numerical inversion of the transform otherwise.
func (st *station) survival() survivalFunc {
	if st.exact {
		mu, theta, c := st.mmc.Mu, st.theta, st.pWait
		if st.lambda == 0 {
			theta = float64(st.servers) * mu // nobody waits; θ only has to be positive
		}
		return func(t float64) (float64, float64) {
			return sojournSurvival(mu, theta, c, t), sojournDensity(mu, theta, c, t)
		}
	}
	return eulerInverter.invert(st.shift(), math.Sqrt(st.sojournVariance()), st.rough(), st.residualLST)
}

// serviceTime is a service-time distribution with its transform.
//
// The lognormal has no closed-form Laplace transform, so its transform is
// that of a phase-type distribution with the same mean and coefficient of
// variation, the standard two-moment fits of H. C. Tijms, A First Course in
// Stochastic Models, 2003, Appendix B: for cs² > 1 a hyperexponential H2
// with balanced means, for cs² < 1 a mixture of Erlang(k-1) and Erlang(k)
// with a common phase rate. Only the percentiles depend on it: every mean is
// computed from the exact first two moments.
type serviceTime struct {
	kind topology.Kind
	mean float64 // seconds
	scv  float64 // squared coefficient of variation
	k    int     // Erlang phases, or phases of the mixed-Erlang fit

	// Two-moment fit: H2 with weights p, 1-p and rates r1, r2; or the mixture
	// p·Erlang(k-1, r1) + (1-p)·Erlang(k, r1).
	p, r1, r2 float64
	mixed     bool // which of the two fits
}

func newServiceTime(mean float64, d topology.Distribution) serviceTime {
	s := serviceTime{kind: d.Kind, mean: mean, scv: d.SCV(), k: d.K}
	if d.IsExponential() {
		s.kind = topology.Exponential
	}
	if s.kind != topology.Lognormal || s.scv == 1 {
		if s.kind == topology.Lognormal {
			s.kind = topology.Exponential // cv = 1: the fit is the exponential
		}
		return s
	}
	if s.scv > 1 {
		// H2, balanced means: p1/r1 = p2/r2 (Tijms 2003, App. B).
		s.p = (1 + math.Sqrt((s.scv-1)/(s.scv+1))) / 2
		s.r1 = 2 * s.p / mean
		s.r2 = 2 * (1 - s.p) / mean
		return s
	}
	// Mixed Erlang: k such that 1/k <= cs² <= 1/(k-1) (Tijms 2003, App. B).
	s.mixed = true
	s.k = int(math.Ceil(1 / s.scv))
	k := float64(s.k)
	s.p = (k*s.scv - math.Sqrt(k*(1+s.scv)-k*k*s.scv)) / (1 + s.scv)
	s.r1 = (k - s.p) / mean
	return s
}

func (s serviceTime) exponential() bool { return s.kind == topology.Exponential }

// thirdMoment is E[S³]: 6m³ for the exponential, m³ for the deterministic,
// m³(k+1)(k+2)/k² for the Erlang-k, and for the lognormal that of its
// two-moment fit (n phases of rate r have E[S³] = n(n+1)(n+2)/r³).
func (s serviceTime) thirdMoment() float64 {
	m3 := s.mean * s.mean * s.mean
	switch s.kind {
	case topology.Deterministic:
		return m3
	case topology.Erlang:
		k := float64(s.k)
		return m3 * (k + 1) * (k + 2) / (k * k)
	case topology.Lognormal:
		// The fitted distribution's, not the lognormal's own m³(1+cv²)³:
		// the variance it enters is that of what is inverted.
		if s.mixed {
			k := float64(s.k)
			r3 := s.r1 * s.r1 * s.r1
			return s.p*(k-1)*k*(k+1)/r3 + (1-s.p)*k*(k+1)*(k+2)/r3
		}
		return 6 * (s.p/(s.r1*s.r1*s.r1) + (1-s.p)/(s.r2*s.r2*s.r2))
	default:
		return 6 * m3
	}
}

// lst is the Laplace–Stieltjes transform E[e^{-zS}] of the service time.
func (s serviceTime) lst(z complex128) complex128 {
	switch s.kind {
	case topology.Deterministic:
		return detLST(s.mean, z)
	case topology.Erlang:
		return erlangLST(s.k, float64(s.k)/s.mean, z)
	case topology.Lognormal:
		if s.mixed {
			e := expLST(s.r1, z)
			ek1 := powInt(e, s.k-1)
			return complex(s.p, 0)*ek1 + complex(1-s.p, 0)*ek1*e
		}
		return complex(s.p, 0)*expLST(s.r1, z) + complex(1-s.p, 0)*expLST(s.r2, z)
	default:
		return expLST(1/s.mean, z)
	}
}
