package validate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/reports"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// Options set up a validation. Rates is required; the zero value of every
// other field is its default.
type Options struct {
	// Rates are the total rates of the sweep, in requests per second, each
	// below the model's largest sustainable rate (see ParseRates).
	Rates []float64
	// Measure runs the HTTP measurement: against the topology's endpoints
	// when every workload entry has one, else against its emulation,
	// started for the sweep on loopback.
	Measure bool
	// Duration and Warmup of each measurement (Duration is required with
	// Measure).
	Duration, Warmup time.Duration
	// Precision is the simulation's target: the 95% half-width of each
	// entry's mean end-to-end latency relative to it; 0 means 0.01.
	Precision float64
	// Seed fixes the simulation, the arrivals and the emulation's service
	// times.
	Seed uint64
	// DistributionAt is the rate of the latency distribution plot: the
	// rate of Rates closest to it; 0 means the highest.
	DistributionAt float64
	// MinSuccess is the fraction of a measurement's requests that must
	// succeed for it to judge the model (reports.Settings.MinSuccess).
	MinSuccess float64
	// File names the topology file in the report.
	File string
	// Progress, when set, is called as the sweep moves on: from Run's
	// goroutine, and from the simulation's and the attack's progress
	// callbacks.
	Progress func(Progress)
	// Checkpoint, when set, is called with the report after every rate that
	// finished, so that the caller can save it: nothing measured is lost if
	// a later rate fails. An error from it ends the sweep.
	Checkpoint func(*reports.Report) error
	// Started, when set, is called once the measurement target is ready,
	// with a description of it ("the topology's endpoints", or the
	// emulation's addresses).
	Started func(target string)
}

// Progress says where a sweep is.
type Progress struct {
	Index, Count int     // the rate under way, from 0, of Count
	Rate         float64 // its total rate, requests per second
	Fraction     float64 // of the model's largest sustainable rate
	Stage        string  // "simulating", "measuring", "simulating runs as long as the measurement"
	Done         float64 // of the stage, 0 to 1
}

// The stages of a rate, as Progress names them.
const (
	StageSimulating = "simulating"
	StageMeasuring  = "measuring"
	StageSpread     = "simulating runs as long as the measurement"
)

// ErrNotJudged is returned, with the report, when the measurement judged
// the model at none of the rates measured: at each, too many requests
// failed or the load generator fell behind.
var ErrNotJudged = errors.New("the measurement judged the model at no rate")

// Run validates t over the sweep of opts.Rates and returns the report,
// drawn by nothing yet (see reports.Render).
//
// When ctx is cancelled, Run stops and returns the rates that finished in a
// report marked Partial, with ctx's error. When a rate fails otherwise, the
// report holds the rates before it, a note says why, and the error is
// returned with it; when no rate finished, the report is nil.
func Run(ctx context.Context, t *topology.Topology, opts Options) (*reports.Report, error) {
	if len(opts.Rates) == 0 {
		return nil, errors.New("no rates to validate")
	}
	if opts.Measure && opts.Duration <= 0 {
		return nil, fmt.Errorf("measurement duration %v: give a positive duration", opts.Duration)
	}
	if opts.Precision == 0 {
		opts.Precision = 0.01
	}
	if !(opts.Precision > 0 && opts.Precision < 1) {
		return nil, fmt.Errorf("precision %v: give a fraction such as 0.01 for 1%%", opts.Precision)
	}
	base := model.Analyze(t)
	maxRate, bottleneck := base.MaxRate()
	for _, rt := range opts.Rates {
		if !(rt >= topology.MinRate && rt < maxRate) {
			return nil, fmt.Errorf("rate %s is outside the sweep's range: from %g req/s to below saturation, %s", fmtRate(rt), topology.MinRate, fmtRate(maxRate))
		}
	}
	distAt := opts.Rates[len(opts.Rates)-1]
	if opts.DistributionAt > 0 {
		distAt = Closest(opts.Rates, opts.DistributionAt)
	}

	r := newReport(t, opts, maxRate, bottleneck)
	var meas *measurer
	if opts.Measure {
		var err error
		if meas, err = newMeasurer(ctx, t, opts); err != nil {
			return nil, err
		}
		defer meas.close()
		r.Settings.Target = meas.target
		if opts.Started != nil {
			opts.Started(meas.describe())
		}
	}

	var distSim, lastSim *sim.Result
	var distMeas, lastMeas *loadgen.Result
	var runErr error
	for i, rt := range opts.Rates {
		stage := func(name string, done float64) {
			if opts.Progress != nil {
				opts.Progress(Progress{Index: i, Count: len(opts.Rates), Rate: rt, Fraction: rt / maxRate, Stage: name, Done: done})
			}
		}
		pt, simRes, measRes, err := atRate(ctx, t, rt, maxRate, opts, meas, stage)
		if err != nil {
			runErr = err
			break
		}
		r.Points = append(r.Points, *pt)
		lastSim, lastMeas = simRes, measRes
		if rt == distAt {
			distSim, distMeas = simRes, measRes
		}
		if opts.Checkpoint != nil {
			if err := opts.Checkpoint(r); err != nil {
				return r, err
			}
		}
	}
	if runErr != nil {
		if len(r.Points) == 0 {
			return nil, runErr
		}
		if ctx.Err() == nil {
			r.Notes = append(r.Notes, "The sweep stopped early: "+runErr.Error())
		}
		r.Partial = true
	}
	if meas != nil {
		r.Notes = append(r.Notes, meas.notes()...)
		r.Notes = append(r.Notes, OverheadNotes(base, r)...)
		r.Notes = append(r.Notes, RelaxationNotes(t, r)...)
	}
	if len(r.Points) > 0 {
		if distSim == nil { // the chosen rate did not finish: the last that did
			distAt = r.Points[len(r.Points)-1].Rate
			distSim, distMeas = lastSim, lastMeas
		}
		r.Distribution = distribution(t, distAt, distSim, distMeas)
	}
	for i := range r.Points {
		r.Points[i].Judge(r.Entries, r.Settings.MinSuccess)
		r.Points[i].Compare(r.Entries)
	}
	if runErr != nil {
		return r, runErr
	}
	if meas != nil && !JudgedAny(r) {
		return r, ErrNotJudged
	}
	return r, nil
}

