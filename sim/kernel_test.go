package sim

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// These tests hold the simulator to facts that do not come from the model:
// Little's law, the utilization law, conservation of requests, and
// reproducibility.

// shopRates are the arrival rates at the services of examples/shop.yaml,
// worked out by hand from the file: 120 checkouts per second at gateway,
// all of which call catalog, 30% of which call cart; catalog calls db twice,
// cart once: 120·2 + 36 = 276.
var shopRates = map[string]float64{"gateway": 120, "catalog": 120, "cart": 36, "db": 276}

// TestLittlesLaw checks L = λW per service (J. D. C. Little, "A proof for
// the queuing formula L = λW", Oper. Res. 9(3), 1961): the time-average
// number of requests at a service, from the areas under its queue and
// workers, against the arrival rate times the mean response, from the
// requests one by one. The two are measured independently by the kernel
// and agree up to the requests in the station at the window's edges.
func TestLittlesLaw(t *testing.T) {
	for _, file := range []string{"../examples/shop.yaml", "../model/testdata/five.yaml", "../examples/api-db-pool.yaml"} {
		t.Run(file, func(t *testing.T) {
			r := run(t, loadFile(t, file), Options{Requests: scaled(400_000), Seed: 1})
			for _, s := range r.Services {
				ci := s.Interval(level)
				lw := s.ArrivalRate * *s.MeanResponse
				t.Logf("%-10s L %.5g ± %.2g, λW %.5g", s.Name, *s.MeanInSystem, ci.MeanInSystem, lw)
				if !within(*s.MeanInSystem, ci.MeanInSystem, lw) {
					t.Errorf("%s: time-average L = %.5g ± %.3g, but λW = %.5g", s.Name, *s.MeanInSystem, ci.MeanInSystem, lw)
				}
				lq := s.ArrivalRate * *s.MeanWait
				if !within(*s.MeanQueueLength, ci.MeanQueueLength, lq) {
					t.Errorf("%s: time-average Lq = %.5g ± %.3g, but λWq = %.5g", s.Name, *s.MeanQueueLength, ci.MeanQueueLength, lq)
				}
			}
		})
	}
}

// TestUtilizationLaw checks U = λS/c (Denning & Buzen, "The operational
// analysis of queueing network models", Comput. Surv. 10(3), 1978): the
// busy-worker time the kernel accumulates, against the arrival rates
// worked out by hand, and the measured arrival rates against the same.
func TestUtilizationLaw(t *testing.T) {
	topo := loadFile(t, "../examples/shop.yaml")
	r := run(t, topo, Options{Requests: 400_000, Seed: 2})
	f := family{t: t, m: 2 * len(r.Services)}
	for _, s := range r.Services {
		ci := s.Interval(f.level())
		lambda := shopRates[s.Name]
		u := lambda * s.ServiceTime / float64(s.Servers)
		t.Logf("%-8s U %.5g ± %.2g, λS/c %.5g; λ %.5g ± %.2g, by hand %g", s.Name, s.Utilization, ci.Utilization, u, s.ArrivalRate, ci.ArrivalRate, lambda)
		if !within(s.Utilization, ci.Utilization, u) {
			t.Errorf("%s: utilization %.5g ± %.3g, want λS/c = %.5g", s.Name, s.Utilization, ci.Utilization, u)
		}
		if !within(s.ArrivalRate, ci.ArrivalRate, lambda) {
			t.Errorf("%s: arrival rate %.5g ± %.3g, want %g", s.Name, s.ArrivalRate, ci.ArrivalRate, lambda)
		}
	}
}

// TestConservation checks that no request is lost or made up: at every
// service and every entry, arrivals = completions + in flight at the end,
// where in flight is read from the kernel's state (workers busy, queue,
// live requests in the pool), not from counters. The runs end with
// requests in flight: a stable one drains its measured requests while
// arrivals go on, a forced unstable one stops with full queues, and an
// interrupted one stops anywhere.
func TestConservation(t *testing.T) {
	shop := loadFile(t, "../examples/shop.yaml")
	overloaded, err := shop.WithRate(300) // catalog saturates at 250
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		topo *topology.Topology
		opts Options
	}{
		{"stable", shop, Options{Requests: 100_000, Seed: 1}},
		{"five", loadFile(t, "../model/testdata/five.yaml"), Options{Requests: 100_000, Warmup: 500, Seed: 1}},
		{"forced", overloaded, Options{Requests: 100_000, Seed: 1, Force: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, c.topo, c.opts)
			var inFlight int64
			for _, s := range r.Services {
				n := s.Counts
				inFlight += n.InFlight
				if n.Arrivals != n.Completions+n.InFlight {
					t.Errorf("%s: %d arrivals, %d completions + %d in flight", s.Name, n.Arrivals, n.Completions, n.InFlight)
				}
			}
			var external int64
			for _, e := range r.Entries {
				n := e.Counts
				external += n.Arrivals
				if n.Arrivals != n.Completions+n.InFlight {
					t.Errorf("entry %s: %d arrivals, %d completions + %d in flight", e.Entry, n.Arrivals, n.Completions, n.InFlight)
				}
				if e.Counts.InFlight == 0 && c.name != "five" {
					t.Errorf("entry %s: nothing in flight at the end; the test does not test the balance", e.Entry)
				}
			}
			if least := r.Run.Requests + int64(r.Run.Replications)*r.Run.WarmupRequests; external < least {
				t.Errorf("entries saw %d external requests, fewer than the %d warm-up and measured ones", external, least)
			}
			t.Logf("%d external requests, %d visits in flight at the end", external, inFlight)
		})
	}
}

