package model

import (
	"fmt"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// A service of n replicas is n stations of its Servers workers each, and
// its callers spread their requests over them (topology.Balancer). The
// replicas are alike and every balancer treats them alike, so each
// receives 1/n of the service's arrivals and has the same figures: the
// model evaluates one replica, a station at λ/n, and the service's
// per-visit figures are that replica's. How the balancer splits the
// arrivals decides what each replica sees:
//
//   - random: an independent split of the arrivals, which keeps a Poisson
//     stream Poisson (thinning: S. M. Ross, Stochastic Processes, 2nd ed.,
//     1996, Prop. 2.3.2) and in general gives c² = 1 + (c_a² − 1)/n (QNA's
//     Bernoulli splitting with q = 1/n, W. Whitt, "The Queueing Network
//     Analyzer", Bell System Technical Journal 62(9), 1983; qna.go). A
//     Jackson network
//     with random routing between the replicas keeps its product form, so
//     everything exact without replicas stays exact.
//   - round-robin: each caller sends a replica every n-th of its
//     requests: from one Poisson caller, Erlang-n interarrival times, and
//     with exponential service the replica is an E_n/M/c queue, solved
//     exactly by GI/M/c theory (gimc.go). Every n-th point of a renewal
//     stream of SCV c² is a renewal stream of SCV c²/n (its intervals are
//     sums of n independent ones); the streams of several callers
//     superpose by QNA's rule with Albin's weight (qna.go), as
//     nearImmediate's fresh arrivals do.
//   - least-requests and power-of-two: the replica's arrivals depend on
//     the state of the replicas, and the wait is approximated (balanced.go).
type replication struct {
	n       int
	policy  topology.Balancer
	callers int // balancers sending to the service (topology.Balancer's callers)
	// exactRR: round-robin from one Poisson caller, exponential service,
	// the worker not held: the replica is exactly an E_n/M/c queue.
	exactRR bool
}

// replicationOf describes how service i's requests reach its replicas, or
// nil for a service of one replica.
func (n *Network) replicationOf(i int) *replication {
	s := n.topo.Services[i]
	if n.reps[i] <= 1 {
		return nil
	}
	calling := n.callingServices(i)
	r := &replication{n: n.reps[i], policy: s.Balancer, callers: n.callersOf(i, calling)}
	onlyExternal := len(calling) == 0 && r.callers == 1
	r.exactRR = r.policy == topology.BalancerRoundRobin && onlyExternal &&
		newServiceTime(s.MeanSeconds(), s.Distribution).exponential() && !n.held[i] &&
		s.Servers <= gimcMaxServers
	return r
}

// gimcMaxServers is the most workers per replica for which round-robin's
// replicas are solved as the exact E_n/M/c queue: the range gimc.go's
// tests cover, where it costs at most milliseconds; its cost grows as c³
// and, in light traffic, as c²/ρ (0.1 s at a thousand workers, seconds in
// light traffic), and capacity plans evaluate it many times. Beyond, QNA's
// view of the same arrivals serves, labelled approximate.
const gimcMaxServers = 256

// callersOf counts the balancers that send requests to service i: one per
// workload entry at it, and one per replica of each of the services
// calling it (topology.Balancer).
func (n *Network) callersOf(i int, calling []int) int {
	callers := 0
	for _, entry := range n.entries {
		if entry == i {
			callers++
		}
	}
	for _, j := range calling {
		callers += n.reps[j]
	}
	return callers
}

// callingServices lists the visited services that call service i.
func (n *Network) callingServices(i int) []int {
	var out []int
	for j := range n.calls {
		if n.lambda[j] == 0 {
			continue
		}
		for _, c := range n.calls[j] {
			if c.to == i {
				out = append(out, j)
				break
			}
		}
	}
	return out
}

// replicaArrivals is what one replica of a replicated service sees of the
// service's arrivals a (of SCV a.ca2), split by its balancer; rho is the
// replicas' utilization, for QNA's superposition weight.
func (r *replication) replicaArrivals(a stationArrivals, rho float64) stationArrivals {
	// Consecutive visits go to the replica the balancer picks, not back to
	// the same queue: no feedback is folded (runs are the service's, not a
	// replica's), and the fresh arrivals' SCV stands.
	out := stationArrivals{ca2: a.ca2}
	n := float64(r.n)
	switch r.policy {
	case topology.BalancerRoundRobin:
		// Every n-th point of each caller's stream: SCV c²/n per caller
		// (the sum of n interarrival times); the callers' streams, alike,
		// superpose with QNA's weight w = 1/(1 + 4(1 − ρ)²(ν − 1)), ν the
		// number of streams (Albin's weight, qna.go), between their own
		// SCV and the Poisson 1 that many independent streams tend to.
		w := r.superposition(rho)
		out.ca2 = w*a.ca2/n + (1 - w)
	default:
		// An independent split (random; and least-requests and
		// power-of-two, whose wait is then approximated from it).
		out.ca2 = 1 + (a.ca2-1)/n
	}
	return out
}

// superposition is QNA's weight for the superposition of the callers'
// round-robin streams at utilization rho (replicaArrivals).
func (r *replication) superposition(rho float64) float64 {
	return 1 / (1 + 4*(1-rho)*(1-rho)*float64(r.callers-1))
}

// balance makes st, one replica of a service at its share of the
// arrivals, the station r's balancer makes of it: round-robin from one
// Poisson caller exactly E_n/M/c; least-requests and power-of-two their
// approximated wait (balanced.go). Random needs nothing more. It records
// how in st.balanced, for the labels.
func (r *replication) balance(st *station) {
	st.repl = r
	if !st.stable || st.lambda == 0 {
		return
	}
	switch {
	case r.exactRR:
		q := newGIMc(erlangArrivals(r.n, st.lambda), st.mmc.Mu, st.servers)
		exponentialWait(st, q.pWait, q.meanWait)
		st.balanced = fmt.Sprintf("the exact E%d/M/%d queue (GI/M/c theory: Gross et al. 2008, §5.3)", r.n, st.servers)
	case r.policy == topology.BalancerRoundRobin:
		st.balanced = fmt.Sprintf("round-robin's split of each caller's stream, every %s request to a replica (SCV c²/%d), superposed over %d callers (Whitt's QNA)", ordinal(r.n), r.n, r.callers)
	case r.policy == topology.BalancerLeastRequests || r.policy == topology.BalancerPowerOfTwo:
		w := approxBalancedWait(r.policy, r.n, st.servers, st.mmc.Utilization(), st.service.mean, st.service.scv, r.callers)
		st.balanced = w.method
		// The approximated P(wait) and mean, and the wait's shape,
		// through its transform (balancedWait.lst); the exponential with
		// the same mean serves as the variance's scale (sojournVariance).
		exponentialWait(st, w.pWait, w.meanWait)
		st.bal = &w
	}
}

// exponentialWait makes st's wait 0 with probability 1 − pWait, else
// exponential with the mean that gives the mean wait: the form of the
// M/M/c wait, which the exact station's transforms read (station.go).
func exponentialWait(st *station, pWait, meanWait float64) {
	st.pk, st.md, st.fast, st.stretch, st.scale = false, nil, false, 1, 1
	st.pWait, st.meanWait, st.theta = pWait, meanWait, 0
	if pWait > 0 && meanWait > 0 {
		st.theta = pWait / meanWait
	}
}

// random reports whether r splits at random, as a service of one replica
// (nil) trivially does.
func (r *replication) random() bool { return r == nil || r.policy == topology.BalancerRandom }

// phrase is what the labels add for a service of several replicas chosen
// at random: why each replica is the station named.
func (r *replication) phrase() string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("; each of its %d replicas is such a station at 1/%d of the arrivals, which a random split keeps Poisson (thinning)", r.n, r.n)
}

