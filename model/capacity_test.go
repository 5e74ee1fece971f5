package model

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

func loadExample(t *testing.T, name string) *topology.Topology {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestParseSLO(t *testing.T) {
	tests := []struct {
		in      string
		want    SLO
		wantErr string
	}{
		{"p99=50ms", SLO{"p99", 0.05}, ""},
		{"P99.9=1s", SLO{"p999", 1}, ""},
		{"mean=1500us", SLO{"mean", 0.0015}, ""},
		{"p98=5ms", SLO{}, `SLO "p98=5ms": unknown statistic "p98"; use mean, p50, p90, p95, p99 or p99.9`},
		{"p99", SLO{}, `SLO "p99": write it as metric=duration, e.g. p99=50ms or mean=20ms`},
		{"p99=50", SLO{}, `SLO "p99=50": 50 has no unit; write a duration such as 50ms or 50us`},
	}
	for _, tc := range tests {
		got, err := ParseSLO(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseSLO(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSLO(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// TestMaxRateForSLO checks that the rate found is the edge: the SLO holds
// at it and fails just above it.
func TestMaxRateForSLO(t *testing.T) {
	ctx := context.Background()
	shop := loadExample(t, "shop.yaml")
	for _, slo := range []SLO{{"p99", 0.050}, {"mean", 0.020}, {"p50", 0.016}} {
		r, err := MaxRateForSLO(ctx, shop, []SLO{slo})
		if err != nil {
			t.Fatal(err)
		}
		if r.Entry != "gateway" || r.Metric != slo.Metric {
			t.Errorf("%v: binding %s/%s", slo, r.Entry, r.Metric)
		}
		at, _ := shop.WithRate(r.Rate)
		above, _ := shop.WithRate(r.Rate * (1 + 1e-5))
		if v := Analyze(at).Statistic(0, slo.Metric); v > slo.Target {
			t.Errorf("%v: at %v req/s the statistic is %v, over the target", slo, r.Rate, v)
		}
		if v := Analyze(above).Statistic(0, slo.Metric); v <= slo.Target {
			t.Errorf("%v: just above %v req/s the statistic is %v, still within the target", slo, r.Rate, v)
		}
		tiny, _ := shop.WithRate(1e-6)
		checkRel(t, "floor", r.Floor, Analyze(tiny).Statistic(0, slo.Metric), 1e-6)
	}

	// An SLO below the latency of the work itself is met at no rate.
	r, err := MaxRateForSLO(ctx, shop, []SLO{{"p99", 0.010}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Rate != 0 || !(r.Floor > 0.010) {
		t.Errorf("impossible SLO: rate %v, floor %v", r.Rate, r.Floor)
	}
}

// TestPlanServersMeanIsFewest compares the plan for a mean SLO with an
// exhaustive search over every allocation: for one entry and a mean SLO,
// greedy marginal allocation must find the fewest workers.
func TestPlanServersMeanIsFewest(t *testing.T) {
	ctx := context.Background()
	topo, err := topology.New("three", []topology.Workload{{Entry: "a", Rate: 400}}, []*topology.Service{
		{Name: "a", Servers: 1, ServiceTime: 4 * time.Millisecond, Calls: []topology.Call{{To: "b", Probability: 1, Count: 2}, {To: "c", Probability: 0.5, Count: 1}}},
		{Name: "b", Servers: 1, ServiceTime: 3 * time.Millisecond},
		{Name: "c", Servers: 1, ServiceTime: 9 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []float64{0.025, 0.030, 0.040, 0.060} {
		slos := []SLO{{"mean", target}}
		plan, err := PlanServers(ctx, topo, slos)
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Feasible {
			t.Fatalf("target %v: no plan: %s", target, plan.Reason)
		}
		// Exhaustive: every allocation from the stable minimum to 8 above.
		base := Analyze(topo)
		best := 1 << 30
		mins := []int{2, 3, 2} // floor(a)+1: a = 1.6, 2.4, 1.8
		for x := mins[0]; x < mins[0]+8; x++ {
			for y := mins[1]; y < mins[1]+8; y++ {
				for z := mins[2]; z < mins[2]+8; z++ {
					if x+y+z < best && base.withServers([]int{x, y, z}).meets(slos) {
						best = x + y + z
					}
				}
			}
		}
		if plan.Total != best {
			t.Errorf("target %v: plan has %d workers, the fewest is %d (%+v)", target, plan.Total, best, plan.Changes)
		}
		if m := *plan.Prediction.Entries[0].Mean; m > target {
			t.Errorf("target %v: planned mean %v misses it", target, m)
		}
	}
}

// TestPlanServersPercentileMinimal checks a percentile plan on the shop: it
// meets the SLO, and taking any one worker away breaks it or the stability.
func TestPlanServersPercentileMinimal(t *testing.T) {
	shop := loadExample(t, "shop.yaml")
	slos := []SLO{{"p99", 0.050}}
	plan, err := PlanServers(context.Background(), shop, slos)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Feasible {
		t.Fatalf("no plan: %s", plan.Reason)
	}
	planned := make([]int, len(plan.Changes))
	for i, c := range plan.Changes {
		planned[i] = c.Planned
		if c.Change != c.Planned-c.Current || c.Current != shop.Services[i].Servers {
			t.Errorf("change row %+v inconsistent with the file", c)
		}
	}
	base := Analyze(shop)
	if !base.withServers(planned).meets(slos) {
		t.Fatalf("the plan %v does not meet the SLO", planned)
	}
	if p99 := plan.Prediction.Entries[0].Percentiles.P99; p99 > 0.050 {
		t.Errorf("planned p99 %v over 50ms", p99)
	}
	for i := range planned {
		fewer := append([]int(nil), planned...)
		fewer[i]--
		if fewer[i] >= 1 && base.withServers(fewer).meets(slos) {
			t.Errorf("one worker fewer at %s still meets the SLO: plan %v is not minimal", shop.Services[i].Name, planned)
		}
	}
}

func TestPlanServersInfeasible(t *testing.T) {
	plan, err := PlanServers(context.Background(), loadExample(t, "shop.yaml"), []SLO{{"p99", 0.010}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Feasible || plan.Reason == "" || plan.Prediction != nil {
		t.Errorf("impossible SLO got a plan: %+v", plan)
	}
}

func TestCapacityCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MaxRateForSLO(ctx, loadExample(t, "shop.yaml"), []SLO{{"p99", 0.05}}); err != context.Canceled {
		t.Errorf("MaxRateForSLO on a cancelled context: %v", err)
	}
}

// TestPlanServersBeyondMaxServers: a service whose offered load needs more
// workers than a file may give it has no plan, said at once — not after
// Erlang C over billions of workers (it took minutes, deaf to Ctrl-C).
func TestPlanServersBeyondMaxServers(t *testing.T) {
	topo, err := topology.New("huge", []topology.Workload{{Entry: "a", Rate: 1000}}, []*topology.Service{
		{Name: "a", Servers: 1, ServiceTime: 2000 * time.Second}, // 2,000,000 Erlangs
	})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanServers(context.Background(), topo, []SLO{{"p99", 20000}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Feasible || !strings.Contains(plan.Reason, "a needs more than 1,000,000 workers") {
		t.Errorf("plan beyond MaxServers: feasible %v, reason %q", plan.Feasible, plan.Reason)
	}
	for _, c := range plan.Changes {
		if c.Planned > topology.MaxServers {
			t.Errorf("planned %d workers for %s", c.Planned, c.Name)
		}
	}
}

func TestPlanServersCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PlanServers(ctx, loadExample(t, "shop.yaml"), []SLO{{"p99", 0.05}}); err != context.Canceled {
		t.Errorf("PlanServers on a cancelled context: %v", err)
	}
}
