package model

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kendallqn/kendall/internal/numfmt"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// SLO is a target on end-to-end latency: a statistic of it, the mean or a
// percentile, must not exceed Target seconds for any workload entry.
type SLO struct {
	Metric string  `json:"metric"` // "mean", or a Level name: "p50", "p90", "p95", "p99", "p999"
	Target float64 `json:"target"` // seconds
}

func (s SLO) String() string {
	name := s.Metric
	if name == "p999" {
		name = "p99.9"
	}
	return fmt.Sprintf("%s ≤ %v", name, time.Duration(s.Target*float64(time.Second)).Round(time.Microsecond))
}

// ParseSLO reads an SLO written as metric=duration: "p99=50ms", "mean=20ms",
// "p99.9=100ms" (p99.9 and p999 are the same).
func ParseSLO(s string) (SLO, error) {
	metric, target, ok := strings.Cut(s, "=")
	if !ok {
		return SLO{}, fmt.Errorf("SLO %q: write it as metric=duration, e.g. p99=50ms or mean=20ms", s)
	}
	metric = strings.ToLower(strings.TrimSpace(metric))
	if metric == "p99.9" {
		metric = "p999"
	}
	if metric != "mean" && level(metric) < 0 {
		return SLO{}, fmt.Errorf("SLO %q: unknown statistic %q; use mean, p50, p90, p95, p99 or p99.9", s, metric)
	}
	d, err := topology.ParseDuration(target)
	if err != nil {
		return SLO{}, fmt.Errorf("SLO %q: %v", s, err)
	}
	return SLO{Metric: metric, Target: d.Seconds()}, nil
}

// level returns the probability of the named percentile, or -1.
func level(name string) float64 { return result.LevelOf(name) }

// meets reports whether every entry of n meets every SLO. A percentile SLO
// needs no search: P(T > target) <= 1 - p is the same statement as
// quantile(p) <= target, and costs one inversion.
func (n *Network) meets(slos []SLO) bool {
	if !n.stable {
		return false
	}
	for e := range n.topo.Workload {
		d := n.endToEnd(e)
		for _, s := range slos {
			if s.Metric == "mean" {
				if d.mean > s.Target {
					return false
				}
				continue
			}
			if surv, _ := d.survival(s.Target); surv > 1-level(s.Metric) {
				return false
			}
		}
	}
	return true
}

// Statistic returns an end-to-end statistic, "mean" or a Level name, of the
// entry with index e in the workload.
func (n *Network) Statistic(e int, metric string) float64 {
	if metric == "mean" {
		return n.EndToEndMean(e)
	}
	return n.EndToEndQuantile(e, level(metric))
}

// SLORate is the answer to "up to what rate does the topology, as written,
// meet the SLOs?".
type SLORate struct {
	// Rate is the largest total rate, in the workload's mix, at which every
	// entry meets every SLO; 0 when none does, even at a vanishing rate.
	Rate float64 `json:"rate"`
	// Entry and Metric name the SLO that binds at Rate.
	Entry  string `json:"entry"`
	Metric string `json:"metric"`
	// Floor is the binding statistic with no queueing at all (the rate
	// going to zero): no number of workers brings latency below it.
	Floor float64 `json:"floor"`
}

// MaxRateForSLO finds the largest total rate at which every entry of t meets
// every SLO. Each statistic grows with the rate (a station's sojourn is
// stochastically increasing in its arrival rate), so bisection finds it;
// the answer is to a relative precision of 1e-6.
func MaxRateForSLO(ctx context.Context, t *topology.Topology, slos []SLO) (SLORate, error) {
	maxRate, _ := Analyze(t).MaxRate()
	// The search may go below the smallest rate a file may ask for (a
	// topology whose saturation rate is below it), so the workload is
	// scaled here rather than by WithRate, which enforces that range.
	at := func(rate float64) (*Network, error) {
		return Analyze(scaled(t, rate)), nil
	}
	tiny := maxRate * 1e-9 // a rate at which nobody queues
	lo, hi := 0.0, maxRate
	for hi-lo > 1e-6*hi && hi > tiny {
		if err := ctx.Err(); err != nil {
			return SLORate{}, err
		}
		mid := (lo + hi) / 2
		n, err := at(mid)
		if err != nil {
			return SLORate{}, err
		}
		if n.meets(slos) {
			lo = mid
		} else {
			hi = mid
		}
	}
	// Name the binding SLO: the one closest to its target at that rate.
	n, err := at(math.Max(lo, tiny))
	if err != nil {
		return SLORate{}, err
	}
	floor, err := at(tiny)
	if err != nil {
		return SLORate{}, err
	}
	r := SLORate{Rate: lo}
	worst := math.Inf(-1)
	for e, w := range t.Workload {
		for _, s := range slos {
			if ratio := n.Statistic(e, s.Metric) / s.Target; ratio > worst {
				worst = ratio
				r.Entry, r.Metric = w.Entry, s.Metric
				r.Floor = floor.Statistic(e, s.Metric)
			}
		}
	}
	return r, nil
}

