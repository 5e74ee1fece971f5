package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/reports"
	"github.com/kendallqn/kendall/topology"
	"github.com/kendallqn/kendall/validate"
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
			fs.StringVar(&c.rates, "rates", validate.DefaultRates, "comma-separated `rates`: fractions of the model's max rate (0.5),\nor requests per second with their unit (120/s)")
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
				return runValidate(ctx, e, c)
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

func runValidate(ctx context.Context, e *env, c validateConfig) error {
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
	maxRate, _ := base.MaxRate()
	rates, err := validate.ParseRates(c.rates, maxRate)
	if err != nil {
		return usagef("--rates: %v", err)
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
	var distAt float64
	if c.distributionAt != "" { // a rate of the sweep, written either way
		want, err := validate.ParseRates(c.distributionAt, maxRate)
		if err != nil {
			return usagef("--distribution-at: %v", err)
		}
		distAt = want[0]
	}
	dir := c.out
	if dir == "" {
		dir = filepath.Join("kendall-report", fileSafeName(t.Name)+"-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	fmt.Fprintf(e.stderr, "kendall validate: %s at %d rates (%s); writing %s\n", t.Name, len(rates), rateSummary(rates, maxRate), dir)
	prog := newSweepProgress(e, len(rates), c, !c.noMeasure)
	r, runErr := validate.Run(ctx, t, validate.Options{
		Rates: rates, Measure: !c.noMeasure, Duration: c.duration, Warmup: c.warmup,
		Precision: c.precision, Seed: c.seed, DistributionAt: distAt, MinSuccess: c.minSuccess, File: c.file,
		Progress:   prog.set,
		Checkpoint: func(r *reports.Report) error { return r.Save(dir) }, // nothing measured is lost if what follows fails
		Started:    func(target string) { fmt.Fprintf(e.stderr, "measuring against %s\n", target) },
	})
	prog.done()
	if r == nil {
		return flagHint(runErr)
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
	if errors.Is(runErr, validate.ErrNotJudged) {
		return fmt.Errorf("the measurement judged the model at none of the %d rates measured (see the summary: failed requests, or a load generator that fell behind); the report is written", len(r.Points))
	}
	return runErr
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
					if f.Approximate(e, m) {
						return reports.ApproxMark + secs(v)
					}
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
