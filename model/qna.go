package model

import "math"

// The variability of the arrivals at each station, by W. Whitt's Queueing
// Network Analyzer (QNA: W. Whitt, "The Queueing Network Analyzer", Bell
// System Technical Journal 62(9), 1983, pp. 2779–2815). QNA describes every
// flow of customers by its rate and the squared coefficient of variation
// (SCV) of its intervals, c², as if it were a renewal process, and carries
// c² through the three operations a network performs on flows:
//
//   - Departures (the departure approximation of QNA, for a node of m
//     servers at utilization ρ with arrival SCV c_a² and service SCV c_s²):
//     c_d² = 1 + (1 - ρ²)(c_a² - 1) + ρ²(c_s² - 1)/√m. A busy station
//     passes on its own service's variability, an idle one its arrivals'.
//   - Splitting (QNA's Bernoulli thinning): the flow sent to j with
//     probability q has c² = q·c_d² + 1 - q.
//   - Superposition (QNA's hybrid of the asymptotic and stationary-interval
//     methods, with Albin's weight): c_a² = w·Σ_i (λ_i/λ)·c_i² + 1 - w,
//     w = 1/(1 + 4(1 - ρ)²(ν - 1)), ν = 1/Σ_i (λ_i/λ)²; S. L. Albin,
//     "Approximating a point process by a renewal process, II:
//     superposition arrival processes to queues", Operations Research
//     32(5), 1984. Many small independent streams merge towards Poisson.
//
// and eliminates immediate feedback first (QNA's preliminary
// transformation): a station whose departures return to it at once with
// probability q is replaced by one that serves each customer's consecutive
// visits as one service, with the fresh arrivals λ(1 - q), the mean
// service τ/(1 - q) and the service SCV c_s'² = q + (1 - q)c_s²; its
// departures to elsewhere and its per-visit wait, (1 - q) times the wait
// of the replacement, follow from it. For Bernoulli feedback that keeps the
// number in the station exact, whatever the order in which returning
// customers are served (the number served one after another is the same
// sequence of i.i.d. services and coin flips either way).
//
// The flows come from the routes (flows.go); external arrivals are Poisson
// (c² = 1). The equations are linear in the deviations d = c² - 1, which is
// how they are solved here: a stream that nothing has made non-Poisson
// keeps d = 0 exactly, so stations fed by Poisson streams (Burke's theorem
// for M/M/c departures, with c_s² = 1: c_d² = 1 + (1 - ρ²)·0) get exactly
// c_a² = 1, and their exact formulas are not disturbed.
//
// QNA is exact for no network but Jackson's (where it gives c² = 1
// everywhere); it is the standard approximation for the rest, and the
// accuracy table (docs/accuracy.md) measures it for kendall's shapes.

// arrivalSCVs returns the arrival SCV to pass to newStation for each
// service, with the given workers, at the arrival rates of n: 1 for a
// service never visited, and for every service of a Kelly network, where
// product form makes the flows' variability irrelevant to every figure.
//
// The value passed for a station with immediate returns folds QNA's
// feedback elimination in: it is the ca² for which the two-moment
// GI/G/c wait at the station's full visit rate, Wq ≈ (ca² + cs²)/2 ·
// Wq(M/M/c) (Allen–Cunneen, the form QNA uses for its nodes), equals
// (1 - q) times that of the replacement station. The replacement has the
// same offered load and so the same Erlang C, and its M/M/c wait is
// Wq(M/M/c)/(1 - q), so that ca² is c_a'² + c_s'² - c_s² =
// c_a'² + q(1 - c_s²), with c_a'² the SCV of the fresh arrivals. For
// exponential service it is c_a'²; for a deterministic one visited six
// times in a row by Poisson arrivals it is 1 + 5/6: the returning visits
// make the station's arrivals burstier than Poisson.
func (n *Network) arrivalSCVs(servers []int, kelly bool) []float64 {
	ns := len(n.calls)
	ca2 := make([]float64, ns)
	for i := range ca2 {
		ca2[i] = 1
	}
	if kelly {
		return ca2
	}
	d := n.qnaDeviations(servers)
	for i, s := range n.topo.Services {
		lambda := n.lambda[i]
		if lambda == 0 {
			continue
		}
		q := n.flows.self(i) / lambda
		cs2 := s.Distribution.SCV()
		ca2[i] = 1 + d[i] + q*(1-cs2)
	}
	return ca2
}

