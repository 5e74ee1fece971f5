package loadgen

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var recStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func vegetaResult(name string, sentAt, latency time.Duration, code uint16, err string) *vegeta.Result {
	return &vegeta.Result{Attack: name, Timestamp: recStart.Add(sentAt), Latency: latency, Code: code, Error: err}
}

// TestRecorderFigures feeds known latencies and checks the figures against
// their exact values: the mean is exact, and the percentiles are within
// HDR's 0.1% (three significant digits).
func TestRecorderFigures(t *testing.T) {
	r := newRecorder([]string{"a", "b"}, recStart, 2*time.Second, 10*time.Second, time.Second)
	// Warm-up: long latencies that must not count.
	for i := range 100 {
		r.add(vegetaResult("a", time.Duration(i)*10*time.Millisecond, time.Second, 200, ""), nil, false)
	}
	// Window: latencies 1, 2, ..., 1000 ms, sent over 10 seconds.
	for i := 1; i <= 1000; i++ {
		r.add(vegetaResult("a", 2*time.Second+time.Duration(i)*10*time.Millisecond-time.Millisecond, time.Duration(i)*time.Millisecond, 200, ""), nil, false)
	}
	// Failures: 3 timeouts and 2 server errors.
	for i := range 3 {
		r.add(vegetaResult("a", 3*time.Second+time.Duration(i)*time.Millisecond, time.Second, 0, "context deadline exceeded"), nil, false)
	}
	for i := range 2 {
		r.add(vegetaResult("a", 4*time.Second+time.Duration(i)*time.Millisecond, time.Millisecond, 500, "500 Internal Server Error"), nil, false)
	}
	// After the window (sent at 12 s): not counted.
	r.add(vegetaResult("a", 12*time.Second, time.Millisecond, 200, ""), nil, false)
	// Another entry, and an attack name that is not an entry.
	r.add(vegetaResult("b", 5*time.Second, 7*time.Millisecond, 204, ""), nil, false)
	r.add(vegetaResult("nobody", 5*time.Second, 7*time.Millisecond, 200, ""), nil, false)
	r.settleAll()

	a := r.entry(0, "a", 10*time.Second)
	if a.Requests != 1005 {
		t.Errorf("requests = %d, want 1005", a.Requests)
	}
	if want := 1000.0 / 1005; math.Abs(a.SuccessRatio-want) > 1e-12 {
		t.Errorf("success ratio = %v, want %v", a.SuccessRatio, want)
	}
	if a.Throughput != 100 {
		t.Errorf("throughput = %v, want 100", a.Throughput)
	}
	if want := 0.5005; a.Mean == nil || math.Abs(*a.Mean-want) > 1e-9 {
		t.Errorf("mean = %v, want %v", a.Mean, want)
	}
	// The p-quantile of 1..1000 ms as the ⌈1000p⌉-th value (Hyndman & Fan
	// 1996, definition 1), to within HDR's precision.
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{{"p50", a.Percentiles.P50, 0.500}, {"p90", a.Percentiles.P90, 0.900}, {"p99", a.Percentiles.P99, 0.990}, {"p999", a.Percentiles.P999, 0.999}} {
		if math.Abs(c.got/c.want-1) > 0.001 {
			t.Errorf("%s = %v, want %v within 0.1%%", c.name, c.got, c.want)
		}
	}
	if want := map[string]int64{"200": 1000, "0": 3, "500": 2}; fmt.Sprint(a.StatusCodes) != fmt.Sprint(want) {
		t.Errorf("status codes = %v, want %v", a.StatusCodes, want)
	}
	if want := []ErrorClass{{ClassTimeout, 3, "context deadline exceeded"}, {"status 500", 2, "500 Internal Server Error"}}; !slices.Equal(a.Errors, want) {
		t.Errorf("errors = %+v, want %+v", a.Errors, want)
	}
	if a.Successes != 1000 {
		t.Errorf("successes = %d, want 1000", a.Successes)
	}
	// The empirical survival function P(T > t) of 1..1000 ms.
	for i, s := range a.Survival([]float64{0.0005, 0.1005, 0.5, 0.9995, 2}) {
		want := []float64{1, 0.9, 0.5, 0.0005, 0}[i]
		if math.Abs(s-want) > 0.001 {
			t.Errorf("survival[%d] = %v, want %v", i, s, want)
		}
	}
	if q := a.Quantile(0.5); math.Abs(q/0.5-1) > 0.001 {
		t.Errorf("Quantile(0.5) = %v", q)
	}

	b := r.entry(1, "b", 10*time.Second)
	if b.Requests != 1 || b.SuccessRatio != 1 || b.StatusCodes["204"] != 1 {
		t.Errorf("entry b: %d requests, success %v, codes %v", b.Requests, b.SuccessRatio, b.StatusCodes)
	}
}

