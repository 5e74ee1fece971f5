package latency

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestGrowingRange checks that a Growing holds exactly the values below
// its end, whatever the first value and the digits: end − 1 can be
// recorded in its HDR histogram, end cannot.
func TestGrowingRange(t *testing.T) {
	values := []int64{0, 1, 31, 32, 255, 256, 2047, 2048, 1e6, 1<<40 - 1, 1 << 40, 1 << 61, math.MaxInt64}
	for digits := 1; digits <= 5; digits++ {
		for _, v := range values {
			g := Growing{Digits: digits}
			g.Record(v)
			if g.end <= uint64(v) {
				t.Fatalf("%d digits, value %d: end %d does not hold it", digits, v, g.end)
			}
			h := g.Histogram()
			if err := h.RecordValue(int64(g.end - 1)); err != nil {
				t.Errorf("%d digits, value %d: end %d, but %d cannot be recorded: %v", digits, v, g.end, g.end-1, err)
			}
			if g.end <= math.MaxInt64 && h.RecordValue(int64(g.end)) == nil {
				t.Errorf("%d digits, value %d: end %d can be recorded; the histogram is larger than its end says", digits, v, g.end)
			}
			if int(h.SignificantFigures()) != digits {
				t.Errorf("%d digits: the histogram has %d", digits, h.SignificantFigures())
			}
		}
	}
}

// TestGrowingMatchesFixed records the same values, spread over six decades,
// into a Growing and a histogram of the standard geometry: growing, which
// happens many times on the way, loses nothing and moves nothing, so the
// two hold the same counts in the same buckets.
func TestGrowingMatchesFixed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var g Growing
	fixed := NewHistogram()
	for range 100_000 {
		d := time.Duration(math.Exp(r.NormFloat64()*3) * float64(time.Millisecond))
		g.Record(int64(d))
		Record(fixed, d)
	}
	got, want := g.Histogram().Distribution(), fixed.Distribution()
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("bar %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, b := range want[len(got):] {
		if b.Count != 0 {
			t.Fatalf("the standard histogram counts %d at %d ns, past the Growing's end %d", b.Count, b.From, g.end)
		}
	}
	for _, p := range []float64{0.5, 0.99, 0.999} {
		if a, b := Quantile(g.Histogram(), p), Quantile(fixed, p); a != b {
			t.Errorf("p%g: %.9g, standard histogram %.9g", 100*p, a, b)
		}
	}
	if fb, gb := fixed.ByteSize(), g.ByteSize(); gb >= fb {
		t.Errorf("Growing takes %d bytes for values below %d ns, the standard histogram %d", gb, g.end, fb)
	}
}

// TestGrowingMerge checks that merging histograms of different ranges,
// into an empty one and into a narrower one, gives the histogram of all
// the values, and that Reset empties a histogram and keeps its size.
func TestGrowingMerge(t *testing.T) {
	all := Growing{Digits: 2}
	parts := []Growing{{Digits: 2}, {Digits: 2}, {Digits: 2}}
	for i, top := range []float64{1e3, 1e9, 1e6} { // ns
		for j := range 1000 {
			v := int64(top * float64(j+1) / 1000)
			parts[i].Record(v)
			all.Record(v)
		}
	}
	var sum Growing // zero value: takes the digits of what is merged in
	for i := range parts {
		sum.Merge(&parts[i])
	}
	sum.Merge(&Growing{}) // empty: a no-op
	a, b := sum.Histogram(), all.Histogram()
	if a.TotalCount() != 3000 || a.SignificantFigures() != 2 {
		t.Fatalf("merged %d values at %d digits, want 3000 at 2", a.TotalCount(), a.SignificantFigures())
	}
	da, db := a.Distribution(), b.Distribution()
	for i := range min(len(da), len(db)) {
		if da[i] != db[i] {
			t.Fatalf("bar %d: merged %+v, recorded %+v", i, da[i], db[i])
		}
	}
	size := sum.ByteSize()
	sum.Reset()
	if sum.TotalCount() != 0 || sum.ByteSize() != size {
		t.Errorf("after Reset: %d values, %d bytes; want 0 values and the %d bytes kept", sum.TotalCount(), sum.ByteSize(), size)
	}
}

// TestGrowingNoClamp records latencies far past the standard Highest
// (about 2.4 hours): they are kept, not clamped, up to the int64 limit.
func TestGrowingNoClamp(t *testing.T) {
	var g Growing
	const day = 86400.0
	if g.RecordSeconds(30 * day) {
		t.Error("30 days reported clamped")
	}
	if q := Quantile(g.Histogram(), 0.5); math.Abs(q-30*day) > 30*day*1e-3 {
		t.Errorf("30 days read back as %.6g s", q)
	}
	if !g.RecordSeconds(1e12) || g.RecordSeconds(-1) || !g.RecordSeconds(math.NaN()) {
		t.Error("1e12 s (past 2^63 ns) or NaN not reported clamped, or −1 s reported clamped")
	}
	if g.TotalCount() != 4 || g.end != 1<<63 {
		t.Errorf("%d values, end %d; want 4 values and end 2^63", g.TotalCount(), g.end)
	}
	var empty Growing
	if h := empty.Histogram(); h.TotalCount() != 0 || !math.IsNaN(Quantile(h, 0.5)) || empty.ByteSize() != 0 {
		t.Error("an empty Growing is not an empty histogram, or holds memory")
	}
}
