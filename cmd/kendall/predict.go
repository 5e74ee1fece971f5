package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

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

func printPrediction(w io.Writer, t *topology.Topology, p *result.Prediction) error {
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

func printHeading(w io.Writer, t *topology.Topology, p *result.Prediction) {
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
		tb.row(s.Name, fmt.Sprint(s.Servers), secs(s.ServiceTime)+dist, sig3(s.ArrivalRate)+"/s", util,
			pctPtr(s.WaitProbability), secsPtr(s.MeanWait), secsPtr(s.MeanResponse), p50, p90, p99, p999)
	}
	tb.flush()
}

func printEntries(w io.Writer, entries []result.EndToEnd) {
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
