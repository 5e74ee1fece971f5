package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// These tests hold the kernel's groups of parallel calls and held workers
// to results that do not come from the model: closed forms of fork-join
// queues, order statistics, and M/G/1 queues, with the emulation's
// semantics (emulate/calls.go) as the contract.

var deterministic = topology.Distribution{Kind: topology.Deterministic}

// forkTime is the service time of the service that makes a group in these
// tests: deterministic, so that it adds exactly itself to the end-to-end
// latency, and short, with forkServers workers, so that it never queues
// (at the rates below, a few hundred requests a second, a microsecond of
// work keeps one of its 64 workers busy a tenth of a percent of the time).
const (
	forkTime    = time.Microsecond
	forkServers = 64
)

// call is a call to a service, made once, always.
func call(to string) topology.Call { return topology.Call{To: to, Probability: 1, Count: 1} }

// parallel is a group of the given calls waiting for wait of them.
func parallel(wait int, calls ...topology.Call) topology.Call {
	return topology.Call{Group: &topology.Group{Calls: calls, Wait: wait}}
}

// fork is a topology whose entry, "fork", at rate, makes the calls given,
// to the services given.
func fork(tb testing.TB, rate float64, calls []topology.Call, callees ...*topology.Service) *topology.Topology {
	tb.Helper()
	entry := &topology.Service{Name: "fork", Servers: forkServers, ServiceTime: forkTime, Distribution: deterministic, Calls: calls}
	t, err := topology.New("fork", []topology.Workload{{Entry: "fork", Rate: rate}}, append([]*topology.Service{entry}, callees...))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// infinite is a service with so many workers for the rates of these tests
// that its requests never wait: a delay of its service time.
func infinite(name string, mean time.Duration, d topology.Distribution) *topology.Service {
	return &topology.Service{Name: name, Servers: 64, ServiceTime: mean, Distribution: d}
}

// checkWant asserts that a value known without the simulation (a closed
// form, or a law applied to other figures) lies in the simulated interval.
func (f family) checkWant(what string, sim, hw, want float64) {
	f.t.Helper()
	f.t.Logf("%-36s sim %.6g ± %.2g, want %.6g (%+.3f%%)", what, sim, hw, want, 100*(sim-want)/want)
	if !within(sim, hw, want) {
		f.t.Errorf("%s: %.6g outside the simulator's interval %.6g ± %.3g (one of %d checks at %.4f, jointly 99%%)",
			what, want, sim, hw, f.m, f.level())
	}
}

// TestForkJoinNelsonTantawi checks a group waiting for both of two calls
// to two identical M/M/1 services against the exact mean response time of
// the two-server fork-join queue, (12 − ρ)/8 · 1/(μ − λ) (L. Flatto & S.
// Hahn, "Two parallel queues created by arrivals with two demands I", SIAM
// J. Appl. Math. 44(5), 1984; R. Nelson & A. N. Tantawi, "Approximate
// analysis of fork/join synchronization in parallel queues", IEEE Trans.
// Computers 37(6), 1988, eq. 3). The two queues see the same arrivals, so
// their sojourns are correlated and the mean of their maximum is below
// that of independent ones, 1.5/(μ − λ): the test fails if the kernel
// does not fork the two calls at the same instant. Each branch alone is an
// M/M/1 queue, whose mean response is 1/(μ − λ) (Kleinrock 1975, §3.2).
func TestForkJoinNelsonTantawi(t *testing.T) {
	for _, rho := range []float64{0.5, 0.8} {
		t.Run(fmt.Sprintf("rho=%g", rho), func(t *testing.T) {
			const mu = 1000.0 // 1ms
			lambda := rho * mu
			topo := fork(t, lambda, []topology.Call{parallel(topology.WaitAll, call("a"), call("b"))},
				&topology.Service{Name: "a", ServiceTime: time.Millisecond},
				&topology.Service{Name: "b", ServiceTime: time.Millisecond})
			r := run(t, topo, Options{Requests: scaled(2_000_000), Replications: 20, Seed: 3})
			f := family{t: t, m: 4}
			mm1 := 1 / (mu - lambda)
			nt := (12 - rho) / 8 * mm1
			e := r.Entries[0]
			f.checkWant("end-to-end mean (Nelson–Tantawi)", *e.Mean, e.Interval(f.level()).Mean, forkTime.Seconds()+nt)
			independent := forkTime.Seconds() + 1.5*mm1
			t.Logf("independent branches would give %.6g", independent)
			for _, s := range r.Services[1:] {
				f.checkWant(s.Name+" mean response (M/M/1)", *s.MeanResponse, s.Interval(f.level()).MeanResponse, mm1)
			}
			f.checkWant("a utilization", r.Services[1].Utilization, r.Services[1].Interval(f.level()).Utilization, rho)
		})
	}
}

// TestOrderStatistics checks groups whose branches never queue against
// the order statistics of their service times: the group's latency is the
// k-th smallest of the branches made. For n independent exponentials of
// rate μ, the k-th smallest has mean Σ_{i=0}^{k−1} 1/((n − i)μ) (the
// Rényi representation: the gaps between order statistics are independent
// exponentials of rates nμ, (n − 1)μ, …; H. A. David & H. N. Nagaraja,
// Order Statistics, 3rd ed., 2003, §2.5): 1/(2μ) for the first of two,
// 1.5/μ for both, 1/(3μ) + 1/(2μ) for two of three. Deterministic branches
// give the k-th smallest exactly, and with coins the mean over the subsets
// of branches made, enumerated here from the semantics.
func TestOrderStatistics(t *testing.T) {
	const rate = 100.0
	ms := time.Millisecond
	mu := 1 / ms.Seconds()
	exp := func(names ...string) []*topology.Service {
		var s []*topology.Service
		for _, n := range names {
			s = append(s, infinite(n, ms, exponential))
		}
		return s
	}
	half := func(c topology.Call) topology.Call { c.Probability = 0.5; return c }
	cases := []struct {
		name    string
		group   topology.Call
		callees []*topology.Service
		want    float64 // the group's mean latency
		exact   bool    // deterministic: every request takes want
	}{
		{"any of 2 exponential", parallel(1, call("a"), call("b")), exp("a", "b"), 1 / (2 * mu), false},
		{"all of 2 exponential", parallel(topology.WaitAll, call("a"), call("b")), exp("a", "b"), 1/(2*mu) + 1/mu, false},
		{"2 of 3 exponential", parallel(2, call("a"), call("b"), call("c")), exp("a", "b", "c"), 1/(3*mu) + 1/(2*mu), false},
		{"any of 2 deterministic", parallel(1, call("a"), call("b")),
			[]*topology.Service{infinite("a", ms, deterministic), infinite("b", 3*ms, deterministic)}, ms.Seconds(), true},
		{"all of 2 deterministic", parallel(topology.WaitAll, call("a"), call("b")),
			[]*topology.Service{infinite("a", ms, deterministic), infinite("b", 3*ms, deterministic)}, 3 * ms.Seconds(), true},
		{"2 of 3 deterministic, coins", parallel(2, half(call("a")), half(call("b")), half(call("c"))),
			[]*topology.Service{infinite("a", ms, deterministic), infinite("b", 2*ms, deterministic), infinite("c", 4*ms, deterministic)},
			meanKthOfCoins(2, 0.5, []float64{1e-3, 2e-3, 4e-3}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			topo := fork(t, rate, []topology.Call{c.group}, c.callees...)
			r := run(t, topo, Options{Requests: scaled(400_000), Replications: 10, Seed: 4})
			e := r.Entries[0]
			want := forkTime.Seconds() + c.want
			if c.exact {
				// Every request takes the same time, so the histogram's
				// quantiles, rounded to its buckets, are checked too.
				t.Logf("mean %.9g, p50 %.9g, p99.9 %.9g, exact %.9g", *e.Mean, e.Percentiles.P50, e.Percentiles.P999, want)
				// Up to the rounding of the clock, a float64 of seconds
				// running to thousands of seconds.
				if math.Abs(*e.Mean-want) > 1e-6*want {
					t.Errorf("mean %.9g, want exactly %.9g", *e.Mean, want)
				}
				for _, q := range []float64{e.Percentiles.P50, e.Percentiles.P999} {
					if math.Abs(q-want) > 2e-3*want { // a bucket of three significant digits
						t.Errorf("percentile %.9g, want %.9g", q, want)
					}
				}
				return
			}
			f := family{t: t, m: 1}
			f.checkWant("end-to-end mean", *e.Mean, e.Interval(f.level()).Mean, want)
		})
	}
}

// meanKthOfCoins is the mean latency of a group of deterministic branches
// of the given times, each made with probability p, that waits for k of
// those made (all of them when fewer are made, and none when none is): the
// mean over the subsets made of the k-th smallest time made.
func meanKthOfCoins(k int, p float64, times []float64) float64 {
	n := len(times)
	var mean float64
	for set := 0; set < 1<<n; set++ {
		var made []float64
		for i := range n {
			if set&(1<<i) != 0 {
				made = append(made, times[i])
			}
		}
		m := bits.OnesCount(uint(set))
		prob := math.Pow(p, float64(m)) * math.Pow(1-p, float64(n-m))
		if m == 0 {
			continue // latency 0
		}
		slices.Sort(made)
		mean += prob * made[min(k, m)-1]
	}
	return mean
}

// TestCallsNotWaitedForLoadCallees checks that the calls a group does not
// wait for still run to the end: a callee's arrival rate and utilization
// are the caller's rate × probability × count, λpnS/c, whether the group
// waits for its call or not (the traffic equations, Kleinrock 1975, §4.8;
// the utilization law, Denning & Buzen 1978). The slow callee of a
// wait-any group is almost never waited for.
func TestCallsNotWaitedForLoadCallees(t *testing.T) {
	const rate = 400.0
	ms := time.Millisecond
	slow := topology.Call{To: "slow", Probability: 0.6, Count: 2}
	fast := topology.Call{To: "fast", Probability: 0.9, Count: 1}
	topo := fork(t, rate, []topology.Call{parallel(1, fast, slow)},
		&topology.Service{Name: "fast", Servers: 2, ServiceTime: ms / 10},
		&topology.Service{Name: "slow", Servers: 2, ServiceTime: ms})
	r := run(t, topo, Options{Requests: scaled(400_000), Replications: 10, Seed: 5})
	f := family{t: t, m: 4}
	for i, c := range []topology.Call{fast, slow} {
		s := r.Services[i+1]
		ci := s.Interval(f.level())
		lambda := rate * c.Probability * float64(c.Count)
		f.checkWant(s.Name+" arrival rate", s.ArrivalRate, ci.ArrivalRate, lambda)
		f.checkWant(s.Name+" utilization", s.Utilization, ci.Utilization, lambda*s.ServiceTime/float64(s.Servers))
	}
	if n := r.Services[2].Counts; n.Arrivals != n.Completions+n.InFlight {
		t.Errorf("slow: %d arrivals, %d completions + %d in flight", n.Arrivals, n.Completions, n.InFlight)
	}
}

// TestGroupCoins checks the coins of a group: one per branch, so a branch
// with probability 0.5 and count 3 makes 0 or 3 calls, in a row, where a
// sequential call makes each of its 3 with its own coin, Binomial(3, 0.5)
// calls. The callee's arrival rate is λ·0.5·3 either way; the latency
// tells them apart. The callee is deterministic, d, and never queues, so a
// request takes forkTime + d × its calls. The share of requests longer
// than forkTime + d/2, those that made a call, is 1/2 for the group and
// 1 − 1/8 for the sequential call; the share longer than forkTime + 2.5d,
// those that made three calls one after the other, is 1/2 and 1/8. Their
// intervals are the normal approximation of a binomial proportion over
// the measured requests, which are independent: none queues.
func TestGroupCoins(t *testing.T) {
	const rate = 200.0
	d := time.Millisecond
	coin := topology.Call{To: "callee", Probability: 0.5, Count: 3}
	cases := []struct {
		name        string
		call        topology.Call
		some, three float64 // the shares of requests making a call, and three
	}{
		{"group", parallel(topology.WaitAll, coin), 0.5, 0.5},
		{"sequential", coin, 1 - 0.125, 0.125},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			topo := fork(t, rate, []topology.Call{c.call}, infinite("callee", d, deterministic))
			r := run(t, topo, Options{Requests: scaled(400_000), Replications: 10, Seed: 6})
			f := family{t: t, m: 3}
			s := r.Services[1]
			f.checkWant("callee arrival rate", s.ArrivalRate, s.Interval(f.level()).ArrivalRate, rate*0.5*3)
			beyond := r.Entries[0].Survival(forkTime.Seconds()+d.Seconds()/2, forkTime.Seconds()+2.5*d.Seconds())
			n := float64(r.Run.Requests)
			z := -normalQuantile((1 - f.level()) / 2)
			binomial := func(p float64) float64 { return z * math.Sqrt(p*(1-p)/n) }
			f.checkWant("share making a call", beyond[0], binomial(c.some), c.some)
			f.checkWant("share making three in a row", beyond[1], binomial(c.three), c.three)
		})
	}
}

