package check

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// DefaultCapacityBudget is the simulation time capacity --check spends on
// each of its two answers by default.
const DefaultCapacityBudget = 10 * time.Second

// rateSteps is about how many simulations a rate search makes: a bracket
// of two or three, then bisection to rateTolerance.
const rateSteps = 9

// rateTolerance is the relative width of the bracket at which the rate
// search stops: the answer is then within it of the largest rate that
// meets the SLOs, up to the simulation's own precision.
const rateTolerance = 0.01

// Step is one simulation of a search: the rate, or the workers, tried and
// what the simulation said.
type Step struct {
	Rate    float64 `json:"rate"`
	Servers []int   `json:"servers,omitempty"`
	Meets   string  `json:"meets"` // "yes", "no" or "unclear" (an interval straddles a target)
	// The statistic closest to its target: which, the simulated value and
	// its 95% half-width.
	Entry     string  `json:"entry"`
	Metric    string  `json:"metric"`
	Statistic float64 `json:"statistic"`
	CI95      float64 `json:"ci95"`
	Requests  int64   `json:"requests"`
}

// RateAnswer is the largest rate meeting the SLOs, found by simulation.
type RateAnswer struct {
	// Rate is the largest rate tried at which the simulation says every
	// SLO is met, with 95% confidence on each statistic; 0 when none was.
	Rate float64 `json:"rate"`
	// Above is the smallest rate tried above it at which some SLO fails or
	// is unclear: the largest rate that meets the SLOs lies between them,
	// up to the simulation's precision.
	Above float64 `json:"above"`
	Steps []Step  `json:"steps"`
}

