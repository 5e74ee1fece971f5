// Package latency holds the HDR histograms in which kendall records
// latencies, in the simulator and the load generator alike, and the figures
// read from them: quantiles and the empirical complementary CDF. One
// geometry and one way of reading it, so that a simulated and a measured
// p99 mean the same thing.
//
// Latencies are integer nanoseconds in an HDR histogram (G. Tene,
// HdrHistogram, 2012) with three significant digits: a value is kept to
// within 0.1% whatever its size, and memory does not depend on how many
// requests are recorded. The standard geometry (NewHistogram) covers 1 ns
// to Highest in about 270 KB; a Growing histogram lays out its buckets the
// same way, at the digits it is given, but only up to the largest value
// recorded, with no upper limit: for a program that keeps many histograms,
// as the simulator does.
package latency

import (
	"cmp"
	"math"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The geometry of the histograms.
const (
	Lowest  = 1       // ns
	Highest = 1 << 43 // ns, about 2.4 hours; longer latencies are clamped to it
	Digits  = 3
)

// NewHistogram returns an empty histogram of the standard geometry.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(Lowest, Highest, Digits)
}

// Nanos converts seconds to the integer nanoseconds a histogram records,
// clamped to [0, Highest]; clamped reports a value past Highest.
func Nanos(sec float64) (ns int64, clamped bool) { return nanos(sec, Highest) }

// nanos converts seconds to integer nanoseconds, clamped to [0, highest];
// NaN, which has no place in a histogram, counts as clamped.
func nanos(sec float64, highest int64) (ns int64, clamped bool) {
	x := sec*1e9 + 0.5
	if !(x < float64(highest)) { // for MaxInt64, the float is 2^63: past it
		return highest, true
	}
	if x < 0 {
		return 0, false
	}
	return int64(x), false
}

// Record records d in h, clamped to the histogram's range.
func Record(h *hdrhistogram.Histogram, d time.Duration) {
	v := min(max(int64(d), 0), h.HighestTrackableValue())
	_ = h.RecordValue(v) // cannot fail: v is in range
}

// Quantile returns the p-quantile (0 < p < 1) of the values in h, in
// seconds; NaN for an empty histogram. HDR reports the highest value of the
// bucket that holds the quantile; the midpoint of the bucket is returned
// instead, which halves the error and makes it unbiased for a density that
// is smooth across the bucket. It works for any geometry.
func Quantile(h *hdrhistogram.Histogram, p float64) float64 {
	if h.TotalCount() == 0 {
		return math.NaN()
	}
	v := h.ValueAtQuantile(p * 100) // this HDR API takes a percentile
	mid := (float64(v) + float64(lowestEquivalent(h, v))) / 2
	return mid / 1e9
}

// lowestEquivalent is the smallest value HDR counts together with v.
func lowestEquivalent(h *hdrhistogram.Histogram, v int64) int64 {
	lo, hi := int64(0), v
	for lo < hi { // the smallest x <= v with x equivalent to v
		mid := lo + (hi-lo)/2
		if h.ValuesAreEquivalent(mid, v) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// Survival returns, for each time (in seconds), the fraction of the values
// in h greater than it: the empirical complementary CDF P(T > t). Values
// are taken as spread evenly across their bucket. NaN for an empty
// histogram.
func Survival(h *hdrhistogram.Histogram, times []float64) []float64 {
	out := make([]float64, len(times))
	total := h.TotalCount()
	if total == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	order := make([]int, len(times))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(times[a], times[b]) })
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
