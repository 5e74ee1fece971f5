package model

import "math"

// gimc is the GI/M/c queue, solved exactly: renewal arrivals at rate λ
// with interarrival time T ~ A, c servers with exponential service at
// rate μ each, one FIFO queue. It is the queue of one replica out of n
// behind a round-robin balancer fed by a Poisson stream: that replica sees
// every n-th request, so its interarrival times are Erlang-n.
//
// The number q_i an arrival finds is a Markov chain (Gross, Shortle,
// Thompson & Harris, Fundamentals of Queueing Theory, 4th ed., 2008, §5.3,
// G/M/c; Kleinrock, Queueing Systems Vol. 1, 1975, ch. 6, the queue
// G/M/m). While all c servers are busy the departures form a Poisson
// process of rate cμ, which makes the distribution geometric from c - 1
// up: q_i = q_{c-1}σ^{i-c+1}, i ≥ c - 1, with σ the unique root in (0, 1)
// of
//
//	σ = A*(cμ(1 - σ))                                           (1)
//
// A*(s) = E[e^{-sT}] (Gross et al. §5.3; Kleinrock ch. 6), which exists
// when ρ = λ/(cμ) < 1. Hence
//
//	P(wait)  = Σ_{i≥c} q_i = q_{c-1}σ/(1 - σ)                     (2)
//	P(W > t) = P(wait)·e^{-θt},  θ = cμ(1 - σ)                    (3)
//	Wq       = P(wait)/θ                                          (4)
//
// since an arrival that finds i ≥ c waits for i - c + 1 departures at rate
// cμ, and i - c + 1 is geometric (Gross et al. §5.3, the G/M/c waiting
// time distribution; Kleinrock ch. 6, the conditional waiting time). For
// c = 1, q_0 = 1 - σ and P(wait) = σ.
//
// The boundary q_0..q_{c-2} is where the textbook methods stop being
// numerical ones: Takács's closed form and the backward recursion through
// the transition probabilities ∫ C(n,j)e^{-jμt}(1 - e^{-μt})^{n-j} dA(t)
// (Gross et al. §5.3; Kleinrock ch. 6) go through binomial expansions,
// alternating sums whose terms reach about 2^c times their result: in
// double precision they lose up to c bits, all of them at 64 servers. This
// solution does without any subtraction:
//
//   - Censoring. Watched only while it is below c, the chain of the numbers
//     found is again a Markov chain, with the same stationary distribution
//     up to a factor (Grassmann & Heyman, "Equilibrium distribution of
//     block-structured Markov chains with repeating rows", J. Appl. Prob.
//     27, 1990). The chain climbs one step at a time, so every excursion
//     above c - 1 starts from c - 1 and ends where the arrivals that find
//     the geometric tail go: the last row of the censored chain is
//     P(c → j) + P(c → c)·r_j, r_j the normalized flow from the tail to j.
//   - The tail as one state. A customer count c + e with e geometric,
//     P(e) = (1 - σ)σ^{e-1}, falls to c after e departures at rate cμ:
//     after a time exponential with rate θ. So the arrivals that find the
//     tail are, for the next interarrival time, one state "c+" leaving to c
//     at rate θ.
//   - Uniformization (Grassmann, "Transient solutions in Markovian
//     queueing systems", Comput. & Ops. Res. 4, 1977). The
//     transition probabilities over T of the pure death process on
//     0..c, c+ (rates jμ, cμ, θ) are Σ_n β_n U^n, U = I + Q/(cμ) the
//     stochastic matrix with U[j][j-1] = j/c and U[c+][c] = 1 - σ, and β_n
//     the probability that a Poisson process of rate cμ has n points in T
//     (the probabilities from which Gross et al. §5.3 build the chain
//     above c).
//   - GTH elimination for the censored chain (Grassmann, Taksar & Heyman,
//     "Regenerative analysis and steady state distributions for Markov
//     chains", Oper. Res. 33, 1985), which computes every probability
//     to a small relative error (O'Cinneide, "Entrywise perturbation theory
//     and error analysis for Markov chains", Numer. Math. 65, 1993).
//
// Every step adds, multiplies or divides nonnegative numbers, so P(wait)
// keeps a small relative error whatever c and T (newGIMc says how small).
// The root of (1) is found by bisection on σ or on 1 - σ, whichever is
// below 1/2, so that both keep their relative precision: near saturation
// 1 - σ is about 2(1 - ρ)/(1 + c_a²), c_a² the squared coefficient of
// variation of T (1/k for Erlang-k), and sets θ.
//
// The figures were checked against testdata/gimc.tsv, computed by
// testdata/gimc.py by other methods: the continuous-time chain of the
// E_k/M/c queue (number in system, arrival phase) and, for D/M/c, the
// backward recursion on the chain of numbers found, both at 40 digits.
type gimc struct {
	sigma    float64 // root of σ = A*(cμ(1-σ)) in (0, 1), (1)
	pWait    float64 // probability an arrival waits, (2)
	meanWait float64 // (4)
	theta    float64 // given that an arrival waits, the wait is exponential with this rate, cμ(1-σ), (3)
}