// Plan is the fewest workers, service by service, with which a topology
// meets its SLOs at a given rate. A service of one replica is planned in
// workers; one of several replicas in replicas, each of its Servers
// workers (topology.Service.ScalesOut). Total and Current count workers.
type Plan struct {
	Rate     float64 `json:"rate"`
	Feasible bool    `json:"feasible"`
	// Reason says why no plan exists when Feasible is false.
	Reason  string        `json:"reason,omitempty"`
	Total   int           `json:"total_servers"`   // planned workers in all
	Current int           `json:"current_servers"` // workers in the file in all
	Changes []PlanService `json:"services"`
	// Prediction is the model's prediction with the planned workers.
	Prediction *result.Prediction `json:"prediction,omitempty"`
}

// PlanService is one service's capacity now and in the plan, in its
// units: workers, or replicas of Servers workers each when Replicas.
type PlanService struct {
	Name    string `json:"name"`
	Current int    `json:"servers"`
	Planned int    `json:"planned"`
	Change  int    `json:"change"`
	// Replicas says the counts are replicas, each of Servers workers.
	Replicas bool `json:"replicas,omitempty"`
	Servers  int  `json:"servers_per_replica,omitempty"`
}

// workers is what n units of s are in workers.
func workers(s *topology.Service, n int) int {
	if s.ScalesOut() {
		return n * s.Servers
	}
	return n
}

// PlanServers finds the fewest workers with which t meets the SLOs at its
// workload's rate.
//
// It allocates workers one at a time to the service where one more worker
// cuts the mean latency most, each service's gain weighted by its visits
// per request: greedy marginal allocation, which is optimal for a separable
// convex objective (B. Fox, "Discrete optimization via marginal analysis",
// Management Science 13(3), 1966), and the M/M/c mean sojourn is convex in
// the number of servers (B. Dyer and L. Proll, "On the validity of marginal
// analysis for allocating servers in M/M/c queues", Management Science
// 23(9), 1977). For a mean SLO on one entry the plan is therefore the
// fewest workers; for percentile SLOs the allocation order is a heuristic,
// tightened by a final pass that takes back any worker the SLOs do not need.
//
// The search starts from the fewest workers that keep every service stable
// and finds the shortest prefix of the allocation sequence that meets the
// SLOs by doubling and bisection, so it costs a few dozen evaluations of
// the SLOs, not one per worker.
func PlanServers(ctx context.Context, t *topology.Topology, slos []SLO) (*Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	base := Analyze(t)
	p := &Plan{Rate: t.TotalRate()}
	for _, s := range t.Services {
		p.Current += s.Workers()
	}
	b, reason := boundsOf(base)
	if reason == "" && !base.withServers(b.unbounded).meets(slos) {
		reason = "even with no queueing anywhere, the services' own work takes longer than the SLO allows; the services themselves must get faster"
	}
	if reason != "" {
		p.Reason, p.Changes = reason, changes(t, nil)
		return p, nil
	}
	planned, err := b.shortestPrefix(ctx, base, slos)
	if err != nil {
		return nil, err
	}
	if planned == nil {
		p.Reason = "the SLO is not met even with every service far from saturation; it is too close to the latency of the services' own work"
		p.Changes = changes(t, nil)
		return p, nil
	}
	if err := takeBack(ctx, base, slos, planned, b.minimum); err != nil {
		return nil, err
	}
	p.Feasible = true
	p.Changes = changes(t, planned)
	for i, c := range planned {
		p.Total += workers(t.Services[i], c)
	}
	p.Prediction = base.withServers(planned).Predict()
	return p, nil
}

