package model

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

func single(t *testing.T, rate float64, servers int, mean time.Duration, d topology.Distribution) *result.Prediction {
	t.Helper()
	topo, err := topology.New("one", []topology.Workload{{Entry: "s", Rate: rate}},
		[]*topology.Service{{Name: "s", Servers: servers, ServiceTime: mean, Distribution: d}})
	if err != nil {
		t.Fatal(err)
	}
	return Analyze(topo).Predict()
}

// TestPollaczekKhinchineMean checks the M/G/1 mean wait against the
// Pollaczek–Khinchine formula written out here, Wq = λE[S²]/(2(1-ρ)) with
// E[S²] = (1 + cs²)m² (Kleinrock Vol. 1, ch. 5), for every distribution.
func TestPollaczekKhinchineMean(t *testing.T) {
	const m = 0.010
	for _, d := range []topology.Distribution{
		{Kind: topology.Exponential},
		{Kind: topology.Deterministic},
		{Kind: topology.Lognormal, CV: 2},
		{Kind: topology.Lognormal, CV: 0.5},
		{Kind: topology.Erlang, K: 4},
	} {
		for _, rho := range []float64{0.2, 0.6, 0.95} {
			lambda := rho / m
			p := single(t, lambda, 1, 10*time.Millisecond, d)
			es2 := (1 + d.SCV()) * m * m
			want := lambda * es2 / (2 * (1 - rho))
			checkRel(t, d.String()+" mean wait", *p.Services[0].MeanWait, want, 1e-12)
			checkRel(t, d.String()+" mean response", *p.Entries[0].Mean, want+m, 1e-12)
			// One station fed by Poisson arrivals: the M/G/1 is exact, but
			// for the lognormal, whose transform is a fitted one.
			if p.Approximate != (d.Kind == topology.Lognormal) {
				t.Errorf("%s: approximate = %v", d, p.Approximate)
			}
			if l := p.Services[0].Labels[result.FigMeanWait]; !l.Exact || !strings.Contains(l.Basis, "Pollaczek–Khinchine") && !d.IsExponential() {
				t.Errorf("%s: mean wait labelled %+v", d, l)
			}
		}
	}
}

// TestKimura checks the M/G/c wait: Kimura's interpolation, written out
// here, between the M/M/c wait and the exact M/D/c one, which the station
// with deterministic service times reports, exactly.
func TestKimura(t *testing.T) {
	q := MMc{Lambda: 300, Mu: 100, C: 4}
	det := single(t, 300, 4, 10*time.Millisecond, topology.Distribution{Kind: topology.Deterministic})
	if det.Approximate {
		t.Error("the M/D/4 station is marked approximate")
	}
	wD, pD := *det.Services[0].MeanWait, *det.Services[0].WaitProbability
	if !(wD < q.MeanWait() && pD < q.WaitProbability()) {
		t.Errorf("M/D/4 wait %v, P(wait) %v not below M/M/4's %v, %v", wD, pD, q.MeanWait(), q.WaitProbability())
	}
	for _, d := range []topology.Distribution{{Kind: topology.Lognormal, CV: 2}, {Kind: topology.Erlang, K: 2}, {Kind: topology.Lognormal, CV: 0.5}} {
		p := single(t, 300, 4, 10*time.Millisecond, d)
		scv := d.SCV()
		want := (1 + scv) / (2*scv/q.MeanWait() + (1-scv)/wD)
		checkRel(t, d.String()+" mean wait", *p.Services[0].MeanWait, want, 1e-12)
		want = (1 + scv) / (2*scv/q.WaitProbability() + (1-scv)/pD)
		checkRel(t, d.String()+" P(wait)", *p.Services[0].WaitProbability, want, 1e-12)
		if !p.Services[0].Approximate || !p.Approximate {
			t.Errorf("%s with 4 servers not marked approximate", d)
		}
		if l := p.Services[0].Labels[result.FigMeanWait]; !strings.Contains(l.Basis, "Kimura") {
			t.Errorf("%s: mean wait labelled %+v", d, l)
		}
	}
}

// TestInversionErlang inverts the Erlang-k transform and compares with its
// closed-form survival function, sum_{n<k} e^{-rt}(rt)^n/n!.
func TestInversionErlang(t *testing.T) {
	for _, rough := range []bool{false, true} {
		for _, k := range []int{1, 2, 5} {
			r := 3.0
			f := eulerInverter.invert(0, 0, rough, func(z complex128) complex128 { return erlangLST(k, r, z) })
			for _, x := range []float64{0.05, 0.3, 1, 2.5, 5} {
				var want, term float64 = 0, math.Exp(-r * x)
				for n := 0; n < k; n++ {
					want += term
					term *= r * x / float64(n+1)
				}
				got, _ := f(x)
				if math.Abs(got-want) > 1e-8 {
					t.Errorf("rough=%v k=%d t=%v: survival %.12g, want %.12g", rough, k, x, got, want)
				}
			}
		}
	}
}

