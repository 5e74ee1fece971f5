package latency

import (
	"math"
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
