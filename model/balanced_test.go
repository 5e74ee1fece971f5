package model

import (
	"fmt"
	"math"
	"testing"

	"github.com/kendallqn/kendall/topology"
)

func policyNamed(t *testing.T, s string) topology.Balancer {
	t.Helper()
	switch s {
	case "jsq":
		return topology.BalancerLeastRequests
	case "p2":
		return topology.BalancerPowerOfTwo
	case "random":
		return topology.BalancerRandom
	}
	t.Fatalf("policy %q", s)
	return ""
}

// TestBalancedReference holds approxBalancedWait to the exact chain of
// testdata/balanced.tsv (balanced.py: single-worker replicas, exponential
// service, one balancer), and logs the errors (go test -v -run
// BalancedReference).
func TestBalancedReference(t *testing.T) {
	for _, row := range readTable(t, "balanced.tsv") {
		pol := policyNamed(t, row["policy"])
		n, rho := int(num(t, row, "n")), num(t, row, "rho")
		b := approxBalancedWait(pol, n, 1, rho, 1, 1, 1)
		pw, mw := num(t, row, "wait_probability"), num(t, row, "mean_wait")
		line := fmt.Sprintf("%-3s n=%d ρ=%-4g P(wait) %.4f/%.4f %+6.1f%%  mean %.4f/%.4f %+6.1f%%",
			row["policy"], n, rho, b.pWait, pw, 100*(b.pWait/pw-1), b.meanWait, mw, 100*(b.meanWait/mw-1))
		// The tolerances: about twice the largest error seen.
		tolP, tolW := 0.02, 0.04
		if pol == topology.BalancerPowerOfTwo {
			tolP, tolW = 0.06, 0.10
		}
		for _, l := range []struct {
			col string
			p   float64
		}{{"w90", 0.9}, {"w99", 0.99}} {
			want := num(t, row, l.col)
			got := b.quantile(l.p)
			line += fmt.Sprintf("  %s %+6.1f%%", l.col, 100*(got/want-1))
			if math.Abs(got/want-1) > tolW {
				t.Errorf("%s: %s = %g, want %g within %g", line, l.col, got, want, tolW)
			}
		}
		t.Log(line)
		if math.Abs(b.pWait/pw-1) > tolP || math.Abs(b.meanWait/mw-1) > tolW {
			t.Errorf("%s: beyond %g in P(wait) or %g in the mean", line, tolP, tolW)
		}
	}
}

// TestBalancedShape checks that the distribution is the one whose
// figures are reported: P(W > 0+) is P(wait), and ∫ P(W > t) dt the mean.
func TestBalancedShape(t *testing.T) {
	for _, tc := range []struct {
		pol     topology.Balancer
		n, c, m int
		rho     float64
		cs2     float64
	}{
		{topology.BalancerLeastRequests, 3, 1, 1, 0.9, 1},
		{topology.BalancerPowerOfTwo, 5, 1, 1, 0.7, 1},
		{topology.BalancerPowerOfTwo, 20, 4, 1, 0.95, 0},
		{topology.BalancerPowerOfTwo, 8, 2, 3, 0.8, 4},
		{topology.BalancerLeastRequests, 50, 1, 1, 0.98, 16},
	} {
		b := approxBalancedWait(tc.pol, tc.n, tc.c, tc.rho, 0.02, tc.cs2, tc.m)
		checkRel(t, "P(W > 0+)", b.survival(1e-15), b.pWait, 1e-9)
		// ∫ survival by the trapezoid rule on a fine grid out to where it
		// is negligible.
		hi := b.meanWait
		for b.survival(hi) > 1e-13 {
			hi *= 2
		}
		const steps = 200000
		dt := hi / steps
		var s float64
		for i := range steps + 1 {
			w := 1.0
			if i == 0 || i == steps {
				w = 0.5
			}
			s += w * b.survival(float64(i)*dt)
		}
		// The atom at 0 makes the first trapezoid off by (1 - P)dt/2.
		s = s*dt - (1-b.pWait)*dt/2
		checkRel(t, fmt.Sprintf("%s n=%d c=%d ρ=%g: ∫P(W>t)dt", tc.pol, tc.n, tc.c, tc.rho), s, b.meanWait, 1e-3)
	}
}

