package model

import (
	"math"
	"math/cmplx"
)

// Consecutive visits to one station are not independent: a request that
// leaves a queue and joins it again at once finds ahead of it the customers
// that arrived while it was there. A long first sojourn leaves a long queue
// for the second. The end-to-end transform treats a request's visits as
// independent everywhere else; here, for a run of visits to a service that
// makes no calls (a call with a count, or consecutive calls to the same
// service), it follows the queue from one visit to the next.
//
// One worker: the recursion. Let N_j be the number of other customers
// present when the tagged request ends its j-th visit. On a single FIFO
// server they are exactly those who arrived during that visit's sojourn
// T_j: everyone ahead has left, and nobody behind can have. Rejoining at
// once, the request waits for each of them, and while it is there new
// customers arrive (Poisson, rate λ', the station's fresh arrivals) and
// each of the N_j rejoins behind it with the probability q that a
// departure from the station returns at once (its immediate feedback, from
// the flows). So, given N_{j-1} = n,
//
//	E[e^{-zT_j} y^{N_j} | n] = B*(s)·[ω(s)(1 - q + qy)]^n,  s = z + λ'(1 - y),
//
// with B* the service transform and ω the transform of the wait behind one
// customer (B* itself for an exponential server, whose next service starts
// afresh). The sum's transform then composes backwards from the last
// visit: with (A, Y) = (1, 1) and, k - 1 times, A ← A·B*(s),
// Y ← ω(s)(1 - q + qY), s = z + λ'(1 - Y), the transform of the last
// k - 1 sojourns given the n present at the end of the first is A·Yⁿ, and
// the first visit closes it: E[e^{-z(T_1+…+T_k)}] = A·E[e^{-zT_1} Y^{N_1}].
// For an M/M/1 station the first visit is exact too: a fresh arrival finds
// a geometric number Q_0 (PASTA, P(Q_0 = n) = (1 - ρ)ρⁿ), and
// E[e^{-zT_1} Y^{N_1}] = B*(s)·G(ω(s)(1 - q + qY)), G(w) = (1 - ρ)/(1 - ρw).
//
// This is L. Takács's single-server queue with feedback ("A single-server
// queue with feedback", Bell System Technical Journal 42(2), 1963: a served
// customer rejoins the end of the queue with probability p), for which it
// is exact with exponential service: the successive sojourns form the
// Markov chain above. With q = 0 (only the tagged request returns, the
// others arrive as a Poisson stream) it is exact for any service
// distribution, and for exponential service it is the composition of
// E[e^{-zT_2} | T_1] = μ/(μ+z)·exp(-λT_1·z/(μ+z)). Its means agree with the
// station's: the chain's stationary E[N] is L, the mean number in the
// system, so E[T_j] is the station's mean sojourn for every j, and
// Cov(T_j, T_{j+d}) = ρ^d·Var(T). On sojourn times in feedback queues see
// also J. L. van den Berg and O. J. Boxma, "The M/G/1 queue with processor
// sharing and its relation to a feedback queue", Queueing Systems 9, 1991:
// with many short visits the feedback queue approaches processor sharing.
//
// Where it is approximate, with one worker: kendall's returns are not
// Bernoulli (the request in a run of six makes exactly six visits, and the
// others present return according to how many visits they have left, not
// independently with probability q); with non-exponential service the
// wait behind each customer present is taken exponential with rate
// r = L/W_q, so that the chain's means stay the station's (an exact
// residual service would not agree with the station's mean wait, which
// itself approximates a non-Poisson arrival stream); and the first visit
// of such a station takes N_1 | T_1 ~ Poisson(λT_1), which has the right
// mean, λE[T_1] = L.
//
// Several workers: a mixture. With c > 1 the customers present when the
// request leaves are not all ahead of it when it rejoins, and the
// recursion loses its closed form. The sum of the run's waits is taken
// instead as a mixture of its two extremes: with probability 1 - α the
// waits independent, with probability α all equal (k times one wait, their
// comonotone sum, the largest in convex order with these marginals: R.
// Kaas, J. Dhaene and M. J. Goovaerts, "Upper and lower bounds for sums
// of random variables", Insurance: Mathematics and Economics 27, 2000),
// plus the services, independent; α gives the sum the variance that a
// heavy-traffic linearization of the queue gives it (runStation.mixtureAlpha).
// The mixture keeps every visit's distribution and lies between the two
// ends of the bracket, the visits independent and the visits all equal,
// which the tests hold the simulator between too; the accuracy table
// measures where in it the truth lies.

