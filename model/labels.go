package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kendallqn/kendall/result"
)

// Every figure the model prints carries a label: exact where a theorem
// covers it for this topology, approximate otherwise, with the reason in
// the user's words. The theorems:
//
//   - Kelly networks (F. P. Kelly, Reversibility and Stochastic Networks,
//     1979, §3.1, Theorem 3.1): when every visited service has exponential
//     service times, the network has product form and each FIFO station
//     behaves as an isolated M/M/c queue at its total arrival rate; arrivals
//     see the time averages (the arrival theorem for open networks, Kelly
//     1979, §3.2), so every per-visit figure of every station is exact,
//     and so is every end-to-end mean (a sum of per-visit means).
//   - Burke's theorem (P. J. Burke, "The output of a queuing system",
//     Operations Research 4(6), 1956): the departures of an M/M/c queue
//     fed by Poisson arrivals are Poisson. With the independent thinning
//     and merging of Poisson processes, it says which stations are fed by
//     Poisson arrivals in a network that is not all exponential; there the
//     single-station formulas (Pollaczek–Khinchine for M/G/1) are exact.
//   - Reich's theorem (E. Reich, "Waiting times when queues are in tandem",
//     Ann. Math. Statist. 28(3), 1957; Burke 1968 for the independence of
//     the sojourns): the sojourn times of a customer at successive
//     single-server exponential FIFO queues in tandem are independent, so
//     the end-to-end distribution, which the model computes as if the
//     visits were independent, is exact for such a chain.
//
// Anything else is approximate, and the label says why, names the
// approximation, and gives the error the accuracy table measured for such
// figures (Error, from accuracy_gen.go; accuracy.go says how figures are
// grouped into classes).

// labels sets the labels of every figure of p, the prediction of n.
func (n *Network) labels(p *result.Prediction) {
	ls := n.labelSet()
	for i := range p.Services {
		if ls.services[i] == nil {
			continue
		}
		p.Services[i].Labels = ls.services[i]
		p.Services[i].Approximate = ls.services[i].Approximate()
	}
	for e := range p.Entries {
		if ls.entries[e] == nil {
			continue
		}
		p.Entries[e].Labels = ls.entries[e]
		if ls.entries[e].Approximate() {
			p.Approximate = true
		}
	}
	for _, s := range p.Services {
		if s.Approximate {
			p.Approximate = true
		}
	}
}

// labelSet is the labels of every figure of a network with the accuracy
// class of each approximate one; nil for figures not computed (a service
// never visited, an unstable network).
type labelSet struct {
	services, entries            []result.Labels
	serviceClasses, entryClasses []map[string]string // figure name → class; absent when exact
}

func (n *Network) labelSet() labelSet {
	t := n.topo
	ls := labelSet{
		services:       make([]result.Labels, len(t.Services)),
		entries:        make([]result.Labels, len(t.Workload)),
		serviceClasses: make([]map[string]string, len(t.Services)),
		entryClasses:   make([]map[string]string, len(t.Workload)),
	}
	if !n.stable {
		return ls
	}
	kelly := n.kelly()
	poisson := n.poissonArrivals()
	exactStation := make([]bool, len(t.Services)) // mean and percentiles exact
	for i := range t.Services {
		if n.stations[i].lambda == 0 {
			continue
		}
		l, c := n.serviceLabels(i, kelly, poisson[i])
		exactStation[i] = l[result.FigMeanResponse].Exact && l[result.FigPercentiles].Exact
		ls.services[i], ls.serviceClasses[i] = l, c
	}
	for e := range t.Workload {
		ls.entries[e], ls.entryClasses[e] = n.entryLabels(e, ls.services, ls.serviceClasses, exactStation)
	}
	return ls
}

// kelly reports whether every visited service has exponential service
// times, and every service of several replicas has them chosen at random:
// the network is then a Kelly network, each replica a station of it
// (random routing keeps the product form).
func (n *Network) kelly() bool {
	for i := range n.stations {
		if st := &n.stations[i]; st.lambda > 0 && (!st.exact || !st.repl.random()) {
			return false
		}
	}
	return true
}

