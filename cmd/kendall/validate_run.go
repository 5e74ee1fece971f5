package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/topology"
)

// measurer is the measurement side of validate: the topology's own
// endpoints when every workload entry has one, else the emulation, started
// once for the whole sweep.
type measurer struct {
	c      validateConfig
	target string // "endpoints" or "emulation", as the report says
	em     *loadgen.Emulation
	runs   uint64
	warn   []string
}

func newMeasurer(ctx context.Context, t *topology.Topology, c validateConfig) (*measurer, error) {
	m := &measurer{c: c, target: "endpoints"}
	for _, w := range t.Workload {
		if t.Service(w.Entry).Endpoint == "" {
			m.target = "emulation"
		}
	}
	if m.target == "emulation" {
		em, err := loadgen.Emulate(ctx, t, loadgen.EmulateOptions{Seed: c.seed})
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
	for _, tg := range m.em.Targets() {
		urls = append(urls, tg.Name+" "+tg.URL)
	}
	return "the topology emulated on loopback (" + strings.Join(urls, ", ") + ")"
}

// attack measures the topology at's workload.
func (m *measurer) attack(ctx context.Context, at *topology.Topology, progress func(loadgen.Progress)) (*loadgen.Result, error) {
	var targets []loadgen.Target
	if m.em == nil {
		var err error
		if targets, err = loadgen.TopologyTargets(at); err != nil {
			return nil, err
		}
	} else {
		for _, tg := range m.em.Targets() {
			for _, w := range at.Workload {
				if w.Entry == tg.Name {
					tg.Rate = w.Rate
				}
			}
			targets = append(targets, tg)
		}
	}
	m.runs++
	res, err := loadgen.Attack(ctx, targets, loadgen.Options{
		Duration: m.c.duration, Warmup: m.c.warmup, Seed: m.c.seed + m.runs, Progress: progress,
	})
	if err != nil {
		return nil, err
	}
	if !res.Run.Trustworthy {
		m.warn = append(m.warn, fmt.Sprintf("The measurement at %s is not trustworthy: sends fell up to %s behind schedule.",
			rate(res.Run.RateRequested), secs(res.Run.MaxLag)))
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

// sweepProgress reports, on stderr, which rate and which stage the sweep is
// at and about how long is left: redrawn in place on a terminal, a line per
// stage otherwise.
type sweepProgress struct {
	e        *env
	n        int
	perRate  time.Duration // the measurement's share of a rate
	start    time.Time
	mu       sync.Mutex
	lastLine string
	drawn    time.Time
}

func newSweepProgress(e *env, n int, c validateConfig, measuring bool) *sweepProgress {
	p := &sweepProgress{e: e, n: n, start: time.Now()}
	if measuring {
		p.perRate = c.warmup + c.duration
	}
	return p
}

// stageProgress is the progress of one rate.
type stageProgress struct {
	p          *sweepProgress
	i          int
	label      string
	stage      string
	rateStart  time.Time
	lastStaged string
}

func (p *sweepProgress) stage(i int, rt, maxRate float64) *stageProgress {
	return &stageProgress{p: p, i: i, label: fmt.Sprintf("[%d/%d] %s (%.0f%% of max)", i+1, p.n, rate(rt), 100*rt/maxRate), rateStart: time.Now()}
}

// set reports that the rate is at stage, a fraction done of it.
func (s *stageProgress) set(stage string, done float64) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	left := time.Duration(float64(p.n-s.i-1) * float64(p.perRate+2*time.Second))
	if stage == "measuring" {
		left += time.Duration((1 - done) * float64(p.perRate))
	} else {
		left += p.perRate
	}
	line := fmt.Sprintf("%s: %s", s.label, stage)
	if done > 0 {
		line += fmt.Sprintf(" %3.0f%%", 100*math.Min(done, 1))
	}
	line += fmt.Sprintf(" — about %s left", left.Round(time.Second))
	if p.e.interactive {
		if time.Since(p.drawn) < 200*time.Millisecond && stage == s.lastStaged {
			return
		}
		fmt.Fprintf(p.e.stderr, "\r\033[K%s", line)
		p.drawn = time.Now()
	} else if stage != s.lastStaged {
		fmt.Fprintln(p.e.stderr, line)
	}
	s.lastStaged = stage
}

func (p *sweepProgress) done() {
	if p.e.interactive {
		fmt.Fprint(p.e.stderr, "\r\033[K")
	}
	fmt.Fprintf(p.e.stderr, "sweep finished in %s\n", time.Since(p.start).Round(time.Second))
}
