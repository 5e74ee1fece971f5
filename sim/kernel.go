package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/topology"
)

// plan is a topology laid out for the kernel: services, calls and entries
// in flat slices indexed by int, read-only and shared by every replication.
type plan struct {
	services []serviceSpec
	calls    []callSpec // the calls of service s are calls[callLo:callHi]
	entries  []entrySpec
}

type serviceSpec struct {
	servers        int32
	time           random.ServiceTime
	callLo, callHi int32
}

type callSpec struct {
	to    int32
	count int32
	p     float64
}

type entrySpec struct {
	svc     int32
	meanGap float64 // mean time between arrivals, 1/rate, seconds
}

func newPlan(t *topology.Topology) *plan {
	p := &plan{}
	for _, s := range t.Services {
		spec := serviceSpec{servers: int32(s.Servers), time: random.NewServiceTime(s), callLo: int32(len(p.calls))}
		for _, c := range s.Calls {
			p.calls = append(p.calls, callSpec{to: int32(t.Index(c.To)), count: int32(c.Count), p: c.Probability})
		}
		spec.callHi = int32(len(p.calls))
		p.services = append(p.services, spec)
	}
	for _, w := range t.Workload {
		p.entries = append(p.entries, entrySpec{svc: int32(t.Index(w.Entry)), meanGap: 1 / w.Rate})
	}
	return p
}

// visit is one request at one service: an external request at its entry,
// or a call. Visits live in one slice and are recycled through a free list,
// so the kernel allocates nothing per request once the slice has grown to
// the largest number of requests in flight.
type visit struct {
	arrive float64 // when it arrived at its service, seconds
	// parent is the visit that made this call; for an external request it
	// is -(entry+1).
	parent int32
	svc    int32 // -1 while the visit is free
	// call is one past the call being made, as an index into plan.calls;
	// left is how many more times that call is to be made.
	call, left int32
	measured   bool // an external request inside the measurement window
}

// station is the state of one service during a replication.
type station struct {
	servers, busy int32
	qHead, qLen   int
	queue         []int32 // FIFO ring of waiting visits; its length is a power of two
	time          random.ServiceTime
	callLo        int32

	// Areas under the number of busy workers and of requests in the
	// station (waiting or served), for time averages; last is when they
	// were last brought up to date.
	last, areaBusy, areaN float64
	busyArea, nArea       float64 // the areas over the measurement window

	arrivals, completions int64 // over the whole replication

	// Visits that arrived in the measurement window.
	count, waited    int64
	sumWait, sumResp float64
	hist             latency.Growing // their response times, serviceDigits
}

func (st *station) enqueue(id int32) {
	if st.qLen == len(st.queue) {
		// Grow the ring, unrolling it so the head is at 0.
		q := make([]int32, max(16, 2*len(st.queue)))
		n := copy(q, st.queue[st.qHead:])
		copy(q[n:], st.queue[:st.qHead])
		st.queue, st.qHead = q, 0
	}
	st.queue[(st.qHead+st.qLen)&(len(st.queue)-1)] = id
	st.qLen++
}

func (st *station) dequeue() int32 {
	id := st.queue[st.qHead]
	st.qHead = (st.qHead + 1) & (len(st.queue) - 1)
	st.qLen--
	return id
}

// entryStats are the end-to-end figures of one workload entry.
type entryStats struct {
	arrivals, completions int64 // over the whole replication
	count                 int64 // measured requests completed
	sum                   float64
	hist                  latency.Growing // their latencies, entryDigits
}

// control is shared by the replications of one run: it tells them to stop,
// and they tell it how far they have got.
type control struct {
	ctx   context.Context
	limit atomic.Int64 // replications with an index at or past it stop
	done  atomic.Int64 // external requests simulated so far, all replications
}

func (c *control) stopped(index int64) bool {
	return index >= c.limit.Load() || c.ctx.Err() != nil
}

