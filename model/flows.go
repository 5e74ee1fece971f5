package model

import "slices"

// A request's route is the depth-first order of its call tree: the visit
// to a service, then each of its calls in order, each call's whole subtree
// before the next; a call with count k is made k times in a row, each time
// with its probability (the semantics of package topology). Calls take no
// time, so a request arrives at its next visit at the instant its previous
// visit ends: seen station by station, the topology is an open network in
// which a request leaves one station and joins the next as in any network
// of queues. The flows between stations are what carries the variability
// of one station's departures to the arrivals of the next (Whitt's QNA,
// qna.go), and the flow from a station back to itself is the immediate
// feedback whose visits are correlated (runs.go).
//
// The flow from i to j is the rate of transitions from a visit at i to a
// visit at j: the arrival rate times the expected number of such
// consecutive pairs in one request's route, which the routing semantics
// give exactly (linearity of expectation over the call tree).

// flowTo is a flow out of a station's departures.
type flowTo struct {
	to   int     // index of the service visited next; -1: the request leaves
	rate float64 // requests per second
}

// flows are the rates between consecutive visits, summed over the
// workload's entries.
type flows struct {
	external []float64  // external[i]: requests arriving from outside at i
	out      [][]flowTo // out[i]: where the visits that end at i go next, by destination
}

// self is the rate of immediate returns to station i: a visit at i
// followed at once by another visit at i.
func (f *flows) self(i int) float64 {
	for _, o := range f.out[i] {
		if o.to == i {
			return o.rate
		}
	}
	return 0
}

// weighted is one entry of a sparse probability vector over stations.
type weighted struct {
	s int
	p float64
}

// transition is an expected number w of consecutive visits from station
// from to station to.
type transition struct {
	from, to int
	w        float64
}

// routes holds, for every service s, what its own calls add to a route,
// per visit to s: the transitions its calls make (from the visit before
// each call to the callee), and the distribution of the station where the
// whole subtree of s ends. Neither depends on the rates.
type routes struct {
	local [][]transition // local[s]: transitions made by s's calls, per visit to s
	last  [][]weighted   // last[s]: P(the subtree of s ends with a visit at each station)
}

// newRoutes derives the routes of n's call graph, callees first. Its
// expected counts are exact: a call made k times in a row, each with
// probability p, is followed after j of its repetitions by the subtree's
// last station with probability 1 - (1-p)^j and otherwise by wherever the
// route was before it, and the repetitions' transitions into the callee
// sum these.
func newRoutes(n *Network) routes {
	ns := len(n.calls)
	r := routes{local: make([][]transition, ns), last: make([][]weighted, ns)}
	pi := make([]float64, ns) // the current distribution of the route's last station, dense
	var touched []int
	add := func(s int, v float64) {
		if pi[s] == 0 && v != 0 {
			touched = append(touched, s)
		}
		pi[s] += v
	}
	for i := len(n.order) - 1; i >= 0; i-- { // callees first
		s := n.order[i]
		touched = touched[:0]
		add(s, 1)
		var local []transition
		for ci := 0; ci < len(n.calls[s]); ci++ {
			c := n.calls[s][ci]
			if c.group >= 0 {
				// A group: every branch starts from where the route was,
				// and the route goes on from where the branches end.
				g := &n.groups[s][c.group]
				ci += len(g.branches) - 1
				local = groupTransitions(local, g, r.last, touched, pi, add)
				continue
			}
			if c.p == 0 {
				continue
			}
			k := float64(c.count)
			// After j repetitions the route is at its earlier station with
			// probability (1-p)^j; the k repetitions start from there
			// S = sum_{j<k} (1-p)^j times in all, and from the callee's last
			// station k - S times.
			stay := pow(1-c.p, c.count)
			sum := k
			if c.p != 1 && stay != 1 {
				sum = (1 - stay) / c.p
			}
			if c.p == 1 {
				sum, stay = 1, 0
			}
			lastTo := r.last[c.to]
			for _, u := range touched {
				if pi[u] != 0 {
					local = append(local, transition{u, c.to, c.p * sum * pi[u]})
				}
			}
			if k > sum {
				for _, w := range lastTo {
					local = append(local, transition{w.s, c.to, c.p * (k - sum) * w.p})
				}
			}
			for _, u := range touched {
				pi[u] *= stay
			}
			for _, w := range lastTo {
				add(w.s, (1-stay)*w.p)
			}
		}
		last := make([]weighted, 0, len(touched))
		for _, u := range touched {
			if pi[u] > 0 {
				last = append(last, weighted{u, pi[u]})
			}
			pi[u] = 0
		}
		slices.SortFunc(last, func(a, b weighted) int { return a.s - b.s })
		r.last[s], r.local[s] = last, mergeTransitions(local)
	}
	return r
}

