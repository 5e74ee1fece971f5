package emulate

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/clock"
)

// waitQueued waits until the pool has n requests waiting.
func waitQueued(t *testing.T, p *workerPool, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, q := p.state(); q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue never reached %d requests", n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestWorkerPoolIsFIFO queues requests in a known order behind a busy
// worker and checks that they are served in that order, each with the next
// service time of the stream.
func TestWorkerPoolIsFIFO(t *testing.T) {
	var draws atomic.Int64
	p := newWorkerPool(1, time.Millisecond, func() time.Duration { return time.Duration(draws.Add(1)) }, func() clock.Timer { return clock.GoTimer{} })
	first, ok := p.acquire(nil)
	if !ok || first.service != 1 {
		t.Fatalf("first acquire: %v %v", first, ok)
	}
	const n = 50
	var mu sync.Mutex
	var order []int
	var services []time.Duration
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			g, ok := p.acquire(nil)
			if !ok {
				t.Error("acquire failed")
				return
			}
			mu.Lock()
			order = append(order, i)
			services = append(services, g.service)
			mu.Unlock()
			p.release(g.w)
		})
		waitQueued(t, p, i+1) // request i is queued before request i+1 arrives
	}
	if busy, queued := p.state(); busy != 1 || queued != n {
		t.Fatalf("busy %d, queued %d; want 1, %d", busy, queued, n)
	}
	p.release(first.w)
	wg.Wait()
	for i := range n {
		if order[i] != i || services[i] != time.Duration(i+2) {
			t.Fatalf("served in order %v with service times %v; want 0, 1, ... and 2, 3, ...", order, services)
		}
	}
	if busy, queued := p.state(); busy != 0 || queued != 0 {
		t.Errorf("after: busy %d, queued %d", busy, queued)
	}
}

// TestWorkerPoolCancel checks that a request that gives up leaves the queue
// and is skipped, and that the workers are never more than the pool's.
func TestWorkerPoolCancel(t *testing.T) {
	p := newWorkerPool(2, time.Millisecond, func() time.Duration { return 0 }, func() clock.Timer { return clock.GoTimer{} })
	a, _ := p.acquire(nil)
	b, _ := p.acquire(nil)
	done := make(chan struct{})
	gaveUp := make(chan bool)
	go func() {
		_, ok := p.acquire(done)
		gaveUp <- !ok
	}()
	waitQueued(t, p, 1)
	next := make(chan bool)
	go func() {
		g, ok := p.acquire(nil)
		p.release(g.w)
		next <- ok
	}()
	waitQueued(t, p, 2)
	close(done)
	if !<-gaveUp {
		t.Fatal("the cancelled request was served")
	}
	waitQueued(t, p, 1)
	p.release(a.w)
	if !<-next {
		t.Fatal("the request behind the cancelled one was not served")
	}
	p.release(b.w)
	if busy, queued := p.state(); busy != 0 || queued != 0 {
		t.Errorf("after: busy %d, queued %d", busy, queued)
	}

	// Many requests at once: never more than 2 in service.
	var in, peak atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			g, _ := p.acquire(nil)
			n := in.Add(1)
			for {
				m := peak.Load()
				if n <= m || peak.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(50 * time.Microsecond)
			in.Add(-1)
			p.release(g.w)
		})
	}
	wg.Wait()
	if peak.Load() > 2 {
		t.Errorf("%d requests in service at once with 2 workers", peak.Load())
	}
	ids := []int{p.all[0].id, p.all[1].id}
	slices.Sort(ids)
	if !slices.Equal(ids, []int{0, 1}) {
		t.Errorf("worker ids %v", ids)
	}
}