// SLORate searches, by simulation, for the largest total rate in t's mix at
// which every entry meets every SLO, starting from the model's answer
// guess: it brackets the answer from there and bisects the bracket to a
// relative width of 1%. A rate whose simulated statistic's interval
// straddles its target counts as not meeting it, so the answer meets the
// SLOs with confidence. The same seed at every rate (common random
// numbers) keeps the comparisons between rates sharp.
func SLORate(ctx context.Context, t *topology.Topology, slos []model.SLO, guess float64, opts Options) (*RateAnswer, error) {
	if len(slos) == 0 {
		return nil, fmt.Errorf("no SLO to check")
	}
	budget := opts.Budget
	if budget <= 0 {
		budget = DefaultCapacityBudget
	}
	perStep := budget / rateSteps
	saturation, _ := model.Analyze(t).MaxRate()
	a := &RateAnswer{}
	try := func(rate float64) (bool, error) {
		at, err := t.WithRate(rate)
		if err != nil {
			return false, err
		}
		v, res, err := judge(ctx, at, slos, perStep, opts)
		if err != nil {
			return false, err
		}
		a.Steps = append(a.Steps, step(at, slos, rate, nil, v, res))
		return v == meets, nil
	}
	lo, hi := 0.0, 0.0
	guess = min(max(guess, topology.MinRate), 0.999*saturation)
	ok, err := try(guess)
	if err != nil {
		return nil, err
	}
	if ok {
		lo = guess
		for r := guess * 1.05; ; r *= 1.05 {
			r = min(r, 0.999*saturation)
			if ok, err = try(r); err != nil {
				return nil, err
			}
			if !ok {
				hi = r
				break
			}
			lo = r
			if r >= 0.999*saturation {
				a.Rate, a.Above = r, saturation
				return a, nil
			}
		}
	} else {
		hi = guess
		for r := guess / 1.05; ; r /= 1.05 {
			if r < topology.MinRate {
				a.Above = hi
				return a, nil // no rate meets the SLOs
			}
			if ok, err = try(r); err != nil {
				return nil, err
			}
			if ok {
				lo = r
				break
			}
			hi = r
		}
	}
	for (hi-lo)/lo > rateTolerance {
		mid := (lo + hi) / 2
		if ok, err = try(mid); err != nil {
			return nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	a.Rate, a.Above = lo, hi
	return a, nil
}

// step records one simulation: the statistic nearest its target (the
// binding one), and the requests it rests on.
func step(t *topology.Topology, slos []model.SLO, rate float64, servers []int, v verdict, res *sim.Result) Step {
	s := Step{Rate: rate, Servers: servers, Meets: [...]string{"no", "unclear", "yes"}[v]}
	if res == nil {
		s.Meets = "no (saturated)"
		return s
	}
	s.Requests = res.Run.Requests
	worst := math.Inf(-1)
	for e, w := range t.Workload {
		for _, slo := range slos {
			x, hw, ok := Statistic(res, e, slo.Metric)
			if !ok {
				continue
			}
			if d := (x + hw) / slo.Target; d > worst {
				worst = d
				s.Entry, s.Metric, s.Statistic, s.CI95 = w.Entry, slo.Metric, x, hw
			}
		}
	}
	return s
}

// maxPlanSteps bounds the simulations of a plan search whose simulations
// have a fixed size (Options.Requests).
const maxPlanSteps = 60

// PlanAnswer is a worker plan checked, and refined, by simulation.
type PlanAnswer struct {
	// Model is the plan the search started from (the model's), and
	// Servers the plan the simulation accepts, per service in file order;
	// Meets says whether it does (false when the budget ran out first).
	Model   []int  `json:"model"`
	Servers []int  `json:"servers"`
	Meets   bool   `json:"meets"`
	Steps   []Step `json:"steps"`
}

// Plan checks a worker plan (the model's) for t at its rate by simulation
// and refines it: while the simulation says an SLO fails (or is unclear),
// it adds a worker where the model says one more cuts the binding
// statistic most; then it takes back, service by service, any worker the
// simulation says the SLOs do not need. It spends about opts.Budget
// (default DefaultCapacityBudget), each step a short simulation.
func Plan(ctx context.Context, t *topology.Topology, slos []model.SLO, planned []int, opts Options) (*PlanAnswer, error) {
	budget := opts.Budget
	if budget <= 0 {
		budget = DefaultCapacityBudget
	}
	perStep := max(budget/12, 300*time.Millisecond)
	deadline := time.Now().Add(budget)
	steps := 0
	more := func() bool { // the budget is not spent
		steps++
		if opts.Requests > 0 {
			return steps <= maxPlanSteps
		}
		return time.Now().Before(deadline)
	}
	a := &PlanAnswer{Model: append([]int(nil), planned...)}
	servers := append([]int(nil), planned...)
	try := func(c []int) (verdict, error) {
		at := withServers(t, c)
		v, res, err := judge(ctx, at, slos, perStep, opts)
		if err != nil {
			return fails, err
		}
		a.Steps = append(a.Steps, step(at, slos, t.TotalRate(), append([]int(nil), c...), v, res))
		return v, nil
	}
	v, err := try(servers)
	if err != nil {
		return nil, err
	}
	for v != meets {
		if !more() {
			a.Servers = servers
			return a, nil
		}
		i := bestNext(t, slos, servers)
		if i < 0 {
			a.Servers = servers
			return a, nil
		}
		servers[i]++
		if v, err = try(servers); err != nil {
			return nil, err
		}
	}
	a.Meets = true
	for i := range servers {
		for servers[i] > 1 && more() {
			servers[i]--
			if v, err = try(servers); err != nil {
				return nil, err
			}
			if v != meets {
				servers[i]++
				break
			}
		}
	}
	a.Servers = servers
	return a, nil
}

// bestNext is the service where one more worker cuts the model's binding
// statistic most (the one furthest above its target), or -1 if none
// helps.
func bestNext(t *topology.Topology, slos []model.SLO, servers []int) int {
	score := func(c []int) float64 {
		n := model.Analyze(withServers(t, c))
		if !n.Stable() {
			return math.Inf(1)
		}
		worst := math.Inf(-1)
		for e := range t.Workload {
			for _, s := range slos {
				worst = max(worst, n.Statistic(e, s.Metric)/s.Target)
			}
		}
		return worst
	}
	now := score(servers)
	best, bestScore := -1, now
	for i := range t.Services {
		if servers[i] >= t.Services[i].MaxUnits() {
			continue
		}
		servers[i]++
		if sc := score(servers); sc < bestScore {
			best, bestScore = i, sc
		}
		servers[i]--
	}
	return best
}

// withServers is a copy of t with the given capacity per service, in
// each service's units (topology.Service.Units: workers, or replicas for a
// service that scales out); the services are copied, t is not changed.
func withServers(t *topology.Topology, units []int) *topology.Topology {
	c := *t
	c.Services = make([]*topology.Service, len(t.Services))
	for i, s := range t.Services {
		c.Services[i] = s.WithUnits(units[i])
	}
	return &c
}