// TestUnstable checks that a saturated topology reports which service
// saturates and the largest rate, with no figure that does not exist.
func TestUnstable(t *testing.T) {
	topo, err := topology.Load(filepath.Join("..", "examples", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	over, err := topo.WithRate(300)
	if err != nil {
		t.Fatal(err)
	}
	p := Analyze(over).Predict()
	if p.Stable {
		t.Fatal("shop at 300 req/s reported stable")
	}
	if p.MaxRate != 250 || p.Bottleneck != "catalog" {
		t.Errorf("max rate %v, bottleneck %q; want 250, catalog", p.MaxRate, p.Bottleneck)
	}
	cat := p.Services[over.Index("catalog")]
	checkRel(t, "catalog utilization", cat.Utilization, 1.2, 1e-12)
	for _, s := range p.Services {
		if s.MeanWait != nil || s.MeanResponse != nil || s.Percentiles != nil || s.WaitProbability != nil {
			t.Errorf("%s: figures reported for an unstable network: %+v", s.Name, s)
		}
	}
	if e := p.Entries[0]; e.Mean != nil || e.Percentiles != nil {
		t.Errorf("entry figures reported for an unstable network: %+v", e)
	}
	// Exactly at saturation is unstable too.
	at, _ := topo.WithRate(250)
	if Analyze(at).Stable() {
		t.Error("shop at exactly 250 req/s reported stable")
	}
}

// TestMeanIsSumOverVisits checks the end-to-end mean against the sum over
// services of visits × mean response, computed here from the prediction.
func TestMeanIsSumOverVisits(t *testing.T) {
	topo, err := topology.Load(filepath.Join("..", "examples", "api-db-pool.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := Analyze(topo)
	p := n.Predict()
	for e := range topo.Workload {
		var want float64
		for i, v := range n.Visits(e) {
			if v > 0 {
				want += v * *p.Services[i].MeanResponse
			}
		}
		checkRel(t, topo.Workload[e].Entry, *p.Entries[e].Mean, want, 1e-12)
	}
	// Little's law for the network: the mean number of requests in the
	// system equals the total rate times the rate-weighted mean latency.
	var inSystem, weighted float64
	for _, s := range p.Services {
		inSystem += *s.MeanInSystem
	}
	for _, e := range p.Entries {
		weighted += e.Rate * *e.Mean
	}
	checkRel(t, "Little's law", inSystem, weighted, 1e-12)
}

// TestPercentilesOrdered checks that percentiles rise with the level and
// the mean sits between p50 and p99 for every example.
func TestPercentilesOrdered(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if len(paths) < 3 {
		t.Fatalf("want at least 3 examples, found %d", len(paths))
	}
	for _, path := range paths {
		topo, err := topology.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		p := Analyze(topo).Predict()
		if !p.Stable {
			t.Errorf("%s: example is unstable", path)
			continue
		}
		for _, e := range p.Entries {
			prev := 0.0
			for _, l := range result.Levels {
				v, _ := e.Percentiles.Get(l.Name)
				if !(v > prev) {
					t.Errorf("%s %s: %s = %v not above %v", path, e.Entry, l.Name, v, prev)
				}
				prev = v
			}
			if !(*e.Mean > e.Percentiles.P50*0.5 && *e.Mean < e.Percentiles.P99) {
				t.Errorf("%s %s: mean %v outside [p50/2, p99]", path, e.Entry, *e.Mean)
			}
		}
	}
}

// TestHeavyTailsFinite is a regression test: a rare slow call and a very
// variable service time give distributions whose gamma guess is far off,
// and every percentile must still be found, finite and in order.
func TestHeavyTailsFinite(t *testing.T) {
	docs := map[string]string{
		"rare slow call":              "workload: [{entry: api, rate: 10}]\nservices:\n  api: {servers: 2, service_time: 10ms, calls: [{to: batch, probability: 0.01}]}\n  batch: {servers: 4, service_time: 10s}\n",
		"lognormal cv=10":             "workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 10ms, distribution: lognormal, cv: 10}\n",
		"lognormal cv=5 on 3 servers": "workload: [{entry: a, rate: 10}]\nservices:\n  a: {servers: 3, service_time: 10ms, distribution: lognormal, cv: 5}\n",
	}
	for name, doc := range docs {
		topo, err := topology.Parse(name, []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		p := Analyze(topo).Predict()
		for _, q := range append([]*result.Percentiles{p.Entries[0].Percentiles}, p.Services[0].Percentiles) {
			prev := 0.0
			for _, l := range result.Levels {
				v, _ := q.Get(l.Name)
				if !(v > prev) || math.IsInf(v, 0) {
					t.Errorf("%s: %s = %v after %v", name, l.Name, v, prev)
				}
				prev = v
			}
		}
	}
	// The rare call: half the requests never reach batch and are done in
	// milliseconds; one in a thousand waits out a 10-second batch job.
	topo, _ := topology.Parse("rare", []byte(docs["rare slow call"]))
	q := Analyze(topo).Predict().Entries[0].Percentiles
	if q.P50 > 0.02 || q.P999 < 5 {
		t.Errorf("rare slow call: p50 %v, p99.9 %v", q.P50, q.P999)
	}
}
