package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// generate builds a random topology of n services, every service reachable
// from the one entry. Service i > 0 is called by a service chosen uniformly
// among the earlier ones (a random recursive tree, of depth about ln n, as
// service graphs are shallow and wide), and one service in ten is also
// called by a second, like a shared database. Calls have probabilities and
// counts. The rate is set to 70% of the largest sustainable rate, so the
// network is stable and busy.
func generate(tb testing.TB, n int, seed uint64) *topology.Topology {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	services := make([]*topology.Service, n)
	for i := range services {
		services[i] = &topology.Service{
			Name:        fmt.Sprintf("s%04d", i),
			Servers:     1 + rng.IntN(8),
			ServiceTime: time.Duration(200+rng.IntN(5000)) * time.Microsecond,
		}
	}
	call := func(from, to int) {
		c := topology.Call{To: services[to].Name, Probability: 1, Count: 1}
		if rng.IntN(3) == 0 {
			c.Probability = 0.1 + 0.8*rng.Float64()
		}
		if rng.IntN(5) == 0 {
			c.Count = 2
		}
		services[from].Calls = append(services[from].Calls, c)
	}
	for i := 1; i < n; i++ {
		call(rng.IntN(i), i)
		if i > 1 && rng.IntN(10) == 0 {
			call(rng.IntN(i), i)
		}
	}
	t, err := topology.New(fmt.Sprintf("generated-%d", n), []topology.Workload{{Entry: services[0].Name, Rate: 1}}, services)
	if err != nil {
		tb.Fatal(err)
	}
	maxRate, _ := Analyze(t).MaxRate()
	t, err = t.WithRate(0.7 * maxRate)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// BenchmarkPredict is kendall predict without the printing: visit ratios,
// every station, and every percentile per service and end to end.
func BenchmarkPredict(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		t := generate(b, n, 1)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := Analyze(t).Predict()
				if !p.Stable {
					b.Fatal("unstable")
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/predict")
		})
	}
}

// BenchmarkCapacity is kendall capacity: the largest rate for a p99 SLO and
// the fewest workers for it at the topology's rate.
func BenchmarkCapacity(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 100, 1000} {
		t := generate(b, n, 1)
		// An SLO the topology meets at about 60% of its rate, so that both
		// searches have work to do.
		half, _ := t.WithRate(0.6 * t.TotalRate())
		slos := []SLO{{"p99", Analyze(half).Statistic(0, "p99")}}
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := MaxRateForSLO(ctx, t, slos); err != nil {
					b.Fatal(err)
				}
				plan, err := PlanServers(ctx, t, slos)
				if err != nil || !plan.Feasible {
					b.Fatal(err, plan.Reason)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/capacity")
		})
	}
}
