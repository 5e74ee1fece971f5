package conformance

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// A conformanceCase is one topology of testdata and its reference figures.
type conformanceCase struct {
	name    string // the file name without .yaml
	topo    *topology.Topology
	figures []figure
}

// measured reports whether the emulation is judged on some figure of the
// case.
func (c *conformanceCase) measured() bool {
	return slices.ContainsFunc(c.figures, func(f figure) bool { return f.emulation })
}

// A figure is one line of a reference file: one statistic of one service or
// entry, its exact value, and how each view is held to it.
type figure struct {
	scope     string  // "service" or "entry"
	name      string  // the service, or the entry's service
	statistic string  // see statistics
	value     float64 // at least 0
	model     tolerance
	sim       bool // the simulator is judged on it
	emulation bool // the emulation is judged on it
	source    string
	line      int // in the reference file, for messages
}

func (f figure) String() string {
	return fmt.Sprintf("%s %s %s", f.scope, f.name, f.statistic)
}

// tolerance is how close the model must come to a figure: relative error
// at most rel, or, for a figure whose value is 0, absolute error at most
// rel (in the figure's unit: seconds, or a probability). approximate marks a figure the model does not claim to
// compute exactly; rel is then the error it makes today. A negative rel
// means the model is not judged on the figure.
type tolerance struct {
	rel         float64
	approximate bool
}

// statistics are the statistics a reference file may give, by scope: the
// names of kendall's JSON (package result, and the simulator's
// held_utilization, the part of a held service's utilization during which
// its workers are held in calls, which only the simulator reports).
var statistics = map[string][]string{
	"service": {"utilization", "held_utilization", "wait_probability", "mean_wait", "mean_response", "p50", "p90", "p95", "p99", "p999"},
	"entry":   {"mean", "p50", "p90", "p95", "p99", "p999"},
}

// loadCases reads every case of testdata: each topology file <name>.yaml
// and its reference figures <name>.ref.tsv. A topology without reference
// figures, or the other way round, is an error: a case half added is not
// silently skipped.
func loadCases(t testing.TB) []*conformanceCase {
	t.Helper()
	yamls, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := filepath.Glob(filepath.Join("testdata", "*.ref.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(yamls) == 0 {
		t.Fatal("no cases in testdata")
	}
	for _, r := range refs {
		if y := strings.TrimSuffix(r, ".ref.tsv") + ".yaml"; !slices.Contains(yamls, y) {
			t.Errorf("%s: reference figures without a topology; add %s or remove them", r, y)
		}
	}
	var cases []*conformanceCase
	for _, y := range yamls {
		topo, err := topology.Load(y)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(y), ".yaml")
		figs, err := readReference(strings.TrimSuffix(y, ".yaml")+".ref.tsv", topo)
		if err != nil {
			t.Error(err)
			continue
		}
		cases = append(cases, &conformanceCase{name: name, topo: topo, figures: figs})
	}
	if t.Failed() {
		t.FailNow()
	}
	return cases
}

// readReference reads a reference file: tab-separated, comment lines
// starting with #, a header line naming the columns (README.md in testdata
// describes them), then one figure a line.
func readReference(path string, topo *topology.Topology) ([]figure, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w; every case needs its reference figures (see testdata/README.md)", err)
	}
	defer f.Close()
	want := []string{"scope", "name", "statistic", "value", "model", "sim", "emulation", "source"}
	var figs []figure
	var errs []string
	header := false
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if !header {
			if !slices.Equal(cols, want) {
				return nil, fmt.Errorf("%s:%d: header %q, want %q", path, n, cols, want)
			}
			header = true
			continue
		}
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Sprintf("%s:%d: ", path, n)+fmt.Sprintf(format, a...))
		}
		if len(cols) != len(want) {
			bad("%d columns, want %d", len(cols), len(want))
			continue
		}
		fig := figure{scope: cols[0], name: cols[1], statistic: cols[2], source: cols[7], line: n}
		stats, ok := statistics[fig.scope]
		switch {
		case !ok:
			bad("scope %q; use service or entry", fig.scope)
		case !slices.Contains(stats, fig.statistic):
			bad("statistic %q of a %s; use one of %s", fig.statistic, fig.scope, strings.Join(stats, ", "))
		case fig.scope == "service" && topo.Service(fig.name) == nil:
			bad("no service %q in %s", fig.name, topo.File)
		case fig.scope == "entry" && !slices.ContainsFunc(topo.Workload, func(w topology.Workload) bool { return w.Entry == fig.name }):
			bad("no workload entry %q in %s", fig.name, topo.File)
		}
		if prev, dup := seen[fig.String()]; dup {
			bad("%s given twice (first on line %d)", fig, prev)
		}
		seen[fig.String()] = n
		// A value may be zero: a figure that is exactly zero on every
		// sample path (a service that can never have a request waiting).
		// The model is then held to it by absolute error (TestModel), and
		// the simulator must give exactly zero (TestSimulator).
		if fig.value, err = strconv.ParseFloat(cols[3], 64); err != nil || !(fig.value >= 0) || math.IsInf(fig.value, 0) {
			bad("value %q is not a number at least 0", cols[3])
		}
		if fig.model, err = parseTolerance(cols[4]); err != nil {
			bad("model: %v", err)
		}
		if fig.sim, err = parseJudged(cols[5]); err != nil {
			bad("sim: %v", err)
		}
		if fig.emulation, err = parseJudged(cols[6]); err != nil {
			bad("emulation: %v", err)
		}
		figs = append(figs, fig)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header {
		return nil, fmt.Errorf("%s: no header line", path)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return figs, nil
}

