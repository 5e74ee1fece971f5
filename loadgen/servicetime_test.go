package loadgen

import (
	"github.com/kendallqn/kendall/internal/moments"
	"math"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// TestServiceTimeMoments draws many service times of each distribution and
// checks their mean and coefficient of variation against the
// distribution's: mean m, and cv 1 (exponential), 0 (deterministic), the
// given cv (lognormal), 1/√k (Erlang-k; Kleinrock, Queueing Systems Vol. 1,
// 1975, §4.3). The mean of n draws has standard deviation cv·m/√n; the
// bound is 5 of those. The sample cv is checked to within 5% (10% for the
// heavy-tailed lognormal, whose sample variance converges slowly). The seed
// is fixed, so the test is deterministic.
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
		{topology.Distribution{Kind: topology.Erlang, K: 4}, 0.5, 0.05},
		{topology.Distribution{Kind: topology.Erlang, K: 1}, 1, 0.05},
	} {
		st := newServiceTime(&topology.Service{ServiceTime: mean, Distribution: c.dist})
		r := newRand(1, "test", 0)
		var m moments.Moments
		for range n {
			d := st.draw(r)
			if d < 0 {
				t.Fatalf("%v: negative service time %v", c.dist, d)
			}
			m.Add(d.Seconds())
		}
		if bound := 5 * c.cv * mean.Seconds() / math.Sqrt(n); math.Abs(m.Mean()-mean.Seconds()) > bound+1e-12 {
			t.Errorf("%v: mean %.6fs, want %.6fs ± %.6f", c.dist, m.Mean(), mean.Seconds(), bound)
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
