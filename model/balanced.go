package model

import (
	"math"

	"github.com/kendallqn/kendall/topology"
)

// balancedWait approximates the wait of a request at a service of n
// replicas, each c workers in front of one FIFO queue, to which a
// client-side balancer routes Poisson requests by the number of its own
// requests in flight at each replica (topology.Balancer). It is pure and
// cheap: no state, no allocation beyond a few short slices, microseconds
// for any n up to topology.MaxReplicas.
//
// The wait is built for exponential service first, as the number u of
// departures from the chosen replica's c workers that a request waits for
// (each at rate c/m, so the wait given u is Erlang-u), and then stretched to
// the service's cs² (approxBalancedWait says how). Its distribution is
// alpha·S(t/stretch), with S the exponential model's P(W > t).
type balancedWait struct {
	pWait, meanWait float64
	method          string // the approximation and its sources, for the labels

	// The exponential model: parts[i] with weight w[i], each a
	// distribution of u, and rate = c/m the rate of one departure.
	parts []orderDist
	w     []float64
	rate  float64
	// alpha scales P(wait) and stretch the times, from the exponential
	// model to the service's own cs² (1 and 1 for exponential service).
	alpha, stretch float64
}

// orderDist is a distribution of the number u of exponential phases (unit
// rate) a request waits for: P(u = j) = head[j] for j ≤ K = len(head)-1,
// then a geometric tail, P(u = j) = tail·σ^{j-K-1} for j > K. A geometric
// number of phases is an exponential wait, so the tail keeps the long waits
// of heavy load exact and cheap, whatever σ.
type orderDist struct {
	head  []float64
	tail  float64
	sigma float64
}

// geometricOrders is u = 0 with probability 1-p, else geometric on 1, 2, …
// with ratio σ: the wait is 0 or exponential, as in the M/M/c queue
// (Gross, Shortle, Thompson & Harris, Fundamentals of Queueing Theory, 4th
// ed., 2008, §2.3), where p is Erlang C and σ = ρ.
func geometricOrders(p, sigma float64) orderDist {
	return orderDist{head: []float64{1 - p}, tail: p * (1 - sigma), sigma: sigma}
}

func (d orderDist) pWait() float64 { return 1 - d.head[0] }

// mean is E[u]: Σ j·head[j] plus the tail's Σ_{j>K} j·tail·σ^{j-K-1}
// = tail·((K+1)/(1-σ) + σ/(1-σ)²).
func (d orderDist) mean() float64 {
	var s float64
	for j, p := range d.head {
		s += float64(j) * p
	}
	k := float64(len(d.head) - 1)
	return s + d.tail*((k+1)/(1-d.sigma)+d.sigma/((1-d.sigma)*(1-d.sigma)))
}

// survival is P(W > x) for W the sum of u unit-rate exponential phases.
// The head is a mixture of Erlangs, P(Erlang-j > x) = P(Poisson(x) < j);
// the tail is tail/(1-σ) times P(Erlang-K + Exp(1-σ) > x), since a
// geometric number of phases is an exponential of rate 1-σ, and
//
//	P(Erlang-K + Exp(a) > x) = Q(K, x) + e^{-ax}·σ^{-K}·P(Poisson(σx) ≥ K),  a = 1 - σ,
//
// by convolving the Erlang density with the exponential survival.
func (d orderDist) survival(x float64) float64 {
	k := len(d.head) - 1
	// q[j] = P(Poisson(x) < j) for j = 0..K, in one pass.
	var s, cum float64
	term := math.Exp(-x)
	for j := 1; j <= k; j++ {
		cum += term
		term *= x / float64(j)
		s += d.head[j] * cum
	}
	if d.tail == 0 {
		return s
	}
	sig := d.sigma
	qK := cum // P(Poisson(x) < K)
	var r float64
	if sx := sig * x; sx < float64(k)+1 {
		// σ^{-K}·P(Poisson(σx) ≥ K) = e^{-σx} Σ_{i≥K} x^i σ^{i-K}/i!, by
		// its series: the complement would cancel when σx is below K.
		t := math.Exp(-sx)
		for i := 1; i <= k; i++ {
			t *= x / float64(i)
		}
		for i := k; t > 1e-18*r; i++ {
			r += t
			t *= sx / float64(i+1)
		}
	} else {
		// σx ≥ K + 1: P(Poisson(σx) ≥ K) is at least about a half.
		var c, t float64 = 0, math.Exp(-sx)
		for i := 0; i < k; i++ {
			c += t
			t *= sx / float64(i+1)
		}
		r = (1 - c) * math.Pow(sig, -float64(k))
	}
	return s + d.tail/(1-sig)*(qK+math.Exp(-(1-sig)*x)*r)
}

