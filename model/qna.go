package model

import (
	"math"
	"slices"

	"github.com/kendallqn/kendall/topology"
)

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

// stationArrivals is what QNA says of the arrivals at one station, for
// build: the ca² to pass to newStation, or the wait scale to impose on its
// Poisson wait instead (scale > 0), and whether its arrivals are so
// spaced that it never waits.
type stationArrivals struct {
	ca2    float64
	scale  float64
	spaced bool
}

// arrivals returns, for each service, what QNA says of its arrivals with
// the given workers, at the arrival rates of n: ca² = 1 for a service never
// visited, and for every service of a Kelly network, where product form
// makes the flows' variability irrelevant to every figure.
//
// A station whose departures come back to it at once or nearly
// (nearImmediate: with probability p̂) is QNA's station with feedback. QNA
// replaces it by one that serves a customer's consecutive visits as one
// service, with the fresh arrivals λ(1 - p̂), the mean service
// τ/(1 - p̂) and the service SCV c_s'² = p̂ + (1 - p̂)c_s², whose wait,
// times 1 - p̂, is the wait per visit. In the two-moment form in which
// newStation takes the arrivals' variability, the GI/G/c wait is the
// Poisson one scaled by giScale(c, ρ, ca², c_s²), (ca² + c_s²)/(1 + c_s²)
// (station.go, mgc.go); the replacement has the same offered load, and its
// Poisson wait per visit is the station's times (1 + c_s'²)/(1 + c_s²)
// (Allen–Cunneen's (1 + c_s²)/2 dependence on the service), so the wait
// per visit is the station's Poisson wait scaled by
//
//	k = giScale(c, ρ, c_a'², c_s'²)·(1 + c_s'²)/(1 + c_s²),
//
// c_a'² the fresh arrivals' SCV. Without giScale's correction for smooth
// arrivals (one worker, ca² < 1) that is the scale of ca² = c_a'² +
// p̂(1 - c_s²), which is then what is passed: for exponential service
// c_a'², for a deterministic one visited six times in a row by Poisson
// arrivals 1 + 5/6, the returns making the station's arrivals burstier
// than Poisson. Where the correction would apply to that ca², lowered by
// the returns of a service more variable than the exponential and not by
// smooth arrivals, k itself is imposed (scaleWait).
func (n *Network) arrivals(servers []int, kelly bool) []stationArrivals {
	ns := len(n.calls)
	out := make([]stationArrivals, ns)
	for i := range out {
		out[i].ca2 = 1
	}
	if kelly {
		return out
	}
	sol := n.qnaDeviations(servers)
	for i, s := range n.topo.Services {
		if n.lambda[i] == 0 {
			continue
		}
		if n.spacedArrivals(i, servers) {
			out[i] = stationArrivals{ca2: 0, spaced: true}
			continue
		}
		d, p := n.nearImmediate(i, &sol)
		if n.repl[i] != nil {
			p = 0 // a return goes to whichever replica is chosen: no feedback folded
		}
		fresh, cs2 := 1+d, s.Distribution.SCV()
		out[i].ca2 = fresh
		if p == 0 {
			continue
		}
		c, rho := servers[i], sol.rho[i]
		merged := p + (1-p)*cs2
		k := giScale(c, rho, fresh, merged) * (1 + merged) / (1 + cs2)
		fold := fresh + p*(1-cs2)
		out[i].ca2 = fold
		if kf := giScale(c, rho, fold, cs2); math.Abs(kf-k) > 1e-12*k {
			out[i].scale = k
		}
	}
	return out
}

// scaleWait makes st's wait k times the Poisson one, as newStation does
// for arrivals of SCV ca² ≠ 1 with k = giScale(...) (station.go), for the
// stations whose returns QNA folds into their arrivals where no ca² gives
// newStation that k (arrivals); st must be newStation's for Poisson
// arrivals. ca2 is the folded SCV, recorded for the labels.
// TestScaleWaitIsNewStations holds it to newStation.
func scaleWait(st *station, k, ca2 float64) {
	st.ca2 = ca2
	if !st.stable || st.lambda == 0 {
		return
	}
	st.scale = k
	st.meanWait *= k
	st.theta /= k
}

// neverWaits makes st a station that never waits (spacedArrivals): its
// sojourn is its service time, exactly.
func neverWaits(st *station) { exponentialWait(st, 0, 0) }

