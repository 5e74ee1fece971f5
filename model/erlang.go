package model

import "math"

// ErlangB is the probability that an arrival finds all c servers busy in an
// M/M/c/c loss system offered a Erlangs (a = λ/μ): Erlang's B formula
// (Kleinrock, Queueing Systems Vol. 1, 1975, §3.7, M/M/m/m).
//
// It uses the recursion B(0) = 1, B(k) = a·B(k-1) / (k + a·B(k-1))
// (Jagerman 1974, "Some properties of the Erlang loss function", Bell Syst.
// Tech. J. 53(3)), in which every step is a ratio in (0, 1]: no factorial,
// no power of a, so nothing overflows for c in the millions and the
// relative error stays near machine precision.
func ErlangB(a float64, c int) float64 {
	if c < 0 || a < 0 || math.IsNaN(a) {
		return math.NaN()
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		ab := a * b
		b = ab / (float64(k) + ab)
	}
	return b
}

// ErlangC is the probability that an arrival must wait in an M/M/c queue
// offered a Erlangs (a = λ/μ, utilization ρ = a/c < 1): Erlang's C formula
// (Kleinrock, Queueing Systems Vol. 1, 1975, §3.5, M/M/m).
//
// It is computed from Erlang B through C = B / (1 - ρ(1 - B))
// (Cooper, Introduction to Queueing Theory, 2nd ed., 1981, §3.5), which
// inherits the stability of the B recursion. It returns 1 when ρ ≥ 1: every
// arrival waits in a queue that grows without bound.
func ErlangC(a float64, c int) float64 {
	if c < 1 || a < 0 || math.IsNaN(a) {
		return math.NaN()
	}
	rho := a / float64(c)
	if rho >= 1 {
		return 1
	}
	b := ErlangB(a, c)
	return b / (1 - rho*(1-b))
}
