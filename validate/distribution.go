package validate

import (
	"math"

	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/reports"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// distributionPoints is the number of times at which each CCDF is drawn.
const distributionPoints = 200

// distribution is the end-to-end CCDF of every source at one rate, on a
// grid of times up to past the largest p99.9 seen.
func distribution(t *topology.Topology, rt float64, s *sim.Result, m *loadgen.Result) *reports.Distribution {
	at, err := t.WithRate(rt)
	if err != nil {
		return nil // rt is one of the sweep's, checked by Run
	}
	n := model.Analyze(at)
	d := &reports.Distribution{Rate: rt}
	for e, w := range t.Workload {
		var se *sim.EntryResult
		if s != nil && e < len(s.Entries) {
			se = &s.Entries[e]
		}
		var me *loadgen.EntryResult
		if m != nil {
			for i := range m.Entries {
				if m.Entries[i].Entry == w.Entry {
					me = &m.Entries[i]
				}
			}
		}
		times := ccdfTimes(n.EndToEndQuantile(e, 0.9999), se, me)
		curve := func(src string, ys []float64) {
			c := reports.Curve{Source: src, Entry: w.Entry}
			for i, x := range times {
				if !math.IsNaN(ys[i]) {
					c.Points = append(c.Points, [2]float64{x, ys[i]})
				}
			}
			d.Curves = append(d.Curves, c)
		}
		ys := make([]float64, len(times))
		for i, x := range times {
			ys[i] = n.EndToEndSurvival(e, x)
		}
		curve(reports.Model, ys)
		if se != nil {
			curve(reports.Simulation, se.Survival(times...))
		}
		if me != nil {
			curve(reports.Measurement, me.Survival(times))
		}
	}
	return d
}

// ccdfTimes is an even grid of times from 0 to past the largest tail any
// source shows: the model's p99.99, and 1.3 times the simulated and
// measured p99.9.
func ccdfTimes(top float64, se *sim.EntryResult, me *loadgen.EntryResult) []float64 {
	if se != nil && se.Percentiles != nil {
		top = math.Max(top, se.Percentiles.P999*1.3)
	}
	if me != nil && me.Percentiles != nil {
		top = math.Max(top, me.Percentiles.P999*1.3)
	}
	times := make([]float64, distributionPoints)
	for i := range times {
		times[i] = top * float64(i+1) / float64(len(times))
	}
	return times
}
