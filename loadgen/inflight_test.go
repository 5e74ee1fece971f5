package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/leaktest"
)

// countingServer counts the requests it receives and the most it held at
// once.
type countingServer struct {
	*httptest.Server
	in, peak, total atomic.Int64
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.total.Add(1)
		n := s.in.Add(1)
		defer s.in.Add(-1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// scheduledConstant is the number of evenly spaced hits of p due before
// end, found by bisection: hit k is due at (k+1)/rate.
func scheduledConstant(p *Pacer, end time.Duration) int64 {
	return int64(sort.Search(int(end.Seconds()*p.rate)+2, func(k int) bool { return p.At(uint64(k)) >= end }))
}

// heapWatch samples the heap in use every few milliseconds until stopped,
// and calls over once if it exceeds limit: a runaway attack is stopped
// before it takes the machine's memory.
func heapWatch(limit uint64, over func()) (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var max uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > max {
				if max = m.HeapAlloc; max > limit {
					over()
				}
			}
			select {
			case <-done:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

func sentOf(e EntryResult) int64 {
	var n float64
	for _, p := range e.Series {
		n += p.Offered
	}
	return int64(n)
}

// TestAttackImpossibleRate attacks a fast server at ten million requests a
// second, far beyond what the machine can send: the attack ends by itself
// at its duration, sends what it can with no more than MaxInFlight
// requests in flight, counts every other request due as not sent, and says
// the run is not trustworthy; its heap stays small.
func TestAttackImpossibleRate(t *testing.T) {
	leaktest.Check(t)
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	const maxInFlight = 64
	const heapLimit = 256 << 20
	// The guard only keeps a runaway attack from taking the machine: one
	// that does not end by itself, or whose heap passes the limit, is
	// cancelled, and fails the test by returning an error.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	runtime.GC()
	stopWatch := heapWatch(heapLimit, cancel)
	opts := Options{Duration: time.Second, Arrivals: Constant, Timeout: 5 * time.Second, MaxInFlight: maxInFlight}
	res, err := Attack(ctx, []Target{{Name: "flood", URL: srv.URL, Rate: 1e7}}, opts)
	peakHeap := stopWatch()
	t.Logf("peak heap %.1f MB", float64(peakHeap)/(1<<20))
	if err != nil {
		t.Fatalf("the attack did not end by itself: %v (peak heap %.0f MB)", err, float64(peakHeap)/(1<<20))
	}
	e, run := res.Entries[0], res.Run
	sent := sentOf(e)
	t.Logf("sent %d, not sent %d (%d behind, %d at the cap), server peak in flight %d, run peak %d; elapsed %.2fs",
		sent, run.NotSent, run.NotSentBehind, run.NotSentAtCap, srv.peak.Load(), run.PeakInFlight, run.Elapsed)
	if p := srv.peak.Load(); p > maxInFlight || run.PeakInFlight > maxInFlight || run.PeakInFlight < p {
		t.Errorf("%d requests in flight at the server at once, %d by the attack's count; the cap is %d", p, run.PeakInFlight, maxInFlight)
	}
	want := scheduledConstant(newPacer(Constant, 1e7, 0, 0), time.Second)
	if e.NotSent == 0 || run.NotSent != e.NotSent || sent+e.NotSent != want || run.NotSentBehind+run.NotSentAtCap != run.NotSent || run.NotSentWarmup != 0 {
		t.Errorf("sent %d and not sent %d (run: %d, %d behind, %d at the cap, %d in the warm-up); want %d in all", sent, e.NotSent, run.NotSent, run.NotSentBehind, run.NotSentAtCap, run.NotSentWarmup, want)
	}
	if srv.total.Load() != sent || e.Requests > sent {
		t.Errorf("the server received %d requests, the attack sent %d, %d in the window", srv.total.Load(), sent, e.Requests)
	}
	if run.Trustworthy || run.Interrupted || !strings.Contains(run.Warnings[0], "not sent") {
		t.Errorf("trustworthy %v, interrupted %v, warnings %q; want a run not trustworthy that says why", run.Trustworthy, run.Interrupted, run.Warnings)
	}
	if peakHeap > heapLimit {
		t.Errorf("peak heap %d MB", peakHeap>>20)
	}
}

// TestAttackAtCap attacks a server that holds every request past its
// timeout, with a cap of 10 requests in flight: the first 10 are sent, and
// every one due after them is not sent, counted as such.
func TestAttackAtCap(t *testing.T) {
	leaktest.Check(t)
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	const maxInFlight = 10
	// 99 requests are due in the second; none of the first ten is answered
	// before the end, when they time out. Only the cap skips: a stall of
	// the machine is not taken for the generator falling behind.
	opts := Options{Duration: time.Second, Arrivals: Constant, Timeout: 1500 * time.Millisecond, MaxInFlight: maxInFlight, SkipAfter: time.Minute}
	res, err := Attack(t.Context(), []Target{{Name: "hang", URL: srv.URL, Rate: 100}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	e, run := res.Entries[0], res.Run
	if srv.total.Load() != maxInFlight || srv.peak.Load() != maxInFlight || sentOf(e) != maxInFlight || e.Requests != maxInFlight || run.PeakInFlight != maxInFlight {
		t.Errorf("server received %d, held %d at once; attack sent %d, %d in the window, peak %d; want %d each",
			srv.total.Load(), srv.peak.Load(), sentOf(e), e.Requests, run.PeakInFlight, maxInFlight)
	}
	if e.NotSent != 99-maxInFlight || run.NotSentAtCap != e.NotSent || run.NotSentBehind != 0 || run.MaxInFlight != maxInFlight {
		t.Errorf("not sent %d (%d at the cap, %d behind), cap %d; want all %d at the cap", e.NotSent, run.NotSentAtCap, run.NotSentBehind, run.MaxInFlight, 99-maxInFlight)
	}
	if len(e.Errors) != 1 || e.Errors[0].Class != ClassTimeout || e.Errors[0].Count != maxInFlight {
		t.Errorf("errors %+v; want the %d sent, timed out", e.Errors, maxInFlight)
	}
	if w := strings.Join(run.Warnings, "\n"); run.Trustworthy || !strings.Contains(w, "89 of the 99 requests due were not sent") || !strings.Contains(w, "10 requests in flight") {
		t.Errorf("trustworthy %v, warnings %q", run.Trustworthy, run.Warnings)
	}
}

// TestAttackCancelAtCap interrupts an attack whose requests in flight have
// reached the cap and hang: it returns with what it measured, the requests
// in flight abandoned (not left to their hour-long timeout), and no
// goroutine left.
func TestAttackCancelAtCap(t *testing.T) {
	leaktest.Check(t)
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	const maxInFlight = 5
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for srv.in.Load() < maxInFlight && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	res, err := Attack(ctx, []Target{{Name: "hang", URL: srv.URL, Rate: 100}}, Options{Duration: time.Hour, Timeout: time.Hour, MaxInFlight: maxInFlight})
	if !errors.Is(err, context.Canceled) || res == nil {
		t.Fatalf("got %v, %v; want partial results and context.Canceled", res, err)
	}
	if r := res.Run; !r.Interrupted || r.Aborted != maxInFlight || r.PeakInFlight != maxInFlight {
		t.Errorf("interrupted %v, aborted %d, peak in flight %d; want the %d in flight abandoned", r.Interrupted, r.Aborted, r.PeakInFlight, maxInFlight)
	}
}

// TestDefaultMaxInFlight pins the default cap: DefaultMaxInFlight, unless
// a quarter of the limit of open files, less what the rest of the process
// needs, is fewer.
func TestDefaultMaxInFlight(t *testing.T) {
	for files, want := range map[int]int{0: DefaultMaxInFlight, 1 << 20: DefaultMaxInFlight, 20000: 4936, 4096: 960, 1024: 192, 256: 64} {
		if got := defaultMaxInFlight(files); got != want {
			t.Errorf("with a limit of %d files: %d, want %d", files, got, want)
		}
	}
	o := Options{}
	if got := o.maxInFlight(); got != defaultMaxInFlight(fileLimit()) || got > DefaultMaxInFlight {
		t.Errorf("default cap %d with a limit of %d files", got, fileLimit())
	}
	if o.MaxInFlight = 7; o.maxInFlight() != 7 {
		t.Errorf("a cap of 7 is %d", o.maxInFlight())
	}
}
