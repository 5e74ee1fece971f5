package random

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/topology"
)

// TestServiceTimeMoments draws many service times of each distribution and
// checks them against the distribution's moments: the mean m, and the
// coefficient of variation 1 (exponential), 0 (deterministic), the given cv
// (lognormal), 1/√k (Erlang-k; Kleinrock, Queueing Systems Vol. 1, 1975,
// §4.3). The mean of n draws has standard deviation cv·m/√n; the bound is 5
// of those. The sample cv is checked to within 5% (10% for the
// heavy-tailed lognormal, whose sample variance converges slowly, 15% for
// cv 2). A lognormal's log is normal with variance ln(1 + cv²), the shape
// parameter the family promises; the sample variance of n normals has
// standard error σ²√(2/n), and the bound is 5 of those. The seed is fixed,
// so the test is a pin, not a flaky test.
func TestServiceTimeMoments(t *testing.T) {
	const n = 200_000
	mean := 10 * time.Millisecond
	for _, c := range []struct {
		dist topology.Distribution
		cv   float64
		tol  float64
	}{
		{topology.Distribution{Kind: topology.Exponential}, 1, 0.05},
		{topology.Distribution{Kind: topology.Deterministic}, 0, 0},
		{topology.Distribution{Kind: topology.Lognormal, CV: 0.5}, 0.5, 0.05},
		{topology.Distribution{Kind: topology.Lognormal, CV: 1.5}, 1.5, 0.10},
		{topology.Distribution{Kind: topology.Lognormal, CV: 2}, 2, 0.15},
		{topology.Distribution{Kind: topology.Erlang, K: 4}, 0.5, 0.05},
		{topology.Distribution{Kind: topology.Erlang, K: 1}, 1, 0.05},
	} {
		st := NewServiceTime(&topology.Service{ServiceTime: mean, Distribution: c.dist})
		r := Labelled(1, "test", 0)
		var m, logs moments.Moments
		for range n {
			s := st.Draw(r)
			if s < 0 {
				t.Fatalf("%v: negative service time %v", c.dist, s)
			}
			m.Add(s)
			logs.Add(math.Log(s))
		}
		if bound := 5 * c.cv * mean.Seconds() / math.Sqrt(n); math.Abs(m.Mean()-mean.Seconds()) > bound+1e-12 {
			t.Errorf("%v: mean %.6fs, want %.6fs ± %.6f", c.dist, m.Mean(), mean.Seconds(), bound)
		}
		if c.dist.Kind == topology.Lognormal {
			want := math.Log1p(c.dist.CV * c.dist.CV)
			if v := logs.Variance(); math.Abs(v-want) > 5*want*math.Sqrt(2.0/n) {
				t.Errorf("%v: variance of log S %.5g, want %.5g", c.dist, v, want)
			}
		}
		cv := m.CV()
		if c.cv == 0 {
			if cv > 1e-9 {
				t.Errorf("%v: cv %v, want 0", c.dist, cv)
			}
			continue
		}
		if math.Abs(cv/c.cv-1) > c.tol {
			t.Errorf("%v: cv %.4f, want %.4f within %.0f%%", c.dist, cv, c.cv, 100*c.tol)
		}
	}
}

// TestServiceTimeIsStable pins the first draws of each distribution to
// those of the two samplers this one replaces (sim/variate.go and
// loadgen/servicetime.go, which agreed bit for bit), computed with that
// code before it moved here: the tests of the simulator and of the
// emulation pin figures to the service times of chosen seeds.
func TestServiceTimeIsStable(t *testing.T) {
	for _, c := range []struct {
		dist topology.Distribution
		bits [3]uint64 // math.Float64bits of the first three draws
	}{
		{topology.Distribution{Kind: topology.Exponential}, [3]uint64{0x3f71019b13b2bb6e, 0x3f3f325c6c60fd5c, 0x3f30be38f8b44748}},
		{topology.Distribution{Kind: topology.Deterministic}, [3]uint64{0x3f7cac083126e979, 0x3f7cac083126e979, 0x3f7cac083126e979}},
		{topology.Distribution{Kind: topology.Lognormal, CV: 1.5}, [3]uint64{0x3f7802ffd18f229e, 0x3f713fa728f7987f, 0x3f73c344828d4291}},
		{topology.Distribution{Kind: topology.Erlang, K: 4}, [3]uint64{0x3f76a2e553ec1649, 0x3f78f2274d02e78a, 0x3f761ab499975fa6}},
		{topology.Distribution{Kind: topology.Erlang, K: 1}, [3]uint64{0x3f71019b13b2bb6e, 0x3f3f325c6c60fd5c, 0x3f30be38f8b44748}},
	} {
		st := NewServiceTime(&topology.Service{ServiceTime: 7 * time.Millisecond, Distribution: c.dist})
		r := rand.New(rand.NewPCG(1, 2))
		for i, want := range c.bits {
			if got := st.Draw(r); math.Float64bits(got) != want {
				t.Errorf("%v: draw %d is %v (%#x), want %v (%#x)", c.dist, i, got, math.Float64bits(got), math.Float64frombits(want), want)
			}
		}
	}
}

// TestServiceTimeDoesNotAllocate: the simulator draws a service time for
// every visit, and allocates nothing per request.
func TestServiceTimeDoesNotAllocate(t *testing.T) {
	st := NewServiceTime(&topology.Service{ServiceTime: time.Millisecond, Distribution: topology.Distribution{Kind: topology.Erlang, K: 3}})
	r := rand.New(rand.NewPCG(1, 2))
	if n := testing.AllocsPerRun(1000, func() { st.Draw(r) }); n != 0 {
		t.Errorf("%v allocations per draw, want 0", n)
	}
}

func BenchmarkDraw(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []topology.Distribution{{Kind: topology.Exponential}, {Kind: topology.Lognormal, CV: 1.5}, {Kind: topology.Erlang, K: 4}} {
		st := NewServiceTime(&topology.Service{ServiceTime: time.Millisecond, Distribution: d})
		b.Run(d.String(), func(b *testing.B) {
			b.ReportAllocs()
			var sum float64
			for b.Loop() {
				sum += st.Draw(r)
			}
			_ = sum
		})
	}
}
