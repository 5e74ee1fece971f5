package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/kendallqn/kendall/check"
	"github.com/kendallqn/kendall/internal/numfmt"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

func init() {
	register(&command{
		name:    "simulate",
		args:    "FILE [--rate R] [--requests N] [--replications R] [--precision P] [--seed S] [--workers N] [--json]",
		summary: "check the model with a discrete-event simulation, with confidence intervals",
		help: `simulate runs the topology's requests one by one through its services, as
the topology file says, and measures what predict computes. It is the
ground truth for the model: where the model is exact (exponential service
times), the two agree within the simulation's confidence interval; where
the model approximates (other distributions, end-to-end percentiles of
requests that visit shared services), simulate shows by how much.

Each figure is printed beside the model's, with the relative difference
(model − simulated)/simulated and whether the model lies inside the
simulation's 95% confidence interval.

How it works: independent replications, each a sequential discrete-event
simulation, run in parallel, one per core (--workers). Each replication
starts empty; the start-up transient is cut by the MSER-5 rule from a pilot
run, and the output says how many requests were cut. The confidence
interval of each figure comes from the spread of its estimates across
replications (Student t). The same --seed gives the same figures whatever
the number of workers.

--requests is the number of measured requests over all replications. With
--precision, replications are added until the 95% half-width of each
entry's mean end-to-end latency is within that fraction of the mean, or
--max-requests is reached. More requests narrow the intervals as 1/√N:
four times the requests for half the width.

An unstable topology (a service at or over 100% utilization) has no steady
state and is refused, as predict reports it. --force simulates it anyway
for --requests requests and shows how fast each queue grows.

Ctrl-C stops the run and prints what was gathered, marked partial.

Examples:
  kendall simulate examples/shop.yaml
  kendall simulate examples/shop.yaml --rate 200 --requests 5000000
  kendall simulate examples/api-db-pool.yaml --precision 0.005
  kendall simulate examples/shop.yaml --json | jq '.entries[0].ci95.p99'
  kendall simulate examples/shop.yaml --rate 300 --force`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			rateFlag := rateVar(fs, "total arrival `rate` in requests per second (e.g. 200 or 200/s),\nreplacing the workload's total and keeping its mix")
			requests := fs.Int64("requests", 10_000_000, "measured requests `N`, over all replications (ten million: the fewest\nat which p99.9 at 90% load has an interval that covers the truth 95% of the time)")
			replications := fs.Int("replications", 10, "independent replications `R`; the confidence intervals come\nfrom their spread (at least 2)")
			precision := fs.Float64("precision", 0, "keep adding replications until each entry's mean end-to-end\nlatency is known to within this `fraction` (0.01 for ±1%, at 95%)")
			maxRequests := fs.Int64("max-requests", 100_000_000, "with --precision, stop at `N` measured requests even if the\ntarget is not met")
			seed := fs.Uint64("seed", 1, "random `seed`: the same seed gives the same figures")
			workers := fs.Int("workers", 0, "replications run at once, `N`; 0 means one per core")
			force := fs.Bool("force", false, "simulate an unstable topology anyway, and show its queues growing")
			jsonFlag := fs.Bool("json", false, "print JSON: predict's object, with \"ci95\" half-widths and a \"run\"")
			return func(ctx context.Context, e *env, args []string) error {
				t, err := loadTopology(args, rateFlag)
				if err != nil {
					return err
				}
				switch {
				case *requests < 1:
					return usagef("--requests %d: simulate at least one request", *requests)
				case *replications < 2:
					return usagef("--replications %d: confidence intervals need at least 2", *replications)
				case int64(*replications) > *requests:
					return usagef("--replications %d is more than --requests %d; each replication needs requests", *replications, *requests)
				case *precision < 0 || *precision >= 1:
					return usagef("--precision %v: give a fraction such as 0.01 for ±1%%", *precision)
				case *maxRequests < 1:
					return usagef("--max-requests %d: must be positive", *maxRequests)
				case *workers < 0:
					return usagef("--workers %d: give a positive number, or 0 for one per core", *workers)
				}
				pred := model.Analyze(t).Predict()
				if !pred.Stable && !*force {
					printVerdict(e.stderr, t, pred)
					return fmt.Errorf("refusing to simulate an unstable topology: its queues grow without bound, so it has no latency to measure; lower --rate, or add --force to watch the queues grow")
				}
				opts := sim.Options{
					Requests:     *requests,
					Replications: *replications,
					Precision:    *precision,
					MaxRequests:  max(*maxRequests, *requests),
					Seed:         *seed,
					Workers:      *workers,
					Force:        *force,
				}
				if e.interactive {
					opts.Progress = func(done, total int64) {
						fmt.Fprintf(e.stderr, "\rsimulating: %s of %s requests (%.0f%%)  ", numfmt.Thousands(done), numfmt.Thousands(total), 100*float64(done)/float64(max(total, 1)))
					}
				}
				res, err := sim.Run(ctx, t, opts)
				if e.interactive {
					fmt.Fprint(e.stderr, "\r\033[K") // clear the progress line
				}
				if err != nil {
					return err
				}
				withModelLabels(res, pred)
				if *jsonFlag {
					err = writeJSON(e.stdout, res)
				} else {
					err = printSimulation(e.stdout, t, pred, res)
				}
				if err == nil && res.Partial {
					err = ctx.Err() // printed what was gathered; now say it was interrupted
				}
				return err
			}
		},
	})
}

