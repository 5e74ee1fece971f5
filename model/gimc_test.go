package model

import (
	"fmt"
	"math"
	"strconv"
	"testing"
)

// TestGIMcReference holds the GI/M/c solution (gimc.go: the root σ, the
// censored chain of the numbers found, uniformization and GTH) to
// testdata/gimc.tsv, computed by gimc.py at 40 digits by other methods:
// the continuous-time chain of the E_k/M/c queue and, for D/M/c, the
// backward recursion on the chain of numbers found.
func TestGIMcReference(t *testing.T) {
	const tol = 1e-12 // as gimc.tsv's header says
	worst := map[string]float64{}
	for _, row := range readTable(t, "gimc.tsv") {
		c, lambda := int(num(t, row, "c")), num(t, row, "lambda")
		t.Run("k="+row["k"]+",c="+row["c"]+",rho="+row["rho"], func(t *testing.T) {
			arr := deterministicArrivals(lambda)
			if row["k"] != "D" {
				k, err := strconv.Atoi(row["k"])
				if err != nil {
					t.Fatal(err)
				}
				arr = erlangArrivals(k, lambda)
			}
			q := newGIMc(arr, 1, c)
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"sigma", q.sigma, num(t, row, "sigma")},
				{"wait probability", q.pWait, num(t, row, "wait_probability")},
				{"mean wait", q.meanWait, num(t, row, "mean_wait")},
				{"P(W > t1)", q.waitSurvival(num(t, row, "t1")), num(t, row, "survival_t1")},
				{"P(W > t2)", q.waitSurvival(num(t, row, "t2")), num(t, row, "survival_t2")},
			} {
				checkRel(t, f.name, f.got, f.want, tol)
				worst[f.name] = max(worst[f.name], math.Abs(f.got-f.want)/f.want)
			}
		})
	}
	t.Logf("largest relative errors: %v", worst)
}

// TestGIMcErlangC holds exponential interarrivals (Erlang-1) to M/M/c
// (mmc.go, Erlang C), from light traffic to within 1e-4 of saturation
// and up to 256 servers. θ = cμ(1 - σ) and the mean wait have condition
// number 1/(1 - ρ) in λ (a relative change ε in λ moves them by
// ε/(1 - ρ)), which MMc's θ = cμ - λ hides, being exact for the rounded λ;
// so their tolerance grows past ρ = 0.999.
func TestGIMcErlangC(t *testing.T) {
	for _, c := range []int{1, 2, 3, 5, 8, 16, 64, 256} {
		for _, rho := range []float64{0.05, 0.3, 0.7, 0.9, 0.99, 0.9999} {
			t.Run(fmt.Sprintf("c=%d,rho=%g", c, rho), func(t *testing.T) {
				m := MMc{Lambda: rho * float64(c), Mu: 1, C: c}
				q := newGIMc(erlangArrivals(1, m.Lambda), m.Mu, c)
				conditioned := max(1e-12, 1e-15/(1-rho))
				checkRel(t, "sigma", q.sigma, rho, 1e-12)
				checkRel(t, "wait probability", q.pWait, m.WaitProbability(), 1e-12)
				checkRel(t, "mean wait", q.meanWait, m.MeanWait(), conditioned)
				checkRel(t, "theta", q.theta, m.waitRate(), conditioned)
			})
		}
	}
}

// TestGIMcE2M1 holds Erlang-2 arrivals to one server to the closed form of
// E_2/M/1. With A*(s) = (2λ/(2λ + s))², (1) for c = 1 and u = 1 - σ reads
// (1 - u)(2ρ + u)² = 4ρ², ρ = λ/μ, that is u(u² + (4ρ - 1)u - 4ρ(1 - ρ)) = 0,
// whose root in (0, 1) gives σ = (1 + 4ρ - √(1 + 8ρ))/2 (the E_r/M/1 queue
// by the method of stages: Kleinrock, Queueing Systems Vol. 1, 1975, ch. 4;
// for c = 1, P(wait) = σ and Wq = σ/(μ(1 - σ)), Gross et al. 2008, §5.3).
func TestGIMcE2M1(t *testing.T) {
	for _, rho := range []float64{0.01, 0.1, 0.5, 0.8, 0.95, 0.999} {
		sigma := (1 + 4*rho - math.Sqrt(1+8*rho)) / 2
		q := newGIMc(erlangArrivals(2, rho), 1, 1)
		name := fmt.Sprintf("rho=%g: ", rho)
		checkRel(t, name+"sigma", q.sigma, sigma, 1e-12)
		checkRel(t, name+"wait probability", q.pWait, sigma, 1e-12)
		checkRel(t, name+"mean wait", q.meanWait, sigma/(1-sigma), 1e-9) // 1 - σ is ~1e-3 at 0.999
	}
}

// TestGIMcManyPhases checks that Erlang-k arrivals tend to deterministic
// ones as k grows (the relative difference in P(wait) falls like 1/k, by a
// factor near 10 a decade) and that nothing breaks down at ten thousand
// phases or at a thousand servers.
func TestGIMcManyPhases(t *testing.T) {
	for _, c := range []int{1, 8, 1000} {
		lambda := 0.9 * float64(c)
		d := newGIMc(deterministicArrivals(lambda), 1, c)
		prev := math.Inf(1)
		for _, k := range []int{10, 100, 1000, 10000} {
			q := newGIMc(erlangArrivals(k, lambda), 1, c)
			diff := math.Abs(q.pWait-d.pWait) / d.pWait
			if !(diff < prev/5) {
				t.Errorf("c=%d, k=%d: P(wait) %.17g is %.3g from D/M/c's %.17g (previous k: %.3g)", c, k, q.pWait, diff, d.pWait, prev)
			}
			prev = diff
		}
		if !(prev < 0.01) {
			t.Errorf("c=%d: Erlang-10000 is %.3g from D/M/c", c, prev)
		}
	}
}

// TestGIMcUnstable: at or above saturation every arrival waits forever;
// nonsense gives NaN.
func TestGIMcUnstable(t *testing.T) {
	for _, rho := range []float64{1, 1.5} {
		q := newGIMc(erlangArrivals(3, rho*4), 1, 4)
		if q.pWait != 1 || !math.IsInf(q.meanWait, 1) || q.sigma != 1 || q.theta != 0 {
			t.Errorf("rho=%g: %+v, want P(wait) 1, mean wait +Inf", rho, q)
		}
	}
	for _, q := range []gimc{
		newGIMc(erlangArrivals(3, 1), 1, 0),
		newGIMc(erlangArrivals(3, 1), 0, 2),
		newGIMc(erlangArrivals(3, math.NaN()), 1, 2),
		newGIMc(deterministicArrivals(-1), 1, 2),
	} {
		if !math.IsNaN(q.pWait) || !math.IsNaN(q.meanWait) {
			t.Errorf("invalid arguments gave %+v, want NaN", q)
		}
	}
}
