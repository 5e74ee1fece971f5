package loadgen

import (
	"github.com/kendallqn/kendall/internal/moments"
	"math"
	"slices"
	"testing"
	"time"
)

// gapsOf returns the first n gaps of p's schedule, in seconds.
func gapsOf(p *Pacer, n int) []float64 {
	gaps := make([]float64, n)
	prev := time.Duration(0)
	for k := range n {
		at := p.At(uint64(k))
		gaps[k] = (at - prev).Seconds()
		prev = at
	}
	return gaps
}

// TestPoissonGapsAreExponential checks the gaps of long seeded schedules
// with the Kolmogorov–Smirnov test against the exponential distribution of
// the pacer's rate. The statistic D = sup |F_n(x) − F(x)| is compared with
// its critical value at α = 0.01 for large n, K/√n with
// K = sqrt(−ln(α/2)/2) = 1.628 (Kolmogorov's limit distribution;
// F. J. Massey, "The Kolmogorov–Smirnov test for goodness of fit", JASA
// 46(253), 1951, Table 1). The seeds are fixed, so the test is
// deterministic: it cannot flake, and it fails only if the schedule's
// distribution is wrong. It has the power to see a small error: for these
// seeds D is 0.0020 to 0.0039 against the bound 0.0051, and gaps of a rate
// 2% too high give 0.0057 to 0.0096, 5% too high 0.016 to 0.020.
func TestPoissonGapsAreExponential(t *testing.T) {
	const n = 100_000
	const rate = 250.0
	critical := math.Sqrt(-math.Log(0.01/2)/2) / math.Sqrt(n)
	for _, seed := range []uint64{0, 1, 2, 42, 1 << 40} {
		gaps := gapsOf(NewPacer(Poisson, rate, seed), n)
		sorted := slices.Clone(gaps)
		slices.Sort(sorted)
		var d float64
		for i, x := range sorted {
			f := 1 - math.Exp(-rate*x) // the exponential CDF
			d = max(d, float64(i+1)/n-f, f-float64(i)/n)
		}
		if d > critical {
			t.Errorf("seed %d: KS statistic %.5f exceeds the critical value %.5f at α = 0.01: the gaps are not Exp(%g)", seed, d, critical, rate)
		}

		// The mean gap: the sum of n Exp(λ) gaps has standard deviation
		// √n/λ, so the mean is within 4/(λ√n) but with probability 6e-5.
		var m moments.Moments
		for _, g := range gaps {
			m.Add(g)
		}
		if math.Abs(m.Mean()*rate-1) > 4/math.Sqrt(n) {
			t.Errorf("seed %d: mean gap %.6fs, want %.6fs", seed, m.Mean(), 1/rate)
		}

		// Independence: the lag-1 sample autocorrelation of an
		// independent series is approximately N(0, 1/n) (Bartlett's
		// formula; Box, Jenkins & Reinsel, Time Series Analysis, 4th ed.,
		// 2008, §2.1.6).
		var num, den float64
		for i := range gaps {
			den += (gaps[i] - m.Mean()) * (gaps[i] - m.Mean())
			if i > 0 {
				num += (gaps[i] - m.Mean()) * (gaps[i-1] - m.Mean())
			}
		}
		if r1 := num / den; math.Abs(r1) > 4/math.Sqrt(n) {
			t.Errorf("seed %d: lag-1 autocorrelation of the gaps %.4f, want about 0 (|r| < %.4f)", seed, r1, 4/math.Sqrt(n))
		}
	}
}

func TestPacerIsDeterministic(t *testing.T) {
	a, b := NewPacer(Poisson, 100, 7), NewPacer(Poisson, 100, 7)
	other := NewPacer(Poisson, 100, 8)
	stream := newPacer(Poisson, 100, 7, 1)
	var same, differs, streamDiffers bool = true, false, false
	for k := range uint64(1000) {
		x := a.At(k)
		same = same && x == b.At(k)
		differs = differs || x != other.At(k)
		streamDiffers = streamDiffers || x != stream.At(k)
	}
	if !same {
		t.Error("two pacers with the same seed gave different schedules")
	}
	if !differs || !streamDiffers {
		t.Error("pacers with different seeds or streams gave the same schedule")
	}
	// Asking again for an earlier hit regenerates the same schedule.
	want := a.At(10)
	a.At(500)
	if got := a.At(10); got != want {
		t.Errorf("At(10) after At(500) = %v, want %v", got, want)
	}
}

// TestPacerScheduleIsAbsolute checks that a hit's due time does not depend
// on when the hits before it were sent: a late hit does not delay the next.
func TestPacerScheduleIsAbsolute(t *testing.T) {
	p := NewPacer(Poisson, 100, 3)
	ref := NewPacer(Poisson, 100, 3)
	// Hit 0 sent on time, hit 1 very late, then the others.
	for hits, elapsed := range []time.Duration{0, 0, 5 * time.Second, 5 * time.Second} {
		wait, stop := p.Pace(elapsed, uint64(hits))
		if stop {
			t.Fatalf("Pace(%v, %d) stopped", elapsed, hits)
		}
		due := ref.At(uint64(hits))
		want := max(due-elapsed, 0)
		if wait != want {
			t.Errorf("Pace(%v, %d) = %v, want %v (hit due at %v)", elapsed, hits, wait, want, due)
		}
	}
	// Far behind: every hit due is sent at once.
	if wait, _ := p.Pace(time.Hour, 10); wait != 0 {
		t.Errorf("Pace when behind = %v, want 0", wait)
	}
	if got := p.At(10); got != ref.At(10) {
		t.Errorf("the schedule moved: At(10) = %v, want %v", got, ref.At(10))
	}
}

func TestConstantPacer(t *testing.T) {
	p := NewPacer(Constant, 200, 99)
	for k := range uint64(1000) {
		want := time.Duration(float64(k+1) / 200 * 1e9)
		if got := p.At(k); (got - want).Abs() > time.Microsecond {
			t.Fatalf("At(%d) = %v, want %v", k, got, want)
		}
	}
	if r := p.Rate(0); r != 200 {
		t.Errorf("Rate = %v, want 200", r)
	}
}

func TestPacerStopsOnBadRate(t *testing.T) {
	for _, r := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if _, stop := NewPacer(Poisson, r, 1).Pace(0, 0); !stop {
			t.Errorf("rate %v: Pace did not stop", r)
		}
	}
}

func TestParseArrivals(t *testing.T) {
	for in, want := range map[string]Arrivals{"poisson": Poisson, "Poisson": Poisson, " constant ": Constant} {
		got, err := ParseArrivals(in)
		if err != nil || got != want {
			t.Errorf("ParseArrivals(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseArrivals("bursty"); err == nil {
		t.Error("ParseArrivals(bursty) succeeded")
	}
}
