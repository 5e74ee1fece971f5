package model

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// replicatedTopology is one service, "web", of the given replicas,
// workers, balancer and service-time distribution of mean 1 ms, at total
// rate rate from one workload entry.
func replicatedTopology(tb testing.TB, replicas, servers int, b topology.Balancer, d topology.Distribution, rate float64) *topology.Topology {
	tb.Helper()
	t, err := topology.New("replicated", []topology.Workload{{Entry: "web", Rate: rate}}, []*topology.Service{
		{Name: "web", Replicas: replicas, Servers: servers, Balancer: b, ServiceTime: time.Millisecond, Distribution: d},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TestReplicasRandomSplit checks that a service of n replicas chosen at
// random is, per visit, the one-replica station at λ/n: the thinning of a
// Poisson stream (replicas.go). The reference is the model's own station
// of one replica at λ/n, exact in each case (M/M/c Erlang C, M/D/1
// Pollaczek–Khinchine, M/D/c Crommelin; each tested against independent
// references in its own tests), so this tests the split, and the labels:
// exact, with the replicas named.
func TestReplicasRandomSplit(t *testing.T) {
	exp := topology.Distribution{Kind: topology.Exponential}
	det := topology.Distribution{Kind: topology.Deterministic}
	cases := []struct {
		replicas, servers int
		d                 topology.Distribution
		rho               float64
	}{
		{3, 1, exp, 0.8}, {4, 2, exp, 0.9}, {2, 1, det, 0.7}, {5, 3, det, 0.85},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d-%s", c.replicas, c.servers, c.d), func(t *testing.T) {
			rate := c.rho * 1000 * float64(c.replicas*c.servers)
			got := Analyze(replicatedTopology(t, c.replicas, c.servers, topology.BalancerRandom, c.d, rate)).Predict()
			one := Analyze(replicatedTopology(t, 1, c.servers, topology.BalancerRandom, c.d, rate/float64(c.replicas))).Predict()
			g, w := got.Services[0], one.Services[0]
			if g.Replicas != c.replicas || g.Balancer != "random" {
				t.Errorf("replicas %d balancer %q, want %d random", g.Replicas, g.Balancer, c.replicas)
			}
			if math.Abs(g.ArrivalRate-rate) > 1e-9*rate {
				t.Errorf("arrival rate %g, want the service's %g", g.ArrivalRate, rate)
			}
			if math.Abs(g.Utilization-c.rho) > 1e-12 {
				t.Errorf("utilization %g, want %g", g.Utilization, c.rho)
			}
			same := func(what string, a, b float64) {
				t.Helper()
				if math.Abs(a-b) > 1e-9*math.Abs(b) {
					t.Errorf("%s %.10g, one replica at λ/n gives %.10g", what, a, b)
				}
			}
			same("P(wait)", *g.WaitProbability, *w.WaitProbability)
			same("mean wait", *g.MeanWait, *w.MeanWait)
			same("p99", g.Percentiles.P99, w.Percentiles.P99)
			same("end-to-end p99.9", got.Entries[0].Percentiles.P999, one.Entries[0].Percentiles.P999)
			// Little's law over the whole service: n times one replica's.
			same("mean queue length", *g.MeanQueueLength, float64(c.replicas)**w.MeanQueueLength)
			for _, fig := range []string{result.FigMeanWait, result.FigPercentiles} {
				l := g.Labels[fig]
				if !l.Exact || !strings.Contains(l.Basis, "replicas") {
					t.Errorf("%s label %+v: want exact, naming the replicas", fig, l)
				}
			}
		})
	}
}

// TestReplicasAreNotOneQueue checks that three replicas of two workers and
// one queue of six are told apart: the same utilization and capacity, but
// the replicas wait longer (an idle worker of one replica does not serve a
// request queued at another).
func TestReplicasAreNotOneQueue(t *testing.T) {
	exp := topology.Distribution{Kind: topology.Exponential}
	for _, b := range topology.Balancers {
		three := Analyze(replicatedTopology(t, 3, 2, b, exp, 5400))
		six := Analyze(replicatedTopology(t, 1, 6, b, exp, 5400))
		r3, _ := three.MaxRate()
		r6, _ := six.MaxRate()
		if math.Abs(r3-6000) > 1e-6 || math.Abs(r6-6000) > 1e-6 {
			t.Errorf("%s: largest rates %g and %g, want 6000 for six 1 ms workers either way", b, r3, r6)
		}
		p3, p6 := three.Predict().Services[0], six.Predict().Services[0]
		if !(*p3.MeanWait > *p6.MeanWait) {
			t.Errorf("%s: three replicas of two wait %g, one queue of six %g: want longer", b, *p3.MeanWait, *p6.MeanWait)
		}
	}
}

// TestRoundRobinExact checks round-robin from one Poisson caller to
// single-worker exponential replicas against the GI/M/1 queue with
// Erlang-n interarrival times, solved here independently of gimc.go: σ is
// the fixed point of σ = (nλ'/(nλ' + μ(1 − σ)))^n, λ' = λ/n, reached by
// iteration from 0 (Gross, Shortle, Thompson & Harris, Fundamentals of
// Queueing Theory, 4th ed., 2008, §5.3; Kleinrock 1975, ch. 6); P(wait) = σ
// and the sojourn is exponential of rate μ(1 − σ) (the same). And the figures are
// labelled exact; with two callers, approximate.
func TestRoundRobinExact(t *testing.T) {
	exp := topology.Distribution{Kind: topology.Exponential}
	for _, c := range []struct {
		n   int
		rho float64
	}{{2, 0.5}, {3, 0.85}, {8, 0.95}} {
		t.Run(fmt.Sprintf("n=%d,rho=%g", c.n, c.rho), func(t *testing.T) {
			const mu = 1000.0
			rate := c.rho * mu * float64(c.n)
			p := Analyze(replicatedTopology(t, c.n, 1, topology.BalancerRoundRobin, exp, rate)).Predict()
			sigma := 0.0
			for range 100000 {
				sigma = math.Pow(rate/(rate+mu*(1-sigma)), float64(c.n))
			}
			s := p.Services[0]
			theta := mu * (1 - sigma)
			checks := []struct {
				what      string
				got, want float64
			}{
				{"P(wait)", *s.WaitProbability, sigma},
				{"mean wait", *s.MeanWait, sigma / theta},
				{"mean response", *s.MeanResponse, 1 / theta},
				{"p99", s.Percentiles.P99, math.Log(100) / theta},
			}
			for _, ch := range checks {
				if math.Abs(ch.got-ch.want) > 1e-6*ch.want {
					t.Errorf("%s %.10g, want %.10g", ch.what, ch.got, ch.want)
				}
			}
			if l := s.Labels[result.FigPercentiles]; !l.Exact {
				t.Errorf("percentiles labelled %+v, want exact", l)
			}
			if l := p.Entries[0].Labels[result.FigPercentiles]; !l.Exact {
				t.Errorf("end-to-end percentiles labelled %+v, want exact", l)
			}
		})
	}
	two, err := topology.New("two", []topology.Workload{{Entry: "front", Rate: 2000}}, []*topology.Service{
		{Name: "front", Replicas: 2, Servers: 4, ServiceTime: time.Microsecond, Calls: []topology.Call{{To: "web", Probability: 1, Count: 1}}},
		{Name: "web", Replicas: 3, Servers: 1, Balancer: topology.BalancerRoundRobin, ServiceTime: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := Analyze(two).Predict().Services[1].Labels[result.FigMeanWait]; l.Exact || !strings.Contains(l.Why, "2 callers") {
		t.Errorf("two callers' round-robin labelled %+v: want approximate, saying why", l)
	}
}

// TestPlanReplicas: a service of several replicas is planned in replicas
// of its workers, one of one replica in workers; the plan meets the SLO and
// one replica fewer does not, and its totals count workers.
func TestPlanReplicas(t *testing.T) {
	topo, err := topology.New("plan", []topology.Workload{{Entry: "api", Rate: 900}}, []*topology.Service{
		{Name: "api", Servers: 2, ServiceTime: time.Millisecond, Calls: []topology.Call{{To: "db", Probability: 1, Count: 1}}},
		{Name: "db", Replicas: 2, Servers: 2, Balancer: topology.BalancerRoundRobin, ServiceTime: 4 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	slos := []SLO{{Metric: "p99", Target: 0.030}}
	p, err := PlanServers(context.Background(), topo, slos)
	if err != nil || !p.Feasible {
		t.Fatalf("plan %+v, %v", p, err)
	}
	db := p.Changes[1]
	if !db.Replicas || db.Servers != 2 || db.Current != 2 {
		t.Fatalf("db's plan %+v: want replicas of 2 workers, 2 now", db)
	}
	if want := 2*2 + 2; p.Current != want {
		t.Errorf("current %d workers, want %d", p.Current, want)
	}
	if want := p.Changes[0].Planned + 2*db.Planned; p.Total != want {
		t.Errorf("total %d workers, want %d (api's workers and db's replicas of 2)", p.Total, want)
	}
	with := func(dbReplicas int) *Network {
		c := *topo
		c.Services = []*topology.Service{topo.Services[0].WithUnits(p.Changes[0].Planned), topo.Services[1].WithUnits(dbReplicas)}
		return Analyze(&c)
	}
	if !with(db.Planned).meets(slos) {
		t.Errorf("the plan, %d replicas of db, does not meet the SLO", db.Planned)
	}
	if db.Planned > 1 && with(db.Planned-1).meets(slos) {
		t.Errorf("%d replicas of db meet the SLO too: the plan is not the fewest", db.Planned-1)
	}
	if got := p.Prediction.Services[1].Replicas; got != db.Planned {
		t.Errorf("the plan's prediction has %d replicas of db, want %d", got, db.Planned)
	}
}

// TestReplicasMergeDepartures: the departures of a service of replicas
// are its arrivals split and merged again, which in light traffic is the
// stream that came in. A Poisson stream round-robined over eight lightly
// loaded replicas reaches their callee b still Poisson, so b (M/D/1 at
// 0.7) waits as the Pollaczek–Khinchine queue does; taking the merged
// departures as smooth as one replica's arrivals (Erlang-8) once put b's
// wait 97% low. Judged against the simulator, within its interval and
// 5% (QNA is approximate).
func TestReplicasMergeDepartures(t *testing.T) {
	topo, err := topology.New("merge", []topology.Workload{{Entry: "a", Rate: 700}}, []*topology.Service{
		{Name: "a", Replicas: 8, Servers: 1, Balancer: topology.BalancerRoundRobin, ServiceTime: time.Millisecond,
			Calls: []topology.Call{{To: "b", Probability: 1, Count: 1}}},
		{Name: "b", Servers: 1, ServiceTime: time.Millisecond, Distribution: topology.Distribution{Kind: topology.Deterministic}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.Run(context.Background(), topo, sim.Options{Requests: 2_000_000, Replications: 10, Seed: 12})
	if err != nil {
		t.Fatal(err)
	}
	got := *Analyze(topo).Predict().Services[1].MeanWait
	s := r.Services[1]
	want, hw := *s.MeanWait, s.Interval(0.99).MeanWait
	t.Logf("b's mean wait: model %.4g, simulated %.4g ± %.2g", got, want, hw)
	if math.Abs(got-want) > hw+0.05*want {
		t.Errorf("b's mean wait %.4g, simulated %.4g ± %.2g: off by more than the interval and 5%%", got, want, hw)
	}
}

// TestPlanHeldReplicas: the replicas a service that holds its workers
// needs are counted on its holding time, not its own work: a front of
// 1 ms own work held across a 50 ms call needs a replica per 50 ms of
// holding, and a plan exists.
func TestPlanHeldReplicas(t *testing.T) {
	topo, err := topology.New("held", []topology.Workload{{Entry: "front", Rate: 30}}, []*topology.Service{
		{Name: "front", Replicas: 2, Servers: 1, Hold: true, ServiceTime: time.Millisecond,
			Calls: []topology.Call{{To: "back", Probability: 1, Count: 1}}},
		{Name: "back", Servers: 50, ServiceTime: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanServers(context.Background(), topo, []SLO{{Metric: "p99", Target: 0.4}})
	if err != nil || !p.Feasible {
		t.Fatalf("plan %+v, %v", p, err)
	}
	// 30 req/s held 51 ms or more: at least 1.53 workers' worth, so 2
	// replicas of one at the very least.
	if front := p.Changes[0]; front.Planned < 2 {
		t.Errorf("front planned %d replicas; it holds 1.5 workers' worth", front.Planned)
	}
}
