package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
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

// BenchmarkFanOut is a frontend that calls three services at once and
// waits for all of them, or for two of the three (fanOut).
func BenchmarkFanOut(b *testing.B) {
	b.Run("wait=all", func(b *testing.B) { benchWorkers(b, fanOut(b, topology.WaitAll, false)) })
	b.Run("wait=2", func(b *testing.B) { benchWorkers(b, fanOut(b, 2, false)) })
}

// fanOut is a frontend (0.2 ms on 8 workers, holding them across its calls
// if held) that makes a group of three parallel calls waiting for wait of
// them, to three M/M/2 services of 1 ms at 70% utilization: four visits
// and one join per request.
func fanOut(tb testing.TB, wait int, held bool) *topology.Topology {
	tb.Helper()
	const rate = 1400 // 0.7 × 2 workers / 1 ms
	group := &topology.Group{Wait: wait}
	services := []*topology.Service{{Name: "frontend", Servers: 8, ServiceTime: 200 * time.Microsecond, Hold: held,
		Calls: []topology.Call{{Group: group}}}}
	for _, name := range []string{"search", "ads", "recommend"} {
		group.Calls = append(group.Calls, topology.Call{To: name, Probability: 1})
		services = append(services, &topology.Service{Name: name, Servers: 2, ServiceTime: time.Millisecond})
	}
	t, err := topology.New("fanout", []topology.Workload{{Entry: "frontend", Rate: rate}}, services)
	if err != nil {
		tb.Fatal(err)
	}
	return t
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
		{"fanout-all", fanOut(b, topology.WaitAll, false)},
		{"fanout-quorum", fanOut(b, 2, false)},
		{"fanout-all-held", fanOut(b, topology.WaitAll, true)},
	}
	// Three single-worker replicas at 83% load, under each policy: the
	// cost of balancing against mm3's one shared queue.
	for _, p := range topology.Balancers {
		cases = append(cases, struct {
			name string
			t    *topology.Topology
		}{"replicas3-" + string(p), replicated(b, 3, 1, p, 0.83*3000)})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p, err := newPlan(c.t)
			if err != nil {
				b.Fatal(err)
			}
			k := newKernel(p)
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

// generate builds a random topology of n services, as model's benchmarks
// do (model/bench_test.go): service i > 0 is called by one chosen uniformly
// among the earlier ones (a random recursive tree, shallow and wide, as
// service graphs are), one in ten also by a second, with call
// probabilities and counts, and the rate is 70% of the largest the
// topology sustains.
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
	t, err = t.WithRate(0.7 * offeredLoad(t).maxRate)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// BenchmarkMemory reports the peak heap of a run ("peak-MB": the most heap
// in use, sampled every millisecond, less what was in use before), what it
// allocated ("alloc-MB"), and what its Result keeps once the run's garbage
// is collected ("result-MB": the merged histograms), by the topology's size
// and the number of replications. Each replication measures 1,000 requests
// after a fixed warm-up of 100; the MSER pilot, 100,000 requests at least,
// would take minutes here. Replications this short still widen the
// histograms now and then as more requests reach further into the tail,
// which longer ones do in their first replication.
//
//	go test ./sim -run '^$' -bench Memory -benchtime 1x
func BenchmarkMemory(b *testing.B) {
	for _, n := range []int{500, 2000} {
		t := generate(b, n, 1)
		for _, reps := range []int{2, 10, 40} {
			b.Run(fmt.Sprintf("services=%d/replications=%d", n, reps), func(b *testing.B) {
				o := Options{Requests: int64(reps) * 1000, Replications: reps, Warmup: 100, Seed: 1}
				var m heapUse
				for b.Loop() {
					m = measureHeap(func() any { return run(b, t, o) })
				}
				b.ReportMetric(float64(m.peak)/(1<<20), "peak-MB")
				b.ReportMetric(float64(m.alloc)/(1<<20), "alloc-MB")
				b.ReportMetric(float64(m.kept)/(1<<20), "result-MB")
			})
		}
	}
}

// heapUse is what measureHeap measures, in bytes.
type heapUse struct{ peak, alloc, kept uint64 }

// measureHeap runs fn and returns the most heap in use while it ran, above
// what was in use before; the bytes it allocated; and the heap in use after
// a collection while what fn returned is still reachable. The heap in use
// is HeapInuse (objects, live or not yet swept, and the free space of their
// spans), read from runtime/metrics, which does not stop the world as
// ReadMemStats does.
func measureHeap(fn func() any) heapUse {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/gc/heap/allocs:bytes"},
	}
	read := func() (inUse, allocs uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64(), samples[2].Value.Uint64()
	}
	runtime.GC()
	base, alloc0 := read()
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h, _ := read(); h > peak {
				peak = h
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	kept := fn()
	close(stop)
	<-done
	h, alloc1 := read()
	peak = max(peak, h)
	runtime.GC()
	after, _ := read()
	runtime.KeepAlive(kept)
	return heapUse{peak: peak - base, alloc: alloc1 - alloc0, kept: after - base}
}
