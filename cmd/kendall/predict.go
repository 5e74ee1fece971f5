package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kendallqn/kendall/check"
	"github.com/kendallqn/kendall/internal/numfmt"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

func init() {
	register(&command{
		name:    "predict",
		args:    "FILE [--rate R] [--json]",
		summary: "predict utilization and latency of every service and end to end, with the queueing model",
		help: `Each service is an M/M/c station (its workers, one FIFO queue); requests
flow through the calls of the topology. predict prints, per service, its
utilization, probability of waiting, mean wait and response, and response
percentiles; per workload entry, the mean and percentiles of end-to-end
latency; and the bottleneck and the largest rate the topology sustains.

Every figure carries a label: exact where a theorem covers it for this
topology (Kelly's product form for networks of exponential services,
Burke's theorem and Pollaczek–Khinchine for a single worker fed by Poisson
arrivals, Reich's theorem for a chain of single-worker services), else
approximate, marked ~, with the reason in words and the error the accuracy
table measured for such cases. --check runs a short simulation of the same
topology (--check-time, about a second) and prints the model's error on
every figure beside the simulation's 95% interval.

An unstable topology (a service at or over 100% utilization) is reported
with the services that saturate, by how much, and the largest rate it
sustains.

FILE is a topology file (YAML or JSON; see README.md), or - to read one
from standard input.

Examples:
  kendall predict examples/shop.yaml
  kendall predict examples/shop.yaml --rate 200
  kendall predict examples/shop.yaml --check
  kendall predict examples/shop.yaml --json | jq '.entries[0].percentiles.p99'`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			rateFlag := rateVar(fs, "total arrival `rate` in requests per second (e.g. 200 or 200/s),\nreplacing the workload's total and keeping its mix")
			jsonFlag := fs.Bool("json", false, "print JSON (times in seconds, rates in requests per second)")
			checkFlag := fs.Bool("check", false, "check every figure against a short simulation of the same topology")
			checkTime := fs.Duration("check-time", check.DefaultBudget, "about how long the --check simulation runs (a `duration`)")
			seed := fs.Uint64("seed", 1, "random `seed` of the --check simulation")
			return func(ctx context.Context, e *env, args []string) error {
				t, err := loadTopology(args, rateFlag)
				if err != nil {
					return err
				}
				if *checkTime <= 0 {
					return usagef("--check-time %v: give a positive duration such as 1s", *checkTime)
				}
				p := model.Analyze(t).Predict()
				var c *check.Comparison
				if *checkFlag && p.Stable {
					if e.interactive {
						fmt.Fprintf(e.stderr, "checking by simulation for about %s...", *checkTime)
					}
					c, err = check.Prediction(ctx, t, p, check.Options{Budget: *checkTime, Seed: *seed})
					if e.interactive {
						fmt.Fprint(e.stderr, "\r\033[K")
					}
					if err != nil {
						return fmt.Errorf("checking by simulation: %w", err)
					}
				}
				if *jsonFlag {
					if c != nil {
						return writeJSON(e.stdout, struct {
							*result.Prediction
							Check *check.Comparison `json:"check"`
						}{p, c})
					}
					return writeJSON(e.stdout, p)
				}
				if err := printPrediction(e.stdout, t, p); err != nil {
					return err
				}
				if c != nil {
					fmt.Fprintf(e.stdout, "\nChecked against a simulation of %s requests (%d replications, %.1fs, seed %d):\n\n",
						numfmt.Thousands(c.Run.Requests), c.Run.Replications, c.Run.Seconds, c.Run.Seed)
					printComparison(e.stdout, c)
				}
				return nil
			}
		},
	})
}

func printPrediction(w io.Writer, t *topology.Topology, p *result.Prediction) error {
	printHeading(w, p)
	printServices(w, p)
	if p.Stable {
		fmt.Fprintln(w)
		printEntries(w, p.Entries)
		fmt.Fprintln(w)
		printLabels(w, p)
	}
	fmt.Fprintln(w)
	printVerdict(w, t, p)
	return nil
}