func TestRecorderSeries(t *testing.T) {
	r := newRecorder([]string{"a"}, recStart, time.Second, 3*time.Second, time.Second)
	// Second 0 (warm-up): 10 requests of 5 ms. Second 1: 20 of 10 ms, and
	// one that completes in second 2. Second 2: one failure, which counts
	// as offered, not achieved.
	for i := range 10 {
		r.add(vegetaResult("a", time.Duration(i)*50*time.Millisecond, 5*time.Millisecond, 200, ""), nil, false)
	}
	for i := range 20 {
		sent := time.Second + time.Duration(i)*49*time.Millisecond
		r.add(vegetaResult("a", sent, 10*time.Millisecond, 200, ""), nil, false)
	}
	r.add(vegetaResult("a", 1995*time.Millisecond, 10*time.Millisecond, 200, ""), nil, false)
	r.add(vegetaResult("a", 2500*time.Millisecond, time.Second, 0, "timeout"), nil, false)
	r.settleAll()
	e := r.entry(0, "a", 3*time.Second)
	if len(e.Series) != 3 {
		t.Fatalf("series has %d points, want 3: %+v", len(e.Series), e.Series)
	}
	want := []struct {
		warmup            bool
		offered, achieved float64
		p50               float64
		successes         int64
	}{{true, 10, 10, 0.005, 10}, {false, 21, 20, 0.010, 21}, {false, 1, 1, math.NaN(), 0}}
	for i, w := range want {
		p := e.Series[i]
		if p.Successes != w.successes || (w.successes > 0) != (p.Mean != nil) || p.Mean != nil && math.Abs(*p.Mean-w.p50) > 1e-12 {
			t.Errorf("point %d: %d successes, mean %v; want %d of mean %v", i, p.Successes, p.Mean, w.successes, w.p50)
		}
		if p.Second != i || p.Warmup != w.warmup || p.Offered != w.offered || p.Achieved != w.achieved {
			t.Errorf("point %d = %+v, want second %d warmup %v offered %v achieved %v", i, p, i, w.warmup, w.offered, w.achieved)
		}
		switch {
		case math.IsNaN(w.p50) && p.P50 != nil:
			t.Errorf("point %d: p50 = %v, want none", i, *p.P50)
		case !math.IsNaN(w.p50) && (p.P50 == nil || math.Abs(*p.P50/w.p50-1) > 0.01):
			t.Errorf("point %d: p50 = %v, want %v", i, p.P50, w.p50)
		}
	}
}

func TestRecorderAborted(t *testing.T) {
	r := newRecorder([]string{"a"}, recStart, 0, time.Second, time.Second)
	r.add(vegetaResult("a", 0, time.Millisecond, 200, ""), nil, true)                  // completed: counted
	r.add(vegetaResult("a", 0, time.Millisecond, 0, "context canceled"), nil, true)    // cut short: not counted
	r.add(vegetaResult("a", 0, time.Millisecond, 0, "connection refused"), nil, false) // a real error
	e := r.entry(0, "a", time.Second)
	if e.Requests != 2 || r.aborted != 1 || len(e.Errors) != 1 {
		t.Errorf("requests %d, aborted %d, errors %v; want 2, 1, one error", e.Requests, r.aborted, e.Errors)
	}
}