// newReport is the report before any rate: the topology, the settings and
// the model on a fine grid of rates, for smooth lines.
func newReport(t *topology.Topology, opts Options, maxRate float64, bottleneck string) *reports.Report {
	r := &reports.Report{
		Topology: t.Name, File: opts.File, Created: time.Now().UTC().Truncate(time.Second),
		MaxRate: maxRate, Bottleneck: bottleneck,
		Settings: reports.Settings{
			Duration: opts.Duration.Seconds(), Warmup: opts.Warmup.Seconds(), Precision: opts.Precision,
			Seed: opts.Seed, Target: "none", MinSuccess: opts.MinSuccess,
		},
	}
	for _, w := range t.Workload {
		r.Entries = append(r.Entries, w.Entry)
	}
	for _, s := range t.Services {
		r.Services = append(r.Services, s.Name)
	}
	for f := 0.02; f < 0.97; f += 0.02 {
		at, err := t.WithRate(f * maxRate)
		if err != nil {
			continue // outside the range kendall handles: no point of the curve
		}
		r.Curve = append(r.Curve, reports.CurvePoint{Rate: f * maxRate, Model: FromPrediction(model.Analyze(at).Predict())})
	}
	return r
}

// atRate runs the three views at one rate. An error leaves the rate out of
// the report.
func atRate(ctx context.Context, t *topology.Topology, rt, maxRate float64, opts Options, meas *measurer, stage func(string, float64)) (*reports.Point, *sim.Result, *loadgen.Result, error) {
	at, err := t.WithRate(rt)
	if err != nil {
		return nil, nil, nil, err
	}
	pt := &reports.Point{Rate: rt, Fraction: rt / maxRate}
	pt.Model = FromPrediction(model.Analyze(at).Predict())

	stage(StageSimulating, 0)
	// A million requests to start with (not the simulator's default ten
	// million): the precision target adds replications until each mean is
	// known to opts.Precision.
	simRes, err := sim.Run(ctx, at, sim.Options{
		Requests: 1_000_000, Precision: opts.Precision, Seed: opts.Seed,
		Progress: func(done, total int64) { stage(StageSimulating, float64(done)/float64(max(total, 1))) },
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("simulating at %s: %w", fmtRate(rt), err)
	}
	if simRes.Partial {
		return nil, nil, nil, ctx.Err()
	}
	pt.Simulation = FromSimulation(simRes)

	var measRes *loadgen.Result
	if meas != nil {
		stage(StageMeasuring, 0)
		measRes, err = meas.attack(ctx, at, func(p loadgen.Progress) {
			stage(StageMeasuring, p.Elapsed.Seconds()/math.Max(p.Total.Seconds(), 1e-9))
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("measuring at %s: %w", fmtRate(rt), err)
		}
		pt.Measurement, pt.Timelines = FromMeasurement(measRes)
		stage(StageSpread, 0)
		spread, err := Spread(ctx, at, measRes, opts.Seed)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("simulating the spread of a measurement at %s: %w", fmtRate(rt), err)
		}
		for i := range pt.Measurement.Entries {
			pt.Measurement.Entries[i].CI95 = spread[pt.Measurement.Entries[i].Entry]
		}
	}
	return pt, simRes, measRes, nil
}

// JudgedAny reports whether the measurement judged the model at some rate;
// true when nothing was measured.
func JudgedAny(r *reports.Report) bool {
	measured := false
	for _, pt := range r.Points {
		if pt.Measurement == nil {
			continue
		}
		measured = true
		for _, e := range r.Entries {
			if pt.Judged(e, reports.Measurement) {
				return true
			}
		}
	}
	return !measured
}
