package sim

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// The benchmarks count one operation per simulated external request, and
// report the simulated requests per second of wall time ("req/s"), that
// per worker ("req/s/worker"), and the allocations per request. Compare
// the workers=1 and workers=2 figures of one run for the speed-up: other
// processes share the machine, so absolute figures are noisy.
//
//	go test ./sim -run '^$' -bench . -benchtime 20000000x -count 3

// BenchmarkMMc is an M/M/3 station at 83% utilization.
func BenchmarkMMc(b *testing.B) {
	benchWorkers(b, oneStation(b, 3, time.Millisecond, exponential, 0.83))
}

// BenchmarkShop is examples/shop.yaml: 4.6 visits per request, fan-out,
// probabilistic and repeated calls.
func BenchmarkShop(b *testing.B) {
	benchWorkers(b, loadFile(b, "../examples/shop.yaml"))
}

func benchWorkers(b *testing.B, t *topology.Topology) {
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			// Two replications whatever the workers, so both sub-benchmarks
			// do the same work; no warm-up pilot, which runs on one core.
			const reps = 2
			o := Options{Requests: max(int64(b.N), reps), Replications: reps, Workers: w, Warmup: -1, Seed: 1}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			r := run(b, t, o)
			b.StopTimer()
			runtime.ReadMemStats(&after)
			n := float64(r.Run.SimulatedRequests)
			perSec := n / b.Elapsed().Seconds()
			b.ReportMetric(perSec, "req/s")
			b.ReportMetric(perSec/float64(w), "req/s/worker")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/req")
		})
	}
}

// BenchmarkKernel is one replication on the calling goroutine: the event
// loop alone, without Run's goroutines and aggregation.
func BenchmarkKernel(b *testing.B) {
	cases := []struct {
		name string
		t    *topology.Topology
	}{
		{"mm3", oneStation(b, 3, time.Millisecond, exponential, 0.83)},
		{"mm1000", oneStation(b, 1000, time.Millisecond, exponential, 0.95)},
		{"shop", loadFile(b, "../examples/shop.yaml")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			k := newKernel(newPlan(c.t))
			// A first replication grows the storage, as a worker's first does.
			k.reset(1, 0, 0, 10000, false)
			k.run(nil, 0)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			k.reset(1, 1, 0, int64(b.N), false)
			k.run(nil, 0)
			b.StopTimer()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(k.arrivals)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(k.arrivals), "allocs/req")
		})
	}
}
