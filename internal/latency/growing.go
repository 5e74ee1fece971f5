package latency

import (
	"math"
	"math/bits"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Growing is an HDR histogram of integer nanoseconds whose range grows to
// the values recorded, with no upper limit: it holds nothing until its
// first value, then buckets up to a few times the largest value so far.
//
// Why. A histogram of the standard geometry allocates every bucket from 1 ns
// to Highest whether or not a value falls there, about 270 KB at three
// digits, and clamps what lies past it. The simulator keeps one per service
// and entry, per worker and merged, so with thousands of services those
// empty buckets were most of its memory. HDR's bucket layout depends only on
// the lowest value and the digits, not on the range (Tene's HdrHistogram,
// the layout of "buckets" and "sub-buckets"), so a wider histogram holds a
// narrower one's counts at the same indexes: growing is New with the larger
// range and an exact Merge of the old counts. It happens when a value
// passes the range, which then reaches past four times that value (32
// times the first), so a few times per histogram, and no more once a
// histogram that is Reset and reused has reached the range of what it
// records.
//
// The zero value is an empty histogram of Digits significant digits. A
// Growing must not be copied once it holds values: the copy would share its
// counts.
type Growing struct {
	// Digits is the precision in significant decimal digits, 1 to 5; 0
	// means the standard Digits. It is read when the first value is
	// recorded.
	Digits int

	h   *hdrhistogram.Histogram // nil until the first value
	end uint64                  // values below end fit in h; 0 while h is nil
}

// RecordSeconds records a latency of sec seconds as integer nanoseconds.
// Negative values count as 0; clamped reports a value past the largest
// int64 number of nanoseconds (about 292 years), which is recorded as that.
func (g *Growing) RecordSeconds(sec float64) (clamped bool) {
	ns, clamped := nanos(sec, math.MaxInt64)
	if uint64(ns) >= g.end {
		g.widen(ns)
	}
	_ = g.h.RecordValue(ns) // cannot fail: ns is in range
	return clamped
}

// Record records ns nanoseconds; a negative value counts as 0.
func (g *Growing) Record(ns int64) {
	ns = max(ns, 0)
	if uint64(ns) >= g.end {
		g.widen(ns)
	}
	_ = g.h.RecordValue(ns) // cannot fail: ns is in range
}

// widen grows the histogram for a value past its end. It is kept out of
// line, so that the recording methods, which the simulator calls for every
// visit, stay small.
//
//go:noinline
func (g *Growing) widen(ns int64) {
	h := int64(headroom)
	if g.h == nil {
		h = firstHeadroom
	}
	g.grow(min(ns, math.MaxInt64/h) * h)
}

// How far past a value that does not fit the histogram grows: 32 times the
// first value, since the tail of a latency distribution reaches tens of
// times a typical value, then 4 times each value that passes the end, so
// that a slowly rising maximum does not grow it at every step. Every
// growth leaves the old counts as garbage. Measured on the 2,000-service
// topology of sim's BenchmarkMemory (2 workers, replications of 1,000
// requests), allocation for 2 / 10 / 40 replications, and heap kept by the
// result:
//
//	first, then   allocated MB         kept MB
//	   4     4    186 / 203 / 216     55 to 62
//	  16     4    159 / 168 / 176     57 to 60
//	  32     4    154 / 161 / 164     56 to 58
//	  32     8    155 / 161 / 165     56 to 57
const (
	firstHeadroom = 32
	headroom      = 4
)

// grow widens the histogram to hold every value up to v.
func (g *Growing) grow(v int64) {
	digits := g.digits()
	// HDR's first bucket holds the values below 2^first at unit
	// resolution, first = ⌈log2(2·10^digits)⌉ (as in its constructor).
	// Past it, a highest value of 2^k − 1 is exactly the top of HDR's last
	// bucket, which stops at the first power of two above the highest
	// value: the histogram then holds every value below end = 2^k, and no
	// more.
	first := int(math.Ceil(math.Log2(2 * math.Pow10(digits))))
	k := max(bits.Len64(uint64(v)), first)
	highest := int64(math.MaxInt64) // k = 63: every int64
	if k < 63 {
		highest = int64(1)<<k - 1
	}
	h := hdrhistogram.New(Lowest, highest, digits)
	if g.h != nil {
		h.Merge(g.h) // same layout below the old range: exact
	}
	g.h, g.end = h, uint64(1)<<k
}

// Merge adds the values of from into g, growing g to hold them. Merging
// histograms of the same Digits is exact.
func (g *Growing) Merge(from *Growing) {
	if from.h == nil || from.h.TotalCount() == 0 {
		return
	}
	if g.h == nil && g.Digits == 0 {
		g.Digits = int(from.h.SignificantFigures())
	}
	if g.h == nil || from.end > g.end {
		g.grow(int64(from.end - 1))
	}
	g.h.Merge(from.h)
}

// Reset empties g and keeps its buckets, for the next run of recordings.
func (g *Growing) Reset() {
	if g.h != nil {
		g.h.Reset()
	}
}

// TotalCount is the number of values recorded.
func (g *Growing) TotalCount() int64 {
	if g.h == nil {
		return 0
	}
	return g.h.TotalCount()
}

// ByteSize is the memory the counts take, in bytes (HDR's estimate).
func (g *Growing) ByteSize() int {
	if g.h == nil {
		return 0
	}
	return g.h.ByteSize()
}

// Histogram returns the counts as an HDR histogram, for reading: Quantile,
// Survival and HDR's own methods. It is shared with g, so do not record
// into it. Before any value it is a new, empty histogram of g's digits.
func (g *Growing) Histogram() *hdrhistogram.Histogram {
	if g.h == nil {
		return hdrhistogram.New(Lowest, 2*Lowest, g.digits())
	}
	return g.h
}

// digits is the precision of g's counts: Digits, or its default, within
// the 1 to 5 that HDR accepts.
func (g *Growing) digits() int {
	switch {
	case g.h != nil:
		return int(g.h.SignificantFigures())
	case g.Digits == 0:
		return Digits
	}
	return min(max(g.Digits, 1), 5)
}
