package model

import (
	"math"
	"math/cmplx"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// TestMDcOneServer checks the M/D/c transform at c = 1 against the
// Pollaczek–Khinchine transform of the M/D/1 wait written out here,
// (1 - ρ)s/(s - λ(1 - e^{-sD})), from small to large |s|.
func TestMDcOneServer(t *testing.T) {
	for _, rho := range []float64{0.3, 0.9, 0.99} {
		q := newMDc(rho, 1, 1, ErlangC(rho, 1))
		checkRel(t, "P(wait)", q.pWait, rho, 1e-12)
		checkRel(t, "mean wait", q.meanWait, rho/(2*(1-rho)), 1e-12)
		for _, s := range []complex128{1e-3, 0.5, complex(2, 7), complex(0.1, 300), complex(50, -1e4)} {
			oneMinus := 1 - cmplx.Exp(-s)
			if imag(s) == 0 {
				oneMinus = complex(-math.Expm1(-real(s)), 0) // no cancellation near 0
			}
			want := complex(1-rho, 0) * s / (s - complex(rho, 0)*oneMinus)
			if got := q.waitLST(s); cmplx.Abs(got-want) > 1e-12 {
				t.Errorf("rho=%v s=%v: W*(s) = %v, want %v", rho, s, got, want)
			}
		}
	}
}

// TestMDcTransform checks the M/D/c transform against the closed forms
// of the same solution: W*(0) = 1, W*(∞) = P(no wait), and minus its
// slope at 0 is the mean wait (a central difference, the transform being
// analytic about 0). And at c = 256 nothing overflows; above, no
// transform is kept.
func TestMDcTransform(t *testing.T) {
	if q := newMDc(950, 1, 1000, ErlangC(950, 1000)); q.inv != nil {
		t.Error("c=1000: the transform's roots were kept")
	}
	for _, c := range []int{2, 8, 64, 256} {
		for _, rho := range []float64{0.7, 0.95} {
			q := newMDc(rho*float64(c), 1, c, ErlangC(rho*float64(c), c))
			if q.pWait <= 0 || q.pWait > ErlangC(rho*float64(c), c) {
				t.Errorf("c=%d rho=%v: P(wait) %v not in (0, Erlang C)", c, rho, q.pWait)
			}
			checkRel(t, "W*(0)", real(q.waitLST(1e-300)), 1, 1e-12)
			checkRel(t, "W*(∞)", real(q.waitLST(1e13)), 1-q.pWait, 1e-9)
			for _, s := range []complex128{complex(3, 1e5), complex(1e3, 1e3), complex(1e-2, 40)} {
				if v := q.waitLST(s); cmplx.IsNaN(v) || cmplx.IsInf(v) || cmplx.Abs(v) > 1+1e-9 {
					t.Errorf("c=%d rho=%v: W*(%v) = %v", c, rho, s, v)
				}
			}
			h := 1e-4 * q.pWait / q.meanWait
			if q.pWait < 1e-6 {
				continue // the difference quotient would be rounding
			}
			slope := real(q.waitLST(complex(-h, 0))-q.waitLST(complex(h, 0))) / (2 * h)
			checkRel(t, "mean wait from the transform", slope, q.meanWait, 1e-5)
		}
	}
}

// TestLognormalFit checks the lognormal's mixture of Erlangs against
// gonum's lognormal: weights that are probabilities, the exact mean, a
// transform that is 1 at 0 with slope minus the mean, and quantiles within
// 1% of the lognormal's from its 0.9 to its 10⁻⁴ survival level, 3% down
// to 10⁻⁷ (1.5% and 3.5% for cv = 10).
func TestLognormalFit(t *testing.T) {
	const m = 0.02
	for _, cv := range []float64{0.01, 0.05, 0.25, 0.5, 1, 1.5, 2, 4, 10} {
		body, tail := 0.01, 0.03
		switch cv {
		case 10:
			body, tail = 0.015, 0.035
		case 0.01, 0.05: // one Erlang (fitMaxOrder)
			body, tail = 0.005, 0.015
		}
		scv := cv * cv
		f := lognormalFit(m, scv)
		var mean, total float64
		for i := range f.w {
			if !(f.w[i] >= 0 && f.w[i] <= 1 && f.rate[i] > 0) {
				t.Errorf("cv=%v: node %d weight %v rate %v", cv, i, f.w[i], f.rate[i])
			}
			total += f.w[i]
			mean += f.w[i] * float64(f.k) / f.rate[i]
		}
		checkRel(t, "weights", total, 1, 1e-12)
		checkRel(t, "mean", mean, m, 1e-12)
		checkRel(t, "lst(0)", real(f.lst(0)), 1, 1e-14)
		h := 1e-7 / m
		checkRel(t, "lst slope", (1-real(f.lst(complex(h, 0))))/h, m, 1e-4) // rounding: h is small
		s2 := math.Log1p(scv)
		ln := distuv.LogNormal{Mu: math.Log(m) - s2/2, Sigma: math.Sqrt(s2)}
		for _, level := range []float64{0.9, 0.5, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7} {
			want := ln.Quantile(1 - level)
			lo, hi := want/4, want*4 // bisection on the fit's survival function
			for range 100 {
				if mid := math.Sqrt(lo * hi); f.survival(mid) > level {
					lo = mid
				} else {
					hi = mid
				}
			}
			got := lo
			tol := body
			if level < 1e-4 {
				tol = tail
			}
			if rel := math.Abs(got-want) / want; rel > tol {
				t.Errorf("cv=%v: quantile at survival %g is %.5g, lognormal's %.5g: off by %.2f%%", cv, level, got, want, 100*rel)
			}
		}
	}
}

// TestGIScale checks the wait for non-Poisson arrivals: QNA's ratio
// (ca² + cs²)/(1 + cs²) for several servers, times Kraemer and
// Langenbach-Belz's correction for one with ca² < 1; P(wait) unchanged;
// labelled approximate; and ca² = 1 leaves the M/M/c station bit for bit.
func TestGIScale(t *testing.T) {
	svc := func(d topology.Distribution) *topology.Service {
		return &topology.Service{Name: "s", ServiceTime: 10 * time.Millisecond, Distribution: d}
	}
	exp := svc(topology.Distribution{Kind: topology.Exponential})
	q := MMc{Lambda: 300, Mu: 100, C: 4}
	st := newStation(exp, 300, 4, 1)
	if st.meanWait != q.MeanWait() || st.pWait != q.WaitProbability() || st.theta != 100*4-300 {
		t.Errorf("ca² = 1 changed the M/M/4 station: %+v", st)
	}
	for _, c := range []struct {
		servers  int
		rho, ca2 float64
		d        topology.Distribution
		want     float64
	}{
		{4, 0.75, 0.5, topology.Distribution{Kind: topology.Exponential}, 0.75},
		{4, 0.75, 2, topology.Distribution{Kind: topology.Lognormal, CV: 2}, 6.0 / 5},
		{1, 0.5, 0.25, topology.Distribution{Kind: topology.Erlang, K: 2}, (0.25 + 0.5) / 1.5 * math.Exp(-2*0.5*0.75*0.75/(3*0.5*0.75))},
		{1, 0.5, 3, topology.Distribution{Kind: topology.Deterministic}, 3},
	} {
		lambda := c.rho * float64(c.servers) / 0.01
		poisson := newStation(svc(c.d), lambda, c.servers, 1)
		gi := newStation(svc(c.d), lambda, c.servers, c.ca2)
		checkRel(t, c.d.String()+" scaled mean wait", gi.meanWait, poisson.meanWait*c.want, 1e-12)
		checkRel(t, c.d.String()+" P(wait)", gi.pWait, poisson.pWait, 0)
		if m := gi.method(); m.waitExact || m.shapeExact || !strings.Contains(m.wait, "QNA") {
			t.Errorf("%s with ca² = %v: method %+v", c.d, c.ca2, m)
		}
		// The percentiles follow the scaled wait: a longer mean wait, a
		// later 99th percentile.
		pp := percentiles(poisson.survival(), poisson.meanResponse(), poisson.sojournVariance())
		pg := percentiles(gi.survival(), gi.meanResponse(), gi.sojournVariance())
		if (c.want > 1) != (pg.P99 > pp.P99) {
			t.Errorf("%s with ca² = %v: p99 %v against %v with Poisson arrivals", c.d, c.ca2, pg.P99, pp.P99)
		}
	}
}

// TestMDcSpitzer checks the two exact methods against each other where
// both run: Spitzer's series, which the station uses above
// mdcTransformMax workers, and the roots.
func TestMDcSpitzer(t *testing.T) {
	for _, c := range []int{2, 8, 64, 300, 1000} {
		for _, rho := range []float64{0.5, 0.9, 0.99} {
			a := rho * float64(c)
			cf := float64(c)
			if cf*math.Log(cf/a)-(cf-a) < 40.0/spitzerMaxTerms {
				continue // the series would be cut short: the roots' case
			}
			roots := &mdc{lambda: a, d: 1, a: a, c: c}
			roots.solveRoots()
			p, w := mdcSpitzer(a, c, 1)
			// The roots' rounding floor is about c·1e-16, absolute.
			floor := 1e-14 * cf
			if d := math.Abs(p - roots.pWait); d > 1e-9*p+floor {
				t.Errorf("c=%d rho=%v: P(wait) %.17g by Spitzer, %.17g by the roots", c, rho, p, roots.pWait)
			}
			if d := math.Abs(w - roots.meanWait); d > 1e-9*w+floor {
				t.Errorf("c=%d rho=%v: mean wait %.17g by Spitzer, %.17g by the roots", c, rho, w, roots.meanWait)
			}
		}
	}
}

// TestLognormalCV1NotExponential: a lognormal with cv = 1 has the
// exponential's two moments but a heavier tail; it used to be treated as
// the exponential. Its station is approximate, and its p99.9 on one worker
// at ρ = 0.3 lies above the M/M/1's (0.0987 s), near the simulation's
// 0.1325 ± 0.0013 s (testdata/station_sim.tsv).
func TestLognormalCV1NotExponential(t *testing.T) {
	p := single(t, 30, 1, 10*time.Millisecond, topology.Distribution{Kind: topology.Lognormal, CV: 1})
	s := p.Services[0]
	if !s.Approximate || s.Labels[result.FigPercentiles].Exact {
		t.Errorf("lognormal cv=1 labelled %+v", s.Labels)
	}
	checkRel(t, "p99.9", s.Percentiles.P999, 0.1325, 0.02)
}