// poissonArrivals reports, for each service, whether its arrivals are a
// Poisson process: external arrivals are; the calls a service makes at
// the moment its own service ends are Poisson when it is an M/M/c queue
// fed by Poisson arrivals (Burke), thinned independently by the call's
// probability; and independent Poisson streams merge into one. A service
// fed by one such stream, with or without its own external arrivals (an
// independent stream: the call graph is acyclic), has Poisson arrivals.
// Calls made after another call has returned, or more than once in a row,
// follow the callee's completions, which are not Poisson; and streams from
// two callers are not independent in general.
func (n *Network) poissonArrivals() []bool {
	t := n.topo
	type source struct{ from, index, count int }
	into := make([][]source, len(t.Services))
	for u := range t.Services {
		for _, c := range n.calls[u] {
			// A group's branches are all made at the instant of their
			// position: a first group's, at the caller's departures.
			into[c.to] = append(into[c.to], source{u, c.pos, c.count})
		}
	}
	poisson := make([]bool, len(t.Services))
	for _, s := range n.order { // callers first
		switch src := into[s]; {
		case len(src) == 0:
			poisson[s] = true // external arrivals only
		case len(src) == 1:
			c := src[0]
			poisson[s] = c.index == 0 && c.count == 1 && poisson[c.from] && n.stations[c.from].exact
		}
		// A random split of a Poisson stream is Poisson at every replica
		// (thinning); the other balancers' splits are not.
		if !n.repl[s].random() {
			poisson[s] = false
		}
	}
	return poisson
}

// serviceLabels labels the per-visit figures of service i and gives the
// accuracy class of each approximate one.
func (n *Network) serviceLabels(i int, kelly, poisson bool) (result.Labels, map[string]string) {
	st := &n.stations[i]
	m := st.method()
	name := n.topo.Services[i].Name
	if kelly {
		return everyFigureExact("M/M/c station of a Kelly network (product form)" + st.repl.phrase()), nil
	}
	if !st.repl.random() {
		return n.balancedLabels(i)
	}
	if n.spaced[i] {
		basis := fmt.Sprintf("no wait at all: every arrival is a departure of %s, whose deterministic service, as long or longer on no more workers, spaces the arrivals so that a worker is always free (a sample-path argument); the sojourn is the service time", n.topo.Services[n.spacedFrom(i)].Name)
		return everyFigureExact(basis), nil
	}
	if n.boundedBy[i] {
		basis := fmt.Sprintf("no wait at all: every request at %s is a call made by a worker held across it (hold: true), and those workers can never have more calls at %s under way than it has workers (a sample-path argument); the sojourn is the service time", name, name)
		return everyFigureExact(basis), nil
	}
	band := loadBand(st.mmc.Utilization())
	classes := map[string]string{}
	waitLabel := result.Label{Exact: m.waitExact && poisson, Basis: m.wait}
	shapeLabel := result.Label{Exact: m.shapeExact && poisson, Basis: m.shape}
	switch {
	case !poisson:
		why := n.notPoissonWhy(i)
		waitLabel.Why, shapeLabel.Why = why, why
		qna := fmt.Sprintf(", with the arrivals' variability carried from station to station by Whitt's Queueing Network Analyzer (arrival SCV %.3g)", st.ca2)
		waitLabel.Basis += qna
		shapeLabel.Basis += qna
		kind := classQNAGeneral
		if st.exact {
			kind = classQNAExponential
		}
		classes[result.FigMeanResponse] = kind + "/" + band
		classes[result.FigPercentiles] = kind + "/" + band
	default:
		if !m.waitExact {
			waitLabel.Why = fmt.Sprintf("%s has %d workers and %s service times: the M/G/c queue has no exact solution", name, st.servers, n.topo.Services[i].Distribution)
			if st.hold != nil {
				waitLabel.Why = fmt.Sprintf("%s has %d workers, each held for its own work and its calls (a holding time of squared coefficient of variation %.2g): the M/G/c queue has no exact solution", name, st.servers, st.service.scv)
			}
			classes[result.FigMeanResponse] = "station: " + m.wait + "/" + band
		}
		if !m.shapeExact {
			shapeLabel.Why = fmt.Sprintf("%s's %s service times enter the percentiles through %s", name, n.topo.Services[i].Distribution, m.shape)
			if st.hold != nil {
				shapeLabel.Why = fmt.Sprintf("%s's holding times enter the percentiles through %s", name, m.shape)
			}
			classes[result.FigPercentiles] = "station: " + m.shape + "/" + band
		}
	}
	// Exact: one basis for every figure, the queue and why its arrivals
	// are Poisson.
	const fed = ", fed by Poisson arrivals (external ones, or the departures of an M/M/c queue: Burke's theorem)"
	if n.held[i] {
		m.queue += " with the worker's holding time (own work plus the calls' latency, whose services never wait: independent holding times) as its service time"
	}
	if waitLabel.Exact {
		waitLabel.Basis = m.queue + fed + st.repl.phrase()
	}
	if shapeLabel.Exact {
		shapeLabel.Basis = m.queue + fed + st.repl.phrase()
	}
	if n.held[i] && !n.callsNeverWait(i) {
		why := n.heldWhy(i)
		for _, l := range []*result.Label{&waitLabel, &shapeLabel} {
			if l.Exact {
				l.Basis = m.queue + " with the worker's holding time (own work plus the calls' latency) as its service time (the method of layers, Rolia and Sevcik 1995)"
			}
			l.Exact = false
			l.Why = joinWhy(l.Why, why)
		}
		classes[result.FigMeanResponse] = classHold + "/" + band
		classes[result.FigPercentiles] = classHold + "/" + band
	}
	waitLabel.Error = accuracyError(classes[result.FigMeanResponse], meanMetric(result.FigMeanResponse))
	shapeLabel.Error = accuracyError(classes[result.FigPercentiles], percentileMetrics)
	return result.Labels{
		result.FigWaitProbability: waitLabel,
		result.FigMeanWait:        waitLabel,
		result.FigMeanResponse:    waitLabel,
		result.FigPercentiles:     shapeLabel,
	}, classes
}