// groupTransitions adds group g's transitions to local and moves the
// route's distribution pi on past it. A group forks: each branch made
// (probability p) starts from the station the route was at, its count
// repetitions after the first from the callee's last station; the route
// then goes on from one of the branches' last stations, each branch
// weighted by its probability (the branch that answers k-th is not
// followed; an approximation, as is the fork itself, which makes one
// departure into several arrivals at once: the flows out of a station
// then sum to more than its departures, as in QNA's multiplicative flows,
// Whitt 1983, §2). With no branch made, the route stays where it was.
func groupTransitions(local []transition, g *callGroup, last [][]weighted, touched []int, pi []float64, add func(int, float64)) []transition {
	stay, sum := 1.0, 0.0
	for _, b := range g.branches {
		stay *= 1 - b.p
		sum += b.p
	}
	if sum == 0 {
		return local
	}
	for _, b := range g.branches {
		if b.p == 0 {
			continue
		}
		for _, u := range touched {
			if pi[u] != 0 {
				local = append(local, transition{u, b.to, b.p * pi[u]})
			}
		}
		if b.count > 1 {
			for _, w := range last[b.to] {
				local = append(local, transition{w.s, b.to, b.p * float64(b.count-1) * w.p})
			}
		}
	}
	for _, u := range touched {
		pi[u] *= stay
	}
	for _, b := range g.branches {
		for _, w := range last[b.to] {
			add(w.s, (1-stay)*b.p/sum*w.p)
		}
	}
	return local
}

// mergeTransitions adds up the transitions between the same two stations.
func mergeTransitions(ts []transition) []transition {
	slices.SortFunc(ts, func(a, b transition) int {
		if a.from != b.from {
			return a.from - b.from
		}
		return a.to - b.to
	})
	out := ts[:0]
	for _, t := range ts {
		if k := len(out) - 1; k >= 0 && out[k].from == t.from && out[k].to == t.to {
			out[k].w += t.w
			continue
		}
		out = append(out, t)
	}
	return out
}

// flowsAt returns the flows of n at the arrival rates lambda of its
// stations: each service's local transitions happen once per visit to it,
// and each entry's requests arrive from outside at the entry and leave
// from the last station of its subtree.
func (n *Network) flowsAt(lambda []float64) flows {
	ns := len(n.calls)
	f := flows{external: make([]float64, ns), out: make([][]flowTo, ns)}
	acc := make([]map[int]float64, ns)
	put := func(from, to int, rate float64) {
		if rate == 0 {
			return
		}
		if acc[from] == nil {
			acc[from] = map[int]float64{}
		}
		acc[from][to] += rate
	}
	for s, ts := range n.routes.local {
		if lambda[s] == 0 {
			continue
		}
		for _, t := range ts {
			put(t.from, t.to, lambda[s]*t.w)
		}
	}
	for e, w := range n.topo.Workload {
		entry := n.entries[e]
		f.external[entry] += w.Rate
		for _, l := range n.routes.last[entry] {
			put(l.s, -1, w.Rate*l.p)
		}
	}
	for i, m := range acc {
		for to, rate := range m {
			f.out[i] = append(f.out[i], flowTo{to, rate})
		}
		slices.SortFunc(f.out[i], func(a, b flowTo) int { return a.to - b.to })
	}
	return f
}
