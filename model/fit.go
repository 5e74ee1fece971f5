package model

import (
	"math"
	"sync"
)

// hyperExp is a mixture of exponentials: with probability p[i], an
// exponential of rate r[i].
type hyperExp struct {
	p, r []float64
}

// lognormalSurvival is P(S > t) for the lognormal with mean m and squared
// coefficient of variation scv: σ² = ln(1 + cv²), μ = ln m - σ²/2
// (Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions
// Vol. 1, 2nd ed., 1994, §14.3), so P(S > t) = erfc((ln t - μ)/(σ√2))/2.
func lognormalSurvival(m, scv, t float64) float64 {
	if t <= 0 {
		return 1
	}
	s2 := math.Log1p(scv)
	mu := math.Log(m) - s2/2
	return math.Erfc((math.Log(t)-mu)/math.Sqrt(2*s2)) / 2
}

// fitLognormal fits a mixture of exponentials to the lognormal of mean m
// and squared coefficient of variation scv ≥ 1 by the recursive procedure
// of A. Feldmann and W. Whitt, "Fitting mixtures of exponentials to
// long-tail distributions to analyze network performance models",
// Performance Evaluation 31, 1998, §3: the slowest component is fitted to
// the survival function at the two largest times c₁ and q·c₁, then
// subtracted, the next to what remains at c₂ = c₁/b and q·c₂, and so on;
// the last takes the remaining probability and matches at c_k. Each
// component dominates the survival function around its own times, so the
// fit follows the tail over the whole range of the times, here from the
// lognormal's 10⁻⁸ survival quantile down a factor b = 10 at a time to below
// its median, instead of only its first two moments.
//
// The fit's mean is then set to m by scaling time (which keeps the shape):
// the model's means come from the exact moments, and the transform's must
// agree with them, or the Pollaczek–Khinchine transform would describe a
// queue at another load. Its variance is the fit's own: a mixture of
// exponentials cannot carry the whole of a lognormal's variance, which
// lives in the tail beyond 10⁻⁸.
//
// Feldmann and Whitt fit monotone-hazard tails; the lognormal's density
// rises from zero, which no mixture of exponentials can, so below the
// median the fit has too much mass near zero. That error shows in the
// percentiles at light load, and the accuracy table measures it.
func fitLognormal(m, scv float64, b, q float64) hyperExp {
	sigma := math.Sqrt(math.Log1p(scv))
	mu := math.Log(m) - sigma*sigma/2
	// From the 1e-8 survival quantile (z = 5.612) down to a tenth of the
	// median: enough components that each decade of the body has one.
	top := math.Exp(mu + 5.612*sigma)
	bottom := math.Exp(mu) / 10
	k := max(2, int(math.Ceil(math.Log(top/bottom)/math.Log(b)))+1)
	f := func(t float64) float64 { return lognormalSurvival(m, scv, t) }
	var h hyperExp
	rest := func(t float64) float64 { // what the components so far leave
		v := f(t)
		for i := range h.p {
			v -= h.p[i] * math.Exp(-h.r[i]*t)
		}
		return v
	}
	c := top
	for i := 0; i < k-1; i++ {
		f1, f2 := rest(c), rest(q*c)
		if !(f1 > 0 && f2 > 0 && f1 > f2) {
			break // nothing left to fit at this time scale
		}
		rate := math.Log(f1/f2) / ((q - 1) * c)
		p := f1 * math.Exp(rate*c)
		if sum := h.total(); p >= 1-sum {
			break // the rest is the last component's
		}
		h.p, h.r = append(h.p, p), append(h.r, rate)
		c /= b
	}
	// The last component: the remaining probability, matched at c.
	last := 1 - h.total()
	if v := rest(c); last > 0 && v > 0 && v < last {
		h.p, h.r = append(h.p, last), append(h.r, math.Log(last/v)/c)
	} else if last > 0 {
		h.p, h.r = append(h.p, last), append(h.r, 1/c)
	}
	// Scale time so that the mean is m.
	var mean float64
	for i := range h.p {
		mean += h.p[i] / h.r[i]
	}
	for i := range h.r {
		h.r[i] *= mean / m
	}
	return h
}

// moment returns E[S^n] = n!·Σ p_i/r_i^n.
func (h hyperExp) moment(n int) float64 {
	fact := 1.0
	for i := 2; i <= n; i++ {
		fact *= float64(i)
	}
	var s float64
	for i := range h.p {
		s += h.p[i] / math.Pow(h.r[i], float64(n))
	}
	return fact * s
}

func (h hyperExp) lst(z complex128) complex128 {
	var s complex128
	for i := range h.p {
		s += complex(h.p[i], 0) * expLST(h.r[i], z)
	}
	return s
}

func (h hyperExp) survival(t float64) float64 {
	var s float64
	for i := range h.p {
		s += h.p[i] * math.Exp(-h.r[i]*t)
	}
	return s
}

func (h hyperExp) total() float64 {
	var s float64
	for _, p := range h.p {
		s += p
	}
	return s
}

// lognormalFit is the best of Feldmann and Whitt's fits over a few choices
// of their time ratios b and q (they leave the choice to the user, §3):
// the one whose survival function stays closest to the lognormal's, in
// ratio, between the 0.9 and the 10⁻⁷ survival levels, the range the
// sojourn's percentiles draw on. Fits depend on the shape (scv) alone;
// they are computed for mean 1, cached, and scaled.
func lognormalFit(m, scv float64) hyperExp {
	h, ok := fitCache.Load(scv)
	if !ok {
		h, _ = fitCache.LoadOrStore(scv, bestLognormalFit(scv))
	}
	unit := h.(hyperExp)
	out := hyperExp{p: unit.p, r: make([]float64, len(unit.r))}
	for i, r := range unit.r {
		out.r[i] = r / m
	}
	return out
}

var fitCache sync.Map // scv → hyperExp of mean 1

func bestLognormalFit(scv float64) hyperExp {
	sigma := math.Sqrt(math.Log1p(scv))
	mu := -sigma * sigma / 2
	var best hyperExp
	bestErr := math.Inf(1)
	for _, bq := range [][2]float64{{math.Sqrt(10), 1.5}, {math.Sqrt(10), 2}, {4, 2}, {5, 2}, {10, 1.8}} {
		h := fitLognormal(1, scv, bq[0], bq[1])
		var worst float64
		// z from the 0.9 to the 1e-7 survival level of the lognormal.
		for z := -1.2816; z <= 5.2; z += 0.05 {
			t := math.Exp(mu + sigma*z)
			worst = max(worst, math.Abs(math.Log(h.survival(t)/lognormalSurvival(1, scv, t))))
		}
		if worst < bestErr {
			best, bestErr = h, worst
		}
	}
	return best
}