// notPoissonWhy says in words why the arrivals at service i are not
// Poisson.
func (n *Network) notPoissonWhy(i int) string {
	t := n.topo
	name := t.Services[i].Name
	var callers []string
	for u := range t.Services {
		for _, c := range n.calls[u] {
			if c.to != i {
				continue
			}
			j := c.pos
			callers = append(callers, t.Services[u].Name)
			switch {
			case c.count > 1:
				return fmt.Sprintf("%s calls %s %d times in a row, so its calls follow %s's own completions, which are not Poisson", t.Services[u].Name, name, c.count, name)
			case j > 0:
				return fmt.Sprintf("%s calls %s after an earlier call has returned, so these arrivals follow that call's completions, which the model does not show to be Poisson", t.Services[u].Name, name)
			case !n.stations[u].exact:
				return fmt.Sprintf("%s's arrivals are the departures of %s, whose %s service times make them not Poisson", name, t.Services[u].Name, t.Services[u].Distribution)
			}
		}
	}
	if len(callers) > 1 {
		slices.Sort(callers)
		return fmt.Sprintf("%s's arrivals merge the calls of %s, which the model does not show to be independent Poisson streams", name, listNames(slices.Compact(callers)))
	}
	if len(callers) == 1 {
		return fmt.Sprintf("%s's arrivals come from %s, whose own arrivals the model does not show to be Poisson", name, callers[0])
	}
	return fmt.Sprintf("%s's arrivals are not Poisson", name)
}