// interarrivals is an interarrival time distribution in the forms the
// GI/M/c solution needs. A Laplace–Stieltjes transform alone would give σ
// but not the boundary probabilities without alternating sums (see gimc).
type interarrivals struct {
	rate float64 // λ = 1/E[T]
	// logLST is log A*(s), A*(s) = E[e^{-sT}], and lstComplement is
	// 1 - A*(s), each to a small relative error (1 - A*(s) ≈ s/λ for
	// small s, A*(s) underflows for large s). A*(r) is also β_0, the
	// probability that a Poisson process of rate r has no point in T.
	logLST, lstComplement func(s float64) float64
	// poissonLogRatio is log(β_{n+1}/β_n), β_n the probability that a
	// Poisson process of rate r has n points in one interarrival time. It
	// must decrease in n (β_n log-concave), as it does for Erlang and
	// deterministic times.
	poissonLogRatio func(r float64, n int) float64
}

// lst is A*(s) = E[e^{-sT}].
func (a interarrivals) lst(s float64) float64 { return math.Exp(a.logLST(s)) }

// erlangArrivals is the Erlang-k interarrival time of mean 1/lambda: k
// exponential phases of rate kλ, what each of k replicas behind a round
// robin sees of a Poisson stream of rate kλ. A*(s) = (1 + s/(kλ))^{-k}
// (Kleinrock, Queueing Systems Vol. 1, 1975, ch. 4, the method of stages;
// here in logs, which stay accurate for k in the millions), and the number of
// Poisson(r) points in T is negative binomial, β_n = C(n+k-1, n)p^k(1-p)^n
// with p = kλ/(kλ + r), whose ratio β_{n+1}/β_n = (1-p)(n+k)/(n+1) needs no
// factorial.
func erlangArrivals(k int, lambda float64) interarrivals {
	kf := float64(k)
	phase := kf * lambda
	logLST := func(s float64) float64 { return -kf * math.Log1p(s/phase) }
	return interarrivals{
		rate:          lambda,
		logLST:        logLST,
		lstComplement: func(s float64) float64 { return -math.Expm1(logLST(s)) },
		poissonLogRatio: func(r float64, n int) float64 {
			return math.Log(r / (phase + r) * (float64(n) + kf) / float64(n+1))
		},
	}
}

// deterministicArrivals is the constant interarrival time 1/lambda, the
// limit of erlangArrivals as k grows (D/M/c): A*(s) = e^{-s/λ}, and the
// number of Poisson(r) points in T is Poisson with mean r/λ.
func deterministicArrivals(lambda float64) interarrivals {
	return interarrivals{
		rate:          lambda,
		logLST:        func(s float64) float64 { return -s / lambda },
		lstComplement: func(s float64) float64 { return -math.Expm1(-s / lambda) },
		poissonLogRatio: func(r float64, n int) float64 {
			return math.Log(r / lambda / float64(n+1))
		},
	}
}

// newGIMc solves the GI/M/c queue with interarrival times arr and c
// servers of rate mu (see gimc). When ρ = λ/(cμ) ≥ 1 there is no steady
// state: the queue grows without bound, every arrival waits (pWait 1, σ 1,
// θ 0) and the mean wait is +Inf. Invalid arguments (c < 1, rates not
// positive and finite) give NaN.
//
// Accuracy, against the references of gimc_test.go (Erlang-k with k up to
// 10,000, deterministic, c up to 256, ρ from 0.3 to 0.97; M/M/c up to
// c = 256 and ρ from 0.05 to 0.9999), and M/M/c checked once, outside the
// tests, up to c = 2,000 and down to ρ = 1e-7: P(wait), the mean wait and
// P(W > t) within 2e-14 relative for tens of servers, 2e-13 for a
// thousand, except at two ill-conditioned ends. Near saturation θ and the mean wait inherit
// the condition number 1/(1 - ρ) of (1) in λ: 1e-12 at ρ = 0.9999, 1e-9 at
// 1 - 1e-7. In light traffic the β_n, running products of their ratios,
// lose about ε per term over the 1/ρ or so terms: 1e-12 at ρ = 0.001 and
// eight servers. P(wait) below 1e-300 or so underflows to 0. Hence 1e-9
// or better for any k, c up to a few thousand and 1e-6 < ρ < 1 - 1e-6.
//
// The cost is about c²·m/2 + c³/3 operations, m the number of β_n used: at
// most the mean 1/ρ of the number of service completions at rate cμ in T
// plus some forty standard deviations (a few dozen in the usual range,
// 55/ρ for exponential interarrivals), and at most the 700c or so steps of
// U after which only state 0 holds more than 2^-1000. About 0.1 ms for 8
// servers, 0.1 s for 1,000 at ρ = 0.9; light traffic with many servers is
// the slow corner (1,000 servers at ρ = 0.01: 6 s for exponential
// interarrivals, where P(wait) underflows anyway).
func newGIMc(arr interarrivals, mu float64, c int) gimc {
	lambda := arr.rate
	if c < 1 || !(lambda > 0) || !(mu > 0) || math.IsInf(lambda, 1) || math.IsInf(mu, 1) {
		nan := math.NaN()
		return gimc{sigma: nan, pWait: nan, meanWait: nan, theta: nan}
	}
	cmu := float64(c) * mu
	if lambda >= cmu {
		return gimc{sigma: 1, pWait: 1, meanWait: math.Inf(1), theta: 0}
	}
	sigma, x := gimcRoot(arr, cmu)
	pWait := sigma // c = 1: q_0 = 1 - σ in (2)
	if c > 1 {
		beta, dropped := poissonCounts(arr.logLST(cmu), func(n int) float64 { return arr.poissonLogRatio(cmu, n) })
		pWait = gimcWaitProbability(beta, dropped, sigma, x, c)
	}
	theta := cmu * x
	return gimc{sigma: sigma, pWait: pWait, meanWait: pWait / theta, theta: theta}
}