// runMode says how the end-to-end transform treats a run's visits: by the
// recursion (the zero value, what the model uses), or as one of the two
// ends of the bracket that the tests and the accuracy table hold it
// between.
type runMode int

const (
	runRecursion   runMode = iota
	runIndependent         // the visits independent: the sum of k copies, φ(z)^k
	runComonotone          // the visits equal: k times one visit, φ(kz), the largest sum in convex order
	runMixture             // several workers: the two ends mixed, to the sum's variance (runStation.mixtureAlpha)
)

// maxRunVisits is the most visits a run may make for the correlated
// treatment: the recursion takes a step per visit at every point where the
// transform is evaluated, and sums over every possible number of visits
// when the calls are probabilistic. Longer runs, far beyond any loop of
// calls to a database, are treated as independent visits (their label
// says the visits are treated as independent).
const maxRunVisits = 1000

// run is a stretch of consecutive calls from one service to a service that
// makes no calls: the visits they make follow one another at once.
type run struct {
	to    int
	k     int       // the most visits it makes
	pmf   []float64 // pmf[m]: probability of m visits; nil when always k
	fixed int       // visits made for sure (the calls with p = 1), whose constant part shifts() counts
}

// callItem is one step of a service's calls in the end-to-end transform:
// an independent call, a run of correlated visits, or a group of parallel
// calls (grp ≥ 0, the index of the group in Network.groups[s]; -1
// otherwise).
type callItem struct {
	edge
	run *run
	grp int
}

// newItems groups each service's calls into independent calls, runs and
// groups. A group's branches are made at once, not one after another, so
// they are never part of a run.
func newItems(calls [][]edge) [][]callItem {
	items := make([][]callItem, len(calls))
	for s, cs := range calls {
		for i := 0; i < len(cs); {
			if g := cs[i].group; g >= 0 {
				items[s] = append(items[s], callItem{edge: cs[i], grp: g})
				for i < len(cs) && cs[i].group == g {
					i++
				}
				continue
			}
			j := i
			for j+1 < len(cs) && cs[j+1].to == cs[i].to && cs[j+1].group < 0 {
				j++
			}
			if r := newRun(calls, cs, i, j); r != nil {
				items[s] = append(items[s], callItem{run: r, grp: -1})
			} else {
				for k := i; k <= j; k++ {
					items[s] = append(items[s], callItem{edge: cs[k], grp: -1})
				}
			}
			i = j + 1
		}
	}
	return items
}

// newRun makes calls cs[first..last], all to the same service, a run, or
// returns nil when they are not one: the callee makes calls of its own, or
// at most one visit is made, or there may be too many visits to sum over.
func newRun(calls [][]edge, cs []edge, first, last int) *run {
	to := cs[first].to
	if len(calls[to]) > 0 {
		return nil
	}
	r := &run{to: to}
	sure := true
	for _, c := range cs[first : last+1] {
		if c.p == 0 {
			continue
		}
		r.k += c.count
		if c.p == 1 {
			r.fixed += c.count
		} else {
			sure = false
		}
	}
	if r.k < 2 || r.k > maxRunVisits {
		return nil
	}
	if sure {
		return r
	}
	// The number of visits is a sum of binomials: convolve.
	pmf := []float64{1}
	for _, c := range cs[first : last+1] {
		if c.p == 0 {
			continue
		}
		for range c.count {
			next := make([]float64, len(pmf)+1)
			for m, x := range pmf {
				next[m] += x * (1 - c.p)
				next[m+1] += x * c.p
			}
			pmf = next
		}
	}
	r.pmf = pmf
	return r
}