// TestBalancedLimits pins the cases where the approximation must reduce
// to something known.
func TestBalancedLimits(t *testing.T) {
	// One replica, or random routing: the M/M/c queue.
	for _, pol := range []topology.Balancer{topology.BalancerRandom, topology.BalancerLeastRequests, topology.BalancerPowerOfTwo} {
		b := approxBalancedWait(pol, 1, 3, 0.8, 0.5, 1, 1)
		q := MMc{Lambda: 3 * 0.8 / 0.5, Mu: 2, C: 3}
		checkRel(t, string(pol)+" n=1 P(wait)", b.pWait, q.WaitProbability(), 1e-12)
		checkRel(t, string(pol)+" n=1 mean", b.meanWait, q.MeanWait(), 1e-12)
		checkRel(t, string(pol)+" n=1 p99", b.quantile(0.99), math.Log(q.WaitProbability()/0.01)/q.waitRate(), 1e-9)
	}
	// Random routing with other service times: mgcApprox's M/G/c.
	for _, cs2 := range []float64{0, 0.5, 4} {
		b := approxBalancedWait(topology.BalancerRandom, 4, 2, 0.8, 0.5, cs2, 3)
		q := MMc{Lambda: 2 * 0.8 / 0.5, Mu: 2, C: 2}
		g := mgcApprox(q, 0.5, cs2)
		checkRel(t, "random M/G/c P(wait)", b.pWait, g.pWait, 1e-12)
		checkRel(t, "random M/G/c mean", b.meanWait, g.meanWait, 1e-12)
	}
	if b := approxBalancedWait(topology.BalancerLeastRequests, 4, 2, 1, 1, 1, 1); b.pWait != 1 || !math.IsInf(b.meanWait, 1) {
		t.Errorf("ρ = 1: P(wait) %g, mean %g; want 1 and +Inf", b.pWait, b.meanWait)
	}
	// Two replicas: power-of-two is least-requests.
	for _, rho := range []float64{0.3, 0.9} {
		for _, cs2 := range []float64{0, 1, 4} {
			a := approxBalancedWait(topology.BalancerLeastRequests, 2, 2, rho, 1, cs2, 1)
			b := approxBalancedWait(topology.BalancerPowerOfTwo, 2, 2, rho, 1, cs2, 1)
			checkRel(t, "n=2 P(wait)", b.pWait, a.pWait, 1e-12)
			checkRel(t, "n=2 mean", b.meanWait, a.meanWait, 1e-12)
			checkRel(t, "n=2 p99", b.quantile(0.99), a.quantile(0.99), 1e-9)
		}
	}
	// Many replicas: power-of-two tends to the supermarket model,
	// E[Wq] = Σ_{k≥2} ρ^{2^k-2} (Mitzenmacher 2001, for one worker), as
	// 1 - 1/(2√n) for n = 10⁴.
	for _, rho := range []float64{0.5, 0.9, 0.95} {
		var want float64
		for k := 2; k < 40; k++ {
			want += math.Pow(rho, math.Pow(2, float64(k))-2)
		}
		b := approxBalancedWait(topology.BalancerPowerOfTwo, topology.MaxReplicas, 1, rho, 1, 1, 1)
		checkRel(t, fmt.Sprintf("supermarket ρ=%g", rho), b.meanWait, want, 6e-3)
		checkRel(t, fmt.Sprintf("supermarket ρ=%g P(wait)", rho), b.pWait, rho*rho, 6e-3)
	}
	// Many balancers: random routing; one: the single balancer.
	for _, pol := range []topology.Balancer{topology.BalancerLeastRequests, topology.BalancerPowerOfTwo} {
		r := approxBalancedWait(topology.BalancerRandom, 5, 2, 0.8, 1, 2, 1)
		one := approxBalancedWait(pol, 5, 2, 0.8, 1, 2, 1)
		many := approxBalancedWait(pol, 5, 2, 0.8, 1, 2, 1e9)
		checkRel(t, string(pol)+" M→∞ mean", many.meanWait, r.meanWait, 1e-6)
		if one.meanWait >= r.meanWait {
			t.Errorf("%s: one balancer waits %g, random routing %g", pol, one.meanWait, r.meanWait)
		}
		prev := one.meanWait
		for _, m := range []int{2, 4, 16, 256} {
			b := approxBalancedWait(pol, 5, 2, 0.8, 1, 2, m)
			if !(b.meanWait > prev && b.meanWait < r.meanWait) {
				t.Errorf("%s M=%d: mean wait %g not between %g and %g", pol, m, b.meanWait, prev, r.meanWait)
			}
			prev = b.meanWait
		}
	}
	// cs²: one worker, P(wait) unchanged and the wait scaled by (1+cs²)/2.
	e := approxBalancedWait(topology.BalancerLeastRequests, 4, 1, 0.7, 1, 1, 1)
	d := approxBalancedWait(topology.BalancerLeastRequests, 4, 1, 0.7, 1, 0, 1)
	checkRel(t, "cs²=0 P(wait)", d.pWait, e.pWait, 1e-12)
	checkRel(t, "cs²=0 mean", d.meanWait, e.meanWait/2, 1e-9)
}

func BenchmarkBalancedWait(b *testing.B) {
	for _, n := range []int{3, 100, 10000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := approxBalancedWait(topology.BalancerPowerOfTwo, n, 4, 0.9, 1, 2, 3)
				_ = w.quantile(0.99)
			}
		})
	}
}

// TestBalancedSimulated holds approxBalancedWait to the simulation of
// testdata/balanced_sim.tsv (balanced_sim.py), for more replicas than the
// exact chain can hold and for several balancers, within the errors the
// doc comment reports (plus the simulation's noise), and logs them.
func TestBalancedSimulated(t *testing.T) {
	for _, row := range readTable(t, "balanced_sim.tsv") {
		pol := policyNamed(t, row["policy"])
		n, rho, m := int(num(t, row, "n")), num(t, row, "rho"), int(num(t, row, "M"))
		b := approxBalancedWait(pol, n, 1, rho, 1, 1, m)
		pw := (num(t, row, "p_wait_1") + num(t, row, "p_wait_2")) / 2
		mw := (num(t, row, "mean_wait_1") + num(t, row, "mean_wait_2")) / 2
		line := fmt.Sprintf("%-3s n=%-2d ρ=%-6g M=%-2d P(wait) %.4f/%.4f %+6.1f%%  mean %.4f/%.4f %+6.1f%%",
			row["policy"], n, rho, m, b.pWait, pw, 100*(b.pWait/pw-1), b.meanWait, mw, 100*(b.meanWait/mw-1))
		t.Log(line)
		if math.Abs(b.pWait/pw-1) > 0.15 || math.Abs(b.meanWait/mw-1) > 0.15 {
			t.Errorf("%s: beyond 15%%", line)
		}
	}
}