// kernel runs one replication at a time: a sequential discrete-event
// simulation of the topology. A worker keeps one kernel and reuses its
// storage from one replication to the next.
type kernel struct {
	plan *plan
	src  rand.PCG
	rng  *rand.Rand
	now  float64
	ev   eventList
	st   []station
	ent  []entryStats
	v    []visit
	free []int32

	// The measurement window: external arrivals number warmup to
	// warmup+measure-1 are measured; tw and tend are the times of arrivals
	// warmup and warmup+measure. A visit is measured when it arrives at its
	// service in [tw, tend). After tend arrivals go on, unmeasured, until
	// every measured request has finished, so that the last measured ones
	// meet the same traffic as the others; with force the run stops at tend.
	warmup, measure int64
	arrivals        int64
	tw, tend        float64
	ended           bool
	open            int64 // measured external requests not yet finished
	force           bool
	halt            bool
	overflow        int64 // latencies past the histograms' range (2^63 ns), clamped

	// The pilot's output series, or nil: the end-to-end latencies in the
	// order the requests finish, and the number of requests in the system
	// (visits waiting or in service, all services) met by each external
	// arrival.
	mser, mserN *mserSeries

	// lent receives a signal when the histograms lent with a replication
	// are free again (replication.giveBack).
	lent chan struct{}
}

func newKernel(p *plan) *kernel {
	k := &kernel{plan: p, lent: make(chan struct{}, 1)}
	k.rng = rand.New(&k.src)
	k.st = make([]station, len(p.services))
	for i := range k.st {
		k.st[i].hist.Digits = serviceDigits
	}
	k.ent = make([]entryStats, len(p.entries))
	for i := range k.ent {
		k.ent[i].hist.Digits = entryDigits
	}
	return k
}

// reset prepares a replication of stream index of seed. The storage of the
// previous one is kept, histograms included: they are emptied, not
// reallocated, so a worker's memory does not grow with the replications it
// runs.
func (k *kernel) reset(seed, index uint64, warmup, measure int64, force bool) {
	seedStream(&k.src, seed, index)
	k.now = 0
	k.ev.reset()
	for i := range k.st {
		sp := &k.plan.services[i]
		st := &k.st[i]
		// The queue and the histogram move into the new state (the old
		// one is overwritten, so they are not shared).
		*st = station{servers: sp.servers, time: sp.time, callLo: sp.callLo, queue: st.queue, hist: st.hist}
		st.hist.Reset()
	}
	for i := range k.ent {
		en := &k.ent[i]
		*en = entryStats{hist: en.hist}
		en.hist.Reset()
	}
	k.v = k.v[:0]
	k.free = k.free[:0]
	k.warmup, k.measure, k.force = warmup, measure, force
	k.arrivals, k.open, k.overflow = 0, 0, 0
	k.tw, k.tend = math.Inf(1), math.Inf(1)
	k.ended, k.halt = false, false
	for e, en := range k.plan.entries {
		k.ev.push(event{t: en.meanGap * k.rng.ExpFloat64(), id: int32(-e - 1)})
	}
}

// run simulates until the measured requests have finished (or, with force,
// until the window ends), or until ctl stops replication index; it reports
// whether it was stopped.
func (k *kernel) run(ctl *control, index int64) (stopped bool) {
	var events, reported int64
	for !k.halt && !(k.ended && k.open == 0) {
		e := k.ev.top()
		k.now = e.t
		if e.id < 0 {
			k.arrival(int(-e.id - 1))
		} else {
			k.complete(e.id)
		}
		events++
		if events&4095 == 0 && ctl != nil {
			ctl.done.Add(k.arrivals - reported)
			reported = k.arrivals
			if ctl.stopped(index) {
				stopped = true
				break
			}
		}
	}
	if ctl != nil {
		ctl.done.Add(k.arrivals - reported)
	}
	if !k.ended {
		k.endWindow()
	}
	return stopped
}

// arrival handles the next external request at entry e.
func (k *kernel) arrival(e int) {
	n := k.arrivals
	switch n {
	case k.warmup:
		k.beginWindow()
	case k.warmup + k.measure:
		k.endWindow()
		if k.force {
			k.halt = true
			return
		}
	}
	k.arrivals++
	if k.mserN != nil {
		var in int
		for i := range k.st {
			in += int(k.st[i].busy) + k.st[i].qLen
		}
		k.mserN.add(float64(in))
	}
	en := &k.plan.entries[e]
	k.ev.replaceTop(event{t: k.now + en.meanGap*k.rng.ExpFloat64(), id: int32(-e - 1)})
	measured := n >= k.warmup && n < k.warmup+k.measure
	if measured {
		k.open++
	}
	k.ent[e].arrivals++
	id := k.alloc()
	k.v[id] = visit{arrive: k.now, parent: int32(-e - 1), svc: en.svc, measured: measured}
	k.arrive(id)
}

