package model

import (
	"math"

	"github.com/kendallqn/kendall/topology"
)

// A service with hold: true keeps its worker from the start of its own
// work until the calls it waits for have returned (a thread-per-request
// server, a connection pool): the worker's holding time is
//
//	H = S + L_calls,
//
// its own service time plus the latency of its calls, made one after
// another (a group counting as the latency of the answers it waits for;
// its other branches run on without the worker). This is the method of
// layers (J. A. Rolia and K. C. Sevcik, "The method of layers", IEEE
// Trans. Software Engineering 21(8), 1995, §3): a server that makes calls
// is, to its own clients, a station whose service time includes the
// response times of the servers it calls, and the layers are solved from
// the bottom up; with calls forming a DAG, one pass, callees first
// (Network.build), gives every holding time without iteration. The
// station is then an M/G/c queue with H as its service time (mgc.go:
// Kimura's interpolation, or Pollaczek–Khinchine for one worker), its
// utilization λE[H]/c.
//
// What it approximates: the holding times of successive requests are
// taken independent of each other and of the station's queue, while they
// share the callees' queues (a burst at the service is a burst at its
// callees, so long holding times come together), and QNA's view of the
// station's arrivals uses its own work, not H. The latency a caller sees
// is the wait for a worker plus H, which has the calls in it: they are
// not added again.

// kindHeld is the kind of a holding time, which is no distribution of the
// topology's: its transform is the product of its parts'.
const kindHeld topology.Kind = "held"

// holdingTime is the holding time of service i's worker, its callees
// built: its mean and variance from the calls' (callMoments), its
// transform the product of its own service time's and its calls'
// (callsLST), its constant part that of its own work (when deterministic)
// and of its calls made for sure.
func (n *Network) holdingTime(i int) serviceTime {
	s := n.topo.Services[i]
	own := newServiceTime(s.MeanSeconds(), s.Distribution)
	cm, cv := n.callMoments(i, n.latMean, n.latVar)
	mean := own.mean + cm
	if math.IsInf(mean, 1) || math.IsNaN(mean) {
		return serviceTime{kind: kindHeld, mean: math.Inf(1), scv: 1}
	}
	variance := own.scv*own.mean*own.mean + cv
	scv := variance / (mean * mean)
	shift := 0.0
	if own.kind == topology.Deterministic {
		shift = own.mean
	}
	for _, c := range n.calls[i] {
		if c.p == 1 && c.group < 0 {
			shift += float64(c.count) * n.shift[c.to]
		}
	}
	return serviceTime{
		kind:  kindHeld,
		mean:  mean,
		scv:   scv,
		lstFn: func(z complex128) complex128 { return own.lst(z) * n.callsLST(i, z) },
		// The third moment enters only the variance of the M/G/1 sojourn
		// (Takács), a scale for the inversion and the first guess of a
		// percentile: that of the gamma distribution with H's two
		// moments, m³(1 + c²)(1 + 2c²) (Johnson, Kotz & Balakrishnan,
		// Continuous Univariate Distributions Vol. 1, 2nd ed., §17.3).
		m3:    mean * mean * mean * (1 + scv) * (1 + 2*scv),
		shift: shift,
	}
}

// visitResponse is the mean sojourn of one visit at st as the service's
// own figures report it, wait plus own work: for a held service its
// calls are the callees' figures, not its own.
func (st *station) visitResponse() float64 {
	if st.hold != nil {
		return st.meanWait + st.hold.mean
	}
	return st.meanResponse()
}

// visitVariance is the variance of visitResponse's sojourn.
func (st *station) visitVariance() float64 {
	if st.hold != nil {
		h := st.service
		return max(st.sojournVariance()-h.scv*h.mean*h.mean, 0) + st.hold.scv*st.hold.mean*st.hold.mean
	}
	return st.sojournVariance()
}

