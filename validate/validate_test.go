package validate

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/reports"
	"github.com/kendallqn/kendall/topology"
)

func TestParseRates(t *testing.T) {
	tests := []struct {
		spec    string
		want    []float64
		wantErr string
	}{
		{"0.5", []float64{125}, ""},
		{"0.8, 0.2,0.2", []float64{50, 200}, ""}, // sorted, repeats dropped
		{"60/s,0.2", []float64{50, 60}, ""},
		{"7200/m", []float64{120}, ""},
		{"1.2", nil, "1.2 is not a fraction of the max rate (250 req/s) between 0 and 1; for an absolute rate write 1.2/s"},
		{"0", nil, "0 is not a fraction of the max rate"},
		{"300/s", nil, "300/s is at or past saturation (250 req/s)"},
		{"250/s", nil, "250/s is at or past saturation"},
		{"fast", nil, `"fast" is not a rate`},
		{"1e-9/s", nil, "below the smallest rate kendall handles"},
		{" , ", nil, "no rate given"},
	}
	for _, tc := range tests {
		got, err := ParseRates(tc.spec, 250)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRates(%q): %v, want an error containing %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseRates(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("ParseRates(%q) = %v, want %v", tc.spec, got, tc.want)
			}
		}
	}
	if c := Closest([]float64{50, 125, 200}, 150); c != 125 {
		t.Errorf("Closest: %v", c)
	}
}

// TestSpreadOf checks the prediction interval against hand computation:
// with R = 20 runs, one more run lies within h·√21 of their mean, h being
// the 95% half-width of that mean (√21 = 4.582575695).
func TestSpreadOf(t *testing.T) {
	got := SpreadOf(map[string]float64{"mean": 1, "p99": 0.002}, 20)
	if math.Abs(got["mean"]-4.582575695) > 1e-9 || math.Abs(got["p99"]-0.00916515139) > 1e-11 {
		t.Errorf("SpreadOf = %v", got)
	}
}

func figures(mean, ci float64) *reports.Figures {
	return &reports.Figures{Stable: true, Entries: []reports.EntryFigures{{
		Entry: "gw", Values: map[string]float64{"mean": mean}, CI95: map[string]float64{"mean": ci}}}}
}

