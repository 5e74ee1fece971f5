package sim

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// The simulator is the model's judge: where the model is exact, its figures
// must lie inside the simulator's 99% confidence intervals.
//
// The intervals of one topology are simultaneous: a test that makes m
// checks makes each at level 1 − 0.01/m, so that all m hold together with
// probability at least 99% (the Bonferroni inequality; R. G. Miller,
// Simultaneous Statistical Inference, 2nd ed., 1981, §1.3). Checking each
// figure at 99% instead would fail an exact model and a correct simulator
// one time in four over the 27 checks below, so that any change to the
// kernel that draws its random numbers in another order would be a coin
// toss. The runs use fixed seeds, so a test always passes or always fails.
// The seed is 2. Seed 1 failed one check, the mean response of M/M/1000,
// by four standard errors; the kernel was not at fault: the 4.2 million
// exponential variates of that seed's first 20 streams have a mean 3.9
// standard errors above 1, something one seed in 10,000 does, while over
// 300 seeds the same statistic is standard normal (variance 1.09, none
// beyond 3).

const level = 0.99

// family is a set of m checks that hold jointly at level.
type family struct {
	t *testing.T
	m int
}

// level is the level of each check of the family.
func (f family) level() float64 { return 1 - (1-level)/float64(f.m) }

// chain3 is a tandem of three single-worker exponential services, for which
// the model is exact for the whole end-to-end distribution (Reich 1957).
func chain3(tb testing.TB) *topology.Topology {
	tb.Helper()
	t, err := topology.New("chain3", []topology.Workload{{Entry: "a", Rate: 100}}, []*topology.Service{
		{Name: "a", ServiceTime: 5 * time.Millisecond, Calls: []topology.Call{{To: "b", Probability: 1}}},
		{Name: "b", ServiceTime: 7 * time.Millisecond, Calls: []topology.Call{{To: "c", Probability: 1}}},
		{Name: "c", ServiceTime: 6 * time.Millisecond},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestModelExactInsideInterval(t *testing.T) {
	cases := []struct {
		name string
		topo *topology.Topology
		opts Options
		// e2eP99Exact is false where the model's end-to-end percentiles
		// treat a request's visits as independent, an approximation.
		e2eP99Exact bool
	}{
		{"M/M/1 rho=0.8", oneStation(t, 1, time.Millisecond, exponential, 0.8), Options{Requests: scaled(2_000_000), Replications: 20}, true},
		{"M/M/2 rho=0.7", oneStation(t, 2, time.Millisecond, exponential, 0.7), Options{Requests: scaled(1_000_000), Replications: 20}, true},
		{"M/M/5 rho=0.9", oneStation(t, 5, time.Millisecond, exponential, 0.9), Options{Requests: scaled(2_000_000), Replications: 20}, true},
		{"M/M/1000 rho=0.95", oneStation(t, 1000, time.Millisecond, exponential, 0.95), Options{Requests: scaled(2_000_000), Replications: 20}, true},
		{"five", nil, Options{}, false}, // see fiveRun
		{"chain of three", chain3(t), Options{Requests: scaled(1_000_000), Replications: 20}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Seed = 2
			var sim *Result
			if c.topo == nil {
				c.topo, sim = fiveRun(t)
			} else {
				sim = run(t, c.topo, c.opts)
			}
			pred := model.Analyze(c.topo).Predict()
			// The checks: mean response and p99 of every service, and the
			// end-to-end mean and p99 (where the model's is exact) of every
			// entry, unless the topology is one service, where they are the
			// same figures.
			single := len(c.topo.Services) == 1
			f := family{t: t, m: 2 * len(sim.Services)}
			if !single {
				f.m += len(sim.Entries)
				if c.e2eP99Exact {
					f.m += len(sim.Entries)
				}
			}
			t.Logf("%d requests in %d replications, warm-up %d (%s); %d checks at %.4f",
				sim.Run.Requests, sim.Run.Replications, sim.Run.WarmupRequests, sim.Run.WarmupRule, f.m, f.level())
			for i, s := range sim.Services {
				m := pred.Services[i]
				ci := s.Interval(f.level())
				logFigure(t, s.Name+" utilization", s.Utilization, ci.Utilization, m.Utilization)
				logFigure(t, s.Name+" mean wait", *s.MeanWait, ci.MeanWait, *m.MeanWait)
				f.check(s.Name+" mean response", *s.MeanResponse, ci.MeanResponse, *m.MeanResponse)
				f.check(s.Name+" p99", s.Percentiles.P99, ci.P99, m.Percentiles.P99)
			}
			if single {
				return
			}
			for i, e := range sim.Entries {
				m := pred.Entries[i]
				ci := e.Interval(f.level())
				f.check(e.Entry+" end-to-end mean", *e.Mean, ci.Mean, *m.Mean)
				if c.e2eP99Exact {
					f.check(e.Entry+" end-to-end p99", e.Percentiles.P99, ci.P99, m.Percentiles.P99)
				}
			}
		})
	}
}

var five struct {
	sync.Once
	topo *topology.Topology
	res  *Result
}

// fiveRun simulates model/testdata/five.yaml once for the tests that need
// it.
func fiveRun(t *testing.T) (*topology.Topology, *Result) {
	five.Do(func() {
		five.topo = loadFile(t, "../model/testdata/five.yaml")
		five.res = run(t, five.topo, Options{Requests: scaled(1_000_000), Replications: 20, Seed: 2})
	})
	if five.res == nil {
		t.Fatal("the run of five.yaml failed")
	}
	return five.topo, five.res
}

// check asserts that the model's figure lies in the simulated interval.
func (f family) check(what string, sim, hw, model float64) {
	f.t.Helper()
	logFigure(f.t, what, sim, hw, model)
	if !within(sim, hw, model) {
		f.t.Errorf("%s: model %.6g outside the simulator's interval %.6g ± %.3g (one of %d checks at %.4f, jointly 99%%)",
			what, model, sim, hw, f.m, f.level())
	}
}

func logFigure(t *testing.T, what string, sim, hw, model float64) {
	t.Helper()
	t.Logf("%-28s sim %.6g ± %.2g, model %.6g (%+.2f%%)", what, sim, hw, model, 100*(model-sim)/sim)
}

// TestFiveEndToEndPercentiles measures the one approximation of the model
// on an exponential network: end-to-end percentiles computed as if the
// visits of one request were independent. In five.yaml a request visits db
// up to six times in a row, and those sojourns are positively correlated
// (they meet the same queue), so the true tail is heavier than the model's.
// The test logs the error and pins it, so that a change in either the model
// or the simulator that moves it is seen.
func TestFiveEndToEndPercentiles(t *testing.T) {
	topo, sim := fiveRun(t)
	pred := model.Analyze(topo).Predict()
	e, m := sim.Entries[0], pred.Entries[0]
	ci := e.Interval(level)
	for _, l := range result.Levels {
		s, _ := e.Percentiles.Get(l.Name)
		hw, _ := ci.Percentiles.Get(l.Name)
		mv, _ := m.Percentiles.Get(l.Name)
		rel := (mv - s) / s
		t.Logf("%-5s sim %.5g ± %.2g  model %.5g  error %+.2f%%  inside: %v", l.Name, s, hw, mv, 100*rel, within(s, hw, mv))
		// The error is a few percent, and the model is low in the tail.
		if math.Abs(rel) > 0.06 {
			t.Errorf("%s: model %.5g is %.1f%% from the simulated %.5g; the independence approximation was within 6%%", l.Name, mv, 100*rel, s)
		}
	}
}

// TestLognormalPollaczekKhinchine checks the simulator, not the model,
// against an exact result for non-exponential service: the M/G/1 mean
// response by the Pollaczek–Khinchine formula, W = ρ·m·(1 + cv²)/(2(1 − ρ))
// + m (Kleinrock, Queueing Systems Vol. 1, 1975, eq. 5.72 with §5.7). It
// logs how far the model's percentiles, which fit the lognormal with a
// hyperexponential (Tijms 2003), and the Allen–Cunneen approximation of an
// M/G/2 are from the simulation.
func TestLognormalPollaczekKhinchine(t *testing.T) {
	const rho, cv = 0.7, 2.0
	m := time.Millisecond
	logn := topology.Distribution{Kind: topology.Lognormal, CV: cv}
	t.Run("M/G/1", func(t *testing.T) {
		topo := oneStation(t, 1, m, logn, rho)
		sim := run(t, topo, Options{Requests: scaled(4_000_000), Replications: 20, Seed: 2})
		s := sim.Services[0]
		f := family{t: t, m: 2}
		ci := s.Interval(f.level())
		ms := m.Seconds()
		pk := rho*ms*(1+cv*cv)/(2*(1-rho)) + ms
		f.check("mean response (P-K)", *s.MeanResponse, ci.MeanResponse, pk)
		f.check("utilization", s.Utilization, ci.Utilization, rho)
		logModelError(t, topo, sim)
	})
	t.Run("M/G/2", func(t *testing.T) {
		topo := oneStation(t, 2, m, logn, rho)
		sim := run(t, topo, Options{Requests: scaled(4_000_000), Replications: 20, Seed: 2})
		s := sim.Services[0]
		f := family{t: t, m: 1}
		f.check("utilization", s.Utilization, s.Interval(f.level()).Utilization, rho)
		logModelError(t, topo, sim)
	})
}

// logModelError logs the model's approximation error on one station.
func logModelError(t *testing.T, topo *topology.Topology, sim *Result) {
	t.Helper()
	pred := model.Analyze(topo).Predict()
	s, m, ci := sim.Services[0], pred.Services[0], sim.Services[0].Interval(level)
	t.Logf("model error, %s: mean wait %+.1f%% (sim %.4g ± %.2g)", s.Distribution,
		100*(*m.MeanWait-*s.MeanWait) / *s.MeanWait, *s.MeanWait, ci.MeanWait)
	for _, l := range result.Levels {
		sv, _ := s.Percentiles.Get(l.Name)
		hw, _ := ci.Percentiles.Get(l.Name)
		mv, _ := m.Percentiles.Get(l.Name)
		t.Logf("model error, %s: %-5s %+.1f%% (sim %.4g ± %.2g, model %.4g)", s.Distribution, l.Name, 100*(mv-sv)/sv, sv, hw, mv)
	}
}

// TestHourLatencies checks that no latency is clamped, however long: an
// M/M/1 at 50% load with a one-hour mean service time, whose sojourn is
// exponential with a two-hour mean (Gross et al. 2008, §2.3), so p99.9 is
// 2 h · ln 1000, nearly 14 hours, past the 2.4 hours (latency.Highest) to
// which histograms of the standard geometry clamp. Every percentile must
// come out with a non-zero interval holding the exact value, end to end
// (three digits) and per visit (two).
func TestHourLatencies(t *testing.T) {
	topo := oneStation(t, 1, time.Hour, exponential, 0.5)
	sim := run(t, topo, Options{Requests: scaled(400_000), Seed: 2})
	q := model.MMc{Lambda: 0.5 / 3600, Mu: 1.0 / 3600, C: 1}
	if sim.Run.Clamped != 0 {
		t.Errorf("%d latencies clamped", sim.Run.Clamped)
	}
	if p999 := q.ResponseQuantile(0.999); p999 <= float64(latency.Highest)/1e9 {
		t.Fatalf("exact p99.9 %.0f s is within the standard histogram's range: the test tests nothing", p999)
	}
	e, s := sim.Entries[0], sim.Services[0]
	f := family{t: t, m: 2 + 2*len(result.Levels)}
	eci, sci := e.Interval(f.level()), s.Interval(f.level())
	f.check("end-to-end mean", *e.Mean, eci.Mean, q.MeanResponse())
	f.check("service mean", *s.MeanResponse, sci.MeanResponse, q.MeanResponse())
	for _, l := range result.Levels {
		exact := q.ResponseQuantile(l.P)
		for _, fig := range []struct {
			what string
			p    *result.Percentiles
			ci   *result.Percentiles
		}{{"end-to-end", e.Percentiles, &eci.Percentiles}, {"service", s.Percentiles, &sci.Percentiles}} {
			v, _ := fig.p.Get(l.Name)
			hw, _ := fig.ci.Get(l.Name)
			if !(hw > 0) {
				t.Errorf("%s %s: half-width %v, want a positive one", fig.what, l.Name, hw)
			}
			f.check(fig.what+" "+l.Name, v, hw, exact)
		}
	}
}
