package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// mm1Run is a runStation for an M/M/1 station at arrival rate lambda whose
// other customers do not return (q = 0): the case in which the recursion
// is exact, E[e^{-zT_2} | T_1] = μ/(μ+z)·exp(-λT_1·z/(μ+z)).
func mm1Run(t *testing.T, lambda, mu float64) (runStation, *station) {
	t.Helper()
	s := &topology.Service{Name: "db", Servers: 1, ServiceTime: time.Duration(float64(time.Second) / mu)}
	st := newStation(s, lambda, 1, 1)
	rs := newRunStation(&st, 0)
	if !rs.mm1 || rs.q != 0 {
		t.Fatalf("not an M/M/1 run station: %+v", rs)
	}
	return rs, &st
}

// TestRunMomentsMM1 checks the mean and variance of a run of k visits to
// an M/M/1 station, from the recursion's derivatives, against Takács's
// chain written out: every visit's sojourn is Exp(μ - λ), and
// Cov(T_j, T_{j+d}) = ρ^d·Var(T) (E[T_{j+1} | T_j] = (1 + λT_j)/μ), so the
// sum has mean k/(μ - λ) and variance Var(T)·(k + 2Σ_{d<k} (k - d)ρ^d).
func TestRunMomentsMM1(t *testing.T) {
	for _, rho := range []float64{0.1, 0.5, 0.9, 0.99} {
		for _, k := range []int{2, 3, 6, 40} {
			mu := 200.0
			rs, _ := mm1Run(t, rho*mu, mu)
			mean, variance := rs.moments(&run{k: k}, runRecursion)
			v := 1 / ((mu - rho*mu) * (mu - rho*mu))
			want := float64(k)
			for d := 1; d < k; d++ {
				want += 2 * float64(k-d) * math.Pow(rho, float64(d))
			}
			checkRel(t, "mean", mean, float64(k)/(mu-rho*mu), 1e-12)
			checkRel(t, "variance", variance, want*v, 1e-9)
		}
	}
}

// TestRunDistributionMM1 holds the inverted transform of a run to a Monte
// Carlo sample of the chain it stands for, drawn directly: T_1 ~ Exp(μ - λ)
// (the M/M/1 sojourn), then N ~ Poisson(λT_j) arrivals and T_{j+1} the sum
// of N + 1 services. Half a million sums, fixed seed: the sample quantiles
// are within 1% of the model's at p50 and p99 (their standard errors are
// near 0.2% and 0.35%).
func TestRunDistributionMM1(t *testing.T) {
	const lambda, mu, k, samples = 180.0, 200.0, 6, 500_000
	rs, _ := mm1Run(t, lambda, mu)
	r := &run{k: k}
	mean, variance := rs.moments(r, runRecursion)
	f := eulerInverter.invert(0, math.Sqrt(variance), false, func(z complex128) complex128 { return rs.lst(r, z, runRecursion) })
	rng := rand.New(rand.NewPCG(1, 2))
	sums := make([]float64, samples)
	for i := range sums {
		x := rng.ExpFloat64() / (mu - lambda)
		sum := x
		for range k - 1 {
			n := poisson(rng, lambda*x)
			x = 0
			for range n + 1 {
				x += rng.ExpFloat64() / mu
			}
			sum += x
		}
		sums[i] = sum
	}
	slices.Sort(sums)
	for _, p := range []float64{0.5, 0.99} {
		got := quantile(f, p, mean, variance)
		want := sums[int(p*samples)]
		checkRel(t, "quantile", got, want, 0.01)
	}
}

// poisson draws a Poisson variate of mean m by counting exponential gaps
// (the means here are a few dozen at most).
func poisson(rng *rand.Rand, m float64) int {
	n := 0
	for t := rng.ExpFloat64(); t < m; t += rng.ExpFloat64() {
		n++
	}
	return n
}

// TestRunBracket checks the order of the three treatments of a run at a
// busy station: visits independent, the model's, visits all equal. The
// comonotone sum is the largest in convex order, and the model's
// correlations are positive, so their upper percentiles come in that order.
func TestRunBracket(t *testing.T) {
	for _, c := range []int{1, 2, 8} {
		for _, d := range []topology.Distribution{{Kind: topology.Exponential}, {Kind: topology.Deterministic}, {Kind: topology.Lognormal, CV: 2}} {
			topo, err := topology.New("run", []topology.Workload{{Entry: "api", Rate: 0.8 * float64(c) / (4 * 0.010)}}, []*topology.Service{
				{Name: "api", Servers: 64, ServiceTime: time.Millisecond, Calls: []topology.Call{{To: "db", Probability: 1, Count: 4}}},
				{Name: "db", Servers: c, ServiceTime: 10 * time.Millisecond, Distribution: d},
			})
			if err != nil {
				t.Fatal(err)
			}
			p99 := func(mode runMode) float64 {
				n := Analyze(topo)
				n.runs = mode
				return n.EndToEndQuantile(0, 0.99)
			}
			lo, mid, hi := p99(runIndependent), p99(runRecursion), p99(runComonotone)
			if !(lo < mid && mid < hi) {
				t.Errorf("c=%d %s: p99 independent %.4g, model %.4g, comonotone %.4g: not in order", c, d, lo, mid, hi)
			}
		}
	}
}

// TestRunProbabilities checks runs made of probabilistic and repeated
// calls: the number of visits is a sum of binomials, whose mean is the sum
// of count·probability and whose pmf sums to 1; the run's mean latency is
// that mean times the sojourn, like the independent treatment's.
func TestRunProbabilities(t *testing.T) {
	topo, err := topology.Parse("p", []byte(`
name: p
workload: [{entry: api, rate: 50}]
services:
  api:
    servers: 4
    service_time: 1ms
    calls:
      - {to: db, count: 3, probability: 0.5}
      - {to: db, count: 2}
      - {to: db, probability: 0.2}
  db: {service_time: 4ms, distribution: deterministic}
`))
	if err != nil {
		t.Fatal(err)
	}
	n := Analyze(topo)
	items := n.items[topo.Index("api")]
	if len(items) != 1 || items[0].run == nil {
		t.Fatalf("api's calls are not one run: %+v", items)
	}
	r := items[0].run
	if r.k != 6 || r.fixed != 2 || len(r.pmf) != 7 {
		t.Fatalf("run %+v", r)
	}
	var total, mean float64
	for m, p := range r.pmf {
		total += p
		mean += float64(m) * p
	}
	checkRel(t, "pmf total", total, 1, 1e-12)
	checkRel(t, "visits", mean, 3*0.5+2+0.2, 1e-12)
	if r.pmf[0] != 0 || r.pmf[1] != 0 {
		t.Errorf("two visits are sure, pmf %v", r.pmf)
	}
	ind := Analyze(topo)
	ind.runs = runIndependent
	checkRel(t, "mean", n.EndToEndMean(0), ind.EndToEndMean(0), 1e-12)
	for _, p := range []float64{0.5, 0.99} {
		lo, mid := ind.EndToEndQuantile(0, p), n.EndToEndQuantile(0, p)
		if p == 0.99 && !(mid > lo) {
			t.Errorf("p99 %.4g not above the independent one %.4g", mid, lo)
		}
	}
}
