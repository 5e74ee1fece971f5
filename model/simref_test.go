package model

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// The network-level approximations are held to the simulator, the judge,
// on the cases of the issue that asked for them. Simulating them well
// takes a minute, so the simulated figures are kept in testdata/sim.tsv
// with their 95% confidence half-widths, the requests and the seed they
// rest on; the simulator is deterministic for a seed, so
//
//	go test ./model -run SimReference -update-sim
//
// makes the same file again. A test passes when the model is within the
// simulation's half-width plus the error claimed for it.
var updateSim = flag.Bool("update-sim", false, "simulate the reference cases again and rewrite testdata/sim.tsv")

// simCase is a topology simulated for reference.
type simCase struct {
	name string
	yaml string
}

// sixVisits is the case: a request visits a single-worker db six
// times in a row.
func sixVisits(rate float64, dbServers int, dbTime string) simCase {
	return simCase{
		name: fmt.Sprintf("six-visits c=%d rate=%g", dbServers, rate),
		yaml: fmt.Sprintf(`
name: six
workload: [{entry: api, rate: %g}]
services:
  api: {servers: 4, service_time: 1ms, calls: [{to: db, count: 6}]}
  db: {servers: %d, service_time: %s}
`, rate, dbServers, dbTime),
	}
}

// deterministicFront is the other case: an exponential service fed
// by the departures of a deterministic one.
var deterministicFront = simCase{
	name: "deterministic-front rate=90",
	yaml: `
name: det
workload: [{entry: front, rate: 90}]
services:
  front: {service_time: 10ms, distribution: deterministic, calls: [{to: back}]}
  back: {service_time: 10ms}
`,
}

var simCases = []simCase{
	sixVisits(30, 1, "5ms"),
	sixVisits(26.0, 1, "5ms"),
	sixVisits(26.3, 1, "5ms"),
	sixVisits(26.6, 1, "5ms"),
	sixVisits(30, 2, "10ms"), // the same load, 90%, on two workers
	deterministicFront,
}

const (
	simRequests = 20_000_000
	simSeed     = 10
)

func (c simCase) topology(t *testing.T) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse(c.name, []byte(c.yaml))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// simRef is one simulated figure: value and 95% half-width, in seconds.
type simRef struct{ value, halfWidth float64 }

// simFigures are the figures kept of each case: the entry's mean and
// percentiles, and every service's mean wait.
func simFigures(r *sim.Result) map[string]simRef {
	out := map[string]simRef{}
	e := r.Entries[0]
	out["mean"] = simRef{*e.Mean, e.CI95.Mean}
	for _, l := range result.Levels {
		v, _ := e.Percentiles.Get(l.Name)
		hw, _ := e.CI95.Percentiles.Get(l.Name)
		out[l.Name] = simRef{v, hw}
	}
	for _, s := range r.Services {
		out[s.Name+".mean_wait"] = simRef{*s.MeanWait, s.CI95.MeanWait}
	}
	return out
}

