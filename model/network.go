package model

import (
	"math"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// Network is a topology analysed as an open network of queues at its
// workload: visit ratios from the call graph, an arrival rate and a station
// per service, and the end-to-end latency of each workload entry.
//
// The means are exact for exponential services. The network is then a Kelly
// network of FIFO M/M/c stations with fixed routes per request class (F. P.
// Kelly, Reversibility and Stochastic Networks, 1979, §3.1): it has product
// form, each station behaves in steady state as an isolated M/M/c queue at
// its total arrival rate, and the mean end-to-end latency is the sum over
// visits of the stations' mean sojourns. The end-to-end distribution treats
// the visits of one request as independent, except the runs of
// consecutive visits to one service, whose correlation it follows
// (runs.go); independence is exact for a chain of single-server stations
// (Reich's theorem: E. Reich, "Waiting times when queues are in tandem",
// Ann. Math. Statist. 28(3), 1957) and an approximation when a request
// visits stations that share traffic in other ways.
//
// With other service times, a station's arrivals are Poisson only where
// Burke's theorem says so; elsewhere their variability is carried from
// station to station, along the flows between consecutive visits
// (flows.go), by Whitt's Queueing Network Analyzer (qna.go), and the
// stations take it into account.
type Network struct {
	topo   *topology.Topology
	order  []int         // service indexes, callers before callees
	calls  [][]edge      // calls[s]: the calls service s makes, callees by index, groups' branches included
	groups [][]callGroup // groups[s]: the groups of parallel calls s makes (group.go)
	held   []bool        // held[s]: s holds its worker across its calls (hold.go)
	// Set by build: each service's capacity in its units (workers, or
	// replicas when it scales out), its replicas, and how they share its
	// arrivals (nil for one replica, replicas.go).
	units    []int
	reps     []int
	repl     []*replication
	entries  []int       // entries[e]: index of the service of workload entry e
	visits   [][]float64 // visits[e][s]: mean visits to service s per request at entry e
	stations []station
	reach    [][]int // reach[e]: services reachable from entry e, callees first

	lambda []float64      // lambda[s]: total arrival rate at service s
	items  [][]callItem   // items[s]: s's calls as independent calls and runs (runs.go)
	routes routes         // what each service's calls add to a route (flows.go)
	flows  flows          // the rates between consecutive visits (flows.go)
	runSt  []runStation   // runSt[s]: the recursion's view of s, for the services runs visit
	runs   runMode        // how runs are treated: the recursion, but for the tests' brackets
	shared [][]sharedLeaf // shared[e]: services entry e visits by several paths (shared.go)
	spaced []bool         // spaced[s]: s's arrivals are spaced so that it never waits (qna.go)
	// boundedBy[s]: s's callers' held workers never have more calls at it
	// under way than it has workers, so it never waits (hold.go)
	boundedBy []bool

	// Set by build, callees first: the latency of a request at each
	// service (its sojourn and its calls), and each group's distribution.
	latMean, latVar []float64
	shift           []float64 // shifts(): the constant part of each service's latency
	groupD          [][]*groupDist

	stable     bool
	exact      bool    // every visited service is exponential
	maxUtil    float64 // utilization of the bottleneck
	bottleneck int     // index of the service that saturates first, -1 if none
}

// edge is one call with its callee resolved to an index, so the hot loops
// of the transform do no map lookups.
type edge struct {
	to    int
	p     float64
	count int
	pos   int // the position of the call among the service's calls; a group's branches share their group's
	group int // the index of its group in groups[s]; -1 for a sequential call
}

// Analyze builds the queueing network of t at its workload.
func Analyze(t *topology.Topology) *Network {
	n := &Network{topo: t, order: t.Order()}
	n.calls = make([][]edge, len(t.Services))
	n.groups = make([][]callGroup, len(t.Services))
	n.held = make([]bool, len(t.Services))
	for i, s := range t.Services {
		n.held[i] = s.Hold && len(s.Calls) > 0 // as the emulation: hold without calls is harmless
		for pos, c := range s.Calls {
			if c.Group == nil {
				n.calls[i] = append(n.calls[i], edge{to: t.Index(c.To), p: c.Probability, count: c.Count, pos: pos, group: -1})
				continue
			}
			g := callGroup{spec: c.Group, pos: pos}
			for _, b := range c.Group.Calls {
				e := edge{to: t.Index(b.To), p: b.Probability, count: b.Count, pos: pos, group: len(n.groups[i])}
				g.branches = append(g.branches, e)
				n.calls[i] = append(n.calls[i], e)
			}
			n.groups[i] = append(n.groups[i], g)
		}
	}
	n.entries = make([]int, len(t.Workload))
	n.visits = make([][]float64, len(t.Workload))
	n.reach = make([][]int, len(t.Workload))
	for e, w := range t.Workload {
		n.entries[e] = t.Index(w.Entry)
		v := make([]float64, len(t.Services))
		v[n.entries[e]] = 1
		// Visit ratios of a call DAG: one pass in topological order, since a
		// service's visits are final once all its callers have been seen
		// (the traffic equations of an open network, Kleinrock Vol. 1,
		// §4.8, solved without iteration because routing is acyclic). A
		// group's branches are among the calls: each is made with its own
		// coin, count times, whatever the group waits for, and the calls
		// not waited for still load their callees.
		for _, s := range n.order {
			if v[s] == 0 {
				continue
			}
			for _, c := range n.calls[s] {
				v[c.to] += v[s] * c.p * float64(c.count)
			}
		}
		n.visits[e] = v
		for i := len(n.order) - 1; i >= 0; i-- {
			if s := n.order[i]; v[s] > 0 {
				n.reach[e] = append(n.reach[e], s)
			}
		}
	}
	n.lambda = make([]float64, len(t.Services))
	for i := range t.Services {
		for e, w := range t.Workload {
			n.lambda[i] += w.Rate * n.visits[e][i]
		}
	}
	n.items = newItems(n.calls)
	n.shared = make([][]sharedLeaf, len(t.Workload))
	for e := range t.Workload {
		n.shared[e] = n.newSharedLeaves(e)
	}
	n.routes = newRoutes(n)
	n.flows = n.flowsAt(n.lambda)
	units := make([]int, len(t.Services))
	for i, s := range t.Services {
		units[i] = s.Units()
	}
	n.build(units)
	return n
}

// build sets up the stations for the given capacity of each service, in
// its units (topology.Service.Units: workers, or replicas for a service
// that scales out), callees first: a service that holds its worker across
// its calls has a holding time made of its callees' latencies (hold.go),
// and a group's latency is made of its branches' (group.go), so each
// service is evaluated once everything it calls is (the method of layers'
// bottom-up pass, Rolia and Sevcik 1995; the call graph is a DAG).
func (n *Network) build(units []int) {
	t := n.topo
	ns := len(t.Services)
	n.units = units
	n.reps = make([]int, ns)
	servers := make([]int, ns) // per replica
	for i, s := range t.Services {
		n.reps[i], servers[i] = 1, units[i]
		if s.ScalesOut() {
			n.reps[i], servers[i] = units[i], s.Servers
		}
	}
	n.repl = make([]*replication, ns)
	for i := range t.Services {
		n.repl[i] = n.replicationOf(i)
	}
	n.stations = make([]station, ns)
	n.stable, n.exact = true, true
	n.maxUtil, n.bottleneck = 0, -1
	arr := n.arrivals(servers, n.kellyServices())
	n.spaced = make([]bool, ns)
	n.boundedBy = make([]bool, ns)
	for i := range n.boundedBy {
		n.boundedBy[i] = n.boundedByHolders(i, servers)
	}
	n.runSt = make([]runStation, ns)
	n.latMean, n.latVar, n.shift = make([]float64, ns), make([]float64, ns), make([]float64, ns)
	n.groupD = make([][]*groupDist, ns)
	for k := len(n.order) - 1; k >= 0; k-- { // callees first
		i := n.order[k]
		for _, it := range n.items[i] {
			if r := it.run; r != nil && n.runSt[r.to].st == nil {
				// A run's visits to a service of several replicas go
				// where its balancer sends each: taken as independent
				// visits, with no return to the same queue.
				self := n.flows.self(r.to)
				if n.repl[r.to] != nil {
					self = 0
				}
				n.runSt[r.to] = newRunStation(&n.stations[r.to], self)
			}
		}
		if n.lambda[i] > 0 {
			n.groupD[i] = n.groupsOf(i)
		}
		n.stations[i] = n.stationOf(i, servers[i], arr[i])
		n.shift[i] = n.shiftOf(i)
		n.latMean[i], n.latVar[i] = n.latencyMoments(i, n.latMean, n.latVar)
	}
	for i := range t.Services {
		st := &n.stations[i]
		if n.lambda[i] == 0 {
			continue
		}
		if !st.stable {
			n.stable = false
		}
		if !st.exact || n.held[i] || len(n.groups[i]) > 0 || !st.repl.random() {
			n.exact = false
		}
		if u := st.mmc.Utilization(); u > n.maxUtil {
			n.maxUtil, n.bottleneck = u, i
		}
	}
}

// stationOf is service i as a station with the given workers and what QNA
// says of its arrivals; a service that holds its worker is the station of
// its holding time (hold.go).
func (n *Network) stationOf(i, servers int, a stationArrivals) station {
	s := n.topo.Services[i]
	lambda := n.lambda[i]
	svc := newServiceTime(s.MeanSeconds(), s.Distribution)
	held := n.held[i] && lambda > 0
	if held {
		svc = n.holdingTime(i)
	}
	r := n.repl[i]
	if r != nil {
		// One replica, at its share of the arrivals (replicas.go).
		lambda /= float64(r.n)
		a = r.replicaArrivals(a, lambda*svc.mean/float64(servers))
	}
	var st station
	switch {
	case a.spaced && !held:
		// Its arrivals are spaced so that it never waits (qna.go,
		// spacedArrivals): the sojourn is the service time, exactly.
		st = newStationFor(svc, lambda, servers, a.ca2)
		neverWaits(&st)
		n.spaced[i] = true
	case n.boundedBy[i]:
		// Its callers' held workers can never have more calls at it
		// under way than it has workers (hold.go, boundedByHolders).
		st = newStationFor(svc, lambda, servers, a.ca2)
		neverWaits(&st)
	case a.scale > 0:
		st = newStationFor(svc, lambda, servers, 1)
		scaleWait(&st, a.scale, a.ca2)
	default:
		st = newStationFor(svc, lambda, servers, a.ca2)
	}
	if held {
		own := newServiceTime(s.MeanSeconds(), s.Distribution)
		st.hold = &own
	}
	if r != nil {
		r.balance(&st)
	}
	return st
}

// kellyServices reports whether every visited service has exponential
// service times, from the topology alone: the network is then a Kelly
// network whatever the workers.
func (n *Network) kellyServices() bool {
	for i, s := range n.topo.Services {
		if n.lambda[i] > 0 && !newServiceTime(s.MeanSeconds(), s.Distribution).exponential() {
			return false
		}
	}
	return true
}

// withServers is a copy of n with other numbers of servers; the visit ratios
// and the flows do not change.
func (n *Network) withServers(servers []int) *Network {
	c := *n
	c.build(servers)
	return &c
}

// Topology is the topology the network was built from.
func (n *Network) Topology() *topology.Topology { return n.topo }

// Stable reports whether every visited service is below saturation.
func (n *Network) Stable() bool { return n.stable }

// Exact reports whether every figure is exact, not approximated: every
// visited service has exponential service times.
func (n *Network) Exact() bool { return n.exact }

// MaxRate is the largest total rate, in the same workload mix, at which every
// service stays below saturation, and the bottleneck service that limits
// it. Utilization grows in proportion to the rate, so the limit is the
// current rate divided by the largest utilization (asymptotic bounds,
// Lazowska et al., Quantitative System Performance, 1984, ch. 5).
func (n *Network) MaxRate() (rate float64, bottleneck string) {
	if n.anyHeld() {
		return n.heldMaxRate()
	}
	if n.bottleneck < 0 {
		return math.Inf(1), ""
	}
	return n.topo.TotalRate() / n.maxUtil, n.topo.Services[n.bottleneck].Name
}

// Visits returns the mean number of visits to each service (in file order)
// made by one request arriving at the entry with index e in the workload.
func (n *Network) Visits(e int) []float64 { return append([]float64(nil), n.visits[e]...) }

// ArrivalRate is the total arrival rate at the service with index s.
func (n *Network) ArrivalRate(s int) float64 { return n.lambda[s] }

// moments returns, for each service, the mean and the variance of the
// latency of one request at it: its own sojourn plus the calls it makes.
// The mean is exact for the network (linearity of expectation). The
// variance treats the visits as independent, as the end-to-end distribution
// does: a call made with probability p, count times, to a callee of mean m
// and variance v adds count·(p·v + p(1-p)·m²) (the variance of a sum of
// independent Bernoulli-thinned copies).
func (n *Network) moments() (mean, variance []float64) {
	mean = make([]float64, len(n.stations))
	variance = make([]float64, len(n.stations))
	for i := len(n.order) - 1; i >= 0; i-- { // callees first
		s := n.order[i]
		mean[s], variance[s] = n.latencyMoments(s, mean, variance)
	}
	return mean, variance
}

// latencyMoments is the mean and variance of the latency of a request at
// s, its callees' already in mean and variance (moments).
func (n *Network) latencyMoments(s int, mean, variance []float64) (m, v float64) {
	st := &n.stations[s]
	if st.hold != nil {
		// The holding time already has the calls in it: the latency is the
		// wait plus the holding time (hold.go), counted once.
		return st.meanResponse(), st.sojournVariance()
	}
	m, v = st.meanResponse(), st.sojournVariance()
	cm, cv := n.callMoments(s, mean, variance)
	return m + cm, v + cv
}

// callMoments is the mean and variance of the latency of s's calls, made
// one after another (the groups among them, group.go, each as one).
func (n *Network) callMoments(s int, mean, variance []float64) (m, v float64) {
	for _, it := range n.items[s] {
		switch {
		case it.run != nil:
			// The run's mean is exact like the rest; its variance has
			// the covariances of its visits (runs.go).
			r := it.run
			rm, rv := n.runSt[r.to].moments(r, n.runs)
			m += rm
			v += rv
		case it.grp >= 0:
			g := n.groupD[s][it.grp]
			m += g.mean
			v += g.variance
		default:
			c := it.edge
			cm, cv := mean[c.to], variance[c.to]
			k := float64(c.count)
			m += k * c.p * cm
			v += k * (c.p*cv + c.p*(1-c.p)*cm*cm)
		}
	}
	return m, v
}

// EndToEndMean is the mean latency of a request arriving at the entry with
// index e in the workload; +Inf when the network is unstable.
func (n *Network) EndToEndMean(e int) float64 {
	if !n.stable {
		return math.Inf(1)
	}
	mean, _ := n.moments()
	return mean[n.entries[e]]
}

// endToEnd is the latency distribution of a request at one entry.
type endToEnd struct {
	mean, variance float64
	survival       survivalFunc
}

// endToEnd returns the latency distribution of a request at entry e: its
// call tree's transform, inverted numerically, with its mean and variance.
//
// The transform of the latency T_s of a request at service s is
// T*_s(z) = W*_s(z)·B*_s(z)·Π_calls (1 - p + p·T*_callee(z))^count: the
// sojourn at s, then each call made with probability p (a mixture of
// "not made", transform 1, and the callee's latency), count times in a row
// (a sum of independent copies). Independence of the visits is the
// approximation the type comment states.
//
// Deterministic service times that every request meets add up to a constant
// shift Δ_s, taken out before inverting (see euler.invert): what is inverted
// is R*_s(z) = e^{zΔ_s}·T*_s(z).
func (n *Network) endToEnd(e int) endToEnd {
	entry := n.entries[e]
	reach := n.reach[e]
	shift := n.shifts()
	mean, variance := n.moments()
	rough := false
	for _, s := range reach {
		rough = rough || n.stations[s].rough()
	}
	// The stations in evaluation order, with the constants of the exact
	// ones at hand: this loop runs once per service per Euler node.
	type step struct {
		s            int
		exact        bool
		mu, theta, q float64 // exact: μ, θ and 1 - C
		st           *station
	}
	steps := make([]step, len(reach))
	for i, s := range reach {
		st := &n.stations[s]
		steps[i] = step{s: s, exact: st.exact && st.hold == nil, mu: st.mmc.Mu, theta: st.theta, q: 1 - st.pWait, st: st}
	}
	// The services visited by several paths (shared.go) are taken out of
	// the tree, R*_s = 1, and their visits put back together.
	shared := n.sharedAt(e, mean)
	removed := make([]bool, len(n.stations))
	v := variance[entry]
	for i := range shared {
		removed[shared[i].s] = true
		v += shared[i].excess()
	}
	r := make([]complex128, len(n.stations)) // R*_s at the current node
	lst := func(z complex128) complex128 {
		for _, p := range steps {
			var x complex128
			if p.exact { // as station.residualLST, inlined
				x = quo(complex(p.mu, 0)*(complex(p.theta, 0)+complex(p.q, 0)*z), (complex(p.theta, 0)+z)*(complex(p.mu, 0)+z))
			} else {
				x = p.st.residualLST(z)
			}
			s := p.s
			items := n.items[s]
			if p.st.hold != nil {
				items = nil // the holding time has the calls in it (hold.go)
			}
			for _, it := range items {
				if run := it.run; run != nil {
					x *= n.runSt[run.to].lst(run, z, n.runs)
					continue
				}
				if it.grp >= 0 {
					x *= n.groupD[s][it.grp].lst(z)
					continue
				}
				c := it.edge
				f := r[c.to]
				if c.p != 1 {
					if shift[c.to] != 0 {
						f *= detLST(shift[c.to], z) // back to T*_callee
					}
					f = complex(1-c.p, 0) + complex(c.p, 0)*f
				}
				if c.count != 1 {
					f = pow(f, c.count)
				}
				x *= f
			}
			if removed[s] {
				x = 1
			}
			r[s] = x
		}
		x := r[entry]
		for i := range shared {
			x *= shared[i].lst(z)
		}
		return x
	}
	if g := n.loneGroup(entry); g != nil {
		// The latency is a constant plus one group's: its survival, exactly
		// as group.go computes it, without the fit of its shape.
		d := shift[entry]
		return endToEnd{mean: mean[entry], variance: v, survival: func(t float64) (float64, float64) {
			return g.survival(t - d)
		}}
	}
	inverse := eulerInverter.invert(shift[entry], math.Sqrt(v), rough, lst)
	return endToEnd{mean: mean[entry], variance: v, survival: inverse}
}

// endToEndSurvival is the survival function and density of the latency of a
// request at entry e.
func (n *Network) endToEndSurvival(e int) survivalFunc { return n.endToEnd(e).survival }

// shifts returns Δ_s for every service: the deterministic service time
// every request at s meets, its own and that of the calls always made
// (build computes them, callees first).
func (n *Network) shifts() []float64 { return n.shift }

// shiftOf is Δ_s, its callees' already computed. A group's latency is
// taken whole into its transform (group.go), with no constant part; a
// held service's holding time has its own (hold.go).
func (n *Network) shiftOf(s int) float64 {
	st := &n.stations[s]
	d := st.shift()
	if st.hold != nil {
		return d
	}
	for _, c := range n.calls[s] {
		if c.p == 1 && c.group < 0 {
			d += float64(c.count) * n.shift[c.to]
		}
	}
	return d
}

// EndToEndQuantile is the p-quantile (0 < p < 1) of the latency of a request
// at the entry with index e in the workload.
func (n *Network) EndToEndQuantile(e int, p float64) float64 {
	if !n.stable {
		return math.Inf(1)
	}
	d := n.endToEnd(e)
	return quantile(d.survival, p, d.mean, d.variance)
}

// EndToEndSurvival is P(T > t) for the latency T of a request at the entry
// with index e: the complementary CDF that reports plot.
func (n *Network) EndToEndSurvival(e int, t float64) float64 {
	if !n.stable {
		return 1
	}
	s, _ := n.endToEnd(e).survival(t)
	return min(max(s, 0), 1)
}

// Predict returns every figure of the network in kendall's JSON shape.
func (n *Network) Predict() *result.Prediction {
	t := n.topo
	maxRate, bottleneck := n.MaxRate()
	p := &result.Prediction{
		Summary: result.Summary{
			Topology:   t.Name,
			Stable:     n.stable,
			Rate:       t.TotalRate(),
			MaxRate:    maxRate,
			Bottleneck: bottleneck,
			Headroom:   maxRate / t.TotalRate(),
		},
		Services: make([]result.Service, len(t.Services)),
		Entries:  make([]result.EndToEnd, len(t.Workload)),
	}
	for i, s := range t.Services {
		st := &n.stations[i]
		r := result.Service{
			Name:         s.Name,
			Servers:      st.servers,
			ServiceTime:  s.MeanSeconds(),
			Distribution: s.Distribution.String(),
			ArrivalRate:  n.lambda[i],
			Utilization:  st.mmc.Utilization(),
		}
		if n.reps[i] > 1 {
			r.Replicas, r.Balancer = n.reps[i], string(s.Balancer)
		}
		if n.stable {
			// Per-visit figures of the station (a replica, alike for
			// all), Little's law for the counts over the service's
			// arrivals, all replicas together.
			r.WaitProbability = ptr(st.pWait)
			r.MeanWait = ptr(st.meanWait)
			r.MeanResponse = ptr(st.visitResponse())
			r.MeanQueueLength = ptr(n.lambda[i] * st.meanWait)
			r.MeanInSystem = ptr(n.lambda[i] * st.visitResponse())
			r.Percentiles = percentiles(st.visitSurvival(), st.visitResponse(), st.visitVariance())
		}
		p.Services[i] = r
	}
	for e, w := range t.Workload {
		r := result.EndToEnd{Entry: w.Entry, Rate: w.Rate}
		if n.stable {
			d := n.endToEnd(e)
			r.Mean = ptr(d.mean)
			r.Percentiles = percentiles(d.survival, d.mean, d.variance)
		}
		p.Entries[e] = r
	}
	n.labels(p)
	return p
}

// percentiles finds every reported percentile of a distribution with the
// given mean and variance, each search starting from the quantile of the
// gamma distribution with the same two moments.
func percentiles(f survivalFunc, mean, variance float64) *result.Percentiles {
	var out result.Percentiles
	for _, l := range result.Levels {
		out.Set(l.Name, quantile(f, l.P, mean, variance))
	}
	return &out
}

func ptr(v float64) *float64 { return &v }