// runStation is what the treatment of runs needs of the station a run
// visits, at the network's rates and workers.
type runStation struct {
	st          *station
	shift       float64 // the service's constant part, taken out of the transform
	meanSojourn float64
	varSojourn  float64

	// One worker: the recursion.
	lamTot   float64 // all visits
	lamFresh float64 // λ': visits that are not immediate returns
	q        float64 // probability that a departure returns at once
	mm1      bool    // an exponential server fed by Poisson arrivals: the exact first visit
	r        float64 // ω(s) = r/(r + s); 0 when nobody waits

	// Several workers: the mixture, whose waits have the covariance cov1
	// between consecutive visits and cov1·ρ^(d-1) between visits d apart.
	mixture    bool
	cov1, rho  float64
	varS, varW float64 // the variances of the service and of the wait
}

func newRunStation(st *station, self float64) runStation {
	rs := runStation{st: st, lamTot: st.lambda, shift: st.shift()}
	rs.lamFresh = st.lambda - self
	if st.lambda > 0 {
		rs.q = self / st.lambda
	}
	rs.meanSojourn = st.meanResponse()
	rs.varSojourn = st.sojournVariance()
	if st.servers > 1 {
		rs.setMixture()
		return rs
	}
	rs.mm1 = st.exact && st.ca2 == 1
	switch {
	case rs.mm1:
		rs.r = st.mmc.Mu
	case st.meanWait > 0:
		// The chain's stationary mean wait, E[N]/r with E[N] = L, is the
		// station's W_q.
		rs.r = st.lambda * (st.meanWait + st.service.mean) / st.meanWait
	}
	return rs
}

// setMixture sets the mixture's constants: the variances of the wait and
// of the service, and the covariance of consecutive visits (mixtureAlpha).
func (rs *runStation) setMixture() {
	st := rs.st
	rs.mixture = true
	rs.rho = st.mmc.Utilization()
	c := float64(st.servers)
	rs.varS = st.service.scv * st.service.mean * st.service.mean
	rs.varW = max(rs.varSojourn-rs.varS, 0)
	rs.cov1 = rs.rho*rs.varW + max(rs.rho-(c-1)/c, 0)*rs.varS
}

// serviceResidual is B*(s) without the service's constant part: B*(s) =
// e^{-s·shift}·serviceResidual(s).
func (rs *runStation) serviceResidual(s complex128) complex128 {
	switch {
	case rs.shift != 0:
		return 1
	case rs.st.exact:
		return expQuo(rs.st.mmc.Mu, s) // the common case, without the guarded division
	}
	return rs.st.service.lst(s)
}

// expQuo is expLST by quo: the recursion's inner loop.
func expQuo(rate float64, s complex128) complex128 {
	return quo(complex(rate, 0), complex(rate, 0)+s)
}

// omega is the transform of the wait behind one customer present.
func (rs *runStation) omega(s complex128) complex128 {
	if rs.r == 0 {
		return 1
	}
	return expQuo(rs.r, s)
}

// first is E[e^{-zT_1} y^{N_1}] without the constant part of T_1.
func (rs *runStation) first(z, y complex128) complex128 {
	if rs.mm1 {
		s := z + complex(rs.lamFresh, 0)*(1-y)
		b := expQuo(rs.r, s)
		rho := complex(rs.st.mmc.Utilization(), 0)
		w := b * (complex(1-rs.q, 0) + complex(rs.q, 0)*y)
		return quo(b*(1-rho), 1-rho*w)
	}
	s := z + complex(rs.lamTot, 0)*(1-y)
	x := rs.st.residualLST(s)
	if rs.shift != 0 {
		x *= cmplx.Exp(-(s - z) * complex(rs.shift, 0))
	}
	return x
}