// arrive queues visit id at its service, or starts its service at once.
func (k *kernel) arrive(id int32) {
	st := &k.st[k.v[id].svc]
	k.account(st)
	st.arrivals++
	if st.busy < st.servers {
		st.busy++
		k.ev.push(event{t: k.serve(id, st), id: id})
		return
	}
	st.enqueue(id)
}

// serve starts the service of visit id and returns when it ends. A visit's
// wait and response are known once its service time is drawn, so they are
// recorded here.
func (k *kernel) serve(id int32, st *station) float64 {
	v := &k.v[id]
	s := st.time.Draw(k.rng)
	if v.arrive >= k.tw && v.arrive < k.tend {
		wait := k.now - v.arrive
		st.count++
		if wait > 0 {
			st.waited++
		}
		st.sumWait += wait
		st.sumResp += wait + s
		k.record(&st.hist, wait+s)
	}
	return k.now + s
}

// complete ends the service of visit id, which is the earliest event: the
// worker takes the next waiting visit, if any, and id goes on to its calls.
func (k *kernel) complete(id int32) {
	svc := k.v[id].svc
	st := &k.st[svc]
	k.account(st)
	st.completions++
	if st.qLen > 0 {
		next := st.dequeue()
		k.ev.replaceTop(event{t: k.serve(next, st), id: next})
	} else {
		st.busy--
		k.ev.pop()
	}
	v := &k.v[id]
	v.call, v.left = st.callLo, 0
	k.proceed(id)
}

// proceed makes the next call of visit id; when it has none left, the visit
// is finished and its caller proceeds in turn, up to the external request.
// Each of the count repetitions of a call is made with the call's
// probability, independently: the semantics the model's transform assumes.
func (k *kernel) proceed(id int32) {
	for {
		v := &k.v[id]
		if v.left == 0 {
			if v.call == k.plan.services[v.svc].callHi {
				parent := v.parent
				if parent < 0 {
					k.finish(id, int(-parent-1))
				}
				k.release(id)
				if parent < 0 {
					return
				}
				id = parent
				continue
			}
			v.left = k.plan.calls[v.call].count
			v.call++
		}
		v.left--
		c := &k.plan.calls[v.call-1]
		if c.p < 1 && k.rng.Float64() >= c.p {
			continue
		}
		child := k.alloc()
		k.v[child] = visit{arrive: k.now, parent: id, svc: c.to}
		k.arrive(child)
		return
	}
}

// finish records the end-to-end latency of external request id at entry e.
func (k *kernel) finish(id int32, e int) {
	v := &k.v[id]
	en := &k.ent[e]
	en.completions++
	if !v.measured {
		return
	}
	k.open--
	lat := k.now - v.arrive
	en.count++
	en.sum += lat
	k.record(&en.hist, lat)
	if k.mser != nil {
		k.mser.add(lat)
	}
}

func (k *kernel) record(h *latency.Growing, sec float64) {
	if h.RecordSeconds(sec) {
		k.overflow++
	}
}

// account brings the station's time averages up to now, before its state
// changes.
func (k *kernel) account(st *station) {
	dt := k.now - st.last
	st.areaBusy += float64(st.busy) * dt
	st.areaN += float64(int(st.busy)+st.qLen) * dt
	st.last = k.now
}

func (k *kernel) beginWindow() {
	k.tw = k.now
	for i := range k.st {
		st := &k.st[i]
		st.areaBusy, st.areaN, st.last = 0, 0, k.now
	}
}

func (k *kernel) endWindow() {
	k.ended = true
	k.tend = k.now
	for i := range k.st {
		st := &k.st[i]
		k.account(st)
		st.busyArea, st.nArea = st.areaBusy, st.areaN
	}
}

func (k *kernel) alloc() int32 {
	if n := len(k.free); n > 0 {
		id := k.free[n-1]
		k.free = k.free[:n-1]
		return id
	}
	k.v = append(k.v, visit{})
	return int32(len(k.v) - 1)
}

func (k *kernel) release(id int32) {
	k.v[id].svc = -1
	k.free = append(k.free, id)
}
