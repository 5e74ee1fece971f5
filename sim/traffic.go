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
	utilization []float64 // offered: arrivalRate × mean service time / servers
	stable      bool
	maxRate     float64 // largest total rate, in the same mix, below saturation
	bottleneck  int     // service that saturates first; -1 if none is visited
}

// offeredLoad solves the traffic equations of the call graph: the arrival
// rate at a service is the external rate plus, for each caller, the
// caller's rate × probability × count. The graph is acyclic, so one pass in
// topological order solves them (Kleinrock, Queueing Systems Vol. 1, 1975,
// §4.8, the traffic equations of an open network). The largest rate is the
// current one divided by the largest utilization (Lazowska et al.,
// Quantitative System Performance, 1984, §5.2, asymptotic bounds).
func offeredLoad(t *topology.Topology) load {
	n := len(t.Services)
	l := load{arrivalRate: make([]float64, n), utilization: make([]float64, n), stable: true, bottleneck: -1}
	for _, w := range t.Workload {
		l.arrivalRate[t.Index(w.Entry)] += w.Rate
	}
	for _, s := range t.Order() {
		for _, c := range t.Services[s].Calls {
			l.arrivalRate[t.Index(c.To)] += l.arrivalRate[s] * c.Probability * float64(c.Count)
		}
	}
	var maxU float64
	for i, s := range t.Services {
		u := l.arrivalRate[i] * s.MeanSeconds() / float64(s.Servers)
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
