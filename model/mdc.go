package model

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/mathext"
)

// mdc is the M/D/c queue, solved exactly: Poisson arrivals at rate lambda,
// c servers, every service time d, one FIFO queue.
//
// With deterministic service, the number in system at times t and t + d
// satisfies N(t + d) = max(N(t) - c, 0) + A(t, t + d]: every customer in
// service at t has left by t + d, every waiting one is still there, and so
// is every arrival in between. Its probability generating function P(z)
// therefore solves P(z)(z^c - e^{a(z-1)}) = e^{a(z-1)} Σ_{j<c} π_j(z^c - z^j)
// with a = λd, and the polynomial on the right vanishes at z = 1 and at the
// c - 1 other roots z_1..z_{c-1} of z^c = e^{a(z-1)} in the unit disk
// (Crommelin, "Delay probability formulae when the holding times are
// constant", P.O. Elec. Engrs. J. 25, 1932; A. J. E. M. Janssen and
// J. S. H. van Leeuwaarden, "Back to the roots of the M/D/s queue and the
// works of Erlang, Crommelin and Pollaczek", Statistica Neerlandica 62,
// 2008). Since d is arbitrary, N(t) is time-stationary, and PASTA and
// Little's law give, from P(z) = (c - a)(z - 1)Π_k (z - z_k)/(1 - z_k) · e^{a(z-1)}/(z^c - e^{a(z-1)}):
//
//	P(wait) = P(N ≥ c) = 1 - (c - a)/Π_k (1 - z_k)
//	Wq = E[(N - c)⁺]/λ = (Σ_k 1/(1 - z_k) - (c(c-1) - a²)/(2(c - a)))/λ
//
// The waiting time is that of the E_c/D/1 queue: with equal service times,
// FIFO customers leave in the order they start, so assigning them to the
// servers in turn changes nothing, and each server sees every c-th
// arrival (Crommelin 1932; G. J. Franx, "A simple solution for the M/D/c
// waiting time distribution", Oper. Res. Lett. 29, 2001). Its transform is
// the Wiener–Hopf solution of Lindley's equation for Erlang arrivals
// (Kleinrock, Queueing Systems Vol. 1, 1975, §8.2, the spectral solution),
// whose roots s_k = λ(1 - z_k) are the same: with w = s/λ,
//
//	W*(s) = (c - a)·w·Π_k (1 - w/(1 - z_k)) / (e^{-aw} - (1 - w)^c)
//
// which is Pollaczek–Khinchine's for c = 1, is 1 at s = 0, and tends to
// P(N < c) as s → ∞. The closed forms were checked against the stationary
// distribution of the chain above, iterated numerically
// (testdata/mdc.py, mdc.tsv).
type mdc struct {
	lambda, d, a float64
	c            int
	inv          []complex128 // 1/(1 - z_k), k = 1..c-1
	approx       bool         // heavy-traffic approximation (newMDc says when)
	pWait        float64
	meanWait     float64
}

// mdcTransformMax is the largest c whose wait transform is kept: it costs
// c operations per evaluation, and the numerical inversion evaluates it
// thousands of times. Above it the station gives the exact P(wait) and
// mean wait and an approximate shape (station.go).
const mdcTransformMax = 256

// erlangC is Erlang C for the same load, which the caller has at hand
// (it costs c steps).
func newMDc(lambda, d float64, c int, erlangC float64) *mdc {
	q := &mdc{lambda: lambda, d: d, a: lambda * d, c: c}
	cf := float64(c)
	// Spitzer's series converge like e^{-l·I}, with I the Chernoff rate of
	// P(Poisson(la) ≥ lc): cheap for many servers, slow near saturation.
	rate := cf*math.Log(cf/q.a) - (cf - q.a)
	switch floor := 100 * cf * 0x1p-52; {
	case erlangC < floor:
		// Below the rounding floor neither method resolves the wait. In
		// light traffic the chance that all c servers are busy is Erlang
		// B's whatever the service times (the loss system is insensitive:
		// R. B. Cooper, Introduction to Queueing Theory, 2nd ed., 1981),
		// so Erlang C is the value approached; and a wait there is about a
		// residual service time spread over c servers. Both are far below
		// anything printed.
		q.pWait = erlangC
		q.meanWait = q.pWait * d / (2 * cf)
		return q
	case c <= mdcTransformMax:
		q.solveRoots()
	case rate > 40.0/spitzerMaxTerms:
		q.pWait, q.meanWait = mdcSpitzer(q.a, c, d)
	case c <= mdcRootsMax:
		q.solveRoots()
	default:
		// More than mdcRootsMax servers within (1 - ρ)√c < 0.03 of
		// saturation: both exact methods would take seconds. There the
		// queue is in heavy traffic, where every arrival waits and the
		// M/D/c wait is half the M/M/c wait (J. F. C. Kingman, "The
		// single server queue in heavy traffic", Proc. Cambridge Philos.
		// Soc. 57, 1961: the wait scales with (ca² + cs²)/2).
		q.approx = true
		q.pWait = erlangC
		q.meanWait = q.pWait * d / (cf - q.a) / 2
	}
	if q.pWait < 100*cf*0x1p-52 {
		q.pWait = erlangC
		q.meanWait = q.pWait * d / (2 * cf)
	}
	return q
}