// lst is the transform of the run's latency, less the constant part of
// its sure visits (r.fixed of them), at z.
func (rs *runStation) lst(r *run, z complex128, mode runMode) complex128 {
	switch {
	case mode != runRecursion:
		return rs.bracketLST(r, z, mode)
	case rs.mixture:
		return rs.bracketLST(r, z, runMixture)
	case rs.r == 0:
		// Nobody waits: the visits are independent, which the recursion
		// would only approach slowly.
		return rs.bracketLST(r, z, runIndependent)
	}
	lf, q := complex(rs.lamFresh, 0), complex(rs.q, 0)
	if r.pmf == nil && rs.shift == 0 {
		return rs.sureLST(r.k, z)
	}
	a, y := complex(1, 0), complex(1, 0)
	var sum complex128
	if r.pmf != nil {
		sum = complex(r.pmf[0], 0)
		if r.fixed > 0 { // no visit at all is impossible then; pmf[0] = 0
			sum = 0
		}
	}
	// term is the transform of m visits, given (a, y) after m - 1 steps,
	// relative to r.fixed visits' constant part.
	term := func(m int) complex128 {
		g := a * rs.first(z, y)
		if rs.shift != 0 && m != r.fixed {
			g *= cmplx.Exp(-z * complex(float64(m-r.fixed)*rs.shift, 0))
		}
		return g
	}
	converged := false
	var step complex128 // the factor a takes per step once y has converged
	for m := 1; m <= r.k; m++ {
		if m > 1 {
			// One more visit before the first: a step of the recursion.
			if converged {
				a *= step
			} else {
				s := z + lf*(1-y)
				f := rs.serviceResidual(s)
				if rs.shift != 0 {
					f *= cmplx.Exp(-(s - z) * complex(rs.shift, 0))
				}
				a *= f
				next := rs.omega(s) * (1 - q + q*y)
				// |y| ≤ 1, so an absolute test is a relative one: converged
				// to rounding (short runs never get there; no need to test).
				if d := next - y; r.k > 8 && real(d)*real(d)+imag(d)*imag(d) <= 1e-30 {
					converged, step = true, f
				}
				y = next
				if converged && r.pmf == nil {
					// Every later step multiplies a by the same factor.
					a *= pow(step, r.k-m)
					return term(r.k)
				}
			}
		}
		if r.pmf == nil {
			if m == r.k {
				return term(m)
			}
			continue
		}
		if p := r.pmf[m]; p > 0 {
			sum += complex(p, 0) * term(m)
		}
	}
	return sum
}

// bracketLST is lst for the two ends of the bracket: m visits with the
// station's sojourn φ, independent, φ(z)^m, or comonotone, φ(mz) (the
// comonotone sum of identically distributed variables is m times one of
// them; it is the largest sum with these marginals in convex order, so it
// bounds the tail's mean excess from above: R. Kaas, J. Dhaene and M. J.
// Goovaerts, "Upper and lower bounds for sums of random variables",
// Insurance: Mathematics and Economics 27, 2000).
func (rs *runStation) bracketLST(r *run, z complex128, mode runMode) complex128 {
	visits := func(m int) complex128 { // residual transform of m visits
		switch mode {
		case runIndependent:
			return pow(rs.st.residualLST(z), m)
		case runComonotone:
			return rs.st.residualLST(complex(float64(m), 0) * z)
		}
		a := rs.mixtureAlpha(m, 1)
		x := complex(1-a, 0) * pow(rs.st.waitLST(z), m)
		if a > 0 {
			x += complex(a, 0) * rs.st.waitLST(complex(float64(m), 0)*z)
		}
		return x * pow(rs.serviceResidual(z), m)
	}
	if r.pmf == nil {
		return visits(r.k)
	}
	var sum complex128
	for m, p := range r.pmf {
		if p == 0 {
			continue
		}
		x := complex(p, 0) * visits(m)
		if rs.shift != 0 && m != r.fixed {
			x *= cmplx.Exp(-z * complex(float64(m-r.fixed)*rs.shift, 0))
		}
		sum += x
	}
	return sum
}