// waitSurvival is P(W > t) = P(wait)·e^{-θt}, (3).
func (q gimc) waitSurvival(t float64) float64 {
	if t < 0 {
		return 1
	}
	return q.pWait * math.Exp(-q.theta*t)
}

// gimcRoot returns the root σ of (1) in (0, 1) and x = 1 - σ, for ρ < 1.
// g(σ) = A*(cμ(1-σ)) - σ is convex with g(0) = A*(cμ) > 0, g(1) = 0 and
// g'(1) = 1/ρ - 1 > 0, so it is positive below the root and negative
// between it and 1 (the argument of Gross et al. 2008, §5.3, that the root
// exists and is unique), and bisection finds it. Below σ = 1/2 it
// bisects on σ with A*; above, on x with 1 - A*, where
// x ↦ (1 - A*(cμx)) - x is positive below the root: each unknown is then
// the smaller one and is found to an ulp or so of itself (near ρ = 1, x
// to about ε/(1 - ρ), the conditioning of (1) there).
func gimcRoot(arr interarrivals, cmu float64) (sigma, x float64) {
	if arr.lst(cmu/2) > 0.5 {
		x = bisectPositive(func(x float64) bool { return arr.lstComplement(cmu*x) > x }, 0, 0.5)
		return 1 - x, x
	}
	sigma = bisectPositive(func(s float64) bool { return arr.lst(cmu*(1-s)) > s }, 0, 0.5)
	return sigma, 1 - sigma
}