// TestDeterminism checks that a seed fixes the result, whatever the number
// of workers, with and without a precision target, and that another seed
// changes it.
func TestDeterminism(t *testing.T) {
	topo := loadFile(t, "../examples/shop.yaml")
	cases := []Options{
		{Requests: 30_000, Replications: 6}, // with the warm-up pilot
		{Requests: 10_000, Replications: 5, Precision: 0.01, Warmup: 100},
	}
	for _, o := range cases {
		o.Seed = 7
		var first string
		for _, w := range []int{1, 4, 2} {
			o.Workers = w
			got := fingerprint(t, run(t, topo, o))
			if first == "" {
				first = got
				continue
			}
			if got != first {
				t.Fatalf("precision %v: %d workers gave a different result from 1 worker:\n%s\n%s", o.Precision, w, got, first)
			}
		}
		o.Seed = 8
		if fingerprint(t, run(t, topo, o)) == first {
			t.Errorf("precision %v: seeds 7 and 8 gave the same result", o.Precision)
		}
	}
}

// fingerprint is the JSON of a result without the wall-clock figures.
func fingerprint(t *testing.T, r *Result) string {
	t.Helper()
	c := *r
	// SimulatedRequests counts the work done, including replications started
	// and then dropped once a precision target was met, which depends on
	// the workers.
	c.Run.Seconds, c.Run.RequestsPerSecond, c.Run.Workers, c.Run.SimulatedRequests = 0, 0, 0, 0
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	// The merged histograms are not in the JSON; compare what they hold.
	for _, e := range r.Entries {
		h := e.Histogram()
		b = append(b, []byte(time.Duration(h.ValueAtQuantile(99.9)).String()+" "+time.Duration(h.TotalCount()).String())...)
	}
	for _, s := range r.Services {
		h := s.Histogram()
		b = append(b, []byte(" "+time.Duration(h.ValueAtQuantile(99.9)).String()+" "+time.Duration(h.TotalCount()).String())...)
	}
	return string(b)
}

// TestPrecision checks that a precision target stops the run as soon as the
// mean end-to-end latency is known well enough, and that MaxRequests stops
// it otherwise.
func TestPrecision(t *testing.T) {
	topo := loadFile(t, "../examples/shop.yaml")
	r := run(t, topo, Options{Requests: 20_000, Replications: 4, Precision: 0.005, Warmup: 100, Seed: 1})
	e := r.Entries[0]
	t.Logf("%d replications, mean %.5g ± %.2g", r.Run.Replications, *e.Mean, e.CI95.Mean)
	if !r.Run.PrecisionReached || r.Run.MaxRequestsReached {
		t.Errorf("precision reached %v, max requests reached %v; want true, false", r.Run.PrecisionReached, r.Run.MaxRequestsReached)
	}
	if e.CI95.Mean > 0.005**e.Mean {
		t.Errorf("half-width %.3g is more than 0.5%% of the mean %.5g", e.CI95.Mean, *e.Mean)
	}
	// One replication fewer would not have met the target (the run stops at
	// the first that does); the smallest run is the four asked for.
	if r.Run.Replications <= 4 {
		t.Errorf("%d replications: the target should need more than the 4 asked for", r.Run.Replications)
	}

	r = run(t, topo, Options{Requests: 20_000, Replications: 4, Precision: 0.0001, MaxRequests: 100_000, Warmup: 100, Seed: 1})
	if r.Run.PrecisionReached || !r.Run.MaxRequestsReached || r.Run.Replications != 20 {
		t.Errorf("precision reached %v, max requests reached %v, %d replications; want false, true, 20",
			r.Run.PrecisionReached, r.Run.MaxRequestsReached, r.Run.Replications)
	}
}

