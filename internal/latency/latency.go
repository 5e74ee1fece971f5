// Package latency holds the HDR histograms in which kendall records
// latencies, in the simulator and the load generator alike, and the figures
// read from them: quantiles and the empirical complementary CDF. One
// geometry, so that a simulated and a measured p99 mean the same thing.
// Quantiles are read two ways, which differ by at most half a bucket
// (0.05% at three digits): Quantile, at the middle of the bucket, which
// the load generator uses, and InterpolatedQuantile, linear within it as
// Survival is, which the simulator uses for figures read once from a large
// merged histogram.
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

// InterpolatedQuantile returns the p-quantile (0 < p < 1) of the values in
// h, in seconds, read as Survival reads the distribution: the values of a
// bucket spread evenly across it, so that the CDF is linear within each
// bucket and Survival(InterpolatedQuantile(p)) = 1 − p. NaN for an empty
// histogram.
//
// Why. Quantile, read at the middle of the bucket, is off by up to half a
// bucket (0.05% at three digits, 0.4% at two), by an amount that depends on
// where the quantile falls in its bucket. That is harmless when many
// readings are averaged, but a figure read once from a large merged
// histogram keeps its rounding; within a bucket whose density is nearly
// flat, as it is across 1/128 of a value, the linear reading is off by a
// small fraction of that (sim's serviceDigits measured 0.25% at the middle,
// 0.03% interpolated, at two digits). This is the linear interpolation of
// the empirical distribution function of grouped data (R. J. Hyndman &
// Y. Fan, "Sample quantiles in statistical packages", Am. Stat. 50(4),
// 1996, definition 4, applied to the bucket's edges).
//
// HDR does not expose its cumulative counts, so the bucket's count and the
// count below it are found by a galloping search (J. L. Bentley & A. C.-C.
// Yao, "An almost optimal algorithm for unbounded searching", Inf. Proc.
// Lett. 5(3), 1976) on ranks, through ValueAtPercentile: about 4·log2 of the
// bucket's count scans of the counts, and no allocation, so that the
// simulator can read every replication's histograms.
func InterpolatedQuantile(h *hdrhistogram.Histogram, p float64) float64 {
	n := h.TotalCount()
	if n == 0 {
		return math.NaN()
	}
	x := p * float64(n) // the position of the quantile among the values
	r := min(max(int64(math.Ceil(x)), 1), n)
	hi := valueAtRank(h, r)
	lo := lowestEquivalent(h, hi)
	// The ranks first … last are the values in the bucket [lo, hi].
	first := r - gallop(r-1, func(k int64) bool { return valueAtRank(h, r-k) == hi })
	last := r + gallop(n-r, func(k int64) bool { return valueAtRank(h, r+k) == hi })
	below, count := float64(first-1), float64(last-first+1)
	frac := min(max((x-below)/count, 0), 1)
	return (float64(lo) + frac*(float64(hi)+1-float64(lo))) / 1e9
}

// valueAtRank is the highest value of the bucket that holds the r-th
// smallest value of h, 1 ≤ r ≤ TotalCount. HDR takes a percentile and
// rounds percentile/100·n + 0.5 down to a rank; 100·r/n comes back to r
// within a few ulps, far from the rounding's edges.
func valueAtRank(h *hdrhistogram.Histogram, r int64) int64 {
	return h.ValueAtPercentile(100 * float64(r) / float64(h.TotalCount()))
}

// gallop returns the largest k in [0, limit] such that in(k), for a
// predicate that holds at 0 and, once false, stays false: steps of 1, 2,
// 4, … until it fails, then bisection of the last step.
func gallop(limit int64, in func(int64) bool) int64 {
	good, step := int64(0), int64(1)
	for {
		k := min(good+step, limit)
		if k == good {
			return good
		}
		if !in(k) {
			bad := k
			for bad-good > 1 {
				mid := good + (bad-good)/2
				if in(mid) {
					good = mid
				} else {
					bad = mid
				}
			}
			return good
		}
		good, step = k, 2*step
	}
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