// entryLabels labels the end-to-end figures of workload entry e and gives
// the accuracy class of each approximate one.
func (n *Network) entryLabels(e int, services []result.Labels, serviceClasses []map[string]string, exactStation []bool) (result.Labels, map[string]string) {
	t := n.topo
	reach := n.reach[e]
	classes := map[string]string{}
	var inexact []string
	inexactRho := 0.0
	for _, s := range reach {
		if !services[s][result.FigMeanResponse].Exact {
			inexact = append(inexact, t.Services[s].Name)
			inexactRho = max(inexactRho, n.stations[s].mmc.Utilization())
		}
	}
	mean := result.Label{Exact: true, Basis: "the sum of the mean sojourns of the visits (linearity of expectation)"}
	if len(inexact) > 0 {
		mean.Exact = false
		mean.Why = fmt.Sprintf("the mean sojourn at %s is approximate (see the service)", listNames(inexact))
		classes[result.FigMean] = classStations + "/" + loadBand(inexactRho)
		if len(reach) == 1 {
			classes[result.FigMean] = serviceClasses[reach[0]][result.FigMeanResponse]
		}
	}

	pct := result.Label{Basis: "the call tree's latency with its visits independent, by numerical inversion of its Laplace transform (Abate and Whitt)"}
	entry := n.entries[e]
	switch {
	case len(reach) == 1:
		pct.Exact = exactStation[entry]
		pct.Basis = "the sojourn at " + t.Services[entry].Name + ", which makes no calls"
		if !pct.Exact {
			pct.Why = services[entry][result.FigPercentiles].Why
			classes[result.FigPercentiles] = serviceClasses[entry][result.FigPercentiles]
		}
	case n.oneRandomSojourn(e, exactStation):
		pct.Exact = true
		pct.Basis = "the sojourn at the one service whose sojourn is random, plus the constant sojourns of the others (deterministic services that never wait), by numerical inversion of the Laplace transform"
	case n.reichChain(e):
		pct.Exact = true
		pct.Basis = "a chain of single-worker exponential services, whose sojourns are independent (Reich's theorem), by numerical inversion of the Laplace transform"
	default:
		why, kind, rho := n.dependenceWhy(e, exactStation)
		pct.Why = why
		pct.Basis = n.correlatedBasis(e)
		classes[result.FigPercentiles] = kind + "/" + loadBand(rho)
	}
	n.groupLabels(e, &mean, &pct, classes, exactStation)
	if n.reachesBalanced(e, services) {
		for fig, class := range classes {
			if rest, ok := strings.CutPrefix(class, classStations+"/"); ok {
				classes[fig] = classBalancedStations + "/" + rest
			}
		}
	}
	mean.Error = accuracyError(classes[result.FigMean], meanMetric(result.FigMean))
	pct.Error = accuracyError(classes[result.FigPercentiles], percentileMetrics)
	return result.Labels{result.FigMean: mean, result.FigPercentiles: pct}, classes
}

// entryRuns are the runs of consecutive visits (runs.go) that the requests
// of an entry make.
type entryRuns struct {
	phrases []string     // "catalog calls db 2 times in a row"
	callees []string     // the services the runs visit
	covered map[int]bool // services all of whose repeated visits are one run
	single  bool         // some run visits a service with one worker
	multi   bool         // some run visits a service with several workers
	rho     float64      // the utilization of the busiest service a run visits
}

// runsOf finds the runs of entry e. A service is covered when a request
// reaches it through one run only, made by a caller it visits once: then
// its only repeated visits are the run's, whose correlation the model
// follows.
func (n *Network) runsOf(e int) entryRuns {
	t := n.topo
	r := entryRuns{covered: map[int]bool{}}
	into := map[int]int{} // calls and runs into each service
	var runInto []int
	for _, u := range n.reach[e] {
		for _, it := range n.items[u] {
			if it.run == nil {
				into[it.to]++
				continue
			}
			run := it.run
			into[run.to]++
			st := &n.stations[run.to]
			phrase := fmt.Sprintf("%s calls %s %d times in a row", t.Services[u].Name, t.Services[run.to].Name, run.k)
			if run.pmf != nil {
				phrase = fmt.Sprintf("%s calls %s up to %d times in a row", t.Services[u].Name, t.Services[run.to].Name, run.k)
			}
			r.phrases = append(r.phrases, phrase)
			r.callees = append(r.callees, t.Services[run.to].Name)
			r.rho = max(r.rho, st.mmc.Utilization())
			r.multi = r.multi || st.servers > 1
			r.single = r.single || st.servers == 1
			if n.visits[e][u] <= 1+1e-12 {
				runInto = append(runInto, run.to)
			}
		}
	}
	for _, s := range runInto {
		r.covered[s] = into[s] == 1
	}
	slices.Sort(r.callees)
	r.callees = slices.Compact(r.callees)
	return r
}