// convolve is the distribution of u + v, u geometric as geometricOrders
// makes it (one head entry) and v with a finite head and no tail: the sum
// of a balanced queue's wait and an independent excess (powerOfTwo). The
// result's tail stays geometric with u's ratio.
func convolve(u orderDist, v []float64) orderDist {
	k := len(v) - 1
	jo := func(i int) float64 { // P(u = i)
		if i == 0 {
			return u.head[0]
		}
		return u.tail * math.Pow(u.sigma, float64(i-1))
	}
	out := orderDist{head: make([]float64, k+1), sigma: u.sigma}
	for j := 0; j <= k; j++ {
		for i := 0; i <= j; i++ {
			out.head[j] += v[i] * jo(j-i)
		}
	}
	for i := 0; i <= k; i++ {
		out.tail += v[i] * jo(k+1-i)
	}
	return out
}

// survival is P(W > t) for the balanced wait W.
func (b balancedWait) survival(t float64) float64 {
	if t < 0 {
		return 1
	}
	x := b.rate * t / b.stretch
	var s float64
	for i, d := range b.parts {
		s += b.w[i] * d.survival(x)
	}
	return min(b.alpha*s, 1)
}

// quantile is the p-quantile of the wait: 0 when P(wait) ≤ 1 - p, else the
// root of P(W > t) = 1 - p, bracketed by doubling from the mean and found by
// bisection to a relative 1e-12 (the survival is decreasing and continuous
// for t > 0).
func (b balancedWait) quantile(p float64) float64 {
	if b.pWait <= 1-p || b.meanWait <= 0 {
		return 0
	}
	lo, hi := 0.0, b.meanWait
	for b.survival(hi) > 1-p {
		lo, hi = hi, 2*hi
	}
	for range 200 {
		mid := (lo + hi) / 2
		if b.survival(mid) > 1-p {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-12*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// approxBalancedWait approximates the wait at a service of n replicas of
// c workers each, with utilization rho per worker, mean service time mean
// (seconds) and squared coefficient of variation cs2, whose requests come
// from callers independent balancers of equal rate, each routing by policy
// (least-requests or power-of-two; any other policy, or n = 1, is random
// routing: n independent M/G/c queues at λ/n).
//
// Least-requests (join the shortest queue, JSQ). A request waits only when
// every replica has c or more in flight, since otherwise the least loaded
// has a free worker. That happens with probability r·C, with C Erlang C for
// one pool of n·c workers at the same load, and r ≤ 1 the factor by which
// JSQ is less often all busy than the pooled queue (it idles some workers
// while others' queues wait):
//
//	1/r = 1 + a·(n-1)(1-ρ),  a = (0.10 + 0.035·ln n)·ρ^0.3
//
// which is 1 for one replica, tends to 1 in light and in heavy traffic
// and falls like 1/√n in the Halfin–Whitt regime, as JSQ's P(wait) does
// (P. Eschenfeldt and D. Gamarnik, "Join the shortest queue with many
// servers. The heavy-traffic asymptotics", Math. Oper. Res. 43, 2018). a
// is fitted by us to the exact chain for n = 2…5 (testdata/balanced.py)
// and to a simulation of n = 10…50 (testdata/balanced_sim.tsv): a
// heuristic. Given a wait, the
// request waits for u departures with u geometric of ratio ρ^n: as if the
// excess over n·c in the pooled queue (geometric of ratio ρ) were spread
// evenly over the n replicas, which each take one more only after n more
// have come. That is exact for n = 1 (M/M/c), tends to the pooled queue's
// conditional wait m/(nc(1-ρ)) in heavy traffic, where JSQ's queues
// collapse onto the pooled one (G. J. Foschini and J. Salz, "A basic
// dynamic routing problem and diffusion", IEEE Trans. Commun. 26, 1978),
// and to one service m/c in light traffic and for many replicas, where a
// request that waits finds one request ahead at its replica. This
// conditional mean is 1–2% low against the exact chain (n ≤ 5) and 3–5%
// low against the simulation (n = 10, 20).
//
// Power-of-two. For n → ∞ the replicas become independent and the fraction
// s_k of replicas with k or more in flight is the fixed point of the
// supermarket model (N. D. Vvedenskaya, R. L. Dobrushin and F. I.
// Karpelevich, "Queueing system with selection of the shortest of two
// queues: an asymptotic approach", Probl. Inf. Transm. 32, 1996; M.
// Mitzenmacher, "The power of two choices in randomized load balancing",
// IEEE Trans. Parallel Distrib. Syst. 12(10), 2001, Theorem 3.4: s_k =
// ρ^{2^k-1} for one worker), with c workers per replica solved by
// supermarketTail. An arrival joins v ≥ k with probability s_k², so the
// limit is exact in u's distribution as n → ∞ for exponential service.
// For finite n it is far too optimistic in heavy traffic, where the n
// replicas again collapse onto one pooled queue (S. T. Maguluri, R. Srikant
// and L. Ying, "Heavy traffic optimal resource allocation algorithms for
// cloud computing clusters", Perform. Eval. 81, 2014, show power-of-two is
// heavy-traffic optimal); the approximation adds an independent excess to
// the JSQ wait of the same n, u = u_JSQ + u_x. If the replicas' lengths
// were a common level plus independent excesses distributed as the
// supermarket model's, the JSQ arrival would find the least of n excesses
// and the power-of-two one the less of two, whose means differ by Σ_k s_k²
// - Σ_k s_k^n; u_x is the supermarket model's u thinned by h = (1 - Σ_k
// s_k^n / Σ_k s_k²)(1 - 1/(2√n)) (sums over k ≥ c). The first factor is
// that difference of means; the second, fitted by us to the exact chain
// (n = 3, 4) and to simulation (n = 10…50), accounts for the excesses
// not being independent: they were 3% (n = 3) to 10% (n = 10) high
// without it. h is 0 for n = 2, where power-of-two is JSQ, and tends to 1
// as n grows, where u_JSQ vanishes and the supermarket model is exact.
// The whole is ours and a heuristic.
//
// Several balancers. Each of M callers sees only its own requests, so for
// large M its choice is blind and the replicas are n independent M/G/c
// queues. The approximation mixes the two: with probability g the wait is
// that of one balancer, else that of random routing, with
//
//	g = (1 + L)/(1 + L + (M - 1)/√(1 + L)),  L the mean in flight at a replica under random routing.
//
// g is 1 for M = 1 and tends to 0 as M grows. It tends to 1/M in light
// traffic, where a balancer avoids only the busy replicas that are busy
// with its own requests, a fraction 1/M of them, so that to first order
// its wait is 1 - 1/M of random routing's; and to 1 in heavy traffic
// (L → ∞), where each balancer's own requests, L/M per replica, are many
// and balanced, so the totals are too. The √(1 + L) between the two is
// fitted by us to simulation (testdata/balanced_sim.tsv: n = 3 and 10 at
// ρ = 0.7 and 0.9, M = 2…16). P(wait) moves to random routing's much
// sooner than the mean, as the light-traffic argument says it should: a
// balancer cannot see that a replica is busy with others' requests, but
// the queues it joins are still short. So the two parts are weighted by
// gP = 1/(1 + (M - 1)(n - 1)/(n + 2)) instead, which has P(wait) within 3%
// of the simulation, and the mixture is then stretched to g's mean. Both
// are ours and heuristics.
//
// Service-time variability. The exponential model's P(wait) and mean wait
// are scaled by the ratios of mgcApprox's M/G/c figures to the M/M/c ones
// for one replica at λ/n: for c = 1, P(wait) unchanged and the wait times
// (1 + cs²)/2, Pollaczek–Khinchine's factor, which is exact for a request
// that waits for one residual service and, in heavy traffic, for the
// pooled queue (J. F. C. Kingman, "The single server queue in heavy
// traffic", Proc. Cambridge Philos. Soc. 57, 1961); in between it is a
// heuristic (R. D. Nelson and T. K. Philips, "An approximation for the mean
// response time for shortest queue routing with general interarrival and
// service times", Perform. Eval. 17, 1993, scale JSQ's exponential figure
// by two moments in the same spirit). The conditional shape is stretched
// to the new mean.
func approxBalancedWait(policy topology.Balancer, n, c int, rho, mean, cs2 float64, callers int) balancedWait {
	cf := float64(c)
	rate := cf / mean
	if !(rho < 1) {
		return balancedWait{pWait: 1, meanWait: math.Inf(1), method: "unstable: ρ ≥ 1", rate: rate, alpha: 1, stretch: 1}
	}
	random := geometricOrders(ErlangC(cf*rho, c), rho) // one replica: M/M/c
	b := balancedWait{rate: rate, alpha: 1, stretch: 1}
	var bal orderDist
	switch {
	case n <= 1 || (policy != topology.BalancerLeastRequests && policy != topology.BalancerPowerOfTwo):
		bal = random
		b.method = "random routing: independent M/G/c replicas"
		callers = 1
	case policy == topology.BalancerLeastRequests || n == 2:
		bal = jsqOrders(n, c, rho)
		b.method = "join the shortest queue: Erlang C of the pooled workers with a fitted correction, waits spread evenly (heuristic)"
	default:
		bal = powerOfTwoOrders(n, c, rho)
		b.method = "power of two choices: the supermarket model's fixed point added to the shortest-queue wait (heuristic for finite n)"
	}
	b.parts, b.w = []orderDist{bal}, []float64{1}
	if callers > 1 {
		// L = (λ/n)(Wq + m) = cρ + ρ·E[u], since Wq = E[u]·m/c.
		l := cf*rho + rho*random.mean()
		m1 := float64(callers - 1)
		g := (1 + l) / (1 + l + m1/math.Sqrt(1+l))
		gP := 1 / (1 + m1*float64(n-1)/float64(n+2))
		b.parts = append(b.parts, random)
		b.w = []float64{gP, 1 - gP}
		// The mixture by gP has P(wait) right; stretch it to g's mean.
		mix := gP*bal.mean() + (1-gP)*random.mean()
		if mix > 0 {
			b.stretch = (g*bal.mean() + (1-g)*random.mean()) / mix
		}
		b.method += "; several balancers mixed with random routing (heuristic)"
	}
	var pE, uE float64
	for i, d := range b.parts {
		pE += b.w[i] * d.pWait()
		uE += b.w[i] * d.mean()
	}
	// The service's own variability, by the ratios for one replica.
	if cs2 != 1 && pE > 0 {
		q := MMc{Lambda: cf * rho / mean, Mu: 1 / mean, C: c}
		g := mgcApprox(q, mean, cs2)
		pM, wM := q.WaitProbability(), q.MeanWait()
		if pM > 0 && wM > 0 {
			b.alpha = min(g.pWait/pM, 1/pE)
			b.stretch *= (g.meanWait / wM) / b.alpha
		}
	}
	b.pWait = min(b.alpha*pE, 1)
	b.meanWait = b.alpha * b.stretch * uE / rate
	return b
}

// jsqOrders is least-requests' distribution of u for exponential service
// (approxBalancedWait).
func jsqOrders(n, c int, rho float64) orderDist {
	nc := float64(n * c)
	p := ErlangC(nc*rho, n*c) / (1 + balancedJSQFactor(n, rho)*float64(n-1)*(1-rho))
	return geometricOrders(p, math.Pow(rho, float64(n)))
}

// balancedJSQFactor is a in 1/r = 1 + a(n-1)(1-ρ) (approxBalancedWait),
// fitted to the exact chain (n = 2…5) and to simulation (n = 10…100).
func balancedJSQFactor(n int, rho float64) float64 {
	return (0.10 + 0.035*math.Log(float64(n))) * math.Pow(rho, 0.3)
}

// powerOfTwoOrders is power-of-two's distribution of u for exponential
// service (approxBalancedWait): u = u_JSQ + u_x, independent, with
// P(u_x ≥ j) = h·s_{c+j-1}² and h = (1 - Σ_j s_{c+j-1}^n / Σ_j
// s_{c+j-1}²)(1 - 1/(2√n)).
func powerOfTwoOrders(n, c int, rho float64) orderDist {
	s := supermarketTail(c, rho)
	var two, all float64
	for _, x := range s {
		two += x * x
		all += math.Pow(x, float64(n))
	}
	h := 0.0
	if two > 0 {
		h = max(1-all/two, 0) * (1 - 0.5/math.Sqrt(float64(n)))
	}
	v := make([]float64, len(s)+1)
	prev := 1.0
	for j, x := range s {
		v[j] = prev - h*x*x // P(u_x = j)
		prev = h * x * x
	}
	v[len(s)] = prev
	v[0] = 1 - h*s[0]*s[0]
	return convolve(jsqOrders(n, c, rho), v)
}

// supermarketTail is s_c, s_{c+1}, … of the supermarket model with two
// choices, for replicas of c exponential workers at utilization ρ, as
// n → ∞: s_k is the fraction of replicas with k or more in flight, and an
// arrival joins one with k or more with probability s_k², so it waits for
// j or more departures with probability s_{c+j-1}².
//
// In the limit the fractions obey ds_k/dt = λ(s_{k-1}² - s_k²) -
// min(k, c)(s_k - s_{k+1}) with λ = cρ per replica and unit service rate
// (Vvedenskaya et al. 1996; Mitzenmacher 2001, §3, for c = 1). At the fixed
// point, the flow into "k or more" across each level balances the flow
// out of it: for k ≥ c, cρ·s_{k-1}² = c·s_k, so s_k = ρ·s_{k-1}², which
// falls doubly exponentially; for 1 ≤ k ≤ c, cρ·s_{k-1}² = k·s_k +
// s_{k+1} + … + s_c (the workers busy at replicas with k or more, summed
// by parts). Given s_c those fix s_{c-1}, …, s_0 downward, and s_0 grows
// with s_c, so s_c is found by bisection to make s_0 = 1. For c = 1 it is
// s_1 = ρ and s_k = ρ^{2^k-1}, Mitzenmacher's. The list ends where s_k²
// is below 1e-17.
func supermarketTail(c int, rho float64) []float64 {
	cf := float64(c)
	sc := rho
	if c > 1 {
		s := make([]float64, c+1)
		s0 := func(sc float64) float64 {
			s[c] = sc
			var above float64 // s_{k+1} + … + s_c
			for k := c; k >= 1; k-- {
				s[k-1] = math.Sqrt((float64(k)*s[k] + above) / (cf * rho))
				above += s[k]
			}
			return s[0]
		}
		lo, hi := 0.0, 1.0
		for range 100 {
			mid := (lo + hi) / 2
			if s0(mid) > 1 {
				hi = mid
			} else {
				lo = mid
			}
		}
		sc = (lo + hi) / 2
	}
	out := []float64{sc}
	for sk := sc; sk*sk > 1e-17 && len(out) < 64; {
		sk = rho * sk * sk
		out = append(out, sk)
	}
	return out
}
