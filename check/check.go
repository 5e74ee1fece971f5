// Package check verifies the model's answers by simulation: every figure
// of a prediction against a short simulation of the same topology
// (Prediction), and the answers of capacity planning — the largest rate
// that meets an SLO and the fewest workers that meet it — refined by
// simulation around the model's answer (SLORate, Plan).
//
// The model answers in milliseconds and the simulator, the reference,
// in seconds; checking is what no queueing tool does for its user: a fast
// answer whose error is measured rather than asserted. A figure the model
// labels exact should agree with the simulation within the simulation's
// interval (about one in twenty falls outside a 95% interval by chance);
// an approximate one is off by whatever the comparison shows.
package check

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// DefaultBudget is the simulation time a check spends by default.
const DefaultBudget = time.Second

// Options set how a check simulates. The zero value is a one-second check
// with seed 0.
type Options struct {
	// Budget is about how long to simulate, wall clock; 0 means
	// DefaultBudget.
	Budget time.Duration
	// Seed fixes the simulation.
	Seed uint64
	// Workers is the number of replications run at once; 0 means one per
	// core.
	Workers int
	// Requests, when positive, fixes the measured requests of every
	// simulation instead of sizing them from Budget, and a search then
	// stops after a number of simulations rather than a time: the answer
	// depends on the seed alone, not on the machine's speed.
	Requests int64
}

func (o Options) budget() time.Duration {
	if o.Budget > 0 {
		return o.Budget
	}
	return DefaultBudget
}

// Figure is one figure of a prediction beside the simulation's estimate.
type Figure struct {
	Owner  string       `json:"owner"`  // a service, or an entry (end to end)
	Entry  bool         `json:"entry"`  // Owner is a workload entry
	Name   string       `json:"figure"` // "utilization", "P(wait)", "mean wait", "mean response", "mean", "p50", ...
	Model  float64      `json:"model"`
	Sim    float64      `json:"simulated"`
	CI95   float64      `json:"ci95"` // the simulation's 95% half-width
	Label  result.Label `json:"label"`
	Inside bool         `json:"inside"` // the model lies within the simulation's interval
}

// Error is the model's relative error against the simulation, (model −
// sim)/sim; NaN when the simulated figure is 0.
func (f Figure) Error() float64 {
	if f.Sim == 0 {
		return math.NaN()
	}
	return (f.Model - f.Sim) / f.Sim
}

// Comparison is a prediction checked against a simulation.
type Comparison struct {
	Figures []Figure    `json:"figures"`
	Run     sim.RunInfo `json:"run"`
}

// Prediction simulates t for about opts.Budget and sets every figure of
// the model's prediction p of t beside the simulated one.
func Prediction(ctx context.Context, t *topology.Topology, p *result.Prediction, opts Options) (*Comparison, error) {
	if !p.Stable {
		return nil, errors.New("the topology is unstable at this rate: there are no figures to check")
	}
	res, err := simulate(ctx, t, opts.budget(), opts)
	if err != nil {
		return nil, err
	}
	return Compare(p, res), nil
}

// Compare sets every figure of the prediction p beside the simulation res
// of the same topology: per service utilization, P(wait), mean wait, mean
// response, p50, p99 and p99.9; per entry the mean and every percentile.
func Compare(p *result.Prediction, res *sim.Result) *Comparison {
	c := &Comparison{Run: res.Run}
	add := func(owner string, entry bool, name string, model *float64, sv, hw float64, l result.Label) {
		if model == nil || math.IsInf(*model, 0) {
			return
		}
		c.Figures = append(c.Figures, Figure{Owner: owner, Entry: entry, Name: name, Model: *model, Sim: sv, CI95: hw, Label: l,
			Inside: math.Abs(*model-sv) <= hw})
	}
	for i, s := range res.Services {
		m := p.Services[i]
		if s.MeanResponse == nil || s.CI95 == nil {
			continue
		}
		first := len(c.Figures)
		add(s.Name, false, "utilization", &m.Utilization, s.Utilization, s.CI95.Utilization, result.Label{Exact: true, Basis: "flow balance"})
		add(s.Name, false, "P(wait)", m.WaitProbability, *s.WaitProbability, s.CI95.WaitProbability, m.Labels[result.FigWaitProbability])
		add(s.Name, false, "mean wait", m.MeanWait, *s.MeanWait, s.CI95.MeanWait, m.Labels[result.FigMeanWait])
		if *s.WaitProbability == 0 && m.WaitProbability != nil && p.Rate > 0 {
			// The simulation saw no request wait, so its P(wait) and mean
			// wait are 0 with no interval. That agrees with the model when
			// the model expects so few waits among the visits simulated
			// that none is likely: with a Poisson count of mean below 3,
			// seeing none has probability above 5%.
			visits := float64(res.Run.Requests) * m.ArrivalRate / p.Rate
			if *m.WaitProbability*visits < 3 {
				for j := first; j < len(c.Figures); j++ {
					if n := c.Figures[j].Name; n == "P(wait)" || n == "mean wait" {
						c.Figures[j].Inside = true
					}
				}
			}
		}
		add(s.Name, false, "mean response", m.MeanResponse, *s.MeanResponse, s.CI95.MeanResponse, m.Labels[result.FigMeanResponse])
		for _, l := range []string{"p50", "p99", "p999"} {
			sv, _ := s.Percentiles.Get(l)
			hw, _ := s.CI95.Percentiles.Get(l)
			add(s.Name, false, l, percentile(m.Percentiles, l), sv, hw, m.Labels[result.FigPercentiles])
		}
	}
	for i, e := range res.Entries {
		m := p.Entries[i]
		if e.Mean == nil || e.CI95 == nil {
			continue
		}
		add(e.Entry, true, "mean", m.Mean, *e.Mean, e.CI95.Mean, m.Labels[result.FigMean])
		for _, l := range result.Levels {
			sv, _ := e.Percentiles.Get(l.Name)
			hw, _ := e.CI95.Percentiles.Get(l.Name)
			add(e.Entry, true, l.Name, percentile(m.Percentiles, l.Name), sv, hw, m.Labels[result.FigPercentiles])
		}
	}
	return c
}

