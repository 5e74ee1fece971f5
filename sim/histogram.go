package sim

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in HDR histograms (G. Tene, HdrHistogram, 2012) of
// integer nanoseconds with three significant digits: a value is kept to
// within 0.1%, whatever its size, and memory is fixed (about 270 KB per
// histogram) however many requests run.
const (
	histLowest  = 1       // ns
	histHighest = 1 << 43 // ns, about 2.4 hours; longer latencies are clamped
	histDigits  = 3

	// The geometry HDR derives from histDigits: values below 2048 ns are
	// exact, and above it a bucket spans 2^(bits.Len(v) − 11) ns.
	histSubBucketBits = 11
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// nanos converts seconds to the integer nanoseconds a histogram records,
// clamped to its range; clamped reports whether it was out of range.
func nanos(sec float64) (ns int64, clamped bool) {
	x := sec*1e9 + 0.5
	if x >= histHighest {
		return histHighest, true
	}
	if x < 0 {
		return 0, false
	}
	return int64(x), false
}

// bucketWidth is the number of integer nanoseconds that HDR counts together
// with v: 1 below 2048 ns, then doubling at each power of two.
func bucketWidth(v int64) int64 {
	return 1 << max(0, bits.Len64(uint64(v)|(1<<histSubBucketBits-1))-histSubBucketBits)
}

// quantile returns the p-quantile (0 < p < 1) of the values in h, in
// seconds. HDR reports the highest value of the bucket that holds the
// quantile; the midpoint of the bucket is returned instead, which halves
// the error and makes it unbiased for a density that is smooth across the
// bucket.
func quantile(h *hdrhistogram.Histogram, p float64) float64 {
	if h.TotalCount() == 0 {
		return math.NaN()
	}
	v := h.ValueAtQuantile(p * 100)
	mid := float64(v) - float64(bucketWidth(v)-1)/2
	return mid / 1e9
}

// survival returns, for each time (seconds), the fraction of the values in
// h greater than it: the empirical complementary CDF. Values are taken as
// spread evenly across their bucket.
func survival(h *hdrhistogram.Histogram, times []float64) []float64 {
	out := make([]float64, len(times))
	order := make([]int, len(times))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(times[a], times[b]) })
	total := h.TotalCount()
	if total == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	bars := h.Distribution()
	var below int64 // count in the bars wholly at or below the current time
	b := 0
	for _, i := range order {
		ns := times[i] * 1e9
		for b < len(bars) && float64(bars[b].To+1) <= ns {
			below += bars[b].Count
			b++
		}
		le := float64(below)
		if b < len(bars) && float64(bars[b].From) < ns {
			bar := bars[b]
			le += float64(bar.Count) * (ns - float64(bar.From)) / float64(bar.To+1-bar.From)
		}
		out[i] = min(max(1-le/float64(total), 0), 1)
	}
	return out
}
