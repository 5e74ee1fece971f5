package sim

import (
	"math"
	"math/rand/v2"

	"github.com/kendallqn/kendall/topology"
)

// The service-time families, as small integers so the kernel switches on
// them instead of calling through an interface.
const (
	distExponential uint8 = iota
	distDeterministic
	distLognormal
	distErlang
)

// serviceTime draws service times, in seconds, for one service.
type serviceTime struct {
	kind  uint8
	k     int32   // Erlang phases
	mean  float64 // seconds
	mu    float64 // lognormal: mean of log S
	sigma float64 // lognormal: standard deviation of log S
	scale float64 // Erlang: mean of one phase
}

func newServiceTime(s *topology.Service) serviceTime {
	m := s.MeanSeconds()
	d := s.Distribution
	st := serviceTime{kind: distExponential, mean: m}
	switch {
	case d.IsExponential():
	case d.Kind == topology.Deterministic:
		st.kind = distDeterministic
	case d.Kind == topology.Lognormal:
		// A lognormal with mean m and coefficient of variation cv has
		// σ² = ln(1 + cv²) and μ = ln m − σ²/2 (Johnson, Kotz &
		// Balakrishnan, Continuous Univariate Distributions Vol. 1, 2nd ed.,
		// 1994, §14.3: E[S] = e^{μ+σ²/2}, Var[S] = E[S]²(e^{σ²} − 1)).
		st.kind = distLognormal
		s2 := math.Log1p(d.CV * d.CV)
		st.sigma = math.Sqrt(s2)
		st.mu = math.Log(m) - s2/2
	case d.Kind == topology.Erlang:
		// Erlang-k with mean m is the sum of k exponential phases of mean
		// m/k (Kleinrock, Queueing Systems Vol. 1, 1975, §4.3).
		st.kind = distErlang
		st.k = int32(d.K)
		st.scale = m / float64(d.K)
	}
	return st
}

// draw returns one service time. Exponential variates come from the
// ziggurat method of math/rand/v2 (Marsaglia & Tsang, "The ziggurat method
// for generating random variables", J. Stat. Softw. 5(8), 2000), a few
// nanoseconds each, without the logarithm of inversion.
func (s *serviceTime) draw(r *rand.Rand) float64 {
	switch s.kind {
	case distExponential:
		return s.mean * r.ExpFloat64()
	case distDeterministic:
		return s.mean
	case distLognormal:
		return math.Exp(s.mu + s.sigma*r.NormFloat64())
	default:
		var sum float64
		for range s.k {
			sum += r.ExpFloat64()
		}
		return s.scale * sum
	}
}
