package random

import (
	"math"
	"math/rand/v2"

	"github.com/kendallqn/kendall/topology"
)

// The service-time families, as small integers so that Draw switches on
// them instead of calling through an interface: the simulator draws a
// service time for every visit.
const (
	exponential uint8 = iota
	deterministic
	lognormal
	erlang
)

// ServiceTime draws the service times of one service, in seconds, from its
// distribution, with the same parameterization as the model. Its zero
// value draws zeros; use NewServiceTime.
type ServiceTime struct {
	kind  uint8
	k     int32   // Erlang phases
	mean  float64 // seconds
	mu    float64 // lognormal: mean of log S
	sigma float64 // lognormal: standard deviation of log S
	scale float64 // Erlang: mean of one phase, seconds
}

// NewServiceTime returns the sampler of s's service times.
func NewServiceTime(s *topology.Service) ServiceTime {
	m := s.MeanSeconds()
	d := s.Distribution
	st := ServiceTime{kind: exponential, mean: m}
	switch {
	case d.IsExponential():
	case d.Kind == topology.Deterministic:
		st.kind = deterministic
	case d.Kind == topology.Lognormal:
		// A lognormal with mean m and coefficient of variation cv has
		// σ² = ln(1 + cv²) and μ = ln m − σ²/2 (Johnson, Kotz &
		// Balakrishnan, Continuous Univariate Distributions Vol. 1, 2nd ed.,
		// 1994, §14.3: E[S] = e^{μ+σ²/2}, Var[S] = E[S]²(e^{σ²} − 1)).
		st.kind = lognormal
		s2 := math.Log1p(d.CV * d.CV)
		st.sigma = math.Sqrt(s2)
		st.mu = math.Log(m) - s2/2
	case d.Kind == topology.Erlang:
		// Erlang-k with mean m is the sum of k exponential phases of mean
		// m/k (Kleinrock, Queueing Systems Vol. 1, 1975, §4.3).
		st.kind = erlang
		st.k = int32(d.K)
		st.scale = m / float64(d.K)
	}
	return st
}

// Draw returns one service time, in seconds. Exponential variates come
// from the ziggurat method of math/rand/v2 (Marsaglia & Tsang, "The
// ziggurat method for generating random variables", J. Stat. Softw. 5(8),
// 2000), a few nanoseconds each, without the logarithm of inversion. It
// allocates nothing.
func (s *ServiceTime) Draw(r *rand.Rand) float64 {
	switch s.kind {
	case exponential:
		return s.mean * r.ExpFloat64()
	case deterministic:
		return s.mean
	case lognormal:
		return math.Exp(s.mu + s.sigma*r.NormFloat64())
	default:
		var sum float64
		for range s.k {
			sum += r.ExpFloat64()
		}
		return s.scale * sum
	}
}