// planBounds are the limits of a worker plan: per service, the fewest
// workers that keep it stable and so many that nobody waits, and the
// weight of a worker there (the service's visits per request).
type planBounds struct {
	minimum, unbounded []int
	weight             []float64
}

// boundsOf finds the bounds of a plan for base, or the reason there is
// none: a service needing more workers than a file may give it.
func boundsOf(base *Network) (planBounds, string) {
	t := base.topo
	b := planBounds{
		minimum:   make([]int, len(t.Services)),
		unbounded: make([]int, len(t.Services)),
		weight:    make([]float64, len(t.Services)),
	}
	var tooMany []string
	for i, s := range t.Services {
		a := base.stations[i].mmc.OfferedLoad()
		if base.stations[i].lambda == 0 {
			b.minimum[i], b.unbounded[i] = s.Units(), s.Units() // never visited: left as written
			continue
		}
		for e := range t.Workload {
			b.weight[i] += base.visits[e][i]
		}
		if s.ScalesOut() {
			// The offered load over all replicas, of the holding time
			// for a service that holds its workers (a replica's station
			// is of it).
			lo, hi, ok := replicaBounds(a*float64(base.reps[i]), s.Servers)
			if !ok {
				tooMany = append(tooMany, fmt.Sprintf("%s needs more than %s replicas of %d workers (its offered load is %.3g workers' worth of work)", s.Name, numfmt.Thousands(topology.MaxReplicas), s.Servers, a*float64(base.reps[i])))
			}
			b.minimum[i], b.unbounded[i] = lo, hi
			continue
		}
		// The plan stays within the workers a file may give a service:
		// beyond that there is no plan to print, and Erlang C, whose cost
		// grows with the workers, would run for minutes.
		if a+1 > topology.MaxServers {
			tooMany = append(tooMany, fmt.Sprintf("%s needs more than %s workers (its offered load is %.3g workers' worth of work)", s.Name, numfmt.Thousands(topology.MaxServers), a))
			continue
		}
		b.minimum[i] = int(math.Floor(a)) + 1
		// Erlang C at a + 10√a + 20 servers is below 1e-20.
		b.unbounded[i] = min(int(math.Ceil(a+10*math.Sqrt(a)+20)), topology.MaxServers)
	}
	if len(tooMany) > 0 {
		return b, strings.Join(tooMany, "; ") + fmt.Sprintf(" at %.4g req/s, the most kendall plans for one service; its service time or its share of the traffic must shrink", t.TotalRate())
	}
	return b, ""
}

// replicaBounds are the fewest replicas of c workers that carry an offered
// load of a workers' worth of work, and so many that nobody waits: each
// replica's load x at most what c workers carry with Erlang C below 1e-20,
// x + 10√x + 20 ≤ c (as for workers, boundsOf), or, for the few workers
// that cannot, a load of 1% per worker, where the wait is about 1% of a
// service time whatever the balancer. ok is false when even the fewest
// are more than a service may have.
func replicaBounds(a float64, c int) (minimum, unbounded int, ok bool) {
	cf := float64(c)
	minimum = int(math.Floor(a/cf)) + 1
	x := 0.01 * cf
	if y := (-10 + math.Sqrt(20+4*cf)) / 2; y > 0 && y*y > x {
		x = y * y
	}
	unbounded = max(minimum, int(math.Ceil(a/x)))
	return min(minimum, topology.MaxReplicas), min(unbounded, topology.MaxReplicas), minimum <= topology.MaxReplicas
}

// shortestPrefix generates the allocation sequence lazily (seq[k] is the
// service that gets the (k+1)-th worker above the minimum) and finds its
// shortest prefix that meets the SLOs, by doubling and then bisection. It
// returns nil when even every service at its unbounded workers does not.
func (b planBounds) shortestPrefix(ctx context.Context, base *Network, slos []SLO) ([]int, error) {
	alloc := &allocator{net: base, weight: b.weight, servers: append([]int(nil), b.minimum...)}
	for i := range base.topo.Services {
		if base.stations[i].lambda > 0 {
			heap.Push(alloc, alloc.candidate(i))
		}
	}
	var seq []int
	config := func(k int) []int {
		for len(seq) < k {
			seq = append(seq, alloc.next())
		}
		c := append([]int(nil), b.minimum...)
		for _, s := range seq[:k] {
			c[s]++
		}
		return c
	}
	ok := func(k int) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return base.withServers(config(k)).meets(slos), nil
	}
	maxK := 0
	for i := range b.unbounded {
		maxK += b.unbounded[i] - b.minimum[i]
	}
	lo, hi := -1, 0 // ok(lo) is false (lo = -1: untested), ok(hi) unknown yet
	for {
		good, err := ok(hi)
		if err != nil {
			return nil, err
		}
		if good {
			break
		}
		lo = hi
		if hi >= maxK {
			return nil, nil
		}
		hi = min(max(2*hi, 1), maxK)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		good, err := ok(mid)
		if err != nil {
			return nil, err
		}
		if good {
			hi = mid
		} else {
			lo = mid
		}
	}
	return config(hi), nil
}

