package model

// The station-level accuracy table: the model's figures for one service fed
// by Poisson arrivals, against the discrete-event simulator (package sim,
// the judge), over a grid of service-time distributions, worker counts and
// loads. The simulation is expensive, so it is run once and stored in
// testdata/station_sim.tsv with its 95% confidence half-widths; the table
// compares the current model with that file.
//
//	# simulate the grid (slow: hours for the full size) and write the file:
//	KENDALL_ACCURACY=sim KENDALL_ACCURACY_REQUESTS=4000000 go test ./model -run TestStationAccuracy -v -timeout 0
//	# print the table of the current model against the stored simulation:
//	KENDALL_ACCURACY=table go test ./model -run TestStationAccuracy -v
//
// KENDALL_ACCURACY_CASES=regexp limits either to the cases whose name
// matches. Simulated cases are merged into the file (a case simulated
// again replaces its row).

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// accuracyCase is one station of the grid: mean service time 10 ms.
type accuracyCase struct {
	dist topology.Distribution
	c    int
	rho  float64
}

func (a accuracyCase) name() string {
	return fmt.Sprintf("%s/c=%d/rho=%g", a.dist, a.c, a.rho)
}

const accuracyMean = 10 * time.Millisecond

func (a accuracyCase) topology(tb testing.TB) *topology.Topology {
	tb.Helper()
	rate := a.rho * float64(a.c) / accuracyMean.Seconds()
	t, err := topology.New("accuracy", []topology.Workload{{Entry: "s", Rate: rate}},
		[]*topology.Service{{Name: "s", Servers: a.c, ServiceTime: accuracyMean, Distribution: a.dist}})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// accuracyGrid is the grid of the issue: seven distributions, four worker
// counts, three loads.
func accuracyGrid() []accuracyCase {
	dists := []topology.Distribution{
		{Kind: topology.Exponential},
		{Kind: topology.Deterministic},
		{Kind: topology.Erlang, K: 4},
		{Kind: topology.Lognormal, CV: 0.5},
		{Kind: topology.Lognormal, CV: 1},
		{Kind: topology.Lognormal, CV: 2},
		{Kind: topology.Lognormal, CV: 4},
	}
	var grid []accuracyCase
	for _, d := range dists {
		for _, c := range []int{1, 2, 8, 64} {
			for _, rho := range []float64{0.3, 0.7, 0.9} {
				grid = append(grid, accuracyCase{d, c, rho})
			}
		}
	}
	return grid
}

// The figures compared, in the file's and the table's order.
var accuracyFigures = []string{"pwait", "wq", "w", "p50", "p99", "p999"}

// simRow is one stored simulation: each figure's estimate and 95%
// half-width.
type simRow struct {
	requests int64
	est, ci  map[string]float64
}

const simFile = "station_sim.tsv"

// simVersion says which simulator the stored rows come from; set it to
// the commit being simulated before regenerating them.
const simVersion = "kendall's sim package at commit 30413dd, 2 shared cores"

// modelFigures computes the figures of case a with the current model.
func modelFigures(tb testing.TB, a accuracyCase) map[string]float64 {
	p := Analyze(a.topology(tb)).Predict()
	s := p.Services[0]
	return map[string]float64{
		"pwait": *s.WaitProbability, "wq": *s.MeanWait, "w": *s.MeanResponse,
		"p50": s.Percentiles.P50, "p99": s.Percentiles.P99, "p999": s.Percentiles.P999,
	}
}

// simulate runs case a: one worker, fixed seed, ten replications. The
// percentiles are the entry's, whose histogram keeps three significant
// digits (the service's keeps two); with no calls they are the sojourn's.
func simulate(tb testing.TB, a accuracyCase, requests int64, seed uint64) simRow {
	res, err := sim.Run(context.Background(), a.topology(tb), sim.Options{Requests: requests, Replications: 10, Seed: seed, Workers: 1})
	if err != nil {
		tb.Fatal(err)
	}
	s, e := res.Services[0], res.Entries[0]
	sci, eci := s.Interval(0.95), e.Interval(0.95)
	return simRow{
		requests: res.Run.Requests,
		est: map[string]float64{
			"pwait": *s.WaitProbability, "wq": *s.MeanWait, "w": *s.MeanResponse,
			"p50": e.Percentiles.P50, "p99": e.Percentiles.P99, "p999": e.Percentiles.P999,
		},
		ci: map[string]float64{
			"pwait": sci.WaitProbability, "wq": sci.MeanWait, "w": sci.MeanResponse,
			"p50": eci.P50, "p99": eci.P99, "p999": eci.P999,
		},
	}
}

// readSimFile reads testdata/station_sim.tsv: case name → row.
func readSimFile(t *testing.T) map[string]simRow {
	out := map[string]simRow{}
	if _, err := os.Stat(filepath.Join("testdata", simFile)); err != nil {
		return out
	}
	for _, r := range readTable(t, simFile) {
		row := simRow{est: map[string]float64{}, ci: map[string]float64{}}
		row.requests = int64(num(t, r, "requests"))
		for _, f := range accuracyFigures {
			row.est[f] = num(t, r, f)
			row.ci[f] = num(t, r, f+"_ci")
		}
		out[r["case"]] = row
	}
	return out
}

const simHeader = `# Simulated figures of one service fed by Poisson arrivals (mean service 10 ms),
# for the station-level accuracy table (station_accuracy_test.go, which writes this file):
# kendall's discrete-event simulator (package sim), 10 replications, one worker, seed 1,
# warm-up by MSER-5. Each figure is the mean of the replications' estimates, with the
# half-width of its 95% Student-t interval (_ci). pwait, wq, w: the service's P(wait), mean
# wait and mean response; p50, p99, p999: the sojourn's percentiles (the entry's histogram,
# three significant digits). Times in seconds. requests: measured requests (20 million per
# case; 200 million for lognormal cv = 4, whose tail needs them).
`

func writeSimFile(t *testing.T, rows map[string]simRow) {
	var b strings.Builder
	b.WriteString(simHeader)
	b.WriteString("# Simulator: " + simVersion + "\n")
	b.WriteString("case\trequests")
	for _, f := range accuracyFigures {
		b.WriteString("\t" + f + "\t" + f + "_ci")
	}
	b.WriteString("\n")
	for _, a := range accuracyGrid() {
		r, ok := rows[a.name()]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s\t%d", a.name(), r.requests)
		for _, f := range accuracyFigures {
			fmt.Fprintf(&b, "\t%.6g\t%.3g", r.est[f], r.ci[f])
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join("testdata", simFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStationAccuracy(t *testing.T) {
	mode := os.Getenv("KENDALL_ACCURACY")
	if mode == "" {
		t.Skip("set KENDALL_ACCURACY=sim or =table (see station_accuracy_test.go)")
	}
	only := regexp.MustCompile(os.Getenv("KENDALL_ACCURACY_CASES"))
	rows := readSimFile(t)
	if mode == "sim" {
		requests := int64(1_000_000)
		if s := os.Getenv("KENDALL_ACCURACY_REQUESTS"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			requests = n
		}
		for _, a := range accuracyGrid() {
			if !only.MatchString(a.name()) {
				continue
			}
			start := time.Now()
			rows[a.name()] = simulate(t, a, requests, 1)
			t.Logf("%s: %d requests in %v", a.name(), requests, time.Since(start).Round(time.Second))
			writeSimFile(t, rows) // after every case: a long run can be stopped
		}
	}
	printAccuracy(t, rows, only)
}

// printAccuracy prints, per case and figure, model, simulation ± 95%
// half-width and the relative error, and a summary of the largest errors
// per distribution and figure.
func printAccuracy(t *testing.T, rows map[string]simRow, only *regexp.Regexp) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "case\t")
	for _, f := range accuracyFigures {
		fmt.Fprintf(w, "%s model\tsim ±95%%\terr\t", f)
	}
	fmt.Fprintln(w)
	type key struct{ dist, fig string }
	worst := map[key]float64{}
	var dists []string
	for _, a := range accuracyGrid() {
		r, ok := rows[a.name()]
		if !ok || !only.MatchString(a.name()) {
			continue
		}
		m := modelFigures(t, a)
		fmt.Fprintf(w, "%s\t", a.name())
		for _, f := range accuracyFigures {
			e := relErr(m[f], r.est[f])
			fmt.Fprintf(w, "%.4g\t%.4g±%.2g\t%+.1f%%\t", m[f], r.est[f], r.ci[f], 100*e)
			k := key{a.dist.String(), f}
			// A figure within the simulation's interval has no error to
			// speak of; count the error beyond it.
			if !(math.Abs(m[f]-r.est[f]) <= r.ci[f]) && !math.IsNaN(e) {
				worst[k] = max(worst[k], math.Abs(e))
			} else if _, ok := worst[k]; !ok {
				worst[k] = 0
			}
		}
		fmt.Fprintln(w)
		if !slices.Contains(dists, a.dist.String()) {
			dists = append(dists, a.dist.String())
		}
	}
	w.Flush()
	b.WriteString("\nlargest |relative error| outside the simulation's 95% interval, per distribution:\n")
	w = tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "distribution\t%s\t\n", strings.Join(accuracyFigures, "\t"))
	for _, d := range dists {
		fmt.Fprintf(w, "%s\t", d)
		for _, f := range accuracyFigures {
			fmt.Fprintf(w, "%.1f%%\t", 100*worst[key{d, f}])
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	t.Log("\n" + b.String())
}

// relErr is (model - sim)/sim; NaN when the simulated figure is 0 and the
// model's is not.
func relErr(model, sim float64) float64 {
	if sim == 0 {
		if model == 0 {
			return 0
		}
		return math.NaN()
	}
	return (model - sim) / sim
}

// TestStationAccuracyClaims holds the model to the accuracy the issue's
// cases were measured at (testdata/station_sim.tsv, the stored
// simulation): each figure within the simulation's 95% half-width plus
// the model error claimed for it, relative to the simulated value. The
// claims are the measured errors rounded up, and the figures in the
// issue's own words: an exact figure claims no error at all. Allen–Cunneen,
// the two-moment fit and Erlang C fail them.
func TestStationAccuracyClaims(t *testing.T) {
	rows := readSimFile(t)
	claims := []struct {
		name   string
		fig    string
		claim  float64 // relative
		reason string
	}{
		// M/D/8 at 0.7: exact (the issue: Erlang C said 0.271, the
		// simulation 0.251).
		{"deterministic/c=8/rho=0.7", "pwait", 0, "exact M/D/c"},
		{"deterministic/c=8/rho=0.7", "wq", 0, "exact M/D/c"},
		{"deterministic/c=8/rho=0.7", "p99", 0.002, "exact M/D/c; the histogram keeps 3 digits"},
		{"deterministic/c=8/rho=0.7", "p999", 0.002, "exact M/D/c; the histogram keeps 3 digits"},
		// c = 8, lognormal cv = 2 at 0.7 (Allen–Cunneen: +42%; measured
		// +9.1%, +0.5%, +3.0%, +1.4%).
		{"lognormal(cv=2)/c=8/rho=0.7", "wq", 0.10, "Kimura"},
		{"lognormal(cv=2)/c=8/rho=0.7", "pwait", 0.01, "Kimura"},
		{"lognormal(cv=2)/c=8/rho=0.7", "p99", 0.04, "Kimura, fast-M/G/1 shape, Erlang-mixture fit"},
		{"lognormal(cv=2)/c=8/rho=0.7", "p999", 0.03, "Kimura, fast-M/G/1 shape, Erlang-mixture fit"},
		// c = 8, lognormal cv = 4 at 0.7 (Allen–Cunneen: +104%; measured
		// -16.8% and -0.9%: no two-moment approximation does well here).
		{"lognormal(cv=4)/c=8/rho=0.7", "wq", 0.20, "Kimura"},
		{"lognormal(cv=4)/c=8/rho=0.7", "pwait", 0.02, "Kimura"},
		// Lognormal cv = 4 percentiles, c = 1, 2, 8 at 0.7 (the two-moment
		// H2: p50 up to +83%, p99.9 down to -59%).
		{"lognormal(cv=4)/c=1/rho=0.7", "p50", 0.01, "P–K with the Erlang-mixture fit"},
		{"lognormal(cv=4)/c=1/rho=0.7", "p99", 0.05, "P–K with the Erlang-mixture fit"},
		{"lognormal(cv=4)/c=1/rho=0.7", "p999", 0.05, "P–K with the Erlang-mixture fit"},
		{"lognormal(cv=4)/c=2/rho=0.7", "p50", 0.15, "Kimura's low mean wait"},
		{"lognormal(cv=4)/c=2/rho=0.7", "p99", 0.20, "Kimura's low mean wait"},
		{"lognormal(cv=4)/c=2/rho=0.7", "p999", 0.15, "Kimura's low mean wait"},
		{"lognormal(cv=4)/c=8/rho=0.7", "p50", 0.10, "Kimura, fast-M/G/1 shape"},
		{"lognormal(cv=4)/c=8/rho=0.7", "p99", 0.02, "Kimura, fast-M/G/1 shape"},
		{"lognormal(cv=4)/c=8/rho=0.7", "p999", 0.10, "Kimura, fast-M/G/1 shape"},
	}
	for _, c := range claims {
		r, ok := rows[c.name]
		if !ok {
			t.Errorf("%s: not in testdata/%s", c.name, simFile)
			continue
		}
		var a accuracyCase
		for _, g := range accuracyGrid() {
			if g.name() == c.name {
				a = g
			}
		}
		got, sim, ci := modelFigures(t, a)[c.fig], r.est[c.fig], r.ci[c.fig]
		if d := math.Abs(got - sim); !(d <= ci+c.claim*math.Abs(sim)) {
			t.Errorf("%s %s = %.4g, simulated %.4g ± %.2g: off by %.1f%%, claimed %.0f%% (%s)",
				c.name, c.fig, got, sim, ci, 100*d/math.Abs(sim), 100*c.claim, c.reason)
		}
	}
}