// balancedLabels labels the per-visit figures of service i, whose replicas
// a round-robin, least-requests or power-of-two balancer chooses.
func (n *Network) balancedLabels(i int) (result.Labels, map[string]string) {
	st := &n.stations[i]
	r := st.repl
	name := n.topo.Services[i].Name
	if r.exactRR {
		return everyFigureExact(fmt.Sprintf("%s: its one caller, a Poisson stream, sends each of the %d replicas every %s request, so each replica sees Erlang-%d interarrival times and exponential service", st.balanced, r.n, ordinal(r.n), r.n)), nil
	}
	var why string
	switch {
	case r.policy == topology.BalancerRoundRobin && r.callers > 1:
		why = fmt.Sprintf("%d callers each send a replica of %s every %s of their requests: the superposition of their streams is not a renewal process", r.callers, name, ordinal(r.n))
	case r.policy == topology.BalancerRoundRobin:
		why = fmt.Sprintf("round-robin splits a stream that is not Poisson, or %s's service times are not exponential: no exact solution of the replica's GI/G/c queue", name)
	default:
		why = fmt.Sprintf("%s sends each request by the replicas' state (requests in flight): no exact solution of a replica's queue is known", r.policy)
	}
	class := "balancer: " + string(r.policy) + "/" + loadBand(st.mmc.Utilization())
	l := result.Label{Basis: st.balanced, Why: why}
	l.Error = accuracyError(class, meanMetric(result.FigMeanResponse))
	p := l
	p.Error = accuracyError(class, percentileMetrics)
	return result.Labels{
		result.FigWaitProbability: l,
		result.FigMeanWait:        l,
		result.FigMeanResponse:    l,
		result.FigPercentiles:     p,
	}, map[string]string{result.FigMeanResponse: class, result.FigPercentiles: class}
}

// ordinal is n as an English ordinal: 2nd, 3rd, 11th, 21st.
func ordinal(n int) string {
	suffix := "th"
	switch n % 10 {
	case 1:
		suffix = "st"
	case 2:
		suffix = "nd"
	case 3:
		suffix = "rd"
	}
	if n%100 >= 11 && n%100 <= 13 {
		suffix = "th"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// lst is the Laplace–Stieltjes transform of the balanced wait W: 0 with
// probability 1 − alpha, else stretch/rate times the sum of u unit
// exponentials, u drawn from the mixture of parts, so that given u the
// wait is Erlang-u of rate r = rate/stretch, with transform (r/(r + z))^u
// (balancedWait's own definition, balanced.go).
func (b *balancedWait) lst(z complex128) complex128 {
	r := complex(b.rate/b.stretch, 0)
	e := r / (r + z)
	var sum complex128
	for i, d := range b.parts {
		sum += complex(b.w[i], 0) * d.lst(e)
	}
	return complex(1-b.alpha, 0) + complex(b.alpha, 0)*sum
}

// lst is E[e^u] for u of distribution d, at e = r/(r + z): the head's
// terms, and the geometric tail summed, tail·e^{K+1}/(1 − σe).
func (d orderDist) lst(e complex128) complex128 {
	var sum, pow complex128 = 0, 1
	for _, p := range d.head {
		sum += complex(p, 0) * pow
		pow *= e
	}
	return sum + complex(d.tail, 0)*pow/(1-complex(d.sigma, 0)*e)
}