// normalQuantile is the p-quantile of the standard normal, from the
// inverse complementary error function (Abramowitz & Stegun 1964, 26.2.2
// and 7.1.2).
func normalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// TestHeldWorkers checks hold: true. A service with c workers that holds
// each across a call to a service that never queues, of time d, after its
// own time s, is an M/G/c queue with holding time s + d (the holding time
// is what a request keeps the worker for; Kleinrock 1975, §5.1). With one
// worker, its mean wait is the Pollaczek–Khinchine one, Wq = λE[H²]/(2(1 −
// ρ)), ρ = λE[H] (Kleinrock 1975, eq. 5.72): E[H²] = (s + d)² for
// deterministic s and d, 2s² + 2sd + d² for exponential s. The callee
// never queues: one held worker sends it one request at a time. With any
// number of workers, the utilization is λE[H]/c and its held part λd/c
// (the utilization law, Denning & Buzen 1978). The per-visit figures stay
// per visit, wait and own service; the caller sees the whole holding time
// after its wait.
func TestHeldWorkers(t *testing.T) {
	s, d := 200*time.Microsecond, 800*time.Microsecond
	cases := []struct {
		name    string
		servers int
		own     topology.Distribution
		rho     float64
	}{
		{"M/D/1", 1, deterministic, 0.7},
		{"M/G/1 exponential own time", 1, exponential, 0.7},
		{"3 workers", 3, exponential, 0.8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hold := s.Seconds() + d.Seconds()
			lambda := c.rho * float64(c.servers) / hold
			topo, err := topology.New("held", []topology.Workload{{Entry: "front", Rate: lambda}}, []*topology.Service{
				{Name: "front", Servers: c.servers, ServiceTime: s, Distribution: c.own, Hold: true, Calls: []topology.Call{call("back")}},
				{Name: "back", Servers: c.servers, ServiceTime: d, Distribution: deterministic},
			})
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, topo, Options{Requests: scaled(2_000_000), Replications: 20, Seed: 7})
			front, back := r.Services[0], r.Services[1]
			f := family{t: t, m: 3}
			if c.servers == 1 {
				f.m += 2
			}
			ci := front.Interval(f.level())
			f.checkWant("front utilization λE[H]/c", front.Utilization, ci.Utilization, c.rho)
			f.checkWant("front held in calls λd/c", *front.HeldUtilization, front.est[figHeldUtilization].HalfWidth(f.level()), lambda*d.Seconds()/float64(c.servers))
			if *back.MeanWait != 0 {
				t.Errorf("back waited %.3g on average; a held worker sends it one request at a time", *back.MeanWait)
			}
			f.checkWant("back utilization λd/c", back.Utilization, back.Interval(f.level()).Utilization, lambda*d.Seconds()/float64(back.Servers))
			if c.servers > 1 {
				return
			}
			h2 := hold * hold // E[H²], deterministic
			if c.own.IsExponential() {
				h2 = 2*s.Seconds()*s.Seconds() + 2*s.Seconds()*d.Seconds() + d.Seconds()*d.Seconds()
			}
			wq := lambda * h2 / (2 * (1 - c.rho))
			f.checkWant("front mean wait (P-K)", *front.MeanWait, ci.MeanWait, wq)
			e := r.Entries[0]
			f.checkWant("end-to-end mean Wq + s + d", *e.Mean, e.Interval(f.level()).Mean, wq+hold)
		})
	}
}

