package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kendallqn/kendall/check"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
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
	// Approximate says whether an answer rests on figures the model only
	// approximates (Why: which, and why), so that it should be checked.
	Approximate bool   `json:"approximate"`
	Why         string `json:"why,omitempty"`
	// Check is the answers refined by simulation (--check).
	Check *capacityCheck `json:"check,omitempty"`
}

// capacityCheck is capacity --check: both answers by simulation, started
// from the model's.
type capacityCheck struct {
	SLORate *check.RateAnswer `json:"slo_rate"`
	Plan    *check.PlanAnswer `json:"plan,omitempty"`
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

When an SLO bounds a figure the model only approximates for this topology
(see kendall predict's labels), capacity says so. --check then refines both
answers by simulation, starting from the model's: the rate by bracketing
and bisection to 1%, each rate judged met only when the simulation's 95%
interval of the statistic is below its target; the plan by adding workers
while the simulation says the SLO fails, then taking back any it does not
need. Each answer takes about --check-time.

Examples:
  kendall capacity examples/shop.yaml --slo p99=50ms
  kendall capacity examples/shop.yaml --slo p99=50ms --rate 300
  kendall capacity examples/shop.yaml --slo p99=50ms --check
  kendall capacity examples/api-db-pool.yaml --slo p99.9=400ms,mean=60ms --json`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			var slos sloFlags
			fs.Var(&slos, "slo", "latency `target` on end-to-end latency, statistic=duration:\nmean, p50, p90, p95, p99 or p99.9 (repeatable)")
			rateFlag := rateVar(fs, "total `rate` in requests per second for the worker plan (default: the file's),\nkeeping the workload's mix")
			jsonFlag := fs.Bool("json", false, "print JSON (times in seconds, rates in requests per second)")
			checkFlag := fs.Bool("check", false, "refine both answers by simulation, starting from the model's")
			checkTime := fs.Duration("check-time", check.DefaultCapacityBudget, "about how long --check simulates for each answer (a `duration`)")
			seed := fs.Uint64("seed", 1, "random `seed` of the --check simulations")
			return func(ctx context.Context, e *env, args []string) error {
				if *checkTime <= 0 {
					return usagef("--check-time %v: give a positive duration such as 10s", *checkTime)
				}
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
				if *checkFlag {
					if err := checkCapacity(ctx, e, rep, written, t, check.Options{Budget: *checkTime, Seed: *seed}); err != nil {
						return err
					}
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
	rep := &capacityReport{
		Topology: written.Name,
		SLO:      slos,
		Rate:     t.TotalRate(),
		MaxRate:  maxRate,
		SLORate:  sloRate,
		Plan:     plan,
	}
	rep.Approximate, rep.Why = sloApproximate(written, slos)
	return rep, nil
}

// sloApproximate says whether any statistic an SLO bounds is one the model
// only approximates for this topology, and why, from its labels.
func sloApproximate(t *topology.Topology, slos []model.SLO) (bool, string) {
	p := model.Analyze(t).Predict()
	if !p.Stable {
		at, err := t.WithRate(t.TotalRate() / 2)
		if err != nil {
			return false, ""
		}
		p = model.Analyze(at).Predict()
	}
	for _, e := range p.Entries {
		for _, s := range slos {
			fig := result.FigPercentiles
			if s.Metric == "mean" {
				fig = result.FigMean
			}
			if l, ok := e.Labels[fig]; ok && !l.Exact {
				return true, fmt.Sprintf("%s's %s is approximate: %s", e.Entry, levelName(s.Metric), l.Why)
			}
		}
	}
	return false, ""
}

// checkCapacity refines both answers by simulation, starting from the
// model's: the SLO rate on the topology as written, the plan on t.
func checkCapacity(ctx context.Context, e *env, rep *capacityReport, written, t *topology.Topology, opts check.Options) error {
	progress := func(what string) {
		if e.interactive {
			fmt.Fprintf(e.stderr, "\r\033[Kchecking by simulation: %s...", what)
		}
	}
	defer func() {
		if e.interactive {
			fmt.Fprint(e.stderr, "\r\033[K")
		}
	}()
	rep.Check = &capacityCheck{}
	if rep.SLORate.Rate > 0 {
		progress("the largest rate that meets the SLO")
		r, err := check.SLORate(ctx, written, rep.SLO, rep.SLORate.Rate, opts)
		if err != nil {
			return fmt.Errorf("checking the SLO rate by simulation: %w", err)
		}
		rep.Check.SLORate = r
	}
	if rep.Plan.Feasible {
		progress("the worker plan")
		planned := make([]int, len(rep.Plan.Changes))
		for i, c := range rep.Plan.Changes {
			planned[i] = c.Planned
		}
		pa, err := check.Plan(ctx, t, rep.SLO, planned, opts)
		if err != nil {
			return fmt.Errorf("checking the plan by simulation: %w", err)
		}
		rep.Check.Plan = pa
	}
	return nil
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
	if r.Approximate && r.Check == nil {
		fmt.Fprint(w, wrap("APPROXIMATE: "+r.Why+".", "  ", "  "))
		fmt.Fprintln(w, "  Run with --check to refine both answers by simulation.")
	}
	if r.Check != nil && r.Check.SLORate != nil {
		printRateCheck(w, sr, r.Check.SLORate)
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
		tb.row("  "+c.Name, capacityCell(c, c.Current), capacityCell(c, c.Planned), change, pct(p.Prediction.Services[i].Utilization))
	}
	tb.flush()
	fmt.Fprintf(w, "  %d workers in all, %s the %d in the file.\n", p.Total, moreOrFewer(p.Total-p.Current), p.Current)

	var todo []string
	for _, c := range p.Changes {
		switch {
		case c.Change > 0:
			todo = append(todo, fmt.Sprintf("add %s to %s", units(c, c.Change), c.Name))
		case c.Change < 0:
			todo = append(todo, fmt.Sprintf("remove %s from %s", units(c, -c.Change), c.Name))
		}
	}
	if len(todo) == 0 {
		fmt.Fprintln(w, "  The file already has the fewest workers that meet the SLO.")
	} else {
		fmt.Fprintf(w, "  To do: %s.\n", strings.Join(todo, "; "))
	}
	if r.Check != nil && r.Check.Plan != nil {
		printPlanCheck(w, p, r.Check.Plan)
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

// printRateCheck says what the simulation found for the largest rate that
// meets the SLOs, beside the model's answer.
func printRateCheck(w io.Writer, model model.SLORate, c *check.RateAnswer) {
	if c.Rate == 0 {
		fmt.Fprintf(w, "  Checked by simulation: no rate tried meets the SLO (the lowest tried, %s, does not).\n", rate(c.Above))
		return
	}
	fmt.Fprintf(w, "  Checked by simulation: meets the SLO up to %s", rate(c.Rate))
	for _, st := range c.Steps {
		if st.Rate == c.Rate && st.Metric != "" {
			fmt.Fprintf(w, " (%s at %s there: %s ± %s)", levelName(st.Metric), st.Entry, secs(st.Statistic), secs(st.CI95))
		}
	}
	fmt.Fprintf(w, "; at %s it does not, or not with 95%% confidence.\n", rate(c.Above))
	if model.Rate > 0 {
		fmt.Fprintf(w, "  The model's %s is %+.1f%% from it; %d simulations, the same seed at every rate.\n",
			rate(model.Rate), 100*(model.Rate/c.Rate-1), len(c.Steps))
	}
}

// printPlanCheck says what the simulation made of the model's plan.
func printPlanCheck(w io.Writer, p *model.Plan, c *check.PlanAnswer) {
	last := c.Steps[len(c.Steps)-1]
	for _, st := range c.Steps {
		if slices.Equal(st.Servers, c.Servers) {
			last = st
		}
	}
	var diff []string
	for i, ch := range p.Changes {
		if d := c.Servers[i] - c.Model[i]; d > 0 {
			diff = append(diff, fmt.Sprintf("%s more at %s", units(ch, d), ch.Name))
		} else if d < 0 {
			diff = append(diff, fmt.Sprintf("%s fewer at %s", units(ch, -d), ch.Name))
		}
	}
	switch {
	case !c.Meets:
		fmt.Fprintf(w, "  Checked by simulation: the SLO was still not met when the time ran out (%s); give --check-time more.\n", strings.Join(diff, ", "))
	case len(diff) == 0:
		fmt.Fprintf(w, "  Checked by simulation: the plan meets the SLO (%s at %s: %s ± %s), and no worker can be taken back.\n",
			levelName(last.Metric), last.Entry, secs(last.Statistic), secs(last.CI95))
	default:
		total := 0
		for i, n := range c.Servers {
			if ch := p.Changes[i]; ch.Replicas {
				n *= ch.Servers
			}
			total += n
		}
		fmt.Fprintf(w, "  Checked by simulation: the SLO needs %s than the model's plan: %d workers in all (%s at %s: %s ± %s).\n",
			strings.Join(diff, ", "), total, levelName(last.Metric), last.Entry, secs(last.Statistic), secs(last.CI95))
	}
}

// capacityCell is n units of a planned service as the plan's table shows
// them: "3" workers, or "4×2" for four replicas of two workers.
func capacityCell(c model.PlanService, n int) string {
	if c.Replicas {
		return fmt.Sprintf("%d×%d", n, c.Servers)
	}
	return fmt.Sprint(n)
}

// units is n units of a planned service in words, for the plan's to-do:
// "2" workers, or "2 replicas".
func units(c model.PlanService, n int) string {
	switch {
	case !c.Replicas:
		return fmt.Sprint(n)
	case n == 1:
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", n)
}