// parseTolerance reads the model column: "exact 1e-9", "approx 0.05", or
// "-" for a figure the model is not judged on.
func parseTolerance(s string) (tolerance, error) {
	if s == "-" {
		return tolerance{rel: -1}, nil
	}
	kind, num, ok := strings.Cut(s, " ")
	rel, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || !(rel > 0) || (kind != "exact" && kind != "approx") {
		return tolerance{}, fmt.Errorf("%q; write exact or approx and a relative tolerance, e.g. \"exact 1e-9\", or - for none", s)
	}
	return tolerance{rel: rel, approximate: kind == "approx"}, nil
}

// parseJudged reads the sim and emulation columns: "z" when the view is
// judged on the figure by its z-score, "-" when not.
func parseJudged(s string) (bool, error) {
	switch s {
	case "z":
		return true, nil
	case "-":
		return false, nil
	}
	return false, fmt.Errorf("%q; write z (judged by its z-score) or - (not judged)", s)
}

// serviceFigure returns a statistic of a service as the model or the
// simulator reports it; false when the figure is absent (nil).
func serviceFigure(s *result.Service, stat string) (float64, bool) {
	var p *float64
	switch stat {
	case "utilization":
		return s.Utilization, true
	case "wait_probability":
		p = s.WaitProbability
	case "mean_wait":
		p = s.MeanWait
	case "mean_response":
		p = s.MeanResponse
	case "held_utilization":
		return 0, false // the simulator's alone: simFigure
	default:
		if s.Percentiles == nil {
			return 0, false
		}
		v, err := s.Percentiles.Get(stat)
		return v, err == nil
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}

// serviceHalfWidth returns the half-width of a statistic in a service's
// confidence interval.
func serviceHalfWidth(ci *result.ServiceCI, stat string) float64 {
	switch stat {
	case "utilization":
		return ci.Utilization
	case "wait_probability":
		return ci.WaitProbability
	case "mean_wait":
		return ci.MeanWait
	case "mean_response":
		return ci.MeanResponse
	}
	v, err := ci.Percentiles.Get(stat)
	if err != nil {
		panic(err) // readReference admits no other statistic
	}
	return v
}

// entryFigure returns a statistic of an entry's end-to-end latency.
func entryFigure(e *result.EndToEnd, stat string) (float64, bool) {
	if stat == "mean" {
		if e.Mean == nil {
			return 0, false
		}
		return *e.Mean, true
	}
	if e.Percentiles == nil {
		return 0, false
	}
	v, err := e.Percentiles.Get(stat)
	return v, err == nil
}

// entryHalfWidth returns the half-width of a statistic in an entry's
// confidence interval.
func entryHalfWidth(ci *result.EntryCI, stat string) float64 {
	if stat == "mean" {
		return ci.Mean
	}
	v, err := ci.Percentiles.Get(stat)
	if err != nil {
		panic(err)
	}
	return v
}

// entryIndex returns the index of the workload entry at the named service.
func entryIndex(topo *topology.Topology, name string) int {
	return slices.IndexFunc(topo.Workload, func(w topology.Workload) bool { return w.Entry == name })
}

// TestCases checks the suite itself: every case parses, every reference
// file is well formed and names what its topology has, and each view has
// figures to be judged on.
func TestCases(t *testing.T) {
	cases := loadCases(t)
	var model, sim, emu int
	for _, c := range cases {
		for _, f := range c.figures {
			if f.model.rel >= 0 {
				model++
			}
			if f.sim {
				sim++
			}
			if f.emulation {
				emu++
			}
		}
	}
	t.Logf("%d cases; figures judged: model %d, simulator %d, emulation %d", len(cases), model, sim, emu)
	if model == 0 || sim == 0 || emu == 0 {
		t.Error("a view has no figure to be judged on")
	}
}