// qnaDeviations solves QNA's traffic variability equations for d_i =
// c_ai'² - 1, the deviation from Poisson of the fresh arrivals (those that
// are not immediate returns) at each station i:
//
//	d_j = w_j Σ_{i≠j} (λ_ij/λ'_j)(λ_ij/λ'_i) [(1 - ρ_i²) d_i + ρ_i² (c_si'² - 1)/√m_i]
//
// with λ_ij the flow from i to j, λ'_i = λ_i - λ_ii the fresh arrivals (and
// final departures) of i, and c_si'² - 1 = (1 - q_i)(c_si² - 1) the service
// SCV of i with its immediate feedback eliminated. External arrivals are
// Poisson: they add to ν_j but not to the sum. The routes can return to a
// station through others (a caller's second call after its first call's
// subtree), so the system is solved by Gauss–Seidel sweeps, callers
// first: every coefficient row sums to less than one (w ≤ 1, ρ > 0), so the
// sweeps converge, and an acyclic flow converges in one.
func (n *Network) qnaDeviations(servers []int) []float64 {
	ns := len(n.calls)
	type term struct {
		from int
		coef float64 // multiplies d_from
	}
	rows := make([][]term, ns)
	b := make([]float64, ns)
	fresh := make([]float64, ns)
	rho := make([]float64, ns)
	dep := make([]float64, ns) // the service part of the departure deviation, ρ²(c_s'² - 1)/√m
	for i, s := range n.topo.Services {
		lambda := n.lambda[i]
		if lambda == 0 {
			continue
		}
		fresh[i] = lambda - n.flows.self(i)
		rho[i] = lambda * s.MeanSeconds() / float64(servers[i])
		q := n.flows.self(i) / lambda
		dep[i] = rho[i] * rho[i] * (1 - q) * (s.Distribution.SCV() - 1) / math.Sqrt(float64(servers[i]))
	}
	// Inflows by destination, and the sum of squared shares for ν.
	share2 := make([]float64, ns)
	for j := range ns {
		if fresh[j] > 0 && n.flows.external[j] > 0 {
			x := n.flows.external[j] / fresh[j]
			share2[j] += x * x
		}
	}
	for i, outs := range n.flows.out {
		for _, o := range outs {
			if o.to < 0 || o.to == i {
				continue
			}
			j := o.to
			share := o.rate / fresh[j] // λ_ij/λ'_j
			split := o.rate / fresh[i] // λ_ij/λ'_i, the probability of the split
			share2[j] += share * share
			rows[j] = append(rows[j], term{i, share * split * (1 - rho[i]*rho[i])})
			b[j] += share * split * dep[i]
		}
	}
	for j := range ns {
		if fresh[j] == 0 {
			continue
		}
		nu := 1 / share2[j]
		w := 1 / (1 + 4*(1-rho[j])*(1-rho[j])*(nu-1))
		b[j] *= w
		for k := range rows[j] {
			rows[j][k].coef *= w
		}
	}
	d := make([]float64, ns)
	for sweep := 0; sweep < 1000; sweep++ {
		change := 0.0
		for _, j := range n.order { // callers first: the flows mostly go that way
			if fresh[j] == 0 {
				continue
			}
			x := b[j]
			for _, t := range rows[j] {
				x += t.coef * d[t.from]
			}
			change = max(change, math.Abs(x-d[j]))
			d[j] = x
		}
		if change <= 1e-13 {
			break
		}
	}
	return d
}