// TestHeldWorkersSaturate checks that Run sees a service saturated by
// holding its workers across slow calls though its own work is light: at
// 1,000 requests a second, front works 0.2 ms of each (20%) and back 0.9
// ms (90%), but front's one worker is held 1.1 ms, 110%.
func TestHeldWorkersSaturate(t *testing.T) {
	services := func(hold bool) []*topology.Service {
		return []*topology.Service{
			{Name: "front", ServiceTime: 200 * time.Microsecond, Hold: hold, Calls: []topology.Call{call("back")}},
			{Name: "back", ServiceTime: 900 * time.Microsecond},
		}
	}
	w := []topology.Workload{{Entry: "front", Rate: 1000}}
	held, err := topology.New("held", w, services(true))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), held, Options{Requests: 1000})
	if !errors.Is(err, ErrUnstable) {
		t.Fatalf("held: got error %v, want ErrUnstable", err)
	}
	t.Log(err)
	ld := offeredLoad(held)
	if name := held.Services[ld.bottleneck].Name; name != "front" || math.Abs(ld.maxRate-1000/1.1) > 1e-9 {
		t.Errorf("held: bottleneck %s, max rate %.6g; want front, %.6g", name, ld.maxRate, 1000/1.1)
	}
	released, err := topology.New("released", w, services(false))
	if err != nil {
		t.Fatal(err)
	}
	if ld := offeredLoad(released); !ld.stable || released.Services[ld.bottleneck].Name != "back" {
		t.Errorf("without hold: stable %v, bottleneck %s; want true, back", ld.stable, released.Services[ld.bottleneck].Name)
	}
}

