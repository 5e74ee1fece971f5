package validate

import (
	"context"
	"math"

	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// SpreadRuns is the number of simulated runs from which Spread estimates
// the run-to-run spread of a measurement.
const SpreadRuns = 20

// Spread is how much a measurement as long as m would vary from run to run
// if the services behaved exactly as the topology says: for each entry and
// statistic (mean, p50, ...), the half-width of the 95% prediction interval
// of one more run, from SpreadRuns simulated runs of the same number of
// requests (see SpreadOf). A short measurement near saturation meets few of
// the long busy periods that make the tail, and its percentiles scatter
// widely; this says how widely. It is nil when m measured fewer than ten
// requests.
func Spread(ctx context.Context, at *topology.Topology, m *loadgen.Result, seed uint64) (map[string]map[string]float64, error) {
	var measured int64
	for _, e := range m.Entries {
		measured += e.Histogram().TotalCount()
	}
	if measured < 10 {
		return nil, nil
	}
	res, err := sim.Run(ctx, at, sim.Options{Requests: measured * SpreadRuns, Replications: SpreadRuns, Seed: seed + 1_000_003})
	if err != nil {
		return nil, err
	}
	if res.Partial { // interrupted: the rate does not finish
		return nil, ctx.Err()
	}
	out := map[string]map[string]float64{}
	for _, e := range res.Entries {
		if e.CI95 == nil {
			continue
		}
		ci := map[string]float64{"mean": e.CI95.Mean}
		for _, l := range result.Levels {
			v, _ := e.CI95.Percentiles.Get(l.Name)
			ci[l.Name] = v
		}
		out[e.Entry] = SpreadOf(ci, SpreadRuns)
	}
	return out, nil
}

// SpreadOf turns the 95% confidence half-widths h of the means of R runs
// into the half-widths of the 95% prediction interval of one more run.
// With R runs of sample standard deviation s, one more run falls within
// ±t_{R−1,0.975}·s·√(1 + 1/R) of their mean (A. M. Law, Simulation
// Modeling and Analysis, 5th ed., 2015, §9.4.1, and the prediction interval
// for a new observation); h = t·s/√R, so the interval is ±h·√(R + 1).
func SpreadOf(h map[string]float64, runs int) map[string]float64 {
	k := math.Sqrt(float64(runs) + 1)
	out := make(map[string]float64, len(h))
	for name, v := range h {
		out[name] = k * v
	}
	return out
}