// bracketMoments is moments for the two ends of the bracket: the variance of
// m independent visits is m·σ², of m equal ones m²σ².
func (rs *runStation) bracketMoments(r *run, mode runMode) (mean, variance float64) {
	et, vt := rs.meanSojourn, rs.varSojourn
	f := func(m float64) float64 { // the variance of m visits
		switch mode {
		case runIndependent:
			return m * vt
		case runComonotone:
			return m * m * vt
		}
		a := rs.mixtureAlpha(int(m), 1)
		return m*rs.varS + (1-a)*m*rs.varW + a*m*m*rs.varW
	}
	if r.pmf == nil {
		return float64(r.k) * et, f(float64(r.k))
	}
	var m1, m2 float64
	for m, p := range r.pmf {
		mk := float64(m) * et
		m1 += p * mk
		m2 += p * (f(float64(m)) + mk*mk)
	}
	return m1, math.Max(m2-m1*m1, 0)
}

// sureLST is lst for the common case, a run of k visits for sure to a
// service without a constant part, in the fewest operations: it is the
// inner loop of every end-to-end transform with a run.
func (rs *runStation) sureLST(k int, z complex128) complex128 {
	lf := complex(rs.lamFresh, 0)
	stay, ret := complex(1-rs.q, 0), complex(rs.q, 0)
	a, y := complex(1, 0), complex(1, 0)
	for m := 2; m <= k; m++ {
		s := z + lf*(1-y)
		f := rs.serviceResidual(s)
		a *= f
		var next complex128
		if rs.mm1 {
			next = f * (stay + ret*y) // ω = B* for one exponential server
		} else {
			next = rs.omega(s) * (stay + ret*y)
		}
		if d := next - y; k > 8 && real(d)*real(d)+imag(d)*imag(d) <= 1e-30 {
			// y has converged to rounding (|y| ≤ 1): every later step
			// multiplies a by the same factor.
			return a * pow(f, k-m) * rs.first(z, next)
		}
		y = next
	}
	return a * rs.first(z, y)
}

// mixtureAlpha is the weight of the comonotone end in the mixture of the waits of
// m visits to a station with several workers: the weight that gives the
// mixture, whose variance is (1 - α)·mσ_W² + α·m²σ_W², the variance of the
// sum of m waits of variance σ_W² whose covariances are cov1·ρ^(d-1) at
// distance d: mσ_W² + 2·cov1·Σ_{d=1}^{m-1} (m - d)ρ^(d-1).
//
// The covariances linearize the queue in heavy traffic. A visit of sojourn
// T = W + S (wait, then service) leaves behind it, waiting, about the λW
// arrivals of its wait and, during its service, the λS arrivals less the
// (c - 1)μS that the other workers take into service: so the next visit
// waits for about λW + (λ - (c - 1)μ)⁺S departures at rate cμ, and
// Cov(T_1, T_2) ≈ ρ·Var(W) + (ρ - (c - 1)/c)⁺·Var(S). The queue left
// behind decays by ρ per visit, whence ρ^(d-1). With one worker this is
// ρ·Var(T), the exact covariance of Takács's chain; with several it is a
// heuristic, all of it put on the waits (the services of the mixture stay
// independent), and the accuracy table measures it.
//
// decay, δ, is for visits that are not consecutive (shared.go): the
// covariance at distance d is then cov1·ρ^(d-1)·δ^d.
func (rs *runStation) mixtureAlpha(m int, decay float64) float64 {
	vt := rs.varW
	if m < 2 || !(vt > 0) || rs.cov1 <= 0 || decay <= 0 {
		return 0
	}
	// Σ_{d=1}^{m-1} (m - d)x^(d-1) = (m - 1 - mx + x^m)/(1 - x)², x = ρδ,
	// summed term by term where that cancels (x near 1).
	mf, x := float64(m), rs.rho*decay
	var sum float64
	if 1-x > 1e-3 {
		sum = (mf - 1 - mf*x + math.Pow(x, mf)) / ((1 - x) * (1 - x))
	} else {
		pow := 1.0
		for d := 1; d < m; d++ {
			sum += float64(m-d) * pow
			pow *= x
		}
	}
	a := 2 * rs.cov1 * decay * sum / (mf * (mf - 1) * vt)
	return min(max(a, 0), 1)
}

