package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/topology"
)

// sloFlags collects repeated --slo flags, each possibly a comma-separated
// list: --slo p99=50ms --slo mean=20ms, or --slo p99=50ms,mean=20ms.
type sloFlags []model.SLO

func (s *sloFlags) String() string {
	parts := make([]string, len(*s))
	for i, x := range *s {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

func (s *sloFlags) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		slo, err := model.ParseSLO(part)
		if err != nil {
			return err
		}
		*s = append(*s, slo)
	}
	return nil
}

// capacityReport is the JSON of kendall capacity.
type capacityReport struct {
	Topology string      `json:"topology"`
	SLO      []model.SLO `json:"slo"`
	Rate     float64     `json:"rate"`     // the rate the plan is for
	MaxRate  float64     `json:"max_rate"` // saturation, as written
	// SLORate is the largest rate at which the topology as written meets
	// the SLOs (part a); Plan the fewest workers that meet them at Rate
	// (part b).
	SLORate model.SLORate `json:"slo_rate"`
	Plan    *model.Plan   `json:"plan"`
}

func init() {
	register(&command{
		name:    "capacity",
		args:    "FILE --slo p99=50ms [--rate R] [--json]",
		summary: "find the largest rate that meets a latency SLO, and the fewest workers that meet it",
		help: `An SLO bounds a statistic of end-to-end latency for every workload entry:
mean, p50, p90, p95, p99 or p99.9, e.g. --slo p99=50ms. Give several with
repeated flags or commas: --slo p99=50ms,mean=15ms.

capacity answers two questions:
  (a) up to what total rate, in the workload's mix, does the topology as
      written meet the SLO? (and which SLO binds first)
  (b) at the given rate (default: the file's), what are the fewest workers,
      service by service, that meet it? The plan is printed as the changes
      to make, and may remove workers a service does not need.

The plan allocates one worker at a time where it cuts mean latency most
(greedy marginal allocation: the fewest workers for a mean SLO; a heuristic,
tightened by a final pass, for percentile SLOs). If the SLO is below the
latency of the services' own work, no number of workers meets it, and
capacity says so.

Examples:
  kendall capacity examples/shop.yaml --slo p99=50ms
  kendall capacity examples/shop.yaml --slo p99=50ms --rate 300
  kendall capacity examples/api-db-pool.yaml --slo p99.9=400ms,mean=60ms --json`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			var slos sloFlags
			fs.Var(&slos, "slo", "latency `target` on end-to-end latency, statistic=duration:\nmean, p50, p90, p95, p99 or p99.9 (repeatable)")
			rateFlag := rateVar(fs, "total `rate` in requests per second for the worker plan (default: the file's),\nkeeping the workload's mix")
			jsonFlag := fs.Bool("json", false, "print JSON (times in seconds, rates in requests per second)")
			return func(ctx context.Context, e *env, args []string) error {
				if len(slos) == 0 {
					return usagef("--slo is required, e.g. --slo p99=50ms")
				}
				written, err := loadTopology(args, nil)
				if err != nil {
					return err
				}
				t := written
				if rateFlag.set {
					if t, err = written.WithRate(rateFlag.rate); err != nil {
						return err
					}
				}
				rep, err := capacity(ctx, written, t, slos)
				if err != nil {
					return err
				}
				if *jsonFlag {
					return writeJSON(e.stdout, rep)
				}
				printCapacity(e.stdout, rep)
				return nil
			}
		},
	})
}

// capacity answers both questions: (a) on the topology as written, (b) on t,
// the same topology at the rate asked for.
func capacity(ctx context.Context, written, t *topology.Topology, slos []model.SLO) (*capacityReport, error) {
	maxRate, _ := model.Analyze(written).MaxRate()
	sloRate, err := model.MaxRateForSLO(ctx, written, slos)
	if err != nil {
		return nil, err
	}
	plan, err := model.PlanServers(ctx, t, slos)
	if err != nil {
		return nil, err
	}
	return &capacityReport{
		Topology: written.Name,
		SLO:      slos,
		Rate:     t.TotalRate(),
		MaxRate:  maxRate,
		SLORate:  sloRate,
		Plan:     plan,
	}, nil
}

func printCapacity(w io.Writer, r *capacityReport) {
	var slos []string
	for _, s := range r.SLO {
		slos = append(slos, s.String())
	}
	fmt.Fprintf(w, "%s: SLO %s on end-to-end latency, for every entry\n\n", r.Topology, strings.Join(slos, " and "))

	sr := r.SLORate
	metric := sr.Metric
	if metric == "p999" {
		metric = "p99.9"
	}
	fmt.Fprintln(w, "As written:")
	switch {
	case sr.Rate == 0:
		fmt.Fprintf(w, "  The SLO is not met at any rate: %s at %s is %s even with no queueing at all.\n",
			metric, sr.Entry, secs(sr.Floor))
	case sr.Rate >= r.MaxRate*(1-1e-5):
		fmt.Fprintf(w, "  Meets the SLO at every rate up to saturation, %s: saturation, not the SLO, limits the rate.\n", rate(r.MaxRate))
	default:
		fmt.Fprintf(w, "  Meets the SLO up to %s; %s at %s binds first (its floor, with no queueing, is %s).\n",
			rate(sr.Rate), metric, sr.Entry, secs(sr.Floor))
		fmt.Fprintf(w, "  Saturates at %s, so the SLO allows %s of the saturation rate.\n", rate(r.MaxRate), pct(sr.Rate/r.MaxRate))
	}
	fmt.Fprintln(w)

	p := r.Plan
	fmt.Fprintf(w, "Fewest workers for the SLO at %s:\n", rate(r.Rate))
	if !p.Feasible {
		fmt.Fprintf(w, "  None: %s.\n", p.Reason)
		return
	}
	tb := newTable(w, "  SERVICE", "NOW", "PLAN", "CHANGE", "UTIL AT PLAN")
	for i, c := range p.Changes {
		change := "="
		switch {
		case c.Change > 0:
			change = fmt.Sprintf("+%d", c.Change)
		case c.Change < 0:
			change = fmt.Sprint(c.Change)
		}
		tb.row("  "+c.Name, fmt.Sprint(c.Current), fmt.Sprint(c.Planned), change, pct(p.Prediction.Services[i].Utilization))
	}
	tb.flush()
	fmt.Fprintf(w, "  %d workers in all, %s the %d in the file.\n", p.Total, moreOrFewer(p.Total-p.Current), p.Current)

	var todo []string
	for _, c := range p.Changes {
		switch {
		case c.Change > 0:
			todo = append(todo, fmt.Sprintf("add %d to %s", c.Change, c.Name))
		case c.Change < 0:
			todo = append(todo, fmt.Sprintf("remove %d from %s", -c.Change, c.Name))
		}
	}
	if len(todo) == 0 {
		fmt.Fprintln(w, "  The file already has the fewest workers that meet the SLO.")
	} else {
		fmt.Fprintf(w, "  To do: %s.\n", strings.Join(todo, "; "))
	}
	fmt.Fprintln(w, "\nWith the plan:")
	printEntries(w, p.Prediction.Entries)
}

func moreOrFewer(d int) string {
	switch {
	case d > 0:
		return fmt.Sprintf("%d more than", d)
	case d < 0:
		return fmt.Sprintf("%d fewer than", -d)
	default:
		return "as many as"
	}
}
