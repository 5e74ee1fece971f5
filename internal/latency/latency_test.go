package latency

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TestQuantileMidpoint checks that a quantile is the middle of the HDR
// bucket that holds it, for the standard geometry and a coarser one.
func TestQuantileMidpoint(t *testing.T) {
	for _, h := range []*hdrhistogram.Histogram{NewHistogram(), hdrhistogram.New(1000, 1<<40, 2)} {
		for _, v := range []int64{1500, 2047, 2048, 4095, 4096, 1e6, 123456789, 1 << 38} {
			h.Reset()
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
			lo := lowestEquivalent(h, v)
			hi := h.ValueAtQuantile(50)
			if !h.ValuesAreEquivalent(lo, v) || (lo > 0 && h.ValuesAreEquivalent(lo-1, v)) || !h.ValuesAreEquivalent(hi, v) {
				t.Fatalf("value %d: bucket [%d, %d] is not HDR's", v, lo, hi)
			}
			want := (float64(lo) + float64(hi)) / 2 / 1e9
			if got := Quantile(h, 0.5); got != want {
				t.Errorf("value %d (%d digits): quantile %.12g, want the bucket's middle %.12g", v, h.SignificantFigures(), got, want)
			}
			// Relative precision holds above the lowest discernible value
			// times 10^digits; below, buckets are that value wide.
			precise := float64(v) >= float64(h.LowestTrackableValue())*math.Pow(10, float64(h.SignificantFigures()))
			if rel := math.Abs(Quantile(h, 0.5)*1e9-float64(v)) / float64(v); precise && rel > math.Pow(10, -float64(h.SignificantFigures())) {
				t.Errorf("value %d: quantile off by %.2g, more than the histogram's precision", v, rel)
			}
		}
	}
}

// TestSurvival checks the empirical CCDF of a uniform sample: P(T > t) =
// 1 - t for values 1..1000 ms spread evenly.
func TestSurvival(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 1000; i++ {
		Record(h, time.Duration(i)*time.Millisecond)
	}
	got := Survival(h, []float64{0.5, 0, 0.25, 2, 0.999})
	want := []float64{0.5, 1, 0.75, 0, 0.001}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 0.002 {
			t.Errorf("survival at %d: %.4f, want %.4f", i, got[i], want[i])
		}
	}
	if s := Survival(NewHistogram(), []float64{1}); !math.IsNaN(s[0]) {
		t.Errorf("empty histogram: %v, want NaN", s)
	}
}

func TestNanosClamps(t *testing.T) {
	for _, c := range []struct {
		sec     float64
		ns      int64
		clamped bool
	}{{0.0015, 1_500_000, false}, {-1, 0, false}, {1e6, Highest, true}, {math.NaN(), Highest, true}} {
		if ns, cl := Nanos(c.sec); ns != c.ns || cl != c.clamped {
			t.Errorf("Nanos(%v) = %d, %v; want %d, %v", c.sec, ns, cl, c.ns, c.clamped)
		}
	}
}

// TestInterpolatedQuantile checks the interpolated quantile against the
// same reading done by hand from HDR's bars (the count below the bucket and
// in it), and that it inverts Survival, on a skewed sample at two and three
// digits, from the median to past the largest value's bucket.
func TestInterpolatedQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, digits := range []int{2, 3} {
		g := Growing{Digits: digits}
		for range 50_000 {
			g.Record(int64(1e6 * r.ExpFloat64() * (1 + 9*float64(r.IntN(20)/19)))) // a mixture: 1 ms and 10 ms
		}
		h := g.Histogram()
		bars := h.Distribution()
		n := float64(h.TotalCount())
		for _, p := range []float64{1e-6, 0.01, 0.5, 0.9, 0.99, 0.999, 0.9999, 1 - 1e-9} {
			got := InterpolatedQuantile(h, p)
			// By hand: the first bar whose cumulative count reaches p·n.
			var below float64
			want := math.NaN()
			for _, b := range bars {
				if c := float64(b.Count); c > 0 && below+c >= p*n {
					want = (float64(b.From) + (p*n-below)/c*float64(b.To+1-b.From)) / 1e9
					break
				}
				below += float64(b.Count)
			}
			if math.Abs(got-want) > 1e-12*want {
				t.Errorf("%d digits, p = %g: %.12g s, by hand %.12g s", digits, p, got, want)
			}
			if s := Survival(h, []float64{got})[0]; math.Abs(s-(1-p)) > 1e-9 {
				t.Errorf("%d digits, p = %g: Survival at the quantile is %.12g, want %.12g", digits, p, s, 1-p)
			}
		}
		if a := testing.AllocsPerRun(10, func() { InterpolatedQuantile(h, 0.99) }); a != 0 {
			t.Errorf("%d digits: %v allocations per quantile, want none", digits, a)
		}
	}
	one := NewHistogram()
	Record(one, 5*time.Millisecond)
	if q := InterpolatedQuantile(one, 0.5); math.Abs(q-0.005) > 0.005e-3 {
		t.Errorf("one value of 5 ms: median %.6g s", q)
	}
	if !math.IsNaN(InterpolatedQuantile(NewHistogram(), 0.5)) {
		t.Error("empty histogram: want NaN")
	}
}

// BenchmarkQuantile compares the two readings of a percentile on a
// histogram of 100,000 exponential latencies (mean 10 ms): the simulator
// reads five per histogram per replication.
//
//	go test ./internal/latency -run '^$' -bench Quantile
func BenchmarkQuantile(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, digits := range []int{2, 3} {
		g := Growing{Digits: digits}
		for range 100_000 {
			g.Record(int64(1e7 * r.ExpFloat64()))
		}
		h := g.Histogram()
		for _, p := range []float64{0.5, 0.999} {
			b.Run(fmt.Sprintf("digits=%d/p=%g/midpoint", digits, p), func(b *testing.B) {
				for b.Loop() {
					Quantile(h, p)
				}
			})
			b.Run(fmt.Sprintf("digits=%d/p=%g/interpolated", digits, p), func(b *testing.B) {
				for b.Loop() {
					InterpolatedQuantile(h, p)
				}
			})
		}
	}
}