func percentile(p *result.Percentiles, name string) *float64 {
	if p == nil {
		return nil
	}
	v, err := p.Get(name)
	if err != nil {
		return nil
	}
	return &v
}

// simulate runs t for about budget: a short probe measures how fast this
// topology simulates here, and the run is sized from it. The run always has
// ten replications, for its intervals.
func simulate(ctx context.Context, t *topology.Topology, budget time.Duration, opts Options) (*sim.Result, error) {
	if opts.Requests > 0 {
		res, err := sim.Run(ctx, t, sim.Options{Requests: opts.Requests, Replications: 10, Seed: opts.Seed, Workers: opts.Workers})
		if err == nil && res.Partial {
			err = ctx.Err()
		}
		return res, err
	}
	const probeRequests = 20_000
	start := time.Now()
	probe, err := sim.Run(ctx, t, sim.Options{Requests: probeRequests, Replications: 2, Seed: opts.Seed + 7_919, Workers: opts.Workers, Warmup: -1})
	if err != nil {
		return nil, err
	}
	perSecond := float64(probe.Run.SimulatedRequests) / math.Max(time.Since(start).Seconds(), 1e-3)
	left := budget - time.Since(start)
	// The warm-up pilot and the drains cost about a third more than the
	// requests measured.
	n := int64(0.75 * perSecond * left.Seconds())
	n = min(max(n, 50_000), 100_000_000)
	res, err := sim.Run(ctx, t, sim.Options{Requests: n, Replications: 10, Seed: opts.Seed, Workers: opts.Workers})
	if err != nil {
		return nil, err
	}
	if res.Partial {
		return nil, ctx.Err()
	}
	return res, nil
}

// Statistic reads an end-to-end statistic ("mean", or a percentile name)
// of entry e of a simulation, with its 95% half-width.
func Statistic(res *sim.Result, e int, metric string) (v, hw float64, ok bool) {
	en := res.Entries[e]
	if en.Mean == nil || en.CI95 == nil {
		return 0, 0, false
	}
	if metric == "mean" {
		return *en.Mean, en.CI95.Mean, true
	}
	v, err := en.Percentiles.Get(metric)
	if err != nil {
		return 0, 0, false
	}
	hw, _ = en.CI95.Percentiles.Get(metric)
	return v, hw, true
}

// verdict is what a simulation says of SLOs at one rate.
type verdict int

const (
	fails   verdict = iota // some statistic is above its target, with 95% confidence
	unclear                // some interval straddles its target
	meets                  // every statistic is below its target, with 95% confidence
)

// judge runs t for about budget and says whether it meets every SLO.
func judge(ctx context.Context, t *topology.Topology, slos []model.SLO, budget time.Duration, opts Options) (verdict, *sim.Result, error) {
	if !model.Analyze(t).Stable() {
		return fails, nil, nil
	}
	res, err := simulate(ctx, t, budget, opts)
	if err != nil {
		return fails, nil, err
	}
	v := meets
	for e := range t.Workload {
		for _, s := range slos {
			x, hw, ok := Statistic(res, e, s.Metric)
			switch {
			case !ok:
				return fails, res, fmt.Errorf("the simulation measured no request at %s", t.Workload[e].Entry)
			case x-hw > s.Target:
				return fails, res, nil
			case x+hw > s.Target:
				v = unclear
			}
		}
	}
	return v, res, nil
}
