package loadgen

import (
	"sync"
	"sync/atomic"
)

// inFlight caps the requests of an attack in flight at once: from the moment
// a hit is handed to vegeta to the moment its result reaches the collector,
// which covers the request, its connection, the vegeta worker that sends it
// and the result on its way. Under the cap, the memory, the connections and
// the goroutines of an attack are bounded whatever the rate asked and
// however slowly the target answers.
//
// Reaching the cap does not make the generator wait, which would let the
// target set the pace (coordinated omission): the hits that come due while
// it is reached are not sent, and are counted as such (schedule.go).
type inFlight struct {
	max  int64
	n    atomic.Int64
	peak atomic.Int64

	mu    sync.Mutex
	freed chan struct{} // closed, and replaced, when a slot frees at the cap
}

func newInFlight(max int) *inFlight {
	return &inFlight{max: int64(max), freed: make(chan struct{})}
}

// acquire takes a slot, if one is free.
func (f *inFlight) acquire() bool {
	for {
		n := f.n.Load()
		if n >= f.max {
			return false
		}
		if f.n.CompareAndSwap(n, n+1) {
			for p := f.peak.Load(); n+1 > p && !f.peak.CompareAndSwap(p, n+1); p = f.peak.Load() {
			}
			return true
		}
	}
}

// release gives a slot back.
func (f *inFlight) release() {
	if f.n.Add(-1) == f.max-1 { // it was full: wake whoever waits for a slot
		f.mu.Lock()
		close(f.freed)
		f.freed = make(chan struct{})
		f.mu.Unlock()
	}
}

// full returns nil if a slot is free now, else a channel that is closed
// when one frees. Under f.mu, a release that empties a slot after the count
// is read closes the very channel returned.
func (f *inFlight) full() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n.Load() < f.max {
		return nil
	}
	return f.freed
}

// count is the number of requests in flight now.
func (f *inFlight) count() int64 { return f.n.Load() }