func printSimulation(w io.Writer, t *topology.Topology, p *result.Prediction, r *sim.Result) error {
	printHeading(w, p)
	printRun(w, r)
	fmt.Fprintln(w)
	if r.Run.Forced {
		printForced(w, t, p, r)
		return nil
	}
	printComparison(w, check.Compare(p, r))
	fmt.Fprintln(w)
	printVerdict(w, t, p)
	return nil
}

// printRun says how the figures were obtained.
func printRun(w io.Writer, r *sim.Result) {
	ri := r.Run
	if r.Partial {
		fmt.Fprintf(w, "PARTIAL: interrupted; the figures are from the %s requests measured so far.\n", numfmt.Thousands(ri.Requests))
	}
	fmt.Fprintf(w, "Simulated %s measured requests in %d replications (seed %d, %d workers): %s simulated in %.2fs, %s req/s.\n",
		numfmt.Thousands(ri.Requests), ri.Replications, ri.Seed, ri.Workers, numfmt.Thousands(ri.SimulatedRequests), ri.Seconds, numfmt.Thousands(int64(ri.RequestsPerSecond)))
	switch {
	case ri.WarmupRule == "none":
		fmt.Fprintln(w, "No warm-up deleted.")
	case ri.WarmupRequests == 0:
		fmt.Fprintf(w, "Warm-up: none deleted; %s found no start-up transient.\n", ri.WarmupRule)
	default:
		fmt.Fprintf(w, "Warm-up: the first %s requests of each replication deleted (%s).\n", numfmt.Thousands(ri.WarmupRequests), ri.WarmupRule)
	}
	if !ri.WarmupConverged && !ri.Forced {
		fmt.Fprintln(w, "WARNING: MSER-5 found no steady state in its longest pilot run; the topology is close to saturation and the figures may still carry start-up bias. Simulate more requests.")
	}
	if ri.Precision > 0 {
		if ri.PrecisionReached {
			fmt.Fprintf(w, "Precision: every entry's mean end-to-end latency is within ±%s (95%%).\n", pct(ri.Precision))
		} else if ri.MaxRequestsReached {
			fmt.Fprintf(w, "Precision NOT reached: stopped at --max-requests before the means were within ±%s.\n", pct(ri.Precision))
		}
	}
	if ri.Clamped > 0 {
		fmt.Fprintf(w, "WARNING: %s latencies were longer than 292 years, the longest a histogram holds, and were recorded as that.\n", numfmt.Thousands(ri.Clamped))
	}
}

// printComparison prints every figure of the model beside the simulated
// one, per service then end to end, and says what the comparison shows:
// exact figures inside the simulation's interval but for chance, and the
// errors of the approximate ones.
func printComparison(w io.Writer, c *check.Comparison) {
	header := func(first string) *table {
		return newTable(w, first, "FIGURE", "SIMULATED", "±95% CI", "MODEL", "DIFF", "MODEL IN CI")
	}
	tb := header("SERVICE")
	last := ""
	entries := false
	for _, f := range c.Figures {
		if f.Entry && !entries {
			tb.flush()
			fmt.Fprintln(w)
			tb, last, entries = header("END TO END"), "", true
		}
		owner := f.Owner
		if owner == last {
			owner = ""
		}
		last = f.Owner
		format := secs
		if f.Name == "utilization" || f.Name == "P(wait)" {
			format = pct
		}
		model := format(f.Model)
		if !f.Label.Exact {
			model = approxMark + model
		}
		diff := "-"
		if e := f.Error(); !math.IsNaN(e) {
			diff = fmt.Sprintf("%+.1f%%", 100*e)
		}
		in := "no"
		if f.Inside {
			in = "yes"
		}
		tb.row(owner, levelName(f.Name), format(f.Sim), format(f.CI95), model, diff, in)
	}
	tb.flush()
	fmt.Fprintln(w)
	summarizeComparison(w, c)
}

