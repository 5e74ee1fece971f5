package emulate

import (
	"sync"
	"time"

	"github.com/kendallqn/kendall/internal/clock"
)

// workerPool is the station of one emulated service: c workers in front of
// one FIFO queue. Go's net/http runs each request in its own goroutine, and
// a semaphore or a buffered channel would let them take free workers in
// whatever order the scheduler wakes them; the pool keeps the waiting
// requests in an explicit queue and hands each freed worker to the request
// at its head, so service starts in the order of arrival.
type workerPool struct {
	mu     sync.Mutex
	all    []*worker
	idle   []*worker // free workers
	queue  []*waiter // waiting requests, oldest at queue[head]
	head   int
	queued int // waiting requests not cancelled
	size   int
	// draw returns the next service time. It is called with mu held, at
	// the moment a worker is granted, so the k-th request to start service
	// gets the k-th draw of the stream: a seed fixes the service times of
	// the requests in their order of arrival.
	draw func() time.Duration
}

// worker is one of a service's workers, with what it needs to realize
// service times precisely.
type worker struct {
	id int
	holder
}

// grant is a worker handed to a request, with the moment it was handed over
// (when service starts) and the request's service time.
type grant struct {
	w       *worker
	at      time.Time
	service time.Duration
}

type waiter struct {
	ch        chan grant // buffered: the releaser never blocks
	cancelled bool
}

func newWorkerPool(size int, maxDebt time.Duration, draw func() time.Duration, timers func() clock.Timer) *workerPool {
	p := &workerPool{size: size, draw: draw, idle: make([]*worker, size)}
	for i := range p.idle {
		// The last worker is on top of the stack, so an idle service uses
		// worker 0 first; it does not matter which, but it is stable.
		p.idle[i] = &worker{id: size - 1 - i, holder: holder{timer: timers(), maxDebt: maxDebt}}
	}
	p.all = append([]*worker(nil), p.idle...)
	return p
}

// acquire waits in the queue for a worker. It returns false, having left the
// queue, if done is closed first.
func (p *workerPool) acquire(done <-chan struct{}) (grant, bool) {
	p.mu.Lock()
	if len(p.idle) > 0 && p.queued == 0 {
		g := p.grantLocked()
		p.mu.Unlock()
		return g, true
	}
	wt := &waiter{ch: make(chan grant, 1)}
	p.queue = append(p.queue, wt)
	p.queued++
	p.mu.Unlock()

	select {
	case g := <-wt.ch:
		return g, true
	case <-done:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case g := <-wt.ch: // granted while giving up: give the worker back
		p.releaseLocked(g.w)
	default:
		wt.cancelled = true
		p.queued--
	}
	return grant{}, false
}

// grantLocked takes an idle worker and draws its service time.
func (p *workerPool) grantLocked() grant {
	w := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return grant{w: w, at: time.Now(), service: p.draw()}
}

// release hands w to the oldest waiting request, or makes it idle.
func (p *workerPool) release(w *worker) {
	p.mu.Lock()
	p.releaseLocked(w)
	p.mu.Unlock()
}

func (p *workerPool) releaseLocked(w *worker) {
	p.idle = append(p.idle, w)
	for p.head < len(p.queue) {
		wt := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if wt.cancelled {
			continue
		}
		p.queued--
		wt.ch <- p.grantLocked()
		break
	}
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
	} else if p.head > 1024 && p.head > len(p.queue)/2 {
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue, p.head = p.queue[:n], 0
	}
}

// state returns the number of busy workers and of waiting requests.
func (p *workerPool) state() (busy, queued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size - len(p.idle), p.queued
}

// close releases the workers' timers. A worker still holding falls back to
// Go's timer; the pool must not be used after.
func (p *workerPool) close() {
	for _, w := range p.all {
		w.timer.Close()
	}
}
