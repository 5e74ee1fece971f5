package loadgen

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/internal/random"
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

// TestPacerSkipConstant checks the computed skip of evenly spaced hits
// against a count, hit by hit: it returns the first hit due at or after t.
func TestPacerSkipConstant(t *testing.T) {
	for _, rate := range []float64{3, 1000, 12345.6} {
		p := NewPacer(Constant, rate, 0)
		r := random.Labelled(1, "test", 0)
		next := uint64(0)
		at := time.Duration(0)
		for range 200 {
			at += time.Duration(r.ExpFloat64() * 50 * float64(time.Second) / rate)
			want := next
			for p.At(want) < at {
				want++
			}
			if got := p.skip(next, at); got != want {
				t.Fatalf("rate %g: skip(%d, %v) = %d, want %d", rate, next, at, got, want)
			}
			next = want
		}
	}
}

// TestPacerSkipPoisson checks that skipping keeps Poisson arrivals Poisson.
// Over 2000 seeds at λ = 100, skipping from hit 0 to t = 5 s passes over
// N hits, which must be Poisson(λt) in number: mean and variance 500,
// within 4 standard errors for the mean (√(500/2000) = 0.5) and 15% for the
// variance (the sample variance of n Poisson counts has standard error
// about λ√(2/n) = 3.2%, the Poisson's excess kurtosis 1/λ adding nothing
// to speak of). The first hit after t must come an Exp(λ) gap after it:
// the Kolmogorov–Smirnov statistic of the 2000 gaps is under its critical
// value at α = 0.01, 1.628/√n (Massey 1951, Table 1). The seeds are fixed,
// so the test is deterministic: for them the mean is 500.04, the variance
// 512.3 (+2.5%), and D 0.030 against the bound 0.036.
func TestPacerSkipPoisson(t *testing.T) {
	const n, rate, skipTo = 2000, 100.0, 5 * time.Second
	var counts moments.Moments
	gaps := make([]float64, n)
	for seed := range uint64(n) {
		p := NewPacer(Poisson, rate, seed)
		k := p.skip(0, skipTo)
		counts.Add(float64(k))
		at := p.At(k)
		if at < skipTo {
			t.Fatalf("seed %d: hit %d after the skip is due at %v, before %v", seed, k, at, skipTo)
		}
		gaps[seed] = (at - skipTo).Seconds()
	}
	lt := rate * skipTo.Seconds()
	if m := counts.Mean(); math.Abs(m-lt) > 4*math.Sqrt(lt/n) {
		t.Errorf("mean count skipped %.2f, want %.0f", m, lt)
	}
	if v := counts.Variance(); math.Abs(v/lt-1) > 0.15 {
		t.Errorf("variance of the count skipped %.1f, want %.0f", v, lt)
	}
	slices.Sort(gaps)
	var d float64
	for i, x := range gaps {
		f := 1 - math.Exp(-rate*x)
		d = max(d, float64(i+1)/n-f, f-float64(i)/n)
	}
	t.Logf("count skipped: mean %.2f, variance %.1f; KS of the first gap %.4f", counts.Mean(), counts.Variance(), d)
	if critical := 1.628 / math.Sqrt(n); d > critical {
		t.Errorf("KS statistic of the first gap after a skip %.4f > %.4f: not Exp(%g)", d, critical, rate)
	}
	// Not behind: nothing is skipped.
	p := NewPacer(Poisson, rate, 1)
	if k := p.skip(3, p.At(3)); k != 3 {
		t.Errorf("skip to the due time of hit 3 skipped to %d", k)
	}
}