// correlatedBasis is the basis of the end-to-end percentiles of entry e:
// the call tree's transform with its visits independent but for those
// whose correlation the model follows, runs (runs.go) and visits by
// several paths (shared.go).
func (n *Network) correlatedBasis(e int) string {
	const tree = "the call tree's latency by numerical inversion of its Laplace transform (Abate and Whitt)"
	r := n.runsOf(e)
	var shared []string
	for _, l := range n.shared[e] {
		shared = append(shared, n.topo.Services[l.s].Name)
	}
	if len(r.callees) == 0 && len(shared) == 0 {
		return tree + ", its visits independent"
	}
	var parts []string
	if len(r.callees) > 0 {
		var how []string
		if r.single {
			how = append(how, "for one worker, Takács's single-server feedback queue (Bell Syst. Tech. J. 42, 1963), exact for an exponential worker whose customers return independently")
		}
		if r.multi {
			how = append(how, "for several workers, the run's waits taken as a mixture of independent and all equal, weighted to a heavy-traffic estimate of their covariance (a heuristic, between those two bounds)")
		}
		parts = append(parts, fmt.Sprintf("the consecutive visits to %s, which follow the queue from one visit to the next: %s", listNames(r.callees), strings.Join(how, "; ")))
	}
	if len(shared) > 0 {
		parts = append(parts, fmt.Sprintf("the visits to %s by several paths, taken together as a mixture of their waits independent and all equal, weighted to a heavy-traffic estimate of their covariance that decays over the time between them with the queue's relaxation time (Morse, Operations Research 3, 1955): a heuristic, between those two bounds", listNames(shared)))
	}
	return tree + ", its visits independent except " + strings.Join(parts, "; and ")
}

// oneRandomSojourn reports whether the requests of entry e visit at most
// one service, at most once, whose sojourn is random, every other visit
// taking a constant time (a deterministic service that never waits,
// spacedArrivals), and every station's figures exact: the latency is then
// that one sojourn plus constants, whatever the calls' probabilities,
// which are drawn independently of everything.
func (n *Network) oneRandomSojourn(e int, exactStation []bool) bool {
	random := 0
	for _, s := range n.reach[e] {
		if !exactStation[s] {
			return false
		}
		if !n.spaced[s] {
			random++
			if random > 1 || n.visits[e][s] > 1 {
				return false
			}
		}
	}
	return true
}

// spacedFrom is the one station whose departures feed spaced station i.
func (n *Network) spacedFrom(i int) int {
	for j, outs := range n.flows.out {
		for _, o := range outs {
			if o.to == i {
				return j
			}
		}
	}
	return -1
}

// reichChain reports whether the requests of entry e follow one path of
// single-worker exponential services, each service after the first
// reached only from its predecessor on the path (its only other arrivals,
// if any, external and independent): a tandem of ·/M/1 queues, where
// Reich's theorem makes the sojourns independent.
func (n *Network) reichChain(e int) bool {
	callers := make([]int, len(n.stations))
	for u := range n.calls {
		for _, c := range n.calls[u] {
			callers[c.to]++
		}
	}
	s := n.entries[e]
	for first := true; ; first = false {
		st := &n.stations[s]
		if !st.exact || st.servers != 1 || (!first && callers[s] != 1) {
			return false
		}
		calls := n.calls[s]
		if len(calls) == 0 {
			return true
		}
		if len(calls) > 1 || calls[0].count != 1 || calls[0].p != 1 || calls[0].group >= 0 || n.held[s] {
			return false
		}
		s = calls[0].to
	}
}