// summarizeComparison says how many exact figures lie inside the
// simulation's interval, and how far off the approximate ones are.
func summarizeComparison(w io.Writer, c *check.Comparison) {
	var exact, inside int
	var outsideExact []string
	var approx []check.Figure
	for _, f := range c.Figures {
		if f.Label.Exact {
			exact++
			if f.Inside {
				inside++
			} else {
				outsideExact = append(outsideExact, fmt.Sprintf("%s %s (%+.1f%%)", f.Owner, levelName(f.Name), 100*f.Error()))
			}
			continue
		}
		approx = append(approx, f)
	}
	if exact > 0 {
		fmt.Fprintf(w, "Exact figures: %d of %d inside the simulation's 95%% interval", inside, exact)
		if len(outsideExact) > 0 {
			fmt.Fprintf(w, "; outside: %s. About 1 in 20 falls outside a 95%% interval by chance; more requests narrow the intervals", strings.Join(outsideExact, ", "))
		}
		fmt.Fprintln(w, ".")
	}
	if len(approx) == 0 {
		return
	}
	slices.SortStableFunc(approx, func(a, b check.Figure) int {
		return cmp.Compare(math.Abs(b.Error()), math.Abs(a.Error()))
	})
	var worst []string
	in := 0
	for _, f := range approx {
		if f.Inside {
			in++
		}
		if len(worst) < 4 && !f.Inside {
			worst = append(worst, fmt.Sprintf("%s %s %+.1f%%", f.Owner, levelName(f.Name), 100*f.Error()))
		}
	}
	fmt.Fprintf(w, "Approximate figures (%s): %d of %d inside the simulation's 95%% interval", approxMark, in, len(approx))
	if len(worst) > 0 {
		fmt.Fprintf(w, "; the largest errors: %s", strings.Join(worst, ", "))
	}
	fmt.Fprintln(w, ".")
}

// printForced reports an unstable topology simulated with --force.
func printForced(w io.Writer, t *topology.Topology, p *result.Prediction, r *sim.Result) {
	printVerdict(w, t, p)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Forced: with no steady state, the figures below describe this run, not the topology, and grow with its length.")
	tb := newTable(w, "SERVICE", "OFFERED", "UTIL", "BACKLOG AT END", "GROWING BY", "MEAN RESP")
	for i, s := range r.Services {
		backlog, growth := "-", "-"
		if s.Backlog != nil {
			backlog = sig3(*s.Backlog)
		}
		if s.BacklogGrowth != nil {
			growth = sig3(*s.BacklogGrowth) + " req/s"
		}
		tb.row(s.Name, pct(p.Services[i].Utilization), pct(s.Utilization), backlog, growth, secsPtr(s.MeanResponse))
	}
	tb.flush()
	fmt.Fprintln(w)
	tb = newTable(w, "END TO END", "FINISHED", "MEAN", "p50", "p99")
	for _, e := range r.Entries {
		p50, p99 := "-", "-"
		if q := e.Percentiles; q != nil {
			p50, p99 = secs(q.P50), secs(q.P99)
		}
		tb.row(e.Entry, numfmt.Thousands(e.Counts.Completions)+" of "+numfmt.Thousands(e.Counts.Arrivals), secsPtr(e.Mean), p50, p99)
	}
	tb.flush()
}

// levelName is how a percentile is written in tables: p99.9 for p999.
func levelName(name string) string {
	if name == "p999" {
		return "p99.9"
	}
	return name
}

// withModelLabels puts the model's labels on the simulation's figures: in
// simulate's JSON, as in predict's, they say which of the model's figures
// are exact (where the simulation checks theory) and which approximate
// (where it measures the model's error), and "approximate" is the model's.
func withModelLabels(res *sim.Result, p *result.Prediction) {
	res.Approximate = p.Approximate
	for i := range res.Services {
		res.Services[i].Labels = p.Services[i].Labels
		res.Services[i].Approximate = p.Services[i].Approximate
	}
	for i := range res.Entries {
		res.Entries[i].Labels = p.Entries[i].Labels
	}
}
