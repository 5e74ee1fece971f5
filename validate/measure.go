package validate

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/kendallqn/kendall/emulate"
	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/topology"
)

// measurer is the measurement side of a validation: the topology's own
// endpoints when every workload entry has one, else the emulation, started
// once for the whole sweep.
type measurer struct {
	opts   Options
	target string // "endpoints" or "emulation", as the report says
	em     *emulate.Emulation
	runs   uint64
	warn   []string
}

func newMeasurer(ctx context.Context, t *topology.Topology, opts Options) (*measurer, error) {
	m := &measurer{opts: opts, target: "endpoints"}
	for _, w := range t.Workload {
		if t.Service(w.Entry).Endpoint == "" {
			m.target = "emulation"
		}
	}
	if m.target == "emulation" {
		em, err := emulate.Start(ctx, t, emulate.Options{Seed: opts.Seed})
		if err != nil {
			return nil, fmt.Errorf("starting the emulation: %w", err)
		}
		m.em = em
	}
	return m, nil
}

func (m *measurer) describe() string {
	if m.em == nil {
		return "the topology's endpoints"
	}
	var urls []string
	for _, w := range m.em.Topology().Workload {
		urls = append(urls, w.Entry+" "+m.em.URL(w.Entry))
	}
	return "the topology emulated on loopback (" + strings.Join(urls, ", ") + ")"
}

// attack measures the workload of at, the topology at one rate.
func (m *measurer) attack(ctx context.Context, at *topology.Topology, progress func(loadgen.Progress)) (*loadgen.Result, error) {
	var targets []loadgen.Target
	var err error
	if m.em == nil {
		targets, err = loadgen.TopologyTargets(at)
	} else {
		targets, err = loadgen.TargetsAtReplicas(at, m.em.URLs) // at's rates, the emulation's URLs
	}
	if err != nil {
		return nil, err
	}
	m.runs++
	res, err := loadgen.Attack(ctx, targets, loadgen.Options{
		Duration: m.opts.Duration, Warmup: m.opts.Warmup, Seed: m.opts.Seed + m.runs, Progress: progress,
	})
	if err != nil {
		return nil, err
	}
	if !res.Run.Trustworthy {
		m.warn = append(m.warn, fmt.Sprintf("The measurement at %s is not trustworthy: sends fell up to %s behind schedule.",
			fmtRate(res.Run.RateRequested), fmtSecs(res.Run.MaxLag)))
	}
	return res, nil
}

// notes says how faithful the measurement was: runs that fell behind, and
// how closely the emulation realized the file's service times.
func (m *measurer) notes() []string {
	notes := append([]string(nil), m.warn...)
	if m.em == nil {
		return notes
	}
	// Realized against drawn is the emulation's own error; drawn against
	// the file's mean is sampling, which the simulation has too.
	worst, name := 0.0, ""
	for _, s := range m.em.Stats() {
		if s.RealizedMean == nil || s.DrawnMean == nil || *s.DrawnMean == 0 {
			continue
		}
		if d := *s.RealizedMean / *s.DrawnMean - 1; math.Abs(d) >= math.Abs(worst) {
			worst, name = d, s.Name
		}
	}
	if name != "" {
		notes = append(notes, fmt.Sprintf("The emulated services held their workers for the service times they drew to within %.2f%% on average (largest gap: %s, %+.2f%%).",
			100*math.Abs(worst), name, 100*worst))
	}
	return notes
}

func (m *measurer) close() {
	if m.em != nil {
		m.em.Close()
	}
}