// mdcRootsMax is the most servers whose roots are computed when Spitzer's
// series would be too long: 10⁵ roots take about 0.1 s.
const mdcRootsMax = 100000

// solveRoots computes P(wait), the mean wait and, for c up to
// mdcTransformMax, the transform's constants from the roots.
func (q *mdc) solveRoots() {
	roots := mdcRoots(q.a, q.c)
	keep := q.c <= mdcTransformMax
	if keep {
		q.inv = make([]complex128, len(roots))
	}
	var logProd, sumInv float64
	for k, z := range roots {
		inv := 1 / (1 - z)
		if keep {
			q.inv[k] = inv
		}
		logProd += math.Log(cmplx.Abs(1 - z)) // the product is real and positive: conjugate pairs
		sumInv += real(inv)
	}
	cf := float64(q.c)
	// In log space: the product grows with c. The cancellations below leave
	// an absolute error of about c·1e-16 in P(wait) and in λWq.
	q.pWait = min(max(-math.Expm1(math.Log(cf-q.a)-logProd), 0), 1)
	lq := sumInv - (cf*(cf-1)-q.a*q.a)/(2*(cf-q.a))
	q.meanWait = max(lq, 0) / q.lambda
}

// spitzerMaxTerms bounds the terms of mdcSpitzer's series; beyond it the
// roots are cheaper.
const spitzerMaxTerms = 100000