// takeBack removes, service by service, any worker of planned the SLOs do
// not need: percentile SLOs are not separable, so the greedy order may have
// over-provisioned one service.
func takeBack(ctx context.Context, base *Network, slos []SLO, planned, minimum []int) error {
	for i := range planned {
		for planned[i] > minimum[i] {
			if err := ctx.Err(); err != nil {
				return err
			}
			planned[i]--
			if !base.withServers(planned).meets(slos) {
				planned[i]++
				break
			}
		}
	}
	return nil
}

// changes lists each service's capacity now and planned, in its units
// (nil: no plan).
func changes(t *topology.Topology, planned []int) []PlanService {
	out := make([]PlanService, len(t.Services))
	for i, s := range t.Services {
		c := PlanService{Name: s.Name, Current: s.Units(), Planned: s.Units()}
		if s.ScalesOut() {
			c.Replicas, c.Servers = true, s.Servers
		}
		if planned != nil {
			c.Planned = planned[i]
		}
		c.Change = c.Planned - c.Current
		out[i] = c
	}
	return out
}

// allocator is a max-heap of the gain of one more worker at each service:
// of one more unit (a worker, or a replica when the service scales out),
// per worker it adds.
type allocator struct {
	net     *Network
	weight  []float64
	servers []int // units
	items   []gain
}

type gain struct {
	service int
	value   float64 // weighted cut in mean sojourn from one more worker
}

// candidate is the gain of adding a worker to service i now.
func (a *allocator) candidate(i int) gain {
	st := &a.net.stations[i]
	if s := a.net.topo.Services[i]; s.ScalesOut() {
		// One more replica: each of them at a smaller share of the
		// arrivals (split at random here, for the order of allocation
		// only; the plan is judged by the whole model).
		lambda, u := a.net.lambda[i], float64(a.servers[i])
		now := newStationFor(st.service, lambda/u, s.Servers, st.ca2)
		more := newStationFor(st.service, lambda/(u+1), s.Servers, st.ca2)
		return gain{service: i, value: a.weight[i] * (now.meanResponse() - more.meanResponse()) / float64(s.Servers)}
	}
	now := newStationFor(st.service, st.lambda, a.servers[i], st.ca2)
	more := newStationFor(st.service, st.lambda, a.servers[i]+1, st.ca2)
	return gain{service: i, value: a.weight[i] * (now.meanResponse() - more.meanResponse())}
}

// next gives the best service one more worker and returns it.
func (a *allocator) next() int {
	g := heap.Pop(a).(gain)
	a.servers[g.service]++
	heap.Push(a, a.candidate(g.service))
	return g.service
}

func (a *allocator) Len() int { return len(a.items) }
func (a *allocator) Less(i, j int) bool {
	if a.items[i].value != a.items[j].value {
		return a.items[i].value > a.items[j].value
	}
	return a.items[i].service < a.items[j].service // deterministic ties
}
func (a *allocator) Swap(i, j int) { a.items[i], a.items[j] = a.items[j], a.items[i] }
func (a *allocator) Push(x any)    { a.items = append(a.items, x.(gain)) }
func (a *allocator) Pop() any {
	last := a.items[len(a.items)-1]
	a.items = a.items[:len(a.items)-1]
	return last
}

// scaled is a copy of t whose workload has the given total rate in the same
// mix, for any positive rate. Services are shared with t.
func scaled(t *topology.Topology, total float64) *topology.Topology {
	c := *t
	c.Workload = make([]topology.Workload, len(t.Workload))
	f := total / t.TotalRate()
	for i, w := range t.Workload {
		w.Rate *= f
		c.Workload[i] = w
	}
	return &c
}
