package sim

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// TestLevels holds nLevels, the number of percentile figures per service
// and per entry, to the percentiles the model reports.
func TestLevels(t *testing.T) {
	if nLevels != len(result.Levels) {
		t.Fatalf("nLevels is %d but result.Levels has %d percentiles: set nLevels to len(result.Levels)", nLevels, len(result.Levels))
	}
}

// TestMergedHistograms checks that the run's histograms hold the requests
// of the replications kept and of no other: each entry's merged histogram
// counts Run.Requests, with and without a precision target (which drops
// the replications started past the prefix that met it), on one worker and
// on four, and when interrupted while workers wait for earlier
// replications (precision, 1-request replications) to be gathered; and
// that every goroutine has ended when Run returns.
func TestMergedHistograms(t *testing.T) {
	topos := []struct {
		name string
		t    *topology.Topology
	}{{"shop", loadFile(t, "../examples/shop.yaml")}, {"five", loadFile(t, "../model/testdata/five.yaml")}}
	before := runtime.NumGoroutine()
	for _, c := range []struct {
		name      string
		o         Options
		interrupt bool
	}{
		{"plain", Options{Requests: 20_000, Replications: 5, Warmup: 100}, false},
		{"precision", Options{Requests: 10_000, Replications: 4, Precision: 0.01, Warmup: 100}, false},
		{"interrupted precision", Options{Requests: 2, Replications: 2, Precision: 1e-9, MaxRequests: 1e9, Warmup: 1}, true},
	} {
		for _, w := range []int{1, 4} {
			for _, topo := range topos {
				o := c.o
				o.Workers, o.Seed = w, 3
				ctx, cancel := context.WithCancel(context.Background())
				if c.interrupt {
					o.Progress = func(done, total int64) {
						if done > 1000 {
							cancel()
						}
					}
				}
				r, err := Run(ctx, topo.t, o)
				cancel()
				if err != nil {
					t.Fatalf("%s, %s, %d workers: %v", c.name, topo.name, w, err)
				}
				if r.Partial != c.interrupt {
					t.Errorf("%s, %s, %d workers: partial %v", c.name, topo.name, w, r.Partial)
				}
				t.Logf("%s, %s, %d workers: %d replications, %d requests, %.2fs", c.name, topo.name, w, r.Run.Replications, r.Run.Requests, r.Run.Seconds)
				var n int64
				for _, e := range r.Entries {
					n += e.Histogram().TotalCount()
				}
				if n != r.Run.Requests {
					t.Errorf("%s, %s, %d workers: the entries' histograms hold %d requests, the %d replications kept measured %d",
						c.name, topo.name, w, n, r.Run.Replications, r.Run.Requests)
				}
			}
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before the runs, %d after", before, after)
	}
}

// TestAllocationPerReplication checks that a run's memory does not grow
// with its replications: a worker records each of its replications into the
// same histograms, and the run merges them into one, so twenty
// replications allocate about what two do. Each of the replications added
// here may allocate less than an eighth of one set of histograms (the five
// of shop.yaml, about 150 KB): more means that each one brings its own
// (before, each allocated 1.4 MB). The replications are long enough
// (20,000 requests) for the first ones to reach nearly the histograms'
// whole range; what later ones may add is the odd histogram widening for a
// new longest latency (here none: 3 bytes a replication). One worker runs
// them, so that which replication widens which histogram depends on the
// seed alone.
func TestAllocationPerReplication(t *testing.T) {
	topo := loadFile(t, "../examples/shop.yaml")
	alloc := func(reps int) int64 {
		o := Options{Requests: int64(reps) * 20_000, Replications: reps, Warmup: 100, Seed: 1, Workers: 1}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		run(t, topo, o)
		runtime.ReadMemStats(&after)
		return int64(after.TotalAlloc - before.TotalAlloc)
	}
	a2, a20 := alloc(2), alloc(20)
	perRep := (a20 - a2) / 18
	t.Logf("2 replications allocate %d KB, 20 replications %d KB: %d bytes per replication added", a2>>10, a20>>10, perRep)
	if limit := int64(150<<10) / 8; perRep > limit {
		t.Errorf("each replication added allocates %d bytes, more than %d", perRep, limit)
	}
}

// TestServiceDigits checks that a service's two-digit histogram, read by
// interpolation, gives the percentiles the three-digit entry histogram
// gives for the same latencies: at one station each request is one visit,
// so the pooled percentiles of the two differ only by the reading. They
// agree to 0.03% (serviceDigits); read at the buckets' middle they were
// 0.25% apart. The tolerance, 0.1%, is a quarter of a two-digit bucket's
// half-width.
func TestServiceDigits(t *testing.T) {
	for _, c := range []struct {
		servers int
		rho     float64
	}{{2, 0.7}, {1000, 0.95}} {
		r := run(t, oneStation(t, c.servers, time.Millisecond, exponential, c.rho), Options{Requests: scaled(1_000_000), Seed: 2})
		s, e := r.Services[0], r.Entries[0]
		for j, l := range result.Levels {
			rel := (s.pooled[j] - e.pooled[j]) / e.pooled[j]
			t.Logf("M/M/%d %-4s: service %.6g, entry %.6g (%+.3f%%)", c.servers, l.Name, s.pooled[j], e.pooled[j], 100*rel)
			if math.Abs(rel) > 1e-3 {
				t.Errorf("M/M/%d %s: the service's histogram reads %.6g, the entry's %.6g: %.2f%% apart", c.servers, l.Name, s.pooled[j], e.pooled[j], 100*rel)
			}
		}
	}
}
