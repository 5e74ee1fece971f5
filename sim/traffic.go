package sim

import (
	"math"

	"github.com/kendallqn/kendall/topology"
)

// load is what the topology offers each service, computed from the file
// alone: the simulator uses it to refuse unstable topologies and to report
// the bottleneck, never to produce a simulated figure.
type load struct {
	arrivalRate []float64 // per service, requests per second
	// utilization is offered: arrivalRate × mean holding time / servers.
	// The holding time is the mean service time, and for a service that
	// holds its workers across its calls a lower bound on the calls' time
	// too (heldLowerBound), so that a held service is seen to saturate.
	utilization []float64
	stable      bool
	maxRate     float64 // largest total rate, in the same mix, below saturation
	bottleneck  int     // service that saturates first; -1 if none is visited
}

// offeredLoad solves the traffic equations of the call graph: the arrival
// rate at a service is the external rate plus, for each caller, the
// caller's rate × probability × count. A call of a group of parallel calls
// counts the same whether the group waits for it or not: the calls not
// waited for still run and load their callees. The graph is acyclic, so one
// pass in topological order solves them (Kleinrock, Queueing Systems Vol.
// 1, 1975, §4.8, the traffic equations of an open network). The largest
// rate is the current one divided by the largest utilization (Lazowska et
// al., Quantitative System Performance, 1984, §5.2, asymptotic bounds).
//
// For a service that holds its workers, the utilization rests on a lower
// bound of the calls' time, since their queueing is what the simulation
// finds out: the stability it reports may be too hopeful (a held service
// whose callees queue saturates sooner), never too strict, and the largest
// rate is an upper bound.
func offeredLoad(t *topology.Topology) load {
	n := len(t.Services)
	l := load{arrivalRate: make([]float64, n), utilization: make([]float64, n), stable: true, bottleneck: -1}
	for _, w := range t.Workload {
		l.arrivalRate[t.Index(w.Entry)] += w.Rate
	}
	for _, s := range t.Order() {
		t.Services[s].EachCall(func(c *topology.Call) {
			l.arrivalRate[t.Index(c.To)] += l.arrivalRate[s] * c.Probability * float64(c.Count)
		})
	}
	held := heldLowerBound(t)
	var maxU float64
	for i, s := range t.Services {
		u := l.arrivalRate[i] * (s.MeanSeconds() + held[i]) / float64(s.Workers())
		l.utilization[i] = u
		if u >= 1 {
			l.stable = false
		}
		if u > maxU {
			maxU, l.bottleneck = u, i
		}
	}
	l.maxRate = math.Inf(1)
	if maxU > 0 {
		l.maxRate = t.TotalRate() / maxU
	}
	return l
}

// heldLowerBound is, per service, a lower bound on the mean time its
// workers are held across its calls after their own service: 0 for a
// service that does not hold them. The calls' latencies are bounded below
// by their latencies without queueing, whose means are computed bottom up,
// callees before callers (the method of layers' pass, J. A. Rolia & K. C.
// Sevcik, "The method of layers", IEEE Trans. Softw. Eng. 21(8), 1995,
// without its queueing). By linearity of the mean, a sequential call adds
// probability × count × its callee's bound. A group waiting for all its
// calls takes as long as its slowest branch, and the mean of a maximum is
// at least each term's mean, so it adds the largest of its branches'
// bounds; a group waiting for fewer can end with its fastest branch, and
// adds nothing.
func heldLowerBound(t *topology.Topology) []float64 {
	latency := make([]float64, len(t.Services)) // without queueing
	held := make([]float64, len(t.Services))
	order := t.Order()
	for i := len(order) - 1; i >= 0; i-- { // callees first
		s := order[i]
		calls := callsLowerBound(t, t.Services[s], latency)
		latency[s] = t.Services[s].MeanSeconds() + calls
		if t.Services[s].Hold {
			held[s] = calls
		}
	}
	return held
}

// callsLowerBound is a lower bound on the mean time the calls of s take,
// given lower bounds on the mean latencies of its callees (heldLowerBound
// says why each term is one).
func callsLowerBound(t *topology.Topology, s *topology.Service, latency []float64) float64 {
	branch := func(c *topology.Call) float64 {
		return c.Probability * float64(c.Count) * latency[t.Index(c.To)]
	}
	var sum float64
	for i := range s.Calls {
		c := &s.Calls[i]
		if c.Group == nil {
			sum += branch(c)
			continue
		}
		if c.Group.Waits(len(c.Group.Calls)) < len(c.Group.Calls) {
			continue // may end with its fastest branch
		}
		var slowest float64
		for j := range c.Group.Calls {
			slowest = max(slowest, branch(&c.Group.Calls[j]))
		}
		sum += slowest
	}
	return sum
}
