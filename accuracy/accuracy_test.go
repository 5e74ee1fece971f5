package accuracy

import (
	"bytes"
	"go/parser"
	"go/token"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// gridCase is one case of the grid with the model's prediction of it,
// computed once for the tests that read it.
type gridCase struct {
	Case
	p *result.Prediction
}

var (
	gridOnce  sync.Once
	gridCases []gridCase
	gridErr   error
)

// predictedGrid is every case of the grid with its prediction; under the
// race detector every fourth case, which still covers every shape and
// distribution: these tests run one goroutine, so the detector has
// nothing to find in them, and the whole grid is ten times slower under it
// (.ci/run runs them without it too, on every case).
func predictedGrid(t *testing.T) []gridCase {
	t.Helper()
	gridOnce.Do(func() {
		for i, c := range Grid() {
			if raceEnabled && i%4 != 0 {
				continue
			}
			topo, err := c.Topology()
			if err != nil {
				gridErr = err
				return
			}
			gridCases = append(gridCases, gridCase{Case: c, p: model.Analyze(topo).Predict()})
		}
	})
	if gridErr != nil {
		t.Fatal(gridErr)
	}
	return gridCases
}

// TestGridLoads checks that every case's topology is what its name says:
// its focal services at the case's utilization, the others light (below
// 30%), and that the names are distinct (they seed the simulations).
func TestGridLoads(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Grid() {
		if seen[c.Name()] {
			t.Errorf("two cases named %q", c.Name())
		}
		seen[c.Name()] = true
	}
	for _, g := range predictedGrid(t) {
		c, p := g.Case, g.p
		if !p.Stable {
			t.Errorf("%s: unstable", c.Name())
		}
		for _, s := range p.Services {
			// The back of the hold shape has the focal time, but it is
			// light: the front holds its workers across it.
			focal := s.ServiceTime == focalTime.Seconds() && !(c.Shape == Hold && s.Name == "back")
			switch {
			case focal && math.Abs(s.Utilization-c.Load) > 1e-12:
				t.Errorf("%s: %s at %.4f, want %.1f", c.Name(), s.Name, s.Utilization, c.Load)
			case !focal && s.Utilization >= 0.3:
				t.Errorf("%s: %s at %.4f, not light", c.Name(), s.Name, s.Utilization)
			}
		}
	}
	if want := len(Shapes) * len(Distributions) * len(Servers) * len(Loads); len(seen) != want {
		t.Errorf("%d cases, want %d", len(seen), want)
	}
}

// TestEveryClassMeasured checks that the committed table covers the
// model: every approximate label of every case of the grid quotes an
// error. A label that says "not measured" means the approximations or
// their classes changed since the table was made: run
// go run ./cmd/kendall-accuracy.
func TestEveryClassMeasured(t *testing.T) {
	missing := map[string]bool{}
	for _, g := range predictedGrid(t) {
		c, p := g.Case, g.p
		check := func(where string, ls result.Labels) {
			for fig, l := range ls {
				if l.Exact {
					continue
				}
				if l.Error == "" || strings.HasPrefix(l.Error, "not measured") {
					missing[where+" "+fig+": "+l.Error] = true
				}
			}
		}
		for _, s := range p.Services {
			check(c.Name()+" "+s.Name, s.Labels)
		}
		for _, e := range p.Entries {
			check(c.Name()+" entry", e.Labels)
		}
	}
	n := 0
	for m := range missing {
		if n++; n <= 10 {
			t.Error(m)
		}
	}
	if n > 0 {
		t.Errorf("%d approximate labels quote no measured error: regenerate the table with go run ./cmd/kendall-accuracy", n)
	}
}

// TestSummarize checks the statistics of a class on rows made up for it,
// and that negligible waits and exact figures are kept apart.
func TestSummarize(t *testing.T) {
	c := Case{Shape: Single, Servers: 1, Load: 0.9}
	rows := []Row{
		{Case: c, Metric: "p99", Model: 1.10, Sim: 1, CI: 0.05, Class: "k/heavy"},
		{Case: c, Metric: "p99", Model: 0.95, Sim: 1, CI: 0.06, Class: "k/heavy"},
		{Case: c, Metric: "p99", Model: 0.70, Sim: 1, CI: 0.01, Class: "k/heavy"},
		{Case: c, Metric: "p99", Model: 1.01, Sim: 1, CI: 0.02, Class: "k/light"},
		{Case: c, Metric: "mean_wait", Model: 1, Sim: 1e-9, CI: 1, Class: "k/heavy", Negligible: true},
		{Case: c, Metric: "mean", Model: 1.001, Sim: 1, CI: 0.01},
	}
	byKey := map[string]Stat{}
	for _, s := range Summarize(rows) {
		byKey[s.Class+"|"+s.Metric] = s
	}
	heavy := byKey["k/heavy|p99"]
	if heavy.Cases != 3 || math.Abs(heavy.Median-0.10) > 1e-12 || math.Abs(heavy.Worst+0.30) > 1e-12 || math.Abs(heavy.P90-0.30) > 1e-12 || heavy.WithinCI != 1 {
		t.Errorf("heavy: %+v", heavy)
	}
	if all := byKey["k/any load|p99"]; all.Cases != 4 {
		t.Errorf("any load: %+v", all)
	}
	if _, ok := byKey["k/heavy|mean_wait"]; ok {
		t.Error("a negligible wait was summed up")
	}
	if e := byKey[exactClass+"|mean"]; e.Cases != 1 || e.WithinCI != 1 {
		t.Errorf("exact: %+v", e)
	}
	var b bytes.Buffer
	if err := WriteGo(&b, Summarize(rows), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "gen.go", b.Bytes(), 0); err != nil {
		t.Fatalf("generated Go does not parse: %v\n%s", err, b.String())
	}
	if strings.Contains(b.String(), exactClass) {
		t.Error("the exact figures went into the labels' table")
	}
}

// TestRemodel: the model's side of a row is recomputed from its case, the
// simulated side kept, whatever the row said before.
func TestRemodel(t *testing.T) {
	c := Case{Shape: ReplicasCallers, Distribution: topology.Distribution{Kind: topology.Lognormal, CV: 2}, Servers: 2, Load: 0.7}
	rows := []Row{
		{Case: c, Metric: "mean", Model: -1, Sim: 0.5, CI: 0.01, Class: "stale"},
		{Case: c, Service: "s", Metric: "p99", Model: -1, Sim: 0.7, CI: 0.02, Class: "stale"},
	}
	got, err := Remodel(rows)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := c.Topology()
	if err != nil {
		t.Fatal(err)
	}
	n := model.Analyze(tp)
	p := n.Predict()
	svc, ent := n.AccuracyClasses()
	want := []Row{
		{Case: c, Metric: "mean", Model: *p.Entries[0].Mean, Sim: 0.5, CI: 0.01, Class: ent[0][result.FigMean]},
		{Case: c, Service: "s", Metric: "p99", Model: p.Services[1].Percentiles.P99, Sim: 0.7, CI: 0.02, Class: svc[1][result.FigPercentiles]},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if !strings.HasPrefix(got[0].Class, "approximate stations, balanced/") {
		t.Errorf("the entry of least-requests from three callers has class %q, want the balanced stations'", got[0].Class)
	}
}