// TestUnstable checks that a saturated topology is refused, and that with
// Force its backlog grows at the rate the arrivals exceed the capacity.
func TestUnstable(t *testing.T) {
	// M/M/1 at ρ = 1.5: the backlog grows at λ − μ = 500 requests a second.
	topo := oneStation(t, 1, time.Millisecond, exponential, 1.5)
	_, err := Run(context.Background(), topo, Options{})
	if !errors.Is(err, ErrUnstable) {
		t.Fatalf("got error %v, want ErrUnstable", err)
	}
	t.Log(err)
	r := run(t, topo, Options{Requests: 200_000, Force: true, Seed: 1})
	if r.Stable || !r.Run.Forced || r.Run.WarmupRequests != 0 {
		t.Errorf("stable %v, forced %v, warm-up %d; want false, true, 0", r.Stable, r.Run.Forced, r.Run.WarmupRequests)
	}
	s := r.Services[0]
	if s.Backlog == nil || s.BacklogGrowth == nil {
		t.Fatal("no backlog reported")
	}
	hw := s.est[figBacklogGrowth].HalfWidth(level)
	t.Logf("backlog %.0f, growing %.1f ± %.1f req/s", *s.Backlog, *s.BacklogGrowth, hw)
	if !within(*s.BacklogGrowth, hw, 500) {
		t.Errorf("backlog grows at %.1f ± %.2g req/s, want λ − μ = 500", *s.BacklogGrowth, hw)
	}
}

// TestInterrupt cancels a long run from its progress callback and checks
// that Run returns promptly what it gathered, marked partial, and leaves no
// goroutine behind.
func TestInterrupt(t *testing.T) {
	before := runtime.NumGoroutine()
	topo := loadFile(t, "../examples/shop.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls int
	r, err := Run(ctx, topo, Options{Requests: 1e10, Warmup: -1, Seed: 1, Progress: func(done, total int64) {
		calls++
		if done > 0 && done < total {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Partial || r.Run.Requests == 0 || r.Entries[0].Mean == nil {
		t.Errorf("partial %v, %d requests, mean %v: want a partial result with figures", r.Partial, r.Run.Requests, r.Entries[0].Mean)
	}
	if calls == 0 {
		t.Error("progress was never reported")
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before Run, %d after", before, after)
	}

	// Cancelled before it starts: nothing is gathered, and the error says so.
	_, err = Run(ctx, topo, Options{Requests: 1000, Replications: 2})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want an error wrapping context.Canceled", err)
	}
}

// TestMSER checks the warm-up rule on series whose transient is known.
func TestMSER(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const m = 2000
	step := make([]float64, m)
	for i := range step {
		step[i] = r.NormFloat64()
		if i < 100 {
			step[i] += 5 // a start-up bias of five standard deviations
		}
	}
	if d, ok := mser(step); !ok || d < 100 || d > 110 {
		t.Errorf("step transient of 100 batches: MSER deletes %d (ok %v), want 100 to 110", d, ok)
	}
	trend := make([]float64, m)
	for i := range trend {
		trend[i] = float64(i) + r.NormFloat64()
	}
	if d, ok := mser(trend); ok {
		t.Errorf("a series that never settles: MSER deletes %d and reports a steady state", d)
	}
	flat := make([]float64, m)
	for i := range flat {
		flat[i] = r.NormFloat64()
	}
	if d, ok := mser(flat); !ok || d > m/2 {
		t.Errorf("stationary series: MSER deletes %d (ok %v)", d, ok)
	}
}

// TestWarmupDeletesTransient starts an M/M/1 at ρ = 0.95 empty, which
// biases the first thousands of requests low, and checks that the pilot
// finds a warm-up and that the means are then unbiased.
func TestWarmupDeletesTransient(t *testing.T) {
	topo := oneStation(t, 1, time.Millisecond, exponential, 0.95)
	r := run(t, topo, Options{Requests: scaled(2_000_000), Replications: 20, Seed: 1})
	s := r.Services[0]
	ci := s.Interval(level)
	want := 0.001 / (1 - 0.95) // M/M/1: W = S/(1 − ρ)
	t.Logf("warm-up %d requests (%s, converged %v); W %.5g ± %.2g, want %.5g",
		r.Run.WarmupRequests, r.Run.WarmupRule, r.Run.WarmupConverged, *s.MeanResponse, ci.MeanResponse, want)
	if r.Run.WarmupRequests == 0 || !r.Run.WarmupConverged {
		t.Errorf("warm-up %d, converged %v: want a positive warm-up", r.Run.WarmupRequests, r.Run.WarmupConverged)
	}
	if !within(*s.MeanResponse, ci.MeanResponse, want) {
		t.Errorf("mean response %.5g ± %.3g, want %.5g", *s.MeanResponse, ci.MeanResponse, want)
	}
}

// TestSurvival checks the empirical CCDF of the merged histogram against
// the percentiles, which are read from the same histogram by the same
// interpolation, so that Survival at p99 is 1% to rounding.
func TestSurvival(t *testing.T) {
	r := run(t, loadFile(t, "../examples/shop.yaml"), Options{Requests: scaled(400_000), Seed: 1})
	e := r.Entries[0]
	got := e.Survival(e.Percentiles.P99, 0, e.Percentiles.P50, 1e9)
	want := []float64{0.01, 1, 0.5, 0}
	tol := []float64{1e-9, 0, 1e-9, 0}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol[i] {
			t.Errorf("survival %d: %.5g, want %.5g ± %g", i, got[i], want[i], tol[i])
		}
	}
}