// TestRecorderBoundsErrorClasses fails requests in many ways: messages of
// no class are one class, whatever their number, and the classes of status
// codes are bounded, the rest counted as other.
func TestRecorderBoundsErrorClasses(t *testing.T) {
	r := newRecorder([]string{"a"}, recStart, 0, time.Second, time.Second)
	for i := range 100 {
		r.add(vegetaResult("a", 0, time.Millisecond, 0, fmt.Sprintf("error %d", i)), nil, false)
	}
	e := r.entry(0, "a", time.Second)
	if len(e.Errors) != 1 || e.Errors[0] != (ErrorClass{ClassOther, 100, "error 0"}) {
		t.Errorf("errors %+v; want one class of 100", e.Errors)
	}
	for code := range 300 {
		r.add(vegetaResult("a", 0, time.Millisecond, uint16(600+code), fmt.Sprint(600+code)), nil, false)
	}
	e = r.entry(0, "a", time.Second)
	var total int64
	for _, c := range e.Errors {
		total += c.Count
	}
	if len(e.Errors) != maxStatusClasses+1 || total != 400 || e.Errors[0].Class != ClassOther || e.Errors[0].Count != 400-maxStatusClasses {
		t.Errorf("%d classes of %d failures, the first %+v; want %d classes, the largest other", len(e.Errors), total, e.Errors[0], maxStatusClasses+1)
	}
	// A class of its own is never crowded out by the statuses.
	r.add(vegetaResult("a", 0, time.Millisecond, 0, "read: connection reset by peer"), nil, false)
	e = r.entry(0, "a", time.Second)
	if !slices.Contains(e.Errors, ErrorClass{ClassConnectionReset, 1, "read: connection reset by peer"}) {
		t.Errorf("a reset after many statuses is not a class of its own: %+v", e.Errors)
	}
	for i := 1; i < len(e.Errors); i++ {
		if e.Errors[i].Count > e.Errors[i-1].Count {
			t.Fatalf("classes not sorted by count: %+v", e.Errors)
		}
	}
}

// TestRecorderMemoryIsBounded runs a recorder through a long attack, a day
// at 20 requests a second, and checks that it keeps per-second latency
// histograms only for the seconds whose requests may still complete.
func TestRecorderMemoryIsBounded(t *testing.T) {
	const timeout = 5 * time.Second
	day := 24 * time.Hour
	if testing.Short() {
		day = time.Hour
	}
	r := newRecorder([]string{"a"}, recStart, 0, day, timeout)
	maxOpen := 0
	for sent := time.Duration(0); sent < day; sent += 50 * time.Millisecond {
		r.add(vegetaResult("a", sent, 20*time.Millisecond, 200, ""), nil, false)
		if sent%time.Minute == 0 {
			open := 0
			for _, s := range r.entries[0].series {
				if s.hist != nil {
					open++
				}
			}
			maxOpen = max(maxOpen, open)
		}
	}
	limit := int((timeout+2*time.Second)/time.Second) + 2
	if maxOpen > limit {
		t.Errorf("%d per-second histograms open at once, want at most %d", maxOpen, limit)
	}
	if n := len(r.spare) + maxOpen; n > limit+1 {
		t.Errorf("%d per-second histograms allocated, want at most %d", n, limit+1)
	}
	t.Logf("%v at 20/s: at most %d per-second histograms open; %d points", day, maxOpen, len(r.entries[0].series))
}

// TestBatchMeans checks the batch-means half-width against one worked by
// hand: ten one-second batches whose means are 10, 11, ..., 19 ms (equal
// weights), so the batch means have sample sd √(55/6) ms = 3.028 ms and the
// half-width is t(9, 0.975) = 2.2622 times 3.028/√10 ms = 2.166 ms. Warm-up
// seconds and seconds without requests are left out.
func TestBatchMeans(t *testing.T) {
	var series []Point
	ptr := func(v float64) *float64 { return &v }
	series = append(series, Point{Second: 0, Warmup: true, Mean: ptr(1), Successes: 100})
	for i := range 10 {
		series = append(series, Point{Second: i + 1, Mean: ptr(0.010 + 0.001*float64(i)), Successes: 50})
	}
	series = append(series, Point{Second: 11}) // no request
	got := batchMeansHalfWidth(series)
	want := 2.2621571628 * math.Sqrt(55.0/6) / math.Sqrt(10) * 1e-3
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("half-width %.9f, want %.9f", got, want)
	}
	if hw := batchMeansHalfWidth(series[:2]); !math.IsNaN(hw) {
		t.Errorf("one second gives %v, want NaN", hw)
	}
}
