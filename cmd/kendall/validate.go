package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/reports"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

func init() {
	register(&command{
		name:    "validate",
		args:    "FILE [--rates 0.2,0.4,0.6,0.8 | --rates 50/s,100/s] [--duration 20s] [--out DIR] [--no-measure] [--json]",
		summary: "predict, simulate and measure a topology over a sweep of load, and write a report with plots",
		help: `validate runs the three views of one topology at each rate of a sweep:
  1. the queueing model's prediction;
  2. a simulation, to 1% precision on the end-to-end mean (--precision);
  3. a measurement with real HTTP: Poisson arrivals for --duration after a
     --warmup, against the topology's endpoints when every workload entry
     has one, else against the topology run as real services on 127.0.0.1
     in this process (the emulation of kendall serve).
A measurement is one short run, and near saturation its percentiles
scatter from run to run; validate also simulates 20 runs as long as the
measurement to say how much, and reports each measured figure with that
95% run-to-run spread, so a difference can be told from bad luck.
The simulation and the measurement never run at the same time, so neither
disturbs the other.

Failed requests are never hidden: each measured rate reports the requests
sent, the fraction that succeeded (status 2xx or 3xx), the status codes and
the failures by class (refused, reset, timeout, TLS, status 500, ...).
A rate at which fewer than --min-success of them succeeded, or at which the
load generator fell behind its schedule, is reported but not used to judge
the model, and the summary says why. If no measured rate can be judged,
validate writes the report and exits with status 1.

Rates are fractions of the model's largest sustainable rate (0.2,0.5,0.8),
or absolute rates with their unit (50/s,100/s); the default sweep is 10% to
90% of it. All must be below saturation.

It writes a report directory (default ./kendall-report/TOPOLOGY-TIME) and
prints its path and a summary: where the model holds, where it drifts, and
the measured knee. The directory holds:
  index.html          one self-contained page: plots, tables, summary
  report.md           the tables, drifts beyond 10% in bold
  report.json         every figure of every source at every rate
  latency-ENTRY.*     latency (mean, p50, p95, p99) against offered load
  ccdf-ENTRY.*        the latency distribution at one rate (--distribution-at)
  utilization.*       utilization per service, the bottleneck marked
  timeline-N-RATE.*   each measured run second by second
Plots are PNG and SVG. kendall report DIR draws them again from report.json.

Progress goes to stderr. Ctrl-C stops; every rate that finished is kept and
the report is written, marked partial.

Examples:
  kendall validate examples/shop.yaml
  kendall validate examples/shop.yaml --rates 0.3,0.6,0.9 --duration 30s --out shop-report
  kendall validate examples/api-db-pool.yaml --no-measure --json`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			c := validateConfig{}
			fs.StringVar(&c.rates, "rates", "0.1,0.3,0.5,0.7,0.9", "comma-separated `rates`: fractions of the model's max rate (0.5),\nor requests per second with their unit (120/s)")
			fs.DurationVar(&c.duration, "duration", 20*time.Second, "measurement `time` per rate, after the warm-up")
			fs.DurationVar(&c.warmup, "warmup", 3*time.Second, "measurement warm-up per rate, excluded from the figures")
			fs.StringVar(&c.out, "out", "", "report `directory` (default ./kendall-report/TOPOLOGY-TIME)")
			fs.BoolVar(&c.noMeasure, "no-measure", false, "model and simulation only: no HTTP")
			fs.BoolVar(&c.json, "json", false, "print report.json to stdout as well")
			fs.Float64Var(&c.precision, "precision", 0.01, "simulation `precision`: the 95% half-width of the end-to-end mean,\nrelative to it")
			fs.Uint64Var(&c.seed, "seed", 1, "`seed` of the simulation, the arrivals and the emulated service times")
			fs.StringVar(&c.distributionAt, "distribution-at", "", "`rate` of the latency-distribution plot, one of --rates (default the highest)")
			fs.Float64Var(&c.minSuccess, "min-success", 0.99, "smallest `fraction` of a measurement's requests that must succeed for it to\njudge the model; below it the rate is reported but not judged")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want one topology FILE, got %d arguments", len(args))
				}
				c.file = args[0]
				return validate(ctx, e, c)
			}
		},
	})
}