// loadSimReference reads testdata/sim.tsv, first simulating the cases
// again when -update-sim is set.
func loadSimReference(t *testing.T) map[string]map[string]simRef {
	t.Helper()
	path := filepath.Join("testdata", "sim.tsv")
	if *updateSim {
		var b strings.Builder
		fmt.Fprintf(&b, "# Simulated reference figures for simref_test.go: kendall's simulator (package sim),\n")
		fmt.Fprintf(&b, "# %d measured requests in 10 replications, seed %d, warm-up by MSER-5. Made by\n", simRequests, simSeed)
		fmt.Fprintf(&b, "# go test ./model -run SimReference -update-sim. Times in seconds; half_width is the 95%% confidence half-width.\n")
		b.WriteString("case\tfigure\tvalue\thalf_width\n")
		for _, c := range simCases {
			r, err := sim.Run(context.Background(), c.topology(t), sim.Options{Requests: simRequests, Replications: 10, Seed: simSeed})
			if err != nil {
				t.Fatal(err)
			}
			figs := simFigures(r)
			for _, k := range sortedKeys(figs) {
				fmt.Fprintf(&b, "%s\t%s\t%.9g\t%.3g\n", c.name, k, figs[k].value, figs[k].halfWidth)
			}
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]map[string]simRef{}
	for _, row := range readTable(t, "sim.tsv") {
		if out[row["case"]] == nil {
			out[row["case"]] = map[string]simRef{}
		}
		v, err1 := strconv.ParseFloat(row["value"], 64)
		hw, err2 := strconv.ParseFloat(row["half_width"], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("sim.tsv: %v %v", err1, err2)
		}
		out[row["case"]][row["figure"]] = simRef{v, hw}
	}
	return out
}

func sortedKeys(m map[string]simRef) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// within fails unless the model's value is within the simulation's
// half-width plus claim (relative) of the simulated value.
func within(t *testing.T, what string, model float64, ref simRef, claim float64) {
	t.Helper()
	tol := ref.halfWidth + claim*ref.value
	if !(math.Abs(model-ref.value) <= tol) {
		t.Errorf("%s: model %.4g, simulated %.4g ± %.2g: off by %+.1f%%, more than the %.0f%% claimed plus the simulation's interval",
			what, model, ref.value, ref.halfWidth, 100*(model-ref.value)/ref.value, 100*claim)
	}
}

// TestSimReferenceSixVisits is the first finding: six visits in a
// row to a single-worker db, whose sojourns are positively correlated.
// Treated as independent, the model's p99 at 30 req/s was 656ms against
// the simulated 1325ms (−50%). Takács's recursion (runs.go) is claimed to
// within 5% at every percentile of this M/M/1 run.
func TestSimReferenceSixVisits(t *testing.T) {
	ref := loadSimReference(t)
	c := sixVisits(30, 1, "5ms")
	p := Analyze(c.topology(t)).Predict()
	e := p.Entries[0]
	within(t, "mean", *e.Mean, ref[c.name]["mean"], 1e-9) // exact: Kelly network
	for _, l := range result.Levels {
		v, _ := e.Percentiles.Get(l.Name)
		within(t, l.Name, v, ref[c.name][l.Name], 0.05)
	}
	if l := e.Labels[result.FigPercentiles]; l.Exact || !strings.Contains(l.Basis, "Takács") {
		t.Errorf("percentiles labelled %+v", l)
	}
}

// TestSimReferenceSixVisitsCapacity asks the model the rate at which the
// six-visit topology meets p99 ≤ 600ms: with the visits independent it
// answered 29.7 req/s, where the simulated p99 is 1209ms. The simulated
// p99 at 26.0, 26.3 and 26.6 req/s gives, by linear interpolation, the
// rate where it crosses 600ms; the model's answer is claimed within 1% of
// it (plus what the simulation's interval on the p99 means for the rate).
func TestSimReferenceSixVisitsCapacity(t *testing.T) {
	ref := loadSimReference(t)
	const target = 0.600
	rates := []float64{26.0, 26.3, 26.6}
	var crossing, slope, hw float64
	for i := 1; i < len(rates); i++ {
		a, b := ref[sixVisits(rates[i-1], 1, "5ms").name]["p99"], ref[sixVisits(rates[i], 1, "5ms").name]["p99"]
		slope = (b.value - a.value) / (rates[i] - rates[i-1])
		if a.value <= target && target <= b.value || i == len(rates)-1 {
			crossing = rates[i-1] + (target-a.value)/slope
			hw = max(a.halfWidth, b.halfWidth)
			break
		}
	}
	got, err := MaxRateForSLO(context.Background(), sixVisits(30, 1, "5ms").topology(t), []SLO{{Metric: "p99", Target: target}})
	if err != nil {
		t.Fatal(err)
	}
	tol := 0.01*crossing + hw/slope
	if math.Abs(got.Rate-crossing) > tol {
		t.Errorf("p99 ≤ 600ms up to %.4g req/s by the model; the simulation crosses 600ms at %.4g req/s (± %.2g)", got.Rate, crossing, tol)
	}
}

// TestSimReferenceSixVisitsBracket holds the run of six visits to a
// two-worker db at 90% load between the two ends of the bracket: the
// visits independent below, the visits equal above (runs.go). The
// simulated p99 and p99.9 must lie between them, as must the model's.
func TestSimReferenceSixVisitsBracket(t *testing.T) {
	ref := loadSimReference(t)
	c := sixVisits(30, 2, "10ms")
	topo := c.topology(t)
	at := func(mode runMode) *result.Prediction {
		n := Analyze(topo)
		n.runs = mode
		return n.Predict()
	}
	lo, mid, hi := at(runIndependent), at(runRecursion), at(runComonotone)
	for _, l := range []string{"p99", "p999"} {
		low, _ := lo.Entries[0].Percentiles.Get(l)
		model, _ := mid.Entries[0].Percentiles.Get(l)
		high, _ := hi.Entries[0].Percentiles.Get(l)
		s := ref[c.name][l]
		if !(low < s.value-s.halfWidth && s.value+s.halfWidth < high) {
			t.Errorf("%s: simulated %.4g ± %.2g outside the bracket [%.4g, %.4g]", l, s.value, s.halfWidth, low, high)
		}
		if !(low <= model && model <= high) {
			t.Errorf("%s: model %.4g outside the bracket [%.4g, %.4g]", l, model, low, high)
		}
	}
}

// TestSimReferenceDeterministicFront is the second finding: an
// exponential back fed by a deterministic front at 90 req/s, labelled
// exact with Poisson arrivals assumed, its end-to-end mean 29% high. With
// the front's departures' variability carried to the back by QNA, the
// mean is claimed within 15% (the accuracy table's class "non-Poisson
// arrivals (QNA), exponential service", heavy load: QNA's renewal view of
// the departures misses their correlation, which a queue as busy as the
// one that made them still sees).
func TestSimReferenceDeterministicFront(t *testing.T) {
	ref := loadSimReference(t)
	c := deterministicFront
	p := Analyze(c.topology(t)).Predict()
	within(t, "mean", *p.Entries[0].Mean, ref[c.name]["mean"], 0.15)
	within(t, "front mean wait", *p.Services[0].MeanWait, ref[c.name]["front.mean_wait"], 1e-9) // M/D/1: exact
	back := p.Services[1]
	if l := back.Labels[result.FigMeanWait]; l.Exact || !strings.Contains(l.Basis, "Queueing Network Analyzer") {
		t.Errorf("back's wait labelled %+v", l)
	}
	within(t, "back mean wait", *back.MeanWait, ref[c.name]["back.mean_wait"], 0.30)
}