func printHeading(w io.Writer, p *result.Prediction) {
	var entries []string
	for _, e := range p.Entries {
		entries = append(entries, fmt.Sprintf("%s at %s", rate(e.Rate), e.Entry))
	}
	fmt.Fprintf(w, "%s: %d services; workload %s\n\n", p.Topology, len(p.Services), strings.Join(entries, ", "))
}

// approxMark marks a figure the model only approximates; exact figures are
// unmarked.
const approxMark = "~"

// marked is v with the approximation mark when its label is approximate.
func marked(v string, l result.Labels, figure string) string {
	if x, ok := l[figure]; ok && !x.Exact && v != "-" {
		return approxMark + v
	}
	return v
}

func printServices(w io.Writer, p *result.Prediction) {
	tb := newTable(w, "SERVICE", "WORKERS", "SERVICE TIME", "ARRIVALS", "UTIL", "P(WAIT)", "MEAN WAIT", "MEAN RESP", "p50", "p90", "p99", "p99.9")
	for _, s := range p.Services {
		dist := ""
		if s.Distribution != "exponential" {
			dist = " " + s.Distribution
		}
		util := pct(s.Utilization)
		if s.Utilization >= 1 {
			util += " SATURATED"
		}
		var p50, p90, p99, p999 string = "-", "-", "-", "-"
		if q := s.Percentiles; q != nil {
			p50, p90, p99, p999 = secs(q.P50), secs(q.P90), secs(q.P99), secs(q.P999)
		}
		l := s.Labels
		pc := func(v string) string { return marked(v, l, result.FigPercentiles) }
		tb.row(s.Name, workers(s), secs(s.ServiceTime)+dist, sig3(s.ArrivalRate)+"/s", util,
			marked(pctPtr(s.WaitProbability), l, result.FigWaitProbability), marked(secsPtr(s.MeanWait), l, result.FigMeanWait),
			marked(secsPtr(s.MeanResponse), l, result.FigMeanResponse), pc(p50), pc(p90), pc(p99), pc(p999))
	}
	tb.flush()
}

func printEntries(w io.Writer, entries []result.EndToEnd) {
	tb := newTable(w, "END TO END", "RATE", "MEAN", "p50", "p90", "p95", "p99", "p99.9")
	for _, e := range entries {
		mean := marked(secsPtr(e.Mean), e.Labels, result.FigMean)
		q := e.Percentiles
		if q == nil {
			tb.row(e.Entry, rate(e.Rate), mean, "-", "-", "-", "-", "-")
			continue
		}
		pc := func(v float64) string { return marked(secs(v), e.Labels, result.FigPercentiles) }
		tb.row(e.Entry, rate(e.Rate), mean, pc(q.P50), pc(q.P90), pc(q.P95), pc(q.P99), pc(q.P999))
	}
	tb.flush()
}

// printLabels says which figures are exact, and on what theorem, and which
// are approximate (marked ~), why, and how far off such figures were in the
// accuracy table.
func printLabels(w io.Writer, p *result.Prediction) {
	var exact, approx labelGroups
	serviceFigures := []string{result.FigWaitProbability, result.FigMeanWait, result.FigMeanResponse, result.FigPercentiles}
	entryFigures := []string{result.FigMean, result.FigPercentiles}
	for _, s := range p.Services {
		exact.add(s.Name, s.Labels, serviceFigures, true)
		approx.add(s.Name, s.Labels, serviceFigures, false)
	}
	for _, e := range p.Entries {
		exact.add(e.Entry, e.Labels, entryFigures, true)
		approx.add(e.Entry, e.Labels, entryFigures, false)
	}
	switch {
	case len(approx) == 0:
		fmt.Fprintln(w, "Every figure is exact:")
	case len(exact) > 0:
		fmt.Fprintln(w, "Exact figures:")
	}
	for _, g := range exact {
		fmt.Fprint(w, wrap(fmt.Sprintf("%s: %s.", g.describe(), g.label.Basis), "  ", "    "))
	}
	if len(approx) == 0 {
		return
	}
	fmt.Fprintf(w, "Approximate figures (marked %s):\n", approxMark)
	for _, g := range approx {
		fmt.Fprint(w, wrap(fmt.Sprintf("%s: %s.", g.describe(), g.label.Why), "  ", "    "))
		fmt.Fprint(w, wrap(fmt.Sprintf("Computed by %s.", g.label.Basis), "    ", "    "))
		if g.label.Error != "" {
			fmt.Fprint(w, wrap(fmt.Sprintf("Accuracy table: %s.", g.label.Error), "    ", "    "))
		}
	}
	fmt.Fprintln(w, "Run with --check to measure every figure against a short simulation.")
}

