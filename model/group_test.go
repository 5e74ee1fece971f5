package model

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/kendallqn/kendall/topology"
)

func mustParse(t *testing.T, src string) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse("test", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// The visit ratios count every branch of a group, rate × p × count,
// whatever the group waits for: the calls not waited for still load their
// callees (the semantics of package topology).
func TestGroupVisits(t *testing.T) {
	for _, wait := range []string{"all", "any", "2"} {
		topo := mustParse(t, fmt.Sprintf(`
name: v
workload: [{entry: f, rate: 10}]
services:
  f:
    service_time: 1ms
    calls:
      - to: a
      - parallel: [{to: a, count: 2}, {to: b, probability: 0.5}, {to: c, probability: 0.25, count: 3}]
        wait: %s
  a: {service_time: 1ms}
  b: {service_time: 1ms}
  c: {service_time: 1ms}
`, wait))
		n := Analyze(topo)
		want := map[string]float64{"f": 1, "a": 1 + 2, "b": 0.5, "c": 0.75}
		v := n.Visits(0)
		for name, w := range want {
			if got := v[topo.Index(name)]; math.Abs(got-w) > 1e-12 {
				t.Errorf("wait %s: visits to %s = %g, want %g", wait, name, got, w)
			}
			if got := n.ArrivalRate(topo.Index(name)); math.Abs(got-10*w) > 1e-9 {
				t.Errorf("wait %s: arrival rate at %s = %g, want %g", wait, name, got, 10*w)
			}
		}
	}
}

// Fork-join of two identical M/M/1 branches: the mean of the later of the
// two answers is exactly (12 - ρ)/8 · 1/(μ - λ) (Flatto and Hahn 1984;
// Nelson and Tantawi, IEEE Trans. Computers 37(6), 1988, eq. 5). The
// entry is an M/M/c queue with so many workers that nobody waits, whose
// departures are Poisson (Burke), so the formula applies exactly.
func TestForkJoinTwoBranches(t *testing.T) {
	for _, rho := range []float64{0.3, 0.7, 0.9} {
		lambda := rho * 100 // μ = 100/s
		topo := mustParse(t, fmt.Sprintf(`
name: fj
workload: [{entry: f, rate: %g}]
services:
  f:
    servers: 100000
    service_time: 1us
    calls:
      - parallel: [{to: a}, {to: b}]
  a: {servers: 1, service_time: 10ms}
  b: {servers: 1, service_time: 10ms}
`, lambda))
		n := Analyze(topo)
		want := 1e-6 + (12-rho)/8/(100-lambda)
		got := n.EndToEndMean(0)
		// Tolerance: the numerical integration of the order statistic
		// (group.go), far below the formula's own exactness.
		if math.Abs(got-want) > 1e-6*want {
			t.Errorf("ρ = %g: mean %.9g, want %.9g", rho, got, want)
		}
		p := n.Predict()
		if l := p.Entries[0].Labels["mean"]; !l.Exact {
			t.Errorf("ρ = %g: mean labelled approximate (%s), Flatto–Hahn makes it exact", rho, l.Why)
		}
		if l := p.Entries[0].Labels["percentiles"]; l.Exact {
			t.Errorf("ρ = %g: percentiles labelled exact", rho)
		}
	}
}

// Nelson and Tantawi's scaling for n branches, R_n ≈ [H_n/H_2 +
// (4/11)(1 - H_n/H_2)ρ]·R_2 (their eq. 11), labelled approximate.
func TestForkJoinNBranches(t *testing.T) {
	rho := 0.7
	topo := mustParse(t, `
name: fj3
workload: [{entry: f, rate: 70}]
services:
  f:
    servers: 100000
    service_time: 1us
    calls:
      - parallel: [{to: a}, {to: b}, {to: c}]
  a: {servers: 1, service_time: 10ms}
  b: {servers: 1, service_time: 10ms}
  c: {servers: 1, service_time: 10ms}
`)
	n := Analyze(topo)
	h3, h2 := 1+0.5+1.0/3, 1.5
	want := 1e-6 + (h3/h2+4.0/11*(1-h3/h2)*rho)*(12-rho)/8/(100-70)
	if got := n.EndToEndMean(0); math.Abs(got-want) > 1e-6*want {
		t.Errorf("mean %.9g, want %.9g", got, want)
	}
	if l := n.Predict().Entries[0].Labels["mean"]; l.Exact {
		t.Error("three-branch fork-join mean labelled exact")
	}
}

// k of n parallel calls to services that never wait (so many workers that
// Erlang C is 0 in floating point): the branches' latencies are
// independent Exp(μ), and the group's latency is their k-th order
// statistic: E[T_(k:n)] = Σ_{j=0}^{k-1} 1/((n-j)μ) (Rényi's
// representation; David and Nagaraja, Order Statistics, 2003, §2.5), and
// P(T_(k:n) ≤ t) = Σ_{j≥k} C(n,j) F^j (1-F)^(n-j), F = 1 - e^{-μt}
// (ibid., eq. 2.1.3). The entry's own time is a constant.
func TestKOfNNeverWaiting(t *testing.T) {
	const mu = 100.0
	const d = 1e-6
	cases := []struct {
		wait string
		n, k int
	}{
		{"all", 2, 2}, {"any", 2, 1}, {"2", 3, 2}, {"all", 3, 3}, {"any", 5, 1}, {"3", 5, 3},
	}
	for _, c := range cases {
		branches := ""
		services := ""
		for i := range c.n {
			branches += fmt.Sprintf("{to: s%d}, ", i)
			services += fmt.Sprintf("  s%d: {servers: 1000, service_time: 10ms}\n", i)
		}
		waitVal := c.wait
		topo := mustParse(t, fmt.Sprintf(`
name: kofn
workload: [{entry: f, rate: 1}]
services:
  f:
    servers: 1000
    service_time: 1us
    distribution: deterministic
    calls:
      - parallel: [%s]
        wait: %s
%s`, branches, waitVal, services))
		n := Analyze(topo)
		name := fmt.Sprintf("%s of %d", c.wait, c.n)
		var mean float64
		for j := 0; j < c.k; j++ {
			mean += 1 / (float64(c.n-j) * mu)
		}
		// Tolerance: the numerical integration of the order statistic's
		// survival function (group.go), measured at 2e-7.
		if got := n.EndToEndMean(0); math.Abs(got-(d+mean)) > 1e-6*mean {
			t.Errorf("%s: mean %.9g, want %.9g", name, got, d+mean)
		}
		cdf := func(x float64) float64 {
			F := 1 - math.Exp(-mu*x)
			var s float64
			for j := c.k; j <= c.n; j++ {
				s += binom(c.n, j) * math.Pow(F, float64(j)) * math.Pow(1-F, float64(c.n-j))
			}
			return s
		}
		for _, p := range []float64{0.5, 0.99, 0.999} {
			// The exact quantile, by bisection on the closed-form CDF.
			lo, hi := 0.0, 10.0
			for range 200 {
				if m := (lo + hi) / 2; cdf(m) < p {
					lo = m
				} else {
					hi = m
				}
			}
			want := d + lo
			if got := n.EndToEndQuantile(0, p); math.Abs(got-want) > 1e-6*want {
				t.Errorf("%s: p%g %.9g, want %.9g", name, p*100, got, want)
			}
		}
		// The group's own figures are exact (no branch waits); the
		// branches' stations are labelled approximate for their own
		// reason (QNA's view of the deterministic entry's departures).
		if !n.groupD[0][0].exact {
			t.Errorf("%s: group not recognized as exact", name)
		}
		labels := n.Predict().Entries[0].Labels
		if strings.Contains(labels["mean"].Why, "parallel") || strings.Contains(labels["percentiles"].Why, "parallel") {
			t.Errorf("%s: group labelled approximate: %s / %s", name, labels["mean"].Why, labels["percentiles"].Why)
		}
	}
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// A group whose branches may not be made: with none made it takes no time.
// Two branches to never-waiting Exp(μ) services, each made with p, wait
// all: E = p²·3/(2μ) + 2p(1-p)·1/μ.
func TestGroupCoins(t *testing.T) {
	const mu, p = 100.0, 0.4
	topo := mustParse(t, `
name: coins
workload: [{entry: f, rate: 1}]
services:
  f:
    servers: 1000
    service_time: 1us
    distribution: deterministic
    calls:
      - parallel: [{to: a, probability: 0.4}, {to: b, probability: 0.4}]
  a: {servers: 1000, service_time: 10ms}
  b: {servers: 1000, service_time: 10ms}
`)
	want := 1e-6 + p*p*1.5/mu + 2*p*(1-p)/mu
	if got := Analyze(topo).EndToEndMean(0); math.Abs(got-want) > 1e-7*want {
		t.Errorf("mean %.9g, want %.9g", got, want)
	}
}

// Held workers: one worker, own time deterministic s, one call to a
// service that never waits with deterministic time d. The holding time is
// the constant s + d, so the station is exactly M/D/1 with that service:
// Pollaczek–Khinchine's mean wait ρ(s+d)/(2(1-ρ)) (Kleinrock, Queueing
// Systems Vol. 1, 1975, eq. 5.72 with cs² = 0), utilization λ(s+d)/c, and
// the largest sustainable rate c/(s+d), though the service's own work
// alone would sustain c/s.
func TestHoldMD1(t *testing.T) {
	const s, d = 0.005, 0.015
	for _, lambda := range []float64{10, 25, 40, 45} {
		topo := mustParse(t, fmt.Sprintf(`
name: hold
workload: [{entry: f, rate: %g}]
services:
  f:
    servers: 1
    hold: true
    service_time: 5ms
    distribution: deterministic
    calls: [{to: db}]
  db: {servers: 1000, service_time: 15ms, distribution: deterministic}
`, lambda))
		n := Analyze(topo)
		rho := lambda * (s + d)
		wq := rho * (s + d) / (2 * (1 - rho))
		p := n.Predict()
		f := p.Services[0]
		if math.Abs(f.Utilization-rho) > 1e-12 {
			t.Errorf("λ = %g: utilization %g, want %g", lambda, f.Utilization, rho)
		}
		if math.Abs(*f.MeanWait-wq) > 1e-9*wq {
			t.Errorf("λ = %g: mean wait %.9g, want %.9g", lambda, *f.MeanWait, wq)
		}
		if want := wq + s; math.Abs(*f.MeanResponse-want) > 1e-9*want {
			t.Errorf("λ = %g: mean response %.9g, want %.9g (wait + own work)", lambda, *f.MeanResponse, want)
		}
		// End to end: the wait, the own work and the call, counted once.
		if got, want := n.EndToEndMean(0), wq+s+d; math.Abs(got-want) > 1e-9*want {
			t.Errorf("λ = %g: end-to-end mean %.9g, want %.9g", lambda, got, want)
		}
		rate, b := n.MaxRate()
		if math.Abs(rate-1/(s+d)) > 1e-6/(s+d) || b != "f" {
			t.Errorf("λ = %g: MaxRate %g (%s), want %g (f)", lambda, rate, b, 1/(s+d))
		}
		if !f.Labels["mean_wait"].Exact {
			t.Errorf("λ = %g: M/D/1 hold labelled approximate: %s", lambda, f.Labels["mean_wait"].Why)
		}
	}
}

// Pool exhaustion: a service with 4 workers and 1ms of own work holds its
// workers across a 50ms call to a database with plenty of workers. Its
// CPU is 1.5% busy, yet its workers are 77% held: it is the bottleneck,
// the largest rate is about 4/51ms, and capacity gives it workers.
func TestHoldPoolExhaustion(t *testing.T) {
	src := `
name: pool
workload: [{entry: api, rate: 60}]
services:
  api:
    servers: 4
    hold: true
    service_time: 1ms
    calls: [{to: db}]
  db: {servers: 64, service_time: 50ms}
`
	topo := mustParse(t, src)
	n := Analyze(topo)
	p := n.Predict()
	api := p.Services[0]
	if math.Abs(api.Utilization-60*0.051/4) > 1e-3 {
		t.Errorf("api utilization %g, want about %g", api.Utilization, 60*0.051/4)
	}
	rate, b := n.MaxRate()
	if b != "api" {
		t.Errorf("bottleneck %q, want api", b)
	}
	// db never waits below that rate (64 workers, 3.9 busy), so the
	// holding time's mean stays 51ms: the limit is 4/51ms.
	if want := 4 / 0.051; math.Abs(rate-want) > 1e-3*want {
		t.Errorf("MaxRate %g, want %g", rate, want)
	}
	if l := api.Labels["mean_wait"]; l.Exact {
		t.Error("api's wait labelled exact, though db's queue makes its holding times dependent")
	}
	// Without hold the same topology sustains 4/1ms.
	free := mustParse(t, `
name: pool
workload: [{entry: api, rate: 60}]
services:
  api: {servers: 4, service_time: 1ms, calls: [{to: db}]}
  db: {servers: 64, service_time: 50ms}
`)
	if r, b := Analyze(free).MaxRate(); b != "db" || r < 1000 {
		t.Errorf("without hold: MaxRate %g (%s), want db's 1280", r, b)
	}
	// At 100 req/s the pool is exhausted (utilization 1.3); capacity
	// plans workers for api.
	hot, err := topo.WithRate(100)
	if err != nil {
		t.Fatal(err)
	}
	if Analyze(hot).Stable() {
		t.Fatal("100 req/s through 4 held workers of 51ms should saturate")
	}
	plan, err := PlanServers(context.Background(), hot, []SLO{{Metric: "mean", Target: 0.06}})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Feasible {
		t.Fatalf("no plan: %s", plan.Reason)
	}
	if c := plan.Changes[0]; c.Planned <= 5 {
		t.Errorf("api planned %d workers, want more than 5 (offered load 5.1)", c.Planned)
	}
	if plan.Prediction.Entries[0].Mean == nil || *plan.Prediction.Entries[0].Mean > 0.06 {
		t.Error("the plan does not meet the SLO")
	}
}

// A held service's holding time grows with its callee's load, so its
// largest rate is below the CPU-only limit and found by bisection: at that
// rate, it is exactly saturated.
func TestHoldMaxRateNonlinear(t *testing.T) {
	topo := mustParse(t, `
name: layered
workload: [{entry: api, rate: 50}]
services:
  api:
    servers: 4
    hold: true
    service_time: 1ms
    calls: [{to: db}]
  db: {servers: 2, service_time: 20ms}
`)
	n := Analyze(topo)
	rate, b := n.MaxRate()
	if b != "api" {
		t.Fatalf("bottleneck %s, want api", b)
	}
	below, _ := topo.WithRate(rate * 0.999)
	above, _ := topo.WithRate(rate * 1.001)
	if !Analyze(below).Stable() || Analyze(above).Stable() {
		t.Errorf("MaxRate %g is not the edge of stability", rate)
	}
	if rate >= 100 { // db alone saturates at 100
		t.Errorf("MaxRate %g not below db's own limit", rate)
	}
}

// TestHoldBoundsCallees: a callee reached only by calls of held workers,
// no more of them at once than it has workers, never waits — whatever
// its own M/M/c figures at that rate would say — and the held service is
// then exactly M/G/1 with holding time own work plus the callee's service
// time (Pollaczek–Khinchine). With one more held worker than the callee
// has, the bound fails and the callee queues as usual.
func TestHoldBoundsCallees(t *testing.T) {
	const lambda, s, d = 45.0, 0.010, 0.010
	topo := func(front, back int) *topology.Topology {
		return mustParse(t, fmt.Sprintf(`
name: bound
workload: [{entry: front, rate: %g}]
services:
  front: {servers: %d, service_time: 10ms, hold: true, calls: [{to: back}]}
  back: {servers: %d, service_time: 10ms}
`, lambda, front, back))
	}
	p := Analyze(topo(1, 2)).Predict()
	back := p.Services[1]
	if *back.WaitProbability != 0 || *back.MeanWait != 0 || !back.Labels["mean_wait"].Exact {
		t.Errorf("back: P(wait) %g, mean wait %g, exact %v; want 0, 0, exact", *back.WaitProbability, *back.MeanWait, back.Labels["mean_wait"].Exact)
	}
	// H = S + T_back, both exponential 10ms: E[H²] = Var + E² = 2·10² + 20² ms².
	rho := lambda * (s + d)
	eh2 := 2*s*s + (s+d)*(s+d)
	wq := lambda * eh2 / (2 * (1 - rho))
	front := p.Services[0]
	if math.Abs(*front.MeanWait-wq) > 1e-9*wq || !front.Labels["mean_wait"].Exact {
		t.Errorf("front: mean wait %.9g, exact %v; want %.9g (P-K), exact", *front.MeanWait, front.Labels["mean_wait"].Exact, wq)
	}
	// Three held workers against two: back can have three calls at once.
	p = Analyze(topo(3, 2)).Predict()
	if *p.Services[1].WaitProbability == 0 {
		t.Error("back with 2 workers, called by 3 held workers, never waits")
	}
}

// TestIdenticalBranches: a group of sure calls to distinct deterministic
// services of one length, fed by nothing else, has one sample path in all
// its branches: its latency is any branch's, for every k, and the mean
// is labelled exact; a branch of another length breaks it.
func TestIdenticalBranches(t *testing.T) {
	src := func(wait string, zTime string) *topology.Topology {
		return mustParse(t, fmt.Sprintf(`
name: same
workload: [{entry: api, rate: 30}]
services:
  api: {servers: 2, service_time: 200us, calls: [{parallel: [{to: x}, {to: y}, {to: z}], wait: %s}]}
  x: {servers: 1, service_time: 10ms, distribution: deterministic}
  y: {servers: 1, service_time: 10ms, distribution: deterministic}
  z: {servers: 1, service_time: %s, distribution: deterministic}
`, wait, zTime))
	}
	for _, wait := range []string{"all", "any", "2"} {
		n := Analyze(src(wait, "10ms"))
		p := n.Predict()
		want := *p.Services[0].MeanResponse + *p.Services[1].MeanResponse
		if got := n.EndToEndMean(0); math.Abs(got-want) > 1e-6*want || !p.Entries[0].Labels["mean"].Exact {
			t.Errorf("wait %s: end-to-end mean %.9g, exact %v; want %.9g (api + one branch), exact", wait, got, p.Entries[0].Labels["mean"].Exact, want)
		}
		// The percentiles are api's sojourn plus one M/D/1 sojourn.
		if got, want := n.EndToEndQuantile(0, 0.99), 0.0; !(got > 0) || math.IsNaN(got) {
			t.Errorf("wait %s: p99 %v, want %v < p99", wait, got, want)
		}
	}
	if Analyze(src("all", "12ms")).Predict().Entries[0].Labels["mean"].Exact {
		t.Error("branches of 10ms, 10ms and 12ms taken as identical")
	}
}
