package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/kendallqn/kendall/model"
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

Figures are exact for exponential service times (means for any network,
percentiles for chains of single-server services). With other service-time
distributions the model approximates, and says so.

An unstable topology (a service at or over 100% utilization) is reported
with the services that saturate, by how much, and the largest rate it
sustains.

FILE is a topology file (YAML or JSON; see README.md), or - to read one
from standard input.

Examples:
  kendall predict examples/shop.yaml
  kendall predict examples/shop.yaml --rate 200
  kendall predict examples/shop.yaml --json | jq '.entries[0].percentiles.p99'`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			rateFlag := rateVar(fs, "total arrival `rate` in requests per second (e.g. 200 or 200/s),\nreplacing the workload's total and keeping its mix")
			jsonFlag := fs.Bool("json", false, "print JSON (times in seconds, rates in requests per second)")
			return func(ctx context.Context, e *env, args []string) error {
				t, err := loadTopology(args, rateFlag)
				if err != nil {
					return err
				}
				p := model.Analyze(t).Predict()
				if *jsonFlag {
					return writeJSON(e.stdout, p)
				}
				return printPrediction(e.stdout, t, p)
			}
		},
	})
}

// loadTopology reads the one FILE argument ("-" for standard input) and
// applies --rate, if given (r may be nil).
func loadTopology(args []string, r *rateValue) (*topology.Topology, error) {
	if len(args) != 1 {
		return nil, usagef("want one topology FILE, got %d arguments", len(args))
	}
	var t *topology.Topology
	var err error
	if args[0] == "-" { // the topology on standard input, for pipes
		data, rerr := io.ReadAll(os.Stdin)
		if rerr != nil {
			return nil, fmt.Errorf("reading standard input: %w", rerr)
		}
		t, err = topology.Parse("stdin", data)
	} else {
		t, err = topology.Load(args[0])
	}
	if err != nil {
		return nil, err
	}
	if r == nil || !r.set {
		return t, nil
	}
	return t.WithRate(r.rate)
}

// rateValue is a --rate flag, parsed when it is set: a bad rate is a usage
// error at once, and an empty one (--rate "") is an error, not taken for a
// flag that was not given.
type rateValue struct {
	rate float64
	set  bool
}

// rateVar declares the --rate flag on fs.
func rateVar(fs *flag.FlagSet, usage string) *rateValue {
	v := &rateValue{}
	fs.Var(v, "rate", usage)
	return v
}

func (v *rateValue) String() string {
	if v == nil || !v.set {
		return ""
	}
	return strconv.FormatFloat(v.rate, 'g', -1, 64)
}

func (v *rateValue) Set(s string) error {
	r, err := topology.ParseRate(s)
	if err != nil {
		return err
	}
	v.rate, v.set = r, true
	return nil
}

func printPrediction(w io.Writer, t *topology.Topology, p *model.Prediction) error {
	printHeading(w, t, p)
	printServices(w, p)
	if p.Stable {
		fmt.Fprintln(w)
		printEntries(w, p.Entries)
	}
	fmt.Fprintln(w)
	printVerdict(w, t, p)
	return nil
}

func printHeading(w io.Writer, t *topology.Topology, p *model.Prediction) {
	var entries []string
	for _, e := range p.Entries {
		entries = append(entries, fmt.Sprintf("%s at %s", rate(e.Rate), e.Entry))
	}
	fmt.Fprintf(w, "%s: %d services; workload %s\n", p.Topology, len(p.Services), strings.Join(entries, ", "))
	if p.Approximate {
		var names []string
		for _, s := range p.Services {
			if s.Approximate && s.ArrivalRate > 0 {
				names = append(names, s.Name+" ("+s.Distribution+")")
			}
		}
		fmt.Fprintf(w, "APPROXIMATE: not every service time is exponential: %s.\n", strings.Join(names, ", "))
		fmt.Fprintln(w, "Waits use Pollaczek–Khinchine (1 worker, exact) or Allen–Cunneen (more workers); run 'kendall simulate' to check.")
	} else {
		fmt.Fprintln(w, "Exact M/M/c model: every service time is exponential.")
	}
	fmt.Fprintln(w)
}

func printServices(w io.Writer, p *model.Prediction) {
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
		tb.row(s.Name, fmt.Sprint(s.Servers), secs(s.ServiceTime)+dist, sig3(s.ArrivalRate)+"/s", util,
			pctPtr(s.WaitProbability), secsPtr(s.MeanWait), secsPtr(s.MeanResponse), p50, p90, p99, p999)
	}
	tb.flush()
}

func printEntries(w io.Writer, entries []model.EntryResult) {
	tb := newTable(w, "END TO END", "RATE", "MEAN", "p50", "p90", "p95", "p99", "p99.9")
	for _, e := range entries {
		q := e.Percentiles
		if q == nil {
			tb.row(e.Entry, rate(e.Rate), secsPtr(e.Mean), "-", "-", "-", "-", "-")
			continue
		}
		tb.row(e.Entry, rate(e.Rate), secsPtr(e.Mean), secs(q.P50), secs(q.P90), secs(q.P95), secs(q.P99), secs(q.P999))
	}
	tb.flush()
}

// printVerdict says in words where the bottleneck is and how much headroom
// is left, or which services saturate and by how much.
func printVerdict(w io.Writer, t *topology.Topology, p *model.Prediction) {
	if p.Stable && t.Index(p.Bottleneck) < 0 { // nothing is loaded: no service can saturate
		fmt.Fprintln(w, "No service is loaded: the topology has no bottleneck at this rate.")
		return
	}
	if p.Stable {
		b := p.Services[t.Index(p.Bottleneck)]
		fmt.Fprintf(w, "Bottleneck: %s, at %s utilization. The topology sustains up to %s in this mix,\n",
			b.Name, pct(b.Utilization), rate(p.MaxRate))
		fmt.Fprintf(w, "%.2f× the current %s (headroom %s); past that, %s's queue grows without bound.\n",
			p.Headroom, rate(p.Rate), pct(1-1/p.Headroom), b.Name)
		if !isChain(t) {
			fmt.Fprintln(w, "End-to-end percentiles treat the visits of one request as independent (exact for a chain of single-worker services); means are exact.")
		}
		return
	}
	var saturated []model.ServiceResult
	for _, s := range p.Services {
		if s.Utilization >= 1 {
			saturated = append(saturated, s)
		}
	}
	fmt.Fprintf(w, "UNSTABLE at %s: %d of %d services saturate, so queues grow without bound and no latency exists:\n",
		rate(p.Rate), len(saturated), len(p.Services))
	for _, s := range saturated {
		need := int(math.Floor(s.ArrivalRate*s.ServiceTime)) + 1
		fmt.Fprintf(w, "  %s: offered %s of its capacity (%s for %d workers); it needs at least %d workers at this rate\n",
			s.Name, pct(s.Utilization), rate(float64(s.Servers)/s.ServiceTime), s.Servers, need)
	}
	fmt.Fprintf(w, "The topology sustains at most %s in this mix (%s of the offered rate); %s saturates first.\n",
		rate(p.MaxRate), pct(p.MaxRate/p.Rate), p.Bottleneck)
}

// isChain reports whether every request follows one path through single-
// worker exponential services, the case where percentiles are exact.
func isChain(t *topology.Topology) bool {
	if len(t.Workload) != 1 {
		return false
	}
	for _, s := range t.Services {
		if len(s.Calls) > 1 || s.Servers != 1 || !s.Distribution.IsExponential() {
			return false
		}
		for _, c := range s.Calls {
			if c.Count != 1 || c.Probability != 1 {
				return false
			}
		}
	}
	return true
}