// visitSurvival is the survival function of visitResponse's sojourn.
func (st *station) visitSurvival() survivalFunc {
	if st.hold == nil {
		return st.survival()
	}
	own := *st.hold
	shift := 0.0
	if own.kind == topology.Deterministic {
		shift = own.mean
	}
	lst := func(z complex128) complex128 {
		if shift != 0 {
			return st.waitLST(z)
		}
		return st.waitLST(z) * own.lst(z)
	}
	return eulerInverter.invert(shift, math.Sqrt(st.visitVariance()), shift != 0, lst)
}

// anyHeld reports whether a visited service holds its worker.
func (n *Network) anyHeld() bool {
	for i, h := range n.held {
		if h && n.lambda[i] > 0 {
			return true
		}
	}
	return false
}

// heldMaxRate is MaxRate for a network with held workers. A held
// station's utilization λE[H]/c is no longer proportional to the rate:
// E[H] has its callees' latencies in it, which grow with their load. It
// is still increasing in the rate (every sojourn is stochastically
// increasing in its arrival rate), so the largest stable rate is found by
// bisection on the workload's scale, between 0 and the rate at which the
// first service's own work saturates it (held or not, a worker is busy
// at least for the service's own time).
func (n *Network) heldMaxRate() (rate float64, bottleneck string) {
	t := n.topo
	cpu := 0.0
	for i, s := range t.Services {
		if n.lambda[i] > 0 {
			cpu = max(cpu, n.lambda[i]*s.MeanSeconds()/float64(n.stations[i].servers*n.reps[i]))
		}
	}
	total := t.TotalRate()
	units := n.units
	at := func(r float64) *Network {
		c := *n
		f := r / total
		c.lambda = make([]float64, len(n.lambda))
		for i := range n.lambda {
			c.lambda[i] = n.lambda[i] * f
		}
		c.topo = scaled(t, r)
		c.flows = c.flowsAt(c.lambda)
		c.build(units)
		return &c
	}
	lo, hi := 0.0, total/cpu
	if at(hi).stable {
		lo = hi
	}
	for hi-lo > 1e-9*hi {
		mid := (lo + hi) / 2
		if at(mid).stable {
			lo = mid
		} else {
			hi = mid
		}
	}
	// The bottleneck is the service that saturates there: the busiest
	// just below the limit.
	b := at(lo)
	if b.bottleneck < 0 {
		return lo, ""
	}
	return lo, t.Services[b.bottleneck].Name
}

// boundedByHolders reports whether service i never waits because every
// request that reaches it is made by a worker held across the call, and
// those workers can have no more calls at i under way at once than i has
// workers. A held worker makes its sequential calls one at a time and the
// branches of a group at once, and keeps them all inside its holding time
// when the group waits for every branch it made; so a caller j with c_j
// workers has at most c_j·m_j calls at i under way, m_j the most branches
// to i of any one of its calls (1 for a sequential call). When Σ c_j·m_j ≤
// c_i, an arrival always finds a worker free: a sample-path fact, whatever
// the arrivals' timing, which QNA's renewal view of them misses (it would
// have i wait, and its callers hold their workers the longer for it).
//
// It fails when i has arrivals from outside, a caller that does not hold
// its worker (its requests' calls outlive any bound), or a group that may
// leave a branch to i running after its worker is released (wait k below
// the branches it can make).
//
// A service of several replicas is never bounded so: its callers' calls
// may all go to one replica, whatever the balancer.
func (n *Network) boundedByHolders(i int, servers []int) bool {
	if n.flows.external[i] > 0 || n.lambda[i] == 0 || n.reps[i] > 1 {
		return false
	}
	load := 0
	for j := range n.calls {
		most := 0 // the most calls at i one worker of j can have under way
		for _, e := range n.calls[j] {
			if e.to != i {
				continue
			}
			if !n.held[j] {
				return false
			}
			if e.group < 0 {
				most = max(most, 1)
				continue
			}
			g := n.groups[j][e.group]
			if g.spec.Wait != topology.WaitAll && g.spec.Wait < len(g.branches) {
				return false
			}
			branches := 0
			for _, b := range g.branches {
				if b.to == i {
					branches++
				}
			}
			most = max(most, branches)
		}
		if most > 0 {
			if load += servers[j] * n.reps[j] * most; load > servers[i] {
				return false
			}
		}
	}
	return load > 0
}