type validateConfig struct {
	file             string
	rates            string
	duration, warmup time.Duration
	out              string
	noMeasure, json  bool
	precision        float64
	seed             uint64
	distributionAt   string
	minSuccess       float64
}

// sweepRates resolves --rates against the model's max rate: plain numbers
// are fractions of it (0.5), rates with a unit are absolute (120/s); the
// result is sorted, and each rate below saturation.
func sweepRates(spec string, maxRate float64) ([]float64, error) {
	var rates []float64
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var r float64
		if f, err := strconv.ParseFloat(part, 64); err == nil {
			if !(f > 0 && f < 1) {
				return nil, usagef("--rates: %s is not a fraction of the max rate (%s) between 0 and 1; for an absolute rate write %s/s", part, rate(maxRate), part)
			}
			r = f * maxRate
		} else {
			abs, err := topology.ParseRate(part)
			if err != nil {
				return nil, usagef("--rates: %v (or give a fraction of the max rate, such as 0.5)", err)
			}
			r = abs
		}
		if r < topology.MinRate {
			return nil, usagef("--rates: %s is %s req/s, below the smallest rate kendall handles (%g req/s)", part, sig3(r), topology.MinRate)
		}
		if r >= maxRate {
			return nil, usagef("--rates: %s is at or past saturation (%s); validate compares steady states, so keep every rate below it (use kendall attack to see an overload)",
				part, rate(maxRate))
		}
		rates = append(rates, r)
	}
	if len(rates) == 0 {
		return nil, usagef("--rates: no rate given; e.g. --rates 0.2,0.5,0.8 or --rates 50/s,100/s")
	}
	sort.Float64s(rates)
	return slices.Compact(rates), nil
}