// jet is a function of z with its first two derivatives at z = 0: enough
// to carry a transform's mean and variance through the recursion
// (automatic differentiation, forward mode, to second order).
type jet struct{ v, d1, d2 float64 }

func (a jet) mul(b jet) jet {
	return jet{a.v * b.v, a.v*b.d1 + a.d1*b.v, a.v*b.d2 + 2*a.d1*b.d1 + a.d2*b.v}
}

// compose is f(u) for u a jet whose value is the point where f, f', f”
// are given.
func compose(f0, f1, f2 float64, u jet) jet {
	return jet{f0, f1 * u.d1, f2*u.d1*u.d1 + f1*u.d2}
}

// moments returns the mean and variance of the run's latency: the mean
// exactly (the visits' expected number times the station's mean sojourn),
// the variance from the recursion's derivatives at z = 0, where every
// s is 0 and every y is 1, so that each transform enters only through its
// moments there: B*'(0) = -m, B*”(0) = E[S²], and so on.
func (rs *runStation) moments(r *run, mode runMode) (mean, variance float64) {
	switch {
	case mode != runRecursion:
		return rs.bracketMoments(r, mode)
	case rs.mixture:
		return rs.bracketMoments(r, runMixture)
	case rs.r == 0:
		return rs.bracketMoments(r, runIndependent)
	}
	st := rs.st
	m := st.service.mean
	es2 := m * m * (1 + st.service.scv)
	et, et2 := rs.meanSojourn, rs.varSojourn+rs.meanSojourn*rs.meanSojourn
	a, y := jet{1, 0, 0}, jet{1, 0, 0} // and z = jet{0, 1, 0}, so s = z + λ(1 - y) below
	first := func() jet {
		if rs.mm1 {
			s := jet{0, 1 - rs.lamFresh*y.d1, -rs.lamFresh * y.d2}
			b := compose(1, -1/rs.r, 2/(rs.r*rs.r), s)
			w := b.mul(jet{1, rs.q * y.d1, rs.q * y.d2})
			rho := st.mmc.Utilization()
			g := compose(1, rho/(1-rho), 2*rho*rho/((1-rho)*(1-rho)), w)
			return b.mul(g)
		}
		s := jet{0, 1 - rs.lamTot*y.d1, -rs.lamTot * y.d2}
		return compose(1, -et, et2, s)
	}
	var m1, m2 float64 // E[X], E[X²] over the number of visits
	for k := 1; k <= r.k; k++ {
		if k > 1 {
			s := jet{0, 1 - rs.lamFresh*y.d1, -rs.lamFresh * y.d2}
			a = a.mul(compose(1, -m, es2, s))
			om := compose(1, -1/rs.r, 2/(rs.r*rs.r), s)
			y = om.mul(jet{1, rs.q * y.d1, rs.q * y.d2})
		}
		p := 1.0
		if r.pmf != nil {
			p = r.pmf[k]
		} else if k != r.k {
			continue
		}
		g := a.mul(first())
		mk := float64(k) * et // the exact mean; g.d1 = -mk up to rounding
		vk := math.Max(g.d2-g.d1*g.d1, 0)
		m1 += p * mk
		m2 += p * (vk + mk*mk)
	}
	return m1, math.Max(m2-m1*m1, 0)
}