// TestOverheadNotes: measured mean 20ms against 18ms simulated, both
// intervals far narrower than the 2ms gap, over 3 visits per request (gw,
// and db twice): 667µs per visit. At a rate not judged, nothing is said.
func TestOverheadNotes(t *testing.T) {
	topo, err := topology.New("two", []topology.Workload{{Entry: "gw", Rate: 10}}, []*topology.Service{
		{Name: "gw", ServiceTime: time.Millisecond, Calls: []topology.Call{{To: "db", Probability: 1, Count: 2}}},
		{Name: "db", ServiceTime: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &reports.Report{Entries: []string{"gw"}, Settings: reports.Settings{Target: "emulation"}, Points: []reports.Point{
		{Rate: 10, Simulation: figures(0.018, 0.0001), Measurement: figures(0.020, 0.0005)},
	}}
	notes := OverheadNotes(model.Analyze(topo), r)
	want := "At 10 req/s, the lowest rate measured, gw's measured mean is 2ms above the simulation's: about 667µs per visit over its 3 visits per request, the cost of HTTP on loopback and of scheduling, which the model leaves out."
	if len(notes) != 1 || notes[0] != want {
		t.Errorf("notes %q\nwant %q", notes, want)
	}
	// Within the intervals: nothing to say.
	r.Points[0].Measurement = figures(0.0181, 0.0005)
	if notes := OverheadNotes(model.Analyze(topo), r); len(notes) != 0 {
		t.Errorf("a gap within the intervals: %q", notes)
	}
	r.Points[0].Measurement = figures(0.020, 0.0005)
	r.Points[0].NotJudged = []reports.NotJudged{{Entry: "gw", Source: reports.Measurement, Reason: "failed"}}
	if notes := OverheadNotes(model.Analyze(topo), r); len(notes) != 0 {
		t.Errorf("a rate not judged: %q", notes)
	}
}

func TestJudgedAny(t *testing.T) {
	ok := func(f float64) *float64 { return &f }
	point := func(ratio float64) reports.Point {
		m := figures(0.01, 0)
		m.Entries[0].Sent, m.Entries[0].SuccessRatio = 100, ok(ratio)
		pt := reports.Point{Rate: 1, Model: figures(0.01, 0), Measurement: m}
		pt.Judge([]string{"gw"}, 0.99)
		return pt
	}
	for _, tc := range []struct {
		points []reports.Point
		want   bool
	}{
		{nil, true}, // nothing measured: nothing to judge by
		{[]reports.Point{point(1)}, true},
		{[]reports.Point{point(0.5), point(1)}, true},
		{[]reports.Point{point(0.5), point(0.98)}, false},
	} {
		if got := JudgedAny(&reports.Report{Entries: []string{"gw"}, Points: tc.points}); got != tc.want {
			t.Errorf("%d points: JudgedAny = %v, want %v", len(tc.points), got, tc.want)
		}
	}
}

// TestRunNoMeasure validates a chain without measurement: the report has
// every rate, the model and the simulation, the fine curve and the
// distribution, and the checkpoint saw each rate.
func TestRunNoMeasure(t *testing.T) {
	topo, err := topology.New("pair", []topology.Workload{{Entry: "a", Rate: 10}}, []*topology.Service{
		{Name: "a", ServiceTime: 4 * time.Millisecond, Calls: []topology.Call{{To: "b", Probability: 1}}},
		{Name: "b", ServiceTime: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	var checkpoints []int
	var stages []string
	r, err := Run(context.Background(), topo, Options{
		Rates: []float64{50, 150}, Precision: 0.05, Seed: 3,
		Checkpoint: func(r *reports.Report) error { checkpoints = append(checkpoints, len(r.Points)); return nil },
		Progress:   func(p Progress) { stages = append(stages, p.Stage) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Points) != 2 || r.Points[1].Simulation == nil || r.Points[1].Measurement != nil || r.Settings.Target != "none" {
		t.Fatalf("points %+v", r.Points)
	}
	if r.MaxRate != 250 || r.Bottleneck != "a" || len(r.Curve) == 0 || r.Distribution == nil {
		t.Errorf("max rate %v, bottleneck %q, %d curve points, distribution %v", r.MaxRate, r.Bottleneck, len(r.Curve), r.Distribution)
	}
	if len(checkpoints) != 2 || checkpoints[1] != 2 || len(stages) == 0 || stages[0] != StageSimulating {
		t.Errorf("checkpoints %v, stages %v", checkpoints, stages)
	}
	if len(r.Points[0].Differences) == 0 {
		t.Error("the points were not compared")
	}
	if _, err := Run(context.Background(), topo, Options{Rates: []float64{300}}); err == nil {
		t.Error("a rate past saturation was accepted")
	}
}

// TestRunInterrupted: a cancelled sweep returns no report when no rate
// finished, with the context's error.
func TestRunInterrupted(t *testing.T) {
	topo, err := topology.New("one", []topology.Workload{{Entry: "a", Rate: 10}}, []*topology.Service{{Name: "a", ServiceTime: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Run(ctx, topo, Options{Rates: []float64{100}})
	if r != nil || err == nil {
		t.Errorf("cancelled: report %v, error %v", r, err)
	}
}

// TestRelaxationNotes: a window shorter than ten relaxation times of the
// busiest queue at the highest rate measured gets one note, naming it and
// the duration that would do; a long enough window, none. The balancers
// example at 90% load: four single-worker replicas of 20 ms, τ = 0.02/(1 −
// √0.9)² = 7.5947 s, computed by hand; ten of them 1m16s.
func TestRelaxationNotes(t *testing.T) {
	topo, err := topology.Load("../examples/balancers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	point := func(rate, util float64) reports.Point {
		figs := &reports.Figures{}
		for _, s := range topo.Services {
			figs.Services = append(figs.Services, reports.ServiceFigures{Name: s.Name, Utilization: util})
		}
		return reports.Point{Rate: rate, Model: figs, Measurement: &reports.Figures{}}
	}
	cases := []struct {
		window float64
		points []reports.Point
		want   []string // substrings of the one note; nil for none
	}{
		{20, []reports.Point{point(180, 0.3), point(540, 0.9)}, []string{"At 540 req/s", "catalog-random", "7.59s", "20s", "--duration 1m16s"}},
		{60, []reports.Point{point(180, 0.3), point(540, 0.9)}, []string{"--duration 1m16s"}},
		{80, []reports.Point{point(180, 0.3), point(540, 0.9)}, nil},
		{20, []reports.Point{point(180, 0.3)}, nil},
	}
	for _, c := range cases {
		r := &reports.Report{Settings: reports.Settings{Duration: c.window}, Points: c.points}
		notes := RelaxationNotes(topo, r)
		if c.want == nil {
			if len(notes) != 0 {
				t.Errorf("window %gs: %q, want no note", c.window, notes)
			}
			continue
		}
		if len(notes) != 1 {
			t.Errorf("window %gs: %d notes %q, want one", c.window, len(notes), notes)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(notes[0], w) {
				t.Errorf("window %gs: %q does not say %q", c.window, notes[0], w)
			}
		}
	}
}
