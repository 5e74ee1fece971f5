package accuracy

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
)

// Options set up a run of the grid.
type Options struct {
	// Requests is the number of measured requests of a case at 30% load;
	// at 70% it is twice that and at 90% four times, since the simulated
	// figures' intervals widen with the load. 0 means 1,000,000.
	Requests int64
	// Workers is the simulator's parallel replications; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called before each case with its index.
	Progress func(i int, c Case)
}

// Row is one figure of one case: the model's value, the simulated one with
// its 95% confidence half-width, and the model label's class ("" when the
// label says exact).
type Row struct {
	Case    Case    `json:"case"`
	Service string  `json:"service,omitempty"` // "" for the end-to-end figures of the entry
	Metric  string  `json:"metric"`            // mean, mean_wait, mean_response, p50, p99, p999
	Model   float64 `json:"model"`
	Sim     float64 `json:"sim"`
	CI      float64 `json:"ci95"`
	Class   string  `json:"class,omitempty"`
	// Negligible is set for a mean wait too small beside the service time
	// for its relative error to mean anything (below 1% of it, or not
	// distinguishable from zero): it is shown, not summed up.
	Negligible bool `json:"negligible,omitempty"`
}

// Exact reports whether the model's label says the figure is exact.
func (r Row) Exact() bool { return r.Class == "" }

// Error is the model's relative error against the simulation.
func (r Row) Error() float64 { return (r.Model - r.Sim) / r.Sim }

// WithinCI reports whether the model's value is inside the simulation's
// 95% interval.
func (r Row) WithinCI() bool { return math.Abs(r.Model-r.Sim) <= r.CI }

// requests is the number of measured requests for a case.
func (o Options) requests(c Case) int64 {
	n := o.Requests
	if n == 0 {
		n = 1_000_000
	}
	switch {
	case c.Load >= 0.8:
		return 4 * n
	case c.Load >= 0.5:
		return 2 * n
	}
	return n
}

// seed is the case's simulation seed: a hash of its name, so that a case
// keeps its figures when others are added to the grid.
func seed(c Case) uint64 {
	h := fnv.New64a()
	h.Write([]byte(c.Name()))
	return h.Sum64()
}

// Run runs the model and the simulator on every case and returns the rows.
func Run(ctx context.Context, cases []Case, o Options) ([]Row, error) {
	var rows []Row
	for i, c := range cases {
		if o.Progress != nil {
			o.Progress(i, c)
		}
		r, err := runCase(ctx, c, o)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", c.Name(), err)
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// runCase compares the model and the simulation of one case: every figure
// of the entry, and the per-visit figures of every service the model
// labels approximate.
func runCase(ctx context.Context, c Case, o Options) ([]Row, error) {
	t, err := c.Topology()
	if err != nil {
		return nil, err
	}
	n := model.Analyze(t)
	p := n.Predict()
	svcClasses, entClasses := n.AccuracyClasses()
	s, err := sim.Run(ctx, t, sim.Options{Requests: o.requests(c), Replications: 10, Seed: seed(c), Workers: o.Workers})
	if err != nil {
		return nil, err
	}
	if s.Partial {
		return nil, ctx.Err()
	}
	var rows []Row
	add := func(service, metric string, model, simulated, ci float64, class string) {
		rows = append(rows, Row{Case: c, Service: service, Metric: metric, Model: model, Sim: simulated, CI: ci, Class: class})
	}
	levels := []string{"p50", "p99", "p999"}
	for e := range p.Entries {
		m, x := p.Entries[e], s.Entries[e]
		if m.Mean == nil || x.Mean == nil || x.CI95 == nil {
			return nil, fmt.Errorf("entry %s: no figures (model stable %v)", m.Entry, p.Stable)
		}
		add("", "mean", *m.Mean, *x.Mean, x.CI95.Mean, entClasses[e][result.FigMean])
		for _, l := range levels {
			mv, _ := m.Percentiles.Get(l)
			sv, _ := x.Percentiles.Get(l)
			ci, _ := x.CI95.Percentiles.Get(l)
			add("", l, mv, sv, ci, entClasses[e][result.FigPercentiles])
		}
	}
	for i := range p.Services {
		m, x := p.Services[i], s.Services[i]
		if m.Labels == nil || !m.Approximate || x.CI95 == nil || x.MeanResponse == nil {
			continue
		}
		class := svcClasses[i]
		add(m.Name, "mean_wait", *m.MeanWait, *x.MeanWait, x.CI95.MeanWait, class[result.FigMeanResponse])
		if w := rows[len(rows)-1]; w.Sim < 0.01*m.ServiceTime || w.Sim <= w.CI {
			rows[len(rows)-1].Negligible = true
		}
		add(m.Name, "mean_response", *m.MeanResponse, *x.MeanResponse, x.CI95.MeanResponse, class[result.FigMeanResponse])
		for _, l := range levels {
			mv, _ := m.Percentiles.Get(l)
			sv, _ := x.Percentiles.Get(l)
			ci, _ := x.CI95.Percentiles.Get(l)
			add(m.Name, l, mv, sv, ci, class[result.FigPercentiles])
		}
	}
	return rows, nil
}

// Remodel recomputes the model's side of rows, a previous run's, with the
// model as it is now: every row's Model and Class from a fresh prediction
// of its case, its simulated figures kept. It is how a change to the
// model's labels or approximations is measured against the same
// simulations without running them again; a row of a service the model now
// labels exact gets the class "" (exact).
func Remodel(rows []Row) ([]Row, error) {
	out := make([]Row, len(rows))
	var (
		current  Case
		have     bool
		p        *result.Prediction
		svcClass []map[string]string
		entClass []map[string]string
	)
	for i, r := range rows {
		if !have || r.Case != current {
			t, err := r.Case.Topology()
			if err != nil {
				return nil, err
			}
			n := model.Analyze(t)
			p = n.Predict()
			svcClass, entClass = n.AccuracyClasses()
			current, have = r.Case, true
		}
		r.Class = ""
		if r.Service == "" {
			m := p.Entries[0]
			switch r.Metric {
			case "mean":
				r.Model, r.Class = *m.Mean, entClass[0][result.FigMean]
			default:
				r.Model, _ = m.Percentiles.Get(r.Metric)
				r.Class = entClass[0][result.FigPercentiles]
			}
			out[i] = r
			continue
		}
		s := slices.IndexFunc(p.Services, func(s result.Service) bool { return s.Name == r.Service })
		if s < 0 {
			return nil, fmt.Errorf("%s: no service %q", r.Case.Name(), r.Service)
		}
		m := p.Services[s]
		switch r.Metric {
		case "mean_wait":
			r.Model, r.Class = *m.MeanWait, svcClass[s][result.FigMeanResponse]
		case "mean_response":
			r.Model, r.Class = *m.MeanResponse, svcClass[s][result.FigMeanResponse]
		default:
			r.Model, _ = m.Percentiles.Get(r.Metric)
			r.Class = svcClass[s][result.FigPercentiles]
		}
		out[i] = r
	}
	return out, nil
}