// bisectPositive returns the point in [lo, hi] where above turns from
// true (at lo) to false (at hi), to adjacent floats: at most about 1,100
// steps, 60 or so unless the root is tiny.
func bisectPositive(above func(float64) bool, lo, hi float64) float64 {
	for {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			return mid
		}
		if above(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
}

// poissonTail is the mass of the β_n that poissonCounts leaves off.
const poissonTail = 0x1p-80

// poissonCountsMax bounds the β_n kept: for exponential interarrivals it
// binds below ρ = 5e-5 or so (55/ρ terms), where U has long reduced
// every row to state 0 for up to about 1,500 servers, so that the terms
// left off only add to that state (gimcWaitProbability).
const poissonCountsMax = 1 << 20

// poissonCounts returns β_0, β_1, ... from log β_0 and the log-ratios
// log(β_{n+1}/β_n) of a log-concave distribution, and the mass it drops
// when it stops at poissonCountsMax terms (0 otherwise). Running in logs,
// neither β_0 = (1 + 1/(kρ))^{-k} nor e^{-1/ρ} underflows the others; terms
// below 2^-1000 are set to 0, as their products with the entries of U^n
// would be subnormal and slow. It stops when the rest is below poissonTail:
// past the mode the ratios R_n decrease, so Σ_{m>n} β_m ≤ β_{n+1}/(1 - R_n).
func poissonCounts(logFirst float64, logRatio func(n int) float64) (beta []float64, dropped float64) {
	sum, l := 0.0, logFirst
	for n := 0; ; n++ {
		b := math.Exp(l)
		if b < 0x1p-1000 {
			b = 0
		}
		beta = append(beta, b)
		sum += b
		lr := logRatio(n)
		l += lr
		if lr < 0 && l-math.Log(-math.Expm1(lr)) < math.Log(poissonTail) {
			return beta, 0
		}
		if len(beta) == poissonCountsMax {
			return beta, max(0, 1-sum)
		}
	}
}

// gimcWaitProbability is (2), from the censored chain of the numbers
// found below c (see gimc), for c ≥ 2. States 0..c of the death process
// are the number in system, state c+1 is "c+", the geometric tail; beta
// are the β_n at rate cμ, and dropped the mass of those left off.
func gimcWaitProbability(beta []float64, dropped, sigma, x float64, c int) float64 {
	tail := c + 1
	cf := float64(c)
	stay, down := make([]float64, c+1), make([]float64, c+1) // U[j][j], U[j][j-1]
	for j := range stay {
		stay[j], down[j] = float64(c-j)/cf, float64(j)/cf
	}
	rest := make([]float64, len(beta)+1) // rest[n] = Σ_{m≥n} β_m
	rest[len(beta)] = dropped
	for n := len(beta) - 1; n >= 0; n-- {
		rest[n] = rest[n+1] + beta[n]
	}
	// over[s][j]: from s customers just after an arrival, the probability
	// that the next arrival finds j, Σ_n β_n (U^n)[s][j], row by row. The
	// top entries of U^n vanish first; they are dropped below 2^-1000
	// (subnormal products are slow), and once only state 0 is left the
	// remaining terms add up to rest[n]·(U^n)[s][0].
	over := make([][]float64, c+2)
	v := make([]float64, c+2)
	for s := 1; s <= tail; s++ {
		clear(v)
		v[s] = 1
		top := s // v[j] = 0 above top
		row := make([]float64, c+2)
		collapsed := false
		for n, b := range beta {
			if n > 0 {
				// v ← vU: in place, upward, each v[j] reading the old v[j+1].
				for j := 0; j <= min(top, c-1); j++ {
					v[j] = v[j]*stay[j] + v[j+1]*down[j+1]
				}
				switch top {
				case tail:
					v[c] = v[tail] * x // U[c][c] = 0: c falls at once
					v[tail] *= sigma
				case c:
					v[c] = 0
				}
				for top > 0 && v[top] < 0x1p-1000 {
					v[top] = 0
					top--
				}
				if top == 0 {
					row[0] += v[0] * rest[n]
					collapsed = true
					break
				}
			}
			for j := 0; j <= top; j++ {
				row[j] += b * v[j]
			}
		}
		if !collapsed && dropped > 0 {
			// More than 1,500 servers or so below ρ = 5e-5: the terms
			// left off are counted where the last one left the chain,
			// which undercounts departures in light traffic.
			for j := 0; j <= top; j++ {
				row[j] += dropped * v[j]
			}
		}
		over[s] = row
	}

	// The censored chain on 0..c-1: from i, i+1 are there after the
	// arrival; from c-1 the next arrival may find c, and the excursion
	// above c-1 that follows ends at j with probability r_j.
	p := make([][]float64, c)
	for i := range p {
		p[i] = over[i+1][:c:c]
	}
	fromTail := 0.0
	for j := 0; j < c; j++ {
		fromTail += over[tail][j]
	}
	last := make([]float64, c)
	for j := range last {
		last[j] = over[c][j] + over[c][c]*over[tail][j]/fromTail
	}
	p[c-1] = last

	pi := gth(p)
	// q_{c-1}/(1 - σ) is the mass of the geometric tail, c-1 included.
	total := pi[c-1] / x
	for j := 0; j < c-1; j++ {
		total += pi[j]
	}
	return pi[c-1] / x * sigma / total
}

// gth returns the stationary distribution of the Markov chain with
// transition probabilities p (overwritten), unnormalized, by the
// Grassmann–Taksar–Heyman elimination (Oper. Res. 33, 1985): states are
// removed from the last, each one's exit probability being the sum of its
// remaining off-diagonal ones rather than 1 - p[n][n], so nothing is
// subtracted. The diagonal is never read.
func gth(p [][]float64) []float64 {
	size := len(p)
	for n := size - 1; n > 0; n-- {
		exit := 0.0
		for j := 0; j < n; j++ {
			exit += p[n][j]
		}
		for i := 0; i < n; i++ {
			p[i][n] /= exit
			f := p[i][n]
			if f == 0 {
				continue
			}
			for j := 0; j < n; j++ {
				p[i][j] += f * p[n][j]
			}
		}
	}
	pi := make([]float64, size)
	pi[0] = 1
	for j := 1; j < size; j++ {
		s := 0.0
		for i := 0; i < j; i++ {
			s += pi[i] * p[i][j]
		}
		pi[j] = s
		if s > 0x1p500 { // near saturation the high states dominate: rescale
			for i := 0; i <= j; i++ {
				pi[i] *= 0x1p-500
			}
		}
	}
	return pi
}