func validate(ctx context.Context, e *env, c validateConfig) error {
	t, err := topology.Load(c.file)
	if err != nil {
		return err
	}
	base := model.Analyze(t)
	if !base.Stable() {
		// The sweep is relative to the max rate, which does not depend on
		// the file's rate; only say so.
		fmt.Fprintf(e.stderr, "note: the file's own rate saturates the topology; the sweep is over fractions of its max rate\n")
	}
	maxRate, bottleneck := base.MaxRate()
	rates, err := sweepRates(c.rates, maxRate)
	if err != nil {
		return err
	}
	if c.precision <= 0 || c.precision >= 1 {
		return usagef("--precision %v: give a fraction such as 0.01 for 1%%", c.precision)
	}
	if !(c.minSuccess >= 0 && c.minSuccess <= 1) {
		return usagef("--min-success %v: give a fraction from 0 to 1, such as 0.99 for 99%%", c.minSuccess)
	}
	if !c.noMeasure && c.duration <= 0 {
		return usagef("--duration %v: give a positive duration such as 20s", c.duration)
	}
	distAt := rates[len(rates)-1]
	if c.distributionAt != "" { // a rate of the sweep, written either way
		want, err := sweepRates(c.distributionAt, maxRate)
		if err != nil {
			return err
		}
		distAt = closest(rates, want[0])
	}
	dir := c.out
	if dir == "" {
		dir = filepath.Join("kendall-report", fileSafeName(t.Name)+"-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	r := &reports.Report{
		Topology: t.Name, File: c.file, Created: time.Now().UTC().Truncate(time.Second),
		MaxRate: maxRate, Bottleneck: bottleneck,
		Settings: reports.Settings{Duration: c.duration.Seconds(), Warmup: c.warmup.Seconds(), Precision: c.precision, Seed: c.seed, Target: "none", MinSuccess: c.minSuccess},
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
			continue // a rate outside the range kendall handles: no point of the curve
		}
		r.Curve = append(r.Curve, reports.CurvePoint{Rate: f * maxRate, Model: reports.FromPrediction(model.Analyze(at).Predict())})
	}

	fmt.Fprintf(e.stderr, "kendall validate: %s at %d rates (%s); writing %s\n", t.Name, len(rates), rateSummary(rates, maxRate), dir)
	var meas *measurer
	if !c.noMeasure {
		meas, err = newMeasurer(ctx, t, c)
		if err != nil {
			return err
		}
		defer meas.close()
		r.Settings.Target = meas.target
		fmt.Fprintf(e.stderr, "measuring against %s\n", meas.describe())
	}

	prog := newSweepProgress(e, len(rates), c, meas != nil)
	var distSim, lastSim *sim.Result
	var distMeas, lastMeas *loadgen.Result
	var runErr error
	for i, rt := range rates {
		pt, simRes, measRes, err := validateRate(ctx, t, rt, maxRate, c, meas, prog.stage(i, rt, maxRate))
		if err != nil {
			runErr = err
			break
		}
		r.Points = append(r.Points, *pt)
		lastSim, lastMeas = simRes, measRes
		if rt == distAt {
			distSim, distMeas = simRes, measRes
		}
		if err := r.Save(dir); err != nil { // nothing measured is lost if what follows fails
			return err
		}
	}
	prog.done()
	if runErr != nil {
		if !errors.Is(runErr, context.Canceled) || ctx.Err() == nil {
			if len(r.Points) == 0 {
				return runErr
			}
			r.Notes = append(r.Notes, "The sweep stopped early: "+runErr.Error())
		}
		r.Partial = true
	}
	if meas != nil {
		r.Notes = append(r.Notes, meas.notes()...)
		r.Notes = append(r.Notes, overheadNotes(base, r)...)
	}
	if len(r.Points) > 0 {
		if distSim == nil { // the chosen rate did not finish: the last that did
			distAt = r.Points[len(r.Points)-1].Rate
			distSim, distMeas = lastSim, lastMeas
		}
		r.Distribution = distribution(t, distAt, distSim, distMeas)
	}
	if _, err := reports.Render(dir, r); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if c.json {
		if err := writeJSON(e.stdout, r); err != nil {
			return err
		}
	} else {
		printValidateSummary(e.stdout, dir, r)
	}
	if r.Partial && runErr != nil {
		return runErr
	}
	if meas != nil {
		return judgedAny(r)
	}
	return nil
}

// judgedAny fails when the measurement judged the model at no rate: every
// measured rate had too many failed requests, or fell behind.
func judgedAny(r *reports.Report) error {
	measured := 0
	for _, pt := range r.Points {
		if pt.Measurement == nil {
			continue
		}
		measured++
		for _, e := range r.Entries {
			if pt.Judged(e, reports.Measurement) {
				return nil
			}
		}
	}
	if measured == 0 {
		return nil
	}
	return fmt.Errorf("the measurement judged the model at none of the %d rates measured (see the summary: failed requests, or a load generator that fell behind); the report is written", measured)
}

