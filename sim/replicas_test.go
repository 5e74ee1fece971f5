package sim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// These tests hold the kernel's replicas and balancers to results that do
// not come from the model: M/M/c queues for a random split, the exact
// GI/M/1 queue for round-robin, and the bookkeeping of the balancers'
// requests in flight, with topology.Balancer's semantics as the contract.

// replicated is a topology of one service, "web", of the given replicas
// and workers, exponential service of mean 1 ms, at total rate rate: the
// load generator is its one caller.
func replicated(tb testing.TB, replicas, servers int, b topology.Balancer, rate float64) *topology.Topology {
	tb.Helper()
	t, err := topology.New("replicated", []topology.Workload{{Entry: "web", Rate: rate}}, []*topology.Service{
		{Name: "web", Replicas: replicas, Servers: servers, Balancer: b, ServiceTime: time.Millisecond},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TestReplicasRandom checks a random split against the M/M/c queue each
// replica is: the split of a Poisson stream by independent coins is n
// Poisson streams of rate λ/n (the thinning theorem; S. M. Ross,
// Stochastic Processes, 2nd ed., 1996, Prop. 2.3.2), so each replica is an
// M/M/c queue at λ/n, whose wait is Erlang C: P(wait) = C(c, a) with a =
// λ/(nμ), and E[W] = C(c, a)/(cμ − λ/n) (Kleinrock, Queueing Systems Vol.
// 1, 1975, §3.5, eqs. 3.40 and 3.43). Erlang C is computed here by its
// sum, independently of the model.
func TestReplicasRandom(t *testing.T) {
	for _, c := range []struct{ replicas, servers int }{{3, 1}, {2, 2}} {
		t.Run(fmt.Sprintf("%dx%d", c.replicas, c.servers), func(t *testing.T) {
			const mu, rho = 1000.0, 0.8
			rate := rho * mu * float64(c.replicas*c.servers)
			r := run(t, replicated(t, c.replicas, c.servers, topology.BalancerRandom, rate), Options{Requests: scaled(2_000_000), Replications: 20, Seed: 5})
			lambda := rate / float64(c.replicas)
			pWait := erlangC(lambda/mu, c.servers)
			wait := pWait / (float64(c.servers)*mu - lambda)
			f := family{t: t, m: 4}
			s := r.Services[0]
			ci := s.Interval(f.level())
			f.checkWant("utilization", s.Utilization, ci.Utilization, rho)
			f.checkWant("P(wait)", *s.WaitProbability, ci.WaitProbability, pWait)
			f.checkWant("mean wait", *s.MeanWait, ci.MeanWait, wait)
			f.checkWant("mean response", *s.MeanResponse, ci.MeanResponse, wait+1/mu)
		})
	}
}

// erlangC is the probability that an arrival waits in an M/M/c queue of
// offered load a = λ/μ (Kleinrock 1975, eq. 3.40), from its defining sums.
func erlangC(a float64, c int) float64 {
	var sum, term float64 = 0, 1
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	last := term * a / float64(c) / (1 - a/float64(c)) // a^c/c! · 1/(1 − ρ)
	return last / (sum + last)
}

// TestReplicasRoundRobin checks round-robin from one Poisson caller against
// the exact E_n/M/1 queue each replica then is: it receives every n-th
// arrival, so its interarrival times are Erlang-n of rate λ (the sum of n
// exponentials). In the GI/M/1 queue an arrival finds k ahead with
// probability (1 − σ)σ^k, σ the root in (0, 1) of σ = A*(μ(1 − σ)), A* the
// interarrival times' Laplace transform, here (λ/(λ + s))^n; so P(wait) =
// σ and the response time is exponential of rate μ(1 − σ) (D. Gross,
// J. F. Shortle, J. M. Thompson & C. M. Harris, Fundamentals of Queueing
// Theory, 4th ed., 2008, §5.3; Kleinrock 1975, ch. 6). σ is found here by
// the fixed-point iteration, which converges to it from 0. The
// replica's P(wait) is far below random's ρ: the test fails if the cursor
// does not cycle, or is shared with nothing it should not be.
func TestReplicasRoundRobin(t *testing.T) {
	const mu, n, rho = 1000.0, 3, 0.85
	rate := rho * mu * n
	r := run(t, replicated(t, n, 1, topology.BalancerRoundRobin, rate), Options{Requests: scaled(2_000_000), Replications: 20, Seed: 6})
	sigma := 0.0
	for range 10000 {
		sigma = math.Pow(rate/(rate+mu*(1-sigma)), n)
	}
	f := family{t: t, m: 5}
	s, e := r.Services[0], r.Entries[0]
	ci, eci := s.Interval(f.level()), e.Interval(f.level())
	theta := mu * (1 - sigma)
	t.Logf("σ = %.6g (random's P(wait) would be %g)", sigma, rho)
	f.checkWant("P(wait)", *s.WaitProbability, ci.WaitProbability, sigma)
	f.checkWant("mean wait", *s.MeanWait, ci.MeanWait, sigma/theta)
	f.checkWant("mean response", *s.MeanResponse, ci.MeanResponse, 1/theta)
	f.checkWant("end-to-end p90", e.Percentiles.P90, eci.P90, math.Log(10)/theta)
	f.checkWant("end-to-end p99", e.Percentiles.P99, eci.P99, math.Log(100)/theta)
}

// TestRoundRobinCycles checks that one caller's round-robin sends each of
// n replicas every n-th request, from any start: their arrivals differ by
// at most one.
func TestRoundRobinCycles(t *testing.T) {
	topo := replicated(t, 4, 1, topology.BalancerRoundRobin, 2000)
	k := testKernel(t, topo)
	for seed := range uint64(5) {
		k.reset(seed, 0, 100, 10_001, true)
		k.run(nil, 0)
		lo, hi := int64(math.MaxInt64), int64(0)
		for _, st := range k.st {
			lo, hi = min(lo, st.arrivals), max(hi, st.arrivals)
		}
		if hi-lo > 1 {
			t.Errorf("seed %d: replicas' arrivals range from %d to %d; round-robin gives each its turn", seed, lo, hi)
		}
	}
}

// TestPowerOfTwoOfTwoIsLeastRequests checks that with two replicas the
// power of two choices, which then always compares both, waits as long as
// least-requests: two runs of different random numbers whose intervals must
// overlap. And least-requests must lie between the two systems that bound
// it: it waits less than a random split, whose replicas are M/M/1 queues,
// and no less than one queue shared by both workers, M/M/2, which never
// leaves a worker idle while a request waits (at 90% load, 9 ms and 4.3 ms:
// far apart for the intervals).
func TestPowerOfTwoOfTwoIsLeastRequests(t *testing.T) {
	const mu, rho = 1000.0, 0.9
	o := Options{Requests: scaled(2_000_000), Replications: 20, Seed: 7}
	wait := map[topology.Balancer][2]float64{}
	for _, b := range []topology.Balancer{topology.BalancerLeastRequests, topology.BalancerPowerOfTwo, topology.BalancerRandom} {
		r := run(t, replicated(t, 2, 1, b, 2*rho*mu), o)
		s := r.Services[0]
		wait[b] = [2]float64{*s.MeanWait, s.Interval(level).MeanWait}
		t.Logf("%-14s mean wait %.4g ± %.2g ms", b, 1e3**s.MeanWait, 1e3*s.Interval(level).MeanWait)
	}
	lr, p2, rnd := wait[topology.BalancerLeastRequests], wait[topology.BalancerPowerOfTwo], wait[topology.BalancerRandom]
	if math.Abs(lr[0]-p2[0]) > lr[1]+p2[1] {
		t.Errorf("two replicas: least-requests waits %.4g ± %.2g, power-of-two %.4g ± %.2g; they are one policy", lr[0], lr[1], p2[0], p2[1])
	}
	if lr[0]+lr[1] >= rnd[0]-rnd[1] {
		t.Errorf("least-requests waits %.4g ± %.2g, not less than random's %.4g ± %.2g", lr[0], lr[1], rnd[0], rnd[1])
	}
	if shared := erlangC(2*rho, 2) / (2*mu - 2*rho*mu); lr[0]+lr[1] < shared {
		t.Errorf("least-requests waits %.4g ± %.2g, less than one shared queue's %.4g", lr[0], lr[1], shared)
	}
}

// TestBalancersInFlight checks the balancers' bookkeeping on a topology
// with every kind of call: at any moment, a balancer's count of requests
// in flight at a replica must be the number of live visits it sent there.
// The run is stopped at many points (each replication ends at a different
// arrival, with requests in flight everywhere), and the counts compared
// with a census of the visit pool.
func TestBalancersInFlight(t *testing.T) {
	svc := func(name string, replicas, servers int, b topology.Balancer, calls ...topology.Call) *topology.Service {
		return &topology.Service{Name: name, Replicas: replicas, Servers: servers, Balancer: b,
			ServiceTime: time.Millisecond, Calls: calls}
	}
	twice := topology.Call{To: "db", Probability: 0.7, Count: 2}
	api := svc("api", 2, 2, topology.BalancerPowerOfTwo, twice)
	api.Hold = true
	topo, err := topology.New("inflight", []topology.Workload{{Entry: "front", Rate: 900}}, []*topology.Service{
		svc("front", 3, 2, topology.BalancerLeastRequests, call("api"), parallel(2, call("db"), twice, call("cache"))),
		api,
		svc("db", 4, 1, topology.BalancerLeastRequests),
		svc("cache", 3, 1, topology.BalancerRoundRobin),
	})
	if err != nil {
		t.Fatal(err)
	}
	k := testKernel(t, topo)
	for end := int64(1); end <= 3000; end += 97 {
		k.reset(9, uint64(end), 0, end, true)
		k.run(nil, 0)
		census := make([]int32, len(k.inFlight))
		for i := range k.v {
			v := &k.v[i]
			if v.svc < 0 || v.bal < 0 {
				continue
			}
			if bs := &k.plan.balancers[v.bal]; bs.counts >= 0 {
				if v.svc < bs.first || v.svc >= bs.first+bs.n {
					t.Fatalf("a visit at station %d counted by a balancer of stations %d to %d", v.svc, bs.first, bs.first+bs.n-1)
				}
				census[bs.counts+v.svc-bs.first]++
			}
		}
		for i := range census {
			if census[i] != k.inFlight[i] {
				t.Fatalf("after %d arrivals: counter %d says %d in flight, the visits say %d", end, i, k.inFlight[i], census[i])
			}
		}
	}
}

// testKernel is a kernel of t's plan.
func testKernel(tb testing.TB, t *topology.Topology) *kernel {
	tb.Helper()
	p, err := newPlan(t)
	if err != nil {
		tb.Fatal(err)
	}
	return newKernel(p)
}