// labelGroup is the figures that share one label: per owner (a service,
// or an entry end to end), which of its figures.
type labelGroup struct {
	label  result.Label
	owners []string
	entry  []bool     // the owner is a workload entry, its figures end to end
	all    []bool     // the owner has every figure it could have here
	names  [][]string // the owner's figures, otherwise
}

type labelGroups []*labelGroup

// add files the figures of one owner whose label is exact (or not) into
// their groups.
func (gs *labelGroups) add(owner string, l result.Labels, figures []string, exact bool) {
	perLabel := map[result.Label][]string{}
	var order []result.Label
	for _, f := range figures {
		x, ok := l[f]
		if !ok || x.Exact != exact {
			continue
		}
		if exact {
			x = result.Label{Exact: true, Basis: x.Basis}
		}
		if _, seen := perLabel[x]; !seen {
			order = append(order, x)
		}
		name := figureName(f)
		if len(figures) == 2 && f == result.FigPercentiles { // an entry's
			name = "end-to-end percentiles"
		}
		perLabel[x] = append(perLabel[x], name)
	}
	for _, x := range order {
		var g *labelGroup
		for _, h := range *gs {
			if h.label == x {
				g = h
			}
		}
		if g == nil {
			g = &labelGroup{label: x}
			*gs = append(*gs, g)
		}
		g.owners = append(g.owners, owner)
		g.entry = append(g.entry, len(figures) == 2)
		g.all = append(g.all, len(perLabel[x]) == len(figures))
		g.names = append(g.names, perLabel[x])
	}
}

// describe names the figures of a group: "every figure of gateway and db",
// "catalog's percentiles".
func (g *labelGroup) describe() string {
	var every, parts []string
	for i, o := range g.owners {
		switch {
		case g.all[i] && g.entry[i]:
			parts = append(parts, "every end-to-end figure of "+o)
		case g.all[i]:
			every = append(every, o)
		default:
			parts = append(parts, o+"'s "+strings.Join(g.names[i], ", "))
		}
	}
	if len(every) > 0 {
		lead := "every figure of "
		if len(every) > 4 {
			every = append(every[:3], fmt.Sprintf("%d more", len(every)-3))
		}
		parts = append([]string{lead + listWords(every)}, parts...)
	}
	if len(parts) > 4 {
		parts = append(parts[:3], fmt.Sprintf("%d more", len(parts)-3))
	}
	return listWords(parts)
}

// listWords writes "a", "a and b", "a, b and c".
func listWords(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// figureName is how a labelled figure is written in the notes.
func figureName(f string) string {
	switch f {
	case result.FigWaitProbability:
		return "P(wait)"
	case result.FigMeanWait:
		return "mean wait"
	case result.FigMeanResponse:
		return "mean response"
	case result.FigMean:
		return "end-to-end mean"
	}
	return "percentiles"
}

// workers is a service's workers as the tables show them: "4" for one
// queue of four, "3×2 round-robin" for three replicas of two workers each,
// three queues, which the balancer named chooses among.
func workers(s result.Service) string {
	if s.Replicas > 1 {
		return fmt.Sprintf("%d×%d %s", s.Replicas, s.Servers, s.Balancer)
	}
	return fmt.Sprint(s.Servers)
}
