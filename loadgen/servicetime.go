package loadgen

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// serviceTime draws the service times of one service from its distribution,
// with the same parameterization as the model and the simulator.
type serviceTime struct {
	dist  topology.Kind
	k     int     // Erlang phases
	mean  float64 // seconds
	mu    float64 // lognormal: mean of log S
	sigma float64 // lognormal: standard deviation of log S
}

func newServiceTime(s *topology.Service) serviceTime {
	d := s.Distribution
	st := serviceTime{dist: topology.Exponential, mean: s.MeanSeconds()}
	switch {
	case d.IsExponential():
	case d.Kind == topology.Deterministic:
		st.dist = topology.Deterministic
	case d.Kind == topology.Lognormal:
		// A lognormal with mean m and coefficient of variation cv has
		// σ² = ln(1 + cv²) and μ = ln m − σ²/2 (Johnson, Kotz &
		// Balakrishnan, Continuous Univariate Distributions Vol. 1, 2nd ed.,
		// 1994, §14.3: E[S] = e^{μ+σ²/2}, Var[S] = E[S]²(e^{σ²} − 1)).
		st.dist = topology.Lognormal
		s2 := math.Log1p(d.CV * d.CV)
		st.sigma = math.Sqrt(s2)
		st.mu = math.Log(st.mean) - s2/2
	case d.Kind == topology.Erlang:
		// Erlang-k with mean m is the sum of k exponential phases of mean
		// m/k (Kleinrock, Queueing Systems Vol. 1, 1975, §4.3).
		st.dist = topology.Erlang
		st.k = d.K
	}
	return st
}

// draw returns one service time.
func (s *serviceTime) draw(r *rand.Rand) time.Duration {
	return secondsToDuration(s.drawSeconds(r))
}

func (s *serviceTime) drawSeconds(r *rand.Rand) float64 {
	switch s.dist {
	case topology.Deterministic:
		return s.mean
	case topology.Lognormal:
		return math.Exp(s.mu + s.sigma*r.NormFloat64())
	case topology.Erlang:
		var sum float64
		for range s.k {
			sum += r.ExpFloat64()
		}
		return s.mean / float64(s.k) * sum
	default:
		// Ziggurat exponential (Marsaglia & Tsang, J. Stat. Softw. 5(8),
		// 2000).
		return s.mean * r.ExpFloat64()
	}
}