// dependenceWhy says in words why the end-to-end distribution of entry e
// is approximate, the main reason first, with its accuracy class and the
// utilization of the busiest station concerned: repeated visits the model
// treats as independent, then runs of consecutive visits whose correlation
// it follows, then approximate stations, then the dependence between the
// visits of branching calls and several workers.
func (n *Network) dependenceWhy(e int, exactStation []bool) (why, kind string, rho float64) {
	t := n.topo
	util := func(s int) float64 { return n.stations[s].mmc.Utilization() }
	runs := n.runsOf(e)
	followed := map[int]bool{} // visited by several paths, followed by shared.go
	var followedNames []string
	for _, l := range n.shared[e] {
		followed[l.s] = true
		followedNames = append(followedNames, fmt.Sprintf("%s %d times", t.Services[l.s].Name, l.m))
		rho = max(rho, util(l.s))
	}
	var repeated []string
	shared := false
	for _, s := range n.reach[e] {
		if runs.covered[s] || followed[s] {
			continue
		}
		if v := n.visits[e][s]; v > 1+1e-12 {
			repeated = append(repeated, fmt.Sprintf("%s %.3g times", t.Services[s].Name, v))
			rho = max(rho, util(s))
			shared = shared || n.paths(e, s) > 1
		} else if n.paths(e, s) > 1 {
			repeated = append(repeated, fmt.Sprintf("%s by more than one path", t.Services[s].Name))
			rho = max(rho, util(s))
			shared = true
		}
	}
	var reasons []string
	if len(repeated) > 0 {
		kind = classRepeated
		if shared {
			kind = classShared
		}
		reasons = append(reasons, fmt.Sprintf("a request visits %s on average; its visits to one service see the same queue, so their waits are correlated, and the model treats them as independent but for the visits made one right after another", listNames(repeated)))
	}
	if len(followedNames) > 0 {
		if kind == "" {
			kind = classSharedFollowed
		}
		reasons = append(reasons, fmt.Sprintf("a request visits %s by different calls; its visits see much the same queue, so their sojourns are correlated, which the model follows approximately", listNames(followedNames)))
	}
	if len(runs.phrases) > 0 {
		if kind == "" {
			kind = classRunsSingle
			if runs.multi {
				kind = classRunsMulti
			}
			rho = runs.rho
		}
		reasons = append(reasons, fmt.Sprintf("%s: the visits of such a run see the same queue one after another, so their sojourns are correlated, which the model follows approximately", listNames(runs.phrases)))
	}
	if len(reasons) > 0 {
		return strings.Join(reasons, "; "), kind, rho
	}
	var approx []string
	for _, s := range n.reach[e] {
		if !exactStation[s] {
			approx = append(approx, t.Services[s].Name)
			rho = max(rho, util(s))
		}
	}
	if len(approx) > 0 {
		return fmt.Sprintf("the sojourns at %s are approximate (see the services)", listNames(approx)), classStations, rho
	}
	var multi []string
	for _, s := range n.reach[e] {
		rho = max(rho, util(s))
		if n.stations[s].servers > 1 {
			multi = append(multi, t.Services[s].Name)
		}
	}
	if len(multi) > 0 {
		return fmt.Sprintf("the sojourns of one request at %s (several workers) and the services after them are not independent in general; the model treats them as independent, which is exact only for a chain of single-worker services (Reich)", listNames(multi)), classIndependent, rho
	}
	return "the request's calls branch or join traffic from other callers, so its sojourns are not independent in general; the model treats them as independent, which is exact only for a chain of single-worker services (Reich)", classIndependent, rho
}

// paths counts the call edges into service s from services entry e
// reaches, which is more than one when s is reached by two paths.
func (n *Network) paths(e, s int) int {
	count := 0
	for _, u := range n.reach[e] {
		for _, c := range n.calls[u] {
			if c.to == s {
				count++
			}
		}
	}
	return count
}

// listNames writes names as "a", "a and b", "a, b and c".
func listNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// everyFigureExact labels every figure of a service exact, on one basis.
func everyFigureExact(basis string) result.Labels {
	return result.Labels{
		result.FigWaitProbability: {Exact: true, Basis: basis},
		result.FigMeanWait:        {Exact: true, Basis: basis},
		result.FigMeanResponse:    {Exact: true, Basis: basis},
		result.FigPercentiles:     {Exact: true, Basis: basis},
	}
}

// reachesBalanced reports whether entry e's requests visit a service whose
// approximate figures come from its balancer (round-robin beyond its exact
// case, least-requests, power-of-two): its end-to-end figures then have a
// class of their own.
func (n *Network) reachesBalanced(e int, services []result.Labels) bool {
	for _, s := range n.reach[e] {
		if !n.repl[s].random() && !services[s][result.FigMeanResponse].Exact {
			return true
		}
	}
	return false
}
