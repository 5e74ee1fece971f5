package model

import (
	"math"
	"math/cmplx"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// TestQNAKellyAndBurke checks that QNA leaves Poisson flows Poisson: every
// arrival SCV of an all-exponential network is exactly 1, and so is that of
// a deterministic service's Poisson-fed first station; and that the
// departures of a deterministic server at 90% load give its exponential
// successor the stationary-interval SCV of the M/D/1 departures, 1 - ρ²
// (Whitt 1983's departure approximation, exact for the M/G/1 interval SCV).
func TestQNAKellyAndBurke(t *testing.T) {
	for _, topo := range []*topology.Topology{generate(t, 100, 5)} {
		n := Analyze(topo)
		servers := make([]int, len(topo.Services))
		for i := range topo.Services {
			servers[i] = topo.Services[i].Servers
			if n.stations[i].ca2 != 1 {
				t.Errorf("%s in an exponential network: ca² = %v", topo.Services[i].Name, n.stations[i].ca2)
			}
		}
		// Not even computed there; and if it were, every flow would stay
		// exactly Poisson.
		for i, d := range n.qnaDeviations(servers).d {
			if d != 0 {
				t.Errorf("%s: QNA deviation %v in an exponential network", topo.Services[i].Name, d)
			}
		}
	}
	topo, err := topology.Parse("det", []byte(`
name: det
workload: [{entry: front, rate: 90}]
services:
  front: {service_time: 10ms, distribution: deterministic, calls: [{to: back}]}
  back: {service_time: 10ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	n := Analyze(topo)
	if got := n.stations[0].ca2; got != 1 {
		t.Errorf("front fed by Poisson arrivals: ca² = %v", got)
	}
	checkRel(t, "back's ca²", n.stations[1].ca2, 1-0.9*0.9, 1e-12)
	if math.IsNaN(n.stations[1].meanWait) {
		t.Error("NaN wait")
	}
}

// TestQNAFeedbackFolded checks the arrival SCV of a station visited six
// times in a row: QNA's immediate-feedback elimination folded into one
// ca² (arrivalSCVs), c_a'² + q(1 - c_s²), with c_a'² = 1 for the fresh
// arrivals (the departures of an exponential caller fed by Poisson
// arrivals) and q = 5/6: 1 + 5/6 for a deterministic db, 1 - (5/6)·3 for a
// lognormal one of cv 2. Their sum with c_s², which is what a two-moment
// wait uses, is that of the eliminated station, c_a'² + q + (1 - q)c_s².
func TestQNAFeedbackFolded(t *testing.T) {
	for _, tc := range []struct {
		d    topology.Distribution
		want float64
	}{
		{topology.Distribution{Kind: topology.Deterministic}, 1 + 5.0/6},
		{topology.Distribution{Kind: topology.Lognormal, CV: 2}, 1 - 5.0/6*3},
		{topology.Distribution{Kind: topology.Erlang, K: 4}, 1 + 5.0/6*0.75},
	} {
		topo, err := topology.New("six", []topology.Workload{{Entry: "api", Rate: 20}}, []*topology.Service{
			{Name: "api", Servers: 4, ServiceTime: time.Millisecond, Calls: []topology.Call{{To: "db", Probability: 1, Count: 6}}},
			{Name: "db", Servers: 1, ServiceTime: 5 * time.Millisecond, Distribution: tc.d},
		})
		if err != nil {
			t.Fatal(err)
		}
		n := Analyze(topo)
		checkRel(t, tc.d.String()+" api's ca²", n.stations[0].ca2, 1, 0)
		checkRel(t, tc.d.String()+" db's ca²", n.stations[1].ca2, tc.want, 1e-12)
	}
}

// TestScaleWaitIsNewStations holds scaleWait, which imposes a wait scale
// on a station where no ca² gives it, to what newStation does with a ca²:
// with several workers giScale has no smooth-arrivals correction, so every
// scale is some ca²'s, and the two stations must agree, figure by figure
// and transform by transform, for every kind of service time.
func TestScaleWaitIsNewStations(t *testing.T) {
	for _, d := range []topology.Distribution{
		{Kind: topology.Exponential},
		{Kind: topology.Deterministic},
		{Kind: topology.Erlang, K: 4},
		{Kind: topology.Lognormal, CV: 0.5},
		{Kind: topology.Lognormal, CV: 2},
	} {
		for _, c := range []int{2, 8} {
			s := &topology.Service{Name: "s", Servers: c, ServiceTime: 10 * time.Millisecond, Distribution: d}
			lambda := 0.8 * float64(c) / 0.010
			const ca2 = 1.7
			want := newStation(s, lambda, c, ca2)
			got := newStation(s, lambda, c, 1)
			scaleWait(&got, giScale(c, 0.8, ca2, d.SCV()), ca2)
			what := d.String()
			checkRel(t, what+" mean wait", got.meanWait, want.meanWait, 1e-12)
			checkRel(t, what+" P(wait)", got.pWait, want.pWait, 1e-12)
			checkRel(t, what+" variance", got.sojournVariance(), want.sojournVariance(), 1e-12)
			for _, z := range []complex128{complex(30, 0), complex(5, 200)} {
				if a, b := got.residualLST(z), want.residualLST(z); cmplx.Abs(a-b) > 1e-12*cmplx.Abs(b) {
					t.Errorf("%s c=%d: transform at %v: %v, newStation's %v", what, c, z, a, b)
				}
			}
		}
	}
}

// TestSpacedArrivals checks the deterministic tandem: a deterministic
// service fed only by the departures of another, as slow or slower on no
// more workers, never waits, so its figures are exact and the request's
// latency is the first sojourn plus constants; a faster upstream, or more
// upstream workers, spaces nothing.
func TestSpacedArrivals(t *testing.T) {
	det := topology.Distribution{Kind: topology.Deterministic}
	build := func(upTime time.Duration, upServers, downServers int) *Network {
		topo, err := topology.New("tandem", []topology.Workload{{Entry: "a", Rate: 90}}, []*topology.Service{
			{Name: "a", Servers: upServers, ServiceTime: upTime, Distribution: det, Calls: []topology.Call{{To: "b", Probability: 1, Count: 1}}},
			{Name: "b", Servers: downServers, ServiceTime: 10 * time.Millisecond, Distribution: det},
		})
		if err != nil {
			t.Fatal(err)
		}
		return Analyze(topo)
	}
	n := build(10*time.Millisecond, 1, 1)
	if !n.spaced[1] || n.stations[1].meanWait != 0 || n.stations[1].ca2 != 0 {
		t.Fatalf("b after an equal deterministic a: spaced %v, wait %v, ca² %v", n.spaced[1], n.stations[1].meanWait, n.stations[1].ca2)
	}
	p := n.Predict()
	if p.Approximate {
		t.Errorf("deterministic tandem labelled approximate: %+v", p.Entries[0].Labels)
	}
	a := n.stations[0]
	checkRel(t, "end-to-end mean", *p.Entries[0].Mean, a.meanResponse()+0.010, 1e-12)
	checkRel(t, "p99", p.Entries[0].Percentiles.P99, quantile(a.survival(), 0.99, a.meanResponse(), a.sojournVariance())+0.010, 1e-6)
	for _, tc := range []struct {
		up         time.Duration
		upS, downS int
	}{{9 * time.Millisecond, 1, 1}, {10 * time.Millisecond, 2, 1}} {
		if n := build(tc.up, tc.upS, tc.downS); n.spaced[1] {
			t.Errorf("upstream %v on %d workers, b on %d: spaced", tc.up, tc.upS, tc.downS)
		}
	}
	if n := build(20*time.Millisecond, 2, 3); !n.spaced[1] {
		t.Error("a slower upstream on fewer workers spaces b's arrivals")
	}
}

// TestNearImmediateFeedback checks that a database visited twice, the
// second time right after a light service its first visit called nothing
// but leads to, counts half of its visits as near-immediate returns (Whitt
// and You's near-immediate feedback): its ca² is the fresh arrivals' plus
// p̂(1 - c_s²) with p̂ = 1/2, the fresh arrivals being the departures of a
// light exponential service fed by Poisson arrivals.
func TestNearImmediateFeedback(t *testing.T) {
	topo, err := topology.Parse("shared", []byte(`
name: shared
workload: [{entry: api, rate: 40}]
services:
  api: {servers: 64, service_time: 200us, calls: [{to: a}, {to: b}]}
  a: {servers: 64, service_time: 200us, calls: [{to: db}]}
  b: {servers: 64, service_time: 200us, calls: [{to: db}]}
  db: {servers: 1, service_time: 10ms, distribution: lognormal, cv: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	n := Analyze(topo)
	db := topo.Index("db")
	checkRel(t, "db's ca²", n.stations[db].ca2, 1+0.5*(1-4), 1e-9)
}