// groupsAndHold is a topology with every feature of calls at once: a held
// entry that makes a sequential call, then a quorum group, whose branches
// themselves call on, one of them held too, some made with coins and
// repeated.
func groupsAndHold(tb testing.TB, rate float64) *topology.Topology {
	tb.Helper()
	ms := time.Millisecond
	t, err := topology.New("groups", []topology.Workload{{Entry: "front", Rate: rate}}, []*topology.Service{
		{Name: "front", Servers: 8, ServiceTime: ms / 2, Hold: true, Calls: []topology.Call{
			call("auth"),
			parallel(2, call("r1"), topology.Call{To: "r2", Probability: 0.7, Count: 2}, call("r3")),
		}},
		{Name: "auth", Servers: 2, ServiceTime: ms / 4},
		{Name: "r1", Servers: 2, ServiceTime: ms, Calls: []topology.Call{call("disk")}},
		{Name: "r2", Servers: 2, ServiceTime: ms / 2, Hold: true, Calls: []topology.Call{{To: "disk", Probability: 0.5, Count: 1}}},
		{Name: "r3", Servers: 1, ServiceTime: ms / 2, Distribution: topology.Distribution{Kind: topology.Lognormal, CV: 2}},
		{Name: "disk", Servers: 4, ServiceTime: 2 * ms},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TestGroupsBookkeeping holds the kernel's bookkeeping to the laws of
// TestLittlesLaw and TestConservation on groupsAndHold: per service, L =
// λW with L and W per visit (a visit whose worker is held is at its
// callees, not in the station), and arrivals = completions + in flight,
// at the services and the entry.
func TestGroupsBookkeeping(t *testing.T) {
	topo := groupsAndHold(t, 400)
	r := run(t, topo, Options{Requests: scaled(400_000), Seed: 8})
	f := family{t: t, m: 2 * len(r.Services)}
	for _, s := range r.Services {
		ci := s.Interval(f.level())
		f.checkWant(s.Name+" L = λW", *s.MeanInSystem, ci.MeanInSystem, s.ArrivalRate**s.MeanResponse)
		f.checkWant(s.Name+" Lq = λWq", *s.MeanQueueLength, ci.MeanQueueLength, s.ArrivalRate**s.MeanWait)
		if n := s.Counts; n.Arrivals != n.Completions+n.InFlight {
			t.Errorf("%s: %d arrivals, %d completions + %d in flight", s.Name, n.Arrivals, n.Completions, n.InFlight)
		}
		if reported, hold := s.HeldUtilization != nil, topo.Service(s.Name).Hold; reported != hold {
			t.Errorf("%s: held in calls reported %v, hold %v", s.Name, reported, hold)
		}
	}
	for _, e := range r.Entries {
		if n := e.Counts; n.Arrivals != n.Completions+n.InFlight {
			t.Errorf("entry %s: %d arrivals, %d completions + %d in flight", e.Entry, n.Arrivals, n.Completions, n.InFlight)
		}
	}
}

// TestGroupsDeterminism checks that a seed fixes the result of a topology
// with groups and held workers, whatever the number of workers, and that
// another seed changes it.
func TestGroupsDeterminism(t *testing.T) {
	topo := groupsAndHold(t, 400)
	o := Options{Requests: 20_000, Replications: 4, Seed: 9}
	var first string
	for _, w := range []int{1, 2, 3} {
		o.Workers = w
		got := fingerprint(t, run(t, topo, o))
		if first == "" {
			first = got
			continue
		}
		if got != first {
			t.Fatalf("%d workers gave a different result from 1 worker:\n%s\n%s", w, got, first)
		}
	}
	o.Seed = 10
	if fingerprint(t, run(t, topo, o)) == first {
		t.Error("seeds 9 and 10 gave the same result")
	}
}