// mdcSpitzer computes P(wait) and the mean wait of the M/D/c queue
// (a = λd < c) from the E_c/D/1 representation (see mdc) by Spitzer's
// identities for the maximum of a random walk: with S_l = ld - Γ_l, Γ_l
// the sum of l·c exponential interarrival times,
//
//	P(W = 0) = exp(-Σ_l P(S_l > 0)/l),  E[W] = Σ_l E[S_l⁺]/l
//
// (F. Spitzer, "A combinatorial lemma and its application to probability
// theory", Trans. AMS 82, 1956; for the M/D/c queue, A. J. E. M. Janssen
// and J. S. H. van Leeuwaarden, "Back to the roots of the M/D/s queue and
// the works of Erlang, Crommelin and Pollaczek", Statistica Neerlandica
// 62, 2008). With G(k, x) the regularized lower incomplete gamma function
// and p_l the Poisson(la) probability of lc, P(S_l > 0) = G(lc, la) and
// E[S_l⁺] = d·((lc/a)p_l - l(c/a - 1)G(lc, la)). The terms fall like
// e^{-l·I}, I = c·ln(c/a) - (c - a), so for many servers a few terms do
// what c - 1 complex roots would.
func mdcSpitzer(a float64, c int, d float64) (pWait, meanWait float64) {
	cf := float64(c)
	var sumP, sumW float64
	for l := 1; l <= spitzerMaxTerms; l++ {
		lf := float64(l)
		k, x := lf*cf, lf*a
		g := mathext.GammaIncReg(k, x)
		pmf := math.Exp(k*math.Log(x) - x - lgamma(k+1))
		tp := g / lf
		tw := max((cf/a)*pmf-(cf/a-1)*g, 0)
		sumP += tp
		sumW += tw
		if tp <= 1e-17*sumP && tw <= 1e-17*sumW {
			break
		}
	}
	return -math.Expm1(-sumP), d * sumW
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// mdcRoots returns the c - 1 roots other than 1 of z^c = e^{a(z-1)} in the
// unit disk, a < c. The k-th solves z = ω_k e^{(a/c)(z-1)} with ω_k =
// e^{2πik/c}, a map that contracts the disk by a/c = ρ (A. J. E. M. Janssen
// and J. S. H. van Leeuwaarden, "Analytic computation schemes for the
// discrete-time bulk service queue", Queueing Systems 50, 2005): a few
// steps of it bring z near the root, and Newton's method finishes. Roots
// k and c - k are conjugate, so half are computed.
func mdcRoots(a float64, c int) []complex128 {
	r := a / float64(c)
	roots := make([]complex128, 0, c-1)
	for k := 1; 2*k <= c; k++ {
		omega := cmplx.Rect(1, 2*math.Pi*float64(k)/float64(c))
		z := omega * complex(math.Exp(-r), 0)
		for range 8 {
			z = omega * cmplx.Exp(complex(r, 0)*(z-1))
		}
		for range 100 {
			g := omega * cmplx.Exp(complex(r, 0)*(z-1))
			step := (z - g) / (1 - complex(r, 0)*g) // Newton on z - g(z)
			z -= step
			if cmplx.Abs(step) <= 1e-15*cmplx.Abs(z) {
				break
			}
		}
		if 2*k == c {
			roots = append(roots, complex(real(z), 0)) // ω = -1: a real root
			continue
		}
		roots = append(roots, z, cmplx.Conj(z))
	}
	return roots
}

// waitLST is W*(s), the transform of the wait, in a form that neither
// overflows nor underflows for large c or |s|: the product's factors are
// divided by (1 - w) where |1 - w| ≥ 1, and its size is kept in a
// separate power of two; (1 - w)^c is e^{c·log(1-w)}.
func (q *mdc) waitLST(s complex128) complex128 {
	w := s / complex(q.lambda, 0)
	if w == 0 {
		return 1
	}
	om := 1 - w
	divide := cmplx.Abs(om) >= 1
	iom := 1 / om
	prod := complex(1, 0)
	exp2 := 0
	for _, u := range q.inv {
		f := 1 - w*u
		if divide {
			f *= iom
		}
		prod *= f
		if m := math.Abs(real(prod)) + math.Abs(imag(prod)); m > 0x1p200 || m < 0x1p-200 {
			_, e := math.Frexp(m)
			prod *= complex(math.Ldexp(1, -e), 0)
			exp2 += e
		}
	}
	// (c - a)·w·prod·2^exp2·(1-w)^{c-1 if divided, else 0} / (e^{-aw} - (1-w)^c)
	cf := float64(q.c)
	L := log1m(w)
	aw := complex(q.a, 0) * w
	powNum := complex(0, 0) // log of the power of (1 - w) taken out of the product
	if divide {
		powNum = complex(cf-1, 0) * L
	}
	// 1/(e^{-aw} - e^{cL}) written so that no exponential overflows.
	x := -aw - complex(cf, 0)*L // e^{-aw} / (1-w)^c = e^x
	var logScale complex128
	var den complex128
	if real(x) > 0 {
		// e^{-aw}(1 - e^{-x}): scale e^{aw}
		logScale, den = aw, -expm1(-x)
	} else {
		// (1-w)^c (e^x - 1): scale (1-w)^{-c}
		logScale, den = -complex(cf, 0)*L, expm1(x)
	}
	num := complex(cf-q.a, 0) * w * prod
	return num / den * cmplx.Exp(logScale+powNum+complex(float64(exp2)*math.Ln2, 0))
}

// log1m is log(1 - w), by its series where |w| is small: near s = 0 the
// denominator of W*(s) is a difference of two numbers close to 1, and the
// series keep its relative precision there.
func log1m(w complex128) complex128 {
	if cmplx.Abs(w) > 0.1 {
		return cmplx.Log(1 - w)
	}
	var sum complex128
	p := w
	for n := 1; n <= 40; n++ { // |w|^40/40 < 1e-41
		sum -= p / complex(float64(n), 0)
		p *= w
	}
	return sum
}

// expm1 is e^x - 1, by its series where |x| is small.
func expm1(x complex128) complex128 {
	if cmplx.Abs(x) > 0.1 {
		return cmplx.Exp(x) - 1
	}
	var sum complex128
	term := complex(1, 0)
	for n := 1; n <= 20; n++ { // 0.1^20/20! < 1e-38
		term *= x / complex(float64(n), 0)
		sum += term
	}
	return sum
}