// validateRate runs the three views at one rate. An error leaves the rate
// out of the report.
func validateRate(ctx context.Context, t *topology.Topology, rt, maxRate float64, c validateConfig, meas *measurer, st *stageProgress) (*reports.Point, *sim.Result, *loadgen.Result, error) {
	at, err := t.WithRate(rt)
	if err != nil {
		return nil, nil, nil, err
	}
	pt := &reports.Point{Rate: rt, Fraction: rt / maxRate}
	pt.Model = reports.FromPrediction(model.Analyze(at).Predict())

	st.set("simulating", 0)
	simRes, err := sim.Run(ctx, at, sim.Options{
		Precision: c.precision, Seed: c.seed,
		Progress: func(done, total int64) { st.set("simulating", float64(done)/float64(max(total, 1))) },
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("simulating at %s: %w", rate(rt), err)
	}
	if simRes.Partial {
		return nil, nil, nil, ctx.Err()
	}
	pt.Simulation = fromSimulation(simRes)

	var measRes *loadgen.Result
	if meas != nil {
		st.set("measuring", 0)
		measRes, err = meas.attack(ctx, at, func(p loadgen.Progress) {
			st.set("measuring", p.Elapsed.Seconds()/math.Max(p.Total.Seconds(), 1e-9))
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("measuring at %s: %w", rate(rt), err)
		}
		pt.Measurement, pt.Timelines = fromMeasurement(measRes)
		st.set("simulating runs as long as the measurement", 0)
		spread, err := runSpread(ctx, at, measRes, c.seed)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("simulating the spread of a measurement at %s: %w", rate(rt), err)
		}
		for i := range pt.Measurement.Entries {
			pt.Measurement.Entries[i].CI95 = spread[pt.Measurement.Entries[i].Entry]
		}
	}
	return pt, simRes, measRes, nil
}

// spreadRuns is the number of simulated runs from which runSpread
// estimates the spread of a measurement.
const spreadRuns = 20

// runSpread is how much a measurement as long as m would vary from run to
// run if the services behaved exactly as the topology says: the 95%
// prediction interval of one more run, from spreadRuns simulated runs of
// the same number of requests. A short measurement near saturation meets
// few of the long busy periods that make the tail, and its percentiles
// scatter widely; this says how widely. With R runs of sample standard
// deviation s, one more run falls within ±t_{R-1,0.975}·s·√(1+1/R)
// (A. M. Law, Simulation Modeling and Analysis, 5th ed., 2015, §9.4.1 and
// the prediction interval for a new observation); the simulation's own
// half-width for the mean is h = t·s/√R, so the interval is ±h·√(R+1).
func runSpread(ctx context.Context, at *topology.Topology, m *loadgen.Result, seed uint64) (map[string]map[string]float64, error) {
	var measured int64
	for _, e := range m.Entries {
		measured += e.Histogram().TotalCount()
	}
	if measured < 10 {
		return nil, nil
	}
	res, err := sim.Run(ctx, at, sim.Options{Requests: measured * spreadRuns, Replications: spreadRuns, Seed: seed + 1_000_003})
	if err != nil {
		return nil, err
	}
	if res.Partial { // interrupted: the rate does not finish
		return nil, ctx.Err()
	}
	out := map[string]map[string]float64{}
	k := math.Sqrt(spreadRuns + 1)
	for _, e := range res.Entries {
		if e.CI95 == nil {
			continue
		}
		ci := map[string]float64{"mean": k * e.CI95.Mean}
		for _, l := range model.Levels {
			v, _ := e.CI95.Percentiles.Get(l.Name)
			ci[l.Name] = k * v
		}
		out[e.Entry] = ci
	}
	return out, nil
}

// fromSimulation turns a simulation result into report figures.
func fromSimulation(res *sim.Result) *reports.Figures {
	f := &reports.Figures{Stable: res.Stable, Run: map[string]any{
		"requests": res.Run.Requests, "replications": res.Run.Replications, "warmup_requests": res.Run.WarmupRequests,
		"seconds": res.Run.Seconds, "precision_reached": res.Run.PrecisionReached,
	}}
	for _, e := range res.Entries {
		var ci map[string]float64
		if e.CI95 != nil {
			ci = map[string]float64{"mean": e.CI95.Mean}
			for _, l := range model.Levels {
				v, _ := e.CI95.Percentiles.Get(l.Name)
				ci[l.Name] = v
			}
		}
		ef := reports.EntryFromResult(e.EntryResult, ci)
		ef.Requests = e.Histogram().TotalCount()
		f.Entries = append(f.Entries, ef)
	}
	for _, s := range res.Services {
		sf := reports.ServiceFigures{Name: s.Name, Utilization: s.Utilization}
		if s.CI95 != nil {
			sf.UtilizationCI = s.CI95.Utilization
		}
		f.Services = append(f.Services, sf)
	}
	return f
}

// fromMeasurement turns an attack's result into report figures and
// per-second timelines.
func fromMeasurement(res *loadgen.Result) (*reports.Figures, []reports.Timeline) {
	f := &reports.Figures{Stable: true, Run: map[string]any{
		"duration": res.Run.Duration, "rate_requested": res.Run.RateRequested, "rate_achieved": res.Run.RateAchieved,
		"max_lag": res.Run.MaxLag, "trustworthy": res.Run.Trustworthy,
	}}
	if res.Run.InterarrivalCV != nil {
		f.Run["interarrival_cv"] = *res.Run.InterarrivalCV
	}
	var tls []reports.Timeline
	for _, e := range res.Entries {
		ef := reports.EntryFromResult(e.EntryResult, nil) // the spread is added by runSpread
		ef.Requests = e.Histogram().TotalCount()
		ef.Sent = e.Requests
		ef.NotSent = e.NotSent
		if e.Requests > 0 {
			ratio := e.SuccessRatio
			ef.SuccessRatio = &ratio
		}
		ef.StatusCodes = e.StatusCodes
		ef.Errors = errorCounts(e)
		f.Entries = append(f.Entries, ef)
		tl := reports.Timeline{Entry: e.Entry}
		for _, p := range e.Series {
			if p.Warmup || p.P50 == nil || p.P99 == nil {
				continue
			}
			tl.Seconds = append(tl.Seconds, float64(p.Second))
			tl.P50 = append(tl.P50, *p.P50)
			tl.P99 = append(tl.P99, *p.P99)
			tl.Offered = append(tl.Offered, p.Offered)
			tl.Achieved = append(tl.Achieved, p.Achieved)
		}
		tls = append(tls, tl)
	}
	return f, tls
}

// distribution is the end-to-end CCDF of every source at one rate, on a
// grid of times up to past the largest p99.9 seen.
func distribution(t *topology.Topology, rt float64, s *sim.Result, m *loadgen.Result) *reports.Distribution {
	at, err := t.WithRate(rt)
	if err != nil {
		return nil // rt was validated; unreachable
	}
	n := model.Analyze(at)
	d := &reports.Distribution{Rate: rt}
	for e, w := range t.Workload {
		top := n.EndToEndQuantile(e, 0.9999)
		if s != nil && e < len(s.Entries) && s.Entries[e].Percentiles != nil {
			top = math.Max(top, s.Entries[e].Percentiles.P999*1.3)
		}
		var me *loadgen.EntryResult
		if m != nil {
			for i := range m.Entries {
				if m.Entries[i].Entry == w.Entry {
					me = &m.Entries[i]
				}
			}
		}
		if me != nil && me.Percentiles != nil {
			top = math.Max(top, me.Percentiles.P999*1.3)
		}
		times := make([]float64, 200)
		for i := range times {
			times[i] = top * float64(i+1) / float64(len(times))
		}
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
		if s != nil && e < len(s.Entries) {
			curve(reports.Simulation, s.Entries[e].Survival(times...))
		}
		if me != nil {
			curve(reports.Measurement, me.Survival(times))
		}
	}
	return d
}

// overheadNotes estimates, per entry, what the model leaves out of a real
// request: at the lowest rate measured, where queueing is least, the excess
// of the measured mean over the simulated one, per visit the request makes
// (HTTP and scheduling). It is said only when the measurement is above the
// simulation by more than the two intervals together.
func overheadNotes(n *model.Network, r *reports.Report) []string {
	var notes []string
	for e, entry := range r.Entries {
		for i, pt := range r.Points {
			mv, mci, ok1 := pt.Measurement.Value(entry, "mean")
			sv, sci, ok2 := pt.Simulation.Value(entry, "mean")
			if !ok1 || !ok2 {
				continue
			}
			if d := mv - sv; d > mci+sci {
				var visits float64
				for _, v := range n.Visits(e) {
					visits += v
				}
				where := "the lowest rate measured"
				if i > 0 {
					where = "the lowest rate with both a simulation and a measurement"
				}
				what := "the cost of HTTP on loopback and of scheduling"
				if r.Settings.Target == "endpoints" {
					what = "the network, HTTP and whatever else the real services do"
				}
				notes = append(notes, fmt.Sprintf("At %s, %s, %s's measured mean is %s above the simulation's: about %s per visit over its %.3g visits per request, %s, which the model leaves out.",
					rate(pt.Rate), where, entry, secs(d), secs(d/visits), visits, what))
			}
			break // the lowest such rate only
		}
	}
	return notes
}

func closest(xs []float64, x float64) float64 {
	best := xs[0]
	for _, v := range xs {
		if math.Abs(v-x) < math.Abs(best-x) {
			best = v
		}
	}
	return best
}

func fileSafeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func rateSummary(rates []float64, maxRate float64) string {
	parts := make([]string, len(rates))
	for i, r := range rates {
		parts[i] = fmt.Sprintf("%s (%.0f%%)", sig3(r), 100*r/maxRate)
	}
	return strings.Join(parts, ", ") + " req/s"
}

func printValidateSummary(w io.Writer, dir string, r *reports.Report) {
	fmt.Fprintf(w, "%s: model max rate %s (bottleneck %s); %d rate(s) validated%s.\n\n",
		r.Topology, rate(r.MaxRate), r.Bottleneck, len(r.Points), map[bool]string{true: " (PARTIAL: interrupted)", false: ""}[r.Partial])
	printSweepTable(w, r)
	fmt.Fprintln(w)
	for _, l := range reports.Summary(r) {
		fmt.Fprintf(w, "- %s\n", l)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	fmt.Fprintf(w, "\nReport: %s\n", filepath.Join(abs, "index.html"))
}

// printSweepTable prints, per entry and rate, the p99 and mean of the three
// sources side by side.
//
// With a measurement, the last column is the fraction of its requests that
// succeeded (the latencies are of those), marked when the rate was not
// judged.
func printSweepTable(w io.Writer, r *reports.Report) {
	measured := r.Settings.Target != "none" && r.Settings.Target != ""
	header := []string{"ENTRY", "TOTAL RATE", "LOAD", "MEAN model", "sim", "measured", "p99 model", "sim", "measured"}
	if measured {
		header = append(header, "MEASURED OK")
	}
	tb := newTable(w, header...)
	for _, e := range r.Entries {
		for _, pt := range r.Points {
			cell := func(f *reports.Figures, m string) string {
				if v, _, ok := f.Value(e, m); ok {
					return secs(v)
				}
				return "-"
			}
			row := []string{e, rate(pt.Rate), fmt.Sprintf("%.0f%%", 100*pt.Fraction),
				cell(pt.Model, "mean"), cell(pt.Simulation, "mean"), cell(pt.Measurement, "mean"),
				cell(pt.Model, "p99"), cell(pt.Simulation, "p99"), cell(pt.Measurement, "p99")}
			if measured {
				ok := "-"
				if m := pt.Measurement.Entry(e); m != nil && m.SuccessRatio != nil {
					ok = fmt.Sprintf("%s of %d", successPct(*m.SuccessRatio), m.Sent)
					if !pt.Judged(e, reports.Measurement) {
						ok += " NOT JUDGED"
					}
				}
				row = append(row, ok)
			}
			tb.row(row...)
		}
	}
	tb.flush()
}

// successPct formats a success ratio: 100% only when nothing failed.
func successPct(f float64) string {
	if f < 1 && f > 0.9999 {
		return ">99.99%"
	}
	return pct(f)
}

// errorCounts are the failures of a measured entry by class, for a report.
func errorCounts(e loadgen.EntryResult) []reports.ErrorCount {
	var out []reports.ErrorCount
	for _, c := range e.Errors {
		out = append(out, reports.ErrorCount{Class: c.Class, Count: c.Count, Example: c.Example})
	}
	return out
}