// nearImmediate returns, for station i, the deviation from Poisson of the
// SCV of its fresh arrivals and the probability p̂ that a departure from i
// comes back to it near-immediately: at once, or through stations no
// busier than i only, which on i's time scale is at once. This is the
// near-immediate feedback of W. Whitt and W. You ("A robust queueing
// network analyzer based on indices of dispersion", Naval Research
// Logistics 69(1), 2022, §4.2): a request that leaves a busy database for a
// light service and comes back to the database is, to the database, a
// request that never left, and counting its return as a fresh arrival
// would make the database's arrivals look as bursty as its departures.
// QNA's immediate-feedback elimination (above) then applies with p̂ in
// place of q: the returns are folded into the station's ca², and the fresh
// arrivals' SCV is the superposition of the inflows less the returns.
//
// The cloud's absorption probabilities follow from the flows taken as
// Markov routing, q_jk = λ_jk/λ_j: with g_j the expected visits to a
// cloud station j between a departure from i and its return (or its going
// elsewhere), g_j = q_ij + Σ_k g_k q_kj, solved by sweeps; then
// p̂ = q_ii + Σ_j g_j q_ji, and the returns arriving from j come at the
// rate λ_i·g_j·q_ji.
func (n *Network) nearImmediate(i int, sol *qnaSolution) (d, p float64) {
	lambda := n.lambda[i]
	p = n.flows.self(i) / lambda
	// The cloud: stations reachable from i through stations no busier.
	ns := len(n.calls)
	in := make([]bool, ns)
	var cloud []int
	queue := []int{i}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, o := range n.flows.out[u] {
			if j := o.to; j >= 0 && j != i && !in[j] && sol.rho[j] <= sol.rho[i] {
				in[j] = true
				cloud = append(cloud, j)
				queue = append(queue, j)
			}
		}
	}
	if len(cloud) == 0 {
		return sol.d[i], p
	}
	slices.Sort(cloud) // a fixed order of summation: the same figures on every run
	rate := func(from, to int) float64 {
		for _, o := range n.flows.out[from] {
			if o.to == to {
				return o.rate
			}
		}
		return 0
	}
	// Jacobi sweeps of the Neumann series, pushing each cloud station's
	// visits along its flows; the cloud's flows leak (requests leave, or
	// return to i), so they converge.
	g, next := make([]float64, ns), make([]float64, ns)
	for sweep := 0; sweep < 500; sweep++ {
		for _, j := range cloud {
			next[j] = 0
		}
		for _, o := range n.flows.out[i] {
			if o.to >= 0 && in[o.to] {
				next[o.to] += o.rate / lambda
			}
		}
		for _, k := range cloud {
			if g[k] == 0 {
				continue
			}
			for _, o := range n.flows.out[k] {
				if o.to >= 0 && in[o.to] {
					next[o.to] += g[k] * o.rate / n.lambda[k]
				}
			}
		}
		change := 0.0
		for _, j := range cloud {
			change = max(change, math.Abs(next[j]-g[j]))
		}
		g, next = next, g
		if change <= 1e-13 {
			break
		}
	}
	returns := make([]float64, ns) // returns into i arriving from j
	for _, j := range cloud {
		r := lambda * g[j] * rate(j, i) / n.lambda[j]
		returns[j] = r
		p += r / lambda
	}
	p = min(p, 1)
	// The fresh arrivals: external ones (Poisson), and each inflow less
	// its returns, a thinning of the departures of its station.
	var total, share2, sum float64
	ext := n.flows.external[i]
	total += ext
	type part struct {
		from int
		rate float64
	}
	var parts []part
	for j, outs := range n.flows.out {
		if j == i {
			continue
		}
		for _, o := range outs {
			if o.to == i {
				if f := o.rate - returns[j]; f > 1e-12*lambda {
					parts = append(parts, part{j, f})
					total += f
				}
			}
		}
	}
	if total <= 1e-12*lambda {
		return sol.d[i], p
	}
	share2 = (ext / total) * (ext / total)
	for _, pt := range parts {
		share := pt.rate / total
		share2 += share * share
		sum += share * (pt.rate / sol.fresh[pt.from]) * sol.departure(pt.from)
	}
	nu := 1 / share2
	rho := sol.rho[i]
	w := 1 / (1 + 4*(1-rho)*(1-rho)*(nu-1))
	return w * sum, p
}

// spacedArrivals reports whether station i, with deterministic service,
// never waits because every arrival at it is a departure, at that very
// instant, of one other deterministic station with a service time at least
// as long and no more workers. In any window shorter than its service time
// each of the upstream's c₁ workers finishes at most once, so i receives at
// most c₁ ≤ c_i arrivals in any window as long as its own service time: an
// arrival finds at most c₁ - 1 of the earlier ones still in service (each
// stays exactly its service time, having waited for nothing, by induction)
// and a worker free. A sample-path fact, whatever the upstream's arrivals;
// QNA's renewal view of the upstream's departures misses it and has i wait.
func (n *Network) spacedArrivals(i int, servers []int) bool {
	t := n.topo
	if t.Services[i].Distribution.Kind != topology.Deterministic || n.flows.external[i] > 0 {
		return false
	}
	from := -1
	for j, outs := range n.flows.out {
		for _, o := range outs {
			if o.to != i {
				continue
			}
			if j == i || (from >= 0 && from != j) {
				return false
			}
			from = j
		}
	}
	if from < 0 {
		return false
	}
	// The upstream's workers over all its replicas space the arrivals; a
	// service of several replicas has its arrivals split, and a replica
	// may get two at once.
	up := t.Services[from]
	return up.Distribution.Kind == topology.Deterministic && up.ServiceTime >= t.Services[i].ServiceTime &&
		servers[from]*n.reps[from] <= servers[i] && n.reps[i] == 1
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
func (n *Network) qnaDeviations(servers []int) qnaSolution {
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
		rho[i] = lambda * s.MeanSeconds() / float64(servers[i]*n.reps[i])
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
	return qnaSolution{d: d, fresh: fresh, rho: rho, dep: dep}
}

// qnaSolution is QNA's solution: for each station, the deviation d of its
// fresh arrivals' SCV, its fresh arrivals (and final departures) λ', its
// utilization and the service part of its departures' deviation.
type qnaSolution struct {
	d, fresh, rho, dep []float64
}

// departure is the deviation from Poisson, c_d'² - 1, of the departures of
// station i with its immediate feedback eliminated. A service of several
// replicas departs as one station of its arrivals and its replicas'
// workers: its balancer splits the arrivals and its departures merge the
// replicas' outputs again, which in light traffic is the stream that came
// in (a split and a merge with no delay between them), whatever the split;
// in heavy traffic each replica passes on its own service's variability,
// ρ²(c_s² − 1)/√c, c a replica's workers (dep). The split changes only
// what each replica sees (replicaArrivals).
func (q *qnaSolution) departure(i int) float64 {
	return (1-q.rho[i]*q.rho[i])*q.d[i] + q.dep[i]
}
