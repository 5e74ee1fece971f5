package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/topology"
)

// plan is a topology laid out for the kernel: stations, calls and entries
// in flat slices indexed by int, read-only and shared by every replication.
// A station is one replica of a service; the replicas of service s are
// stations services[s].first to services[s].first+services[s].n-1.
type plan struct {
	stations  []stationSpec
	services  []replicaRange
	calls     []callSpec // the calls of a replica of service s are calls[callLo:callHi]
	branches  []callSpec // the calls of the groups, none a group
	entries   []entrySpec
	balancers []balancerSpec
	// counts is how many in-flight counters the balancers that need them
	// (least-requests, power-of-two) have in all.
	counts int
}

// replicaRange is where a service's replicas are among the stations.
type replicaRange struct{ first, n int32 }

type stationSpec struct {
	servers        int32
	time           random.ServiceTime
	callLo, callHi int32
	// hold keeps the worker busy until the visit's calls have returned:
	// Hold, on a service that has calls to hold it across.
	hold bool
	// balLo is the first of the replica's own balancers, one per
	// replicated service it calls (callSpec.bal counts from it).
	balLo int32
}

// callSpec is a call to service to, made count times in a row, each time
// with probability p; or, when to is groupCall, a group of parallel calls,
// branches[branchLo:branchHi], that waits for group.Waits of those made.
// For a call to a service, to is the callee's first station; when the
// callee has several replicas, bal is the caller's balancer for it, counted
// from the calling station's balLo, and -1 otherwise.
type callSpec struct {
	to                 int32
	bal                int32
	count              int32
	p                  float64
	group              *topology.Group
	branchLo, branchHi int32
}

// groupCall is the callee of a callSpec that is a group.
const groupCall = -1

func (c *callSpec) isGroup() bool { return c.to == groupCall }

// entrySpec is a workload entry: its first station, and when the entry
// service has several replicas, the load generator's balancer for it
// (an index into plan.balancers), else -1.
type entrySpec struct {
	svc     int32
	bal     int32
	meanGap float64 // mean time between arrivals, 1/rate, seconds
}

// balancerSpec is one caller's balancer for a service of several replicas
// (topology.Balancer says who a caller is): the callee's stations, the
// policy, and for the policies that count requests in flight, where its
// counters start in kernel.inFlight (-1 for the others).
type balancerSpec struct {
	first, n int32
	policy   policy
	counts   int32
}

// policy is a topology.Balancer as the kernel dispatches on it.
type policy uint8

const (
	random_ policy = iota
	roundRobin
	leastRequests
	powerOfTwo
)

func policyOf(b topology.Balancer) policy {
	switch b {
	case topology.BalancerRoundRobin:
		return roundRobin
	case topology.BalancerLeastRequests:
		return leastRequests
	case topology.BalancerPowerOfTwo:
		return powerOfTwo
	}
	return random_
}

// maxBalancerCounts bounds the in-flight counters of a plan: a replica of
// a caller keeps one per replica of each service it calls with a counting
// policy, so 10,000 callers of 10,000 replicas would need 10^8 of them.
const maxBalancerCounts = 1 << 24

func newPlan(t *topology.Topology) (*plan, error) {
	p := &plan{services: make([]replicaRange, len(t.Services))}
	var first int32
	for i, s := range t.Services {
		p.services[i] = replicaRange{first: first, n: int32(s.Replicas)}
		first += int32(s.Replicas)
	}
	// slots[s] numbers the replicated services that s calls: the balancers
	// every replica of s keeps, in the order of first call.
	addBalancer := func(callee int, counts *int) int32 {
		r := p.services[callee]
		b := balancerSpec{first: r.first, n: r.n, policy: policyOf(t.Services[callee].Balancer), counts: -1}
		if b.policy == leastRequests || b.policy == powerOfTwo {
			b.counts = int32(*counts)
			*counts += int(r.n)
		}
		p.balancers = append(p.balancers, b)
		return int32(len(p.balancers) - 1)
	}
	for _, s := range t.Services {
		var callees []int // replicated callees of s, by slot
		slot := func(to int) int32 {
			if t.Services[to].Replicas == 1 {
				return -1
			}
			if k := slices.Index(callees, to); k >= 0 {
				return int32(k)
			}
			callees = append(callees, to)
			return int32(len(callees) - 1)
		}
		callTo := func(c *topology.Call) callSpec {
			to := t.Index(c.To)
			return callSpec{to: p.services[to].first, bal: slot(to), count: int32(c.Count), p: c.Probability}
		}
		spec := stationSpec{servers: int32(s.Servers), time: random.NewServiceTime(s), callLo: int32(len(p.calls))}
		for i := range s.Calls {
			c := &s.Calls[i]
			if c.Group == nil {
				p.calls = append(p.calls, callTo(c))
				continue
			}
			g := callSpec{to: groupCall, bal: -1, group: c.Group, branchLo: int32(len(p.branches))}
			for j := range c.Group.Calls {
				p.branches = append(p.branches, callTo(&c.Group.Calls[j]))
			}
			g.branchHi = int32(len(p.branches))
			p.calls = append(p.calls, g)
		}
		spec.callHi = int32(len(p.calls))
		spec.hold = s.Hold && spec.callHi > spec.callLo
		for range s.Replicas {
			spec.balLo = int32(len(p.balancers))
			for _, to := range callees {
				addBalancer(to, &p.counts)
			}
			if p.counts > maxBalancerCounts {
				return nil, tooManyCounts("service "+s.Name, p.counts)
			}
			p.stations = append(p.stations, spec)
		}
	}
	for _, w := range t.Workload {
		e := t.Index(w.Entry)
		en := entrySpec{svc: p.services[e].first, bal: -1, meanGap: 1 / w.Rate}
		if p.services[e].n > 1 {
			en.bal = addBalancer(e, &p.counts)
		}
		p.entries = append(p.entries, en)
	}
	if p.counts > maxBalancerCounts {
		return nil, tooManyCounts("the workload", p.counts)
	}
	return p, nil
}

// tooManyCounts is the error of a plan whose balancers would keep more
// in-flight counters than maxBalancerCounts, found when what's balancers
// were added.
func tooManyCounts(what string, counts int) error {
	return fmt.Errorf("with %s, the balancers would keep %d counters of requests in flight, one per replica of each least-requests or power-of-two service a caller calls (a caller is a replica of a calling service, or a workload entry); the simulator keeps at most %d: use fewer replicas, or random or round-robin, which need none",
		what, counts, maxBalancerCounts)
}

// visit is one request at one service: an external request at its entry,
// or a call. Visits live in one slice and are recycled through a free list,
// so the kernel allocates nothing per request once the slice has grown to
// the largest number of requests in flight.
type visit struct {
	arrive float64 // when it arrived at its service, seconds
	// parent is who the visit answers to when it is done: the visit that
	// made the call; for a call of a group (inGroup), the join of the
	// group, since the visit that made it may have gone on without it;
	// for an external request, -(entry+1).
	parent int32
	svc    int32 // its station; -1 while the visit is free
	// bal is the balancer that chose its station, which counts it in
	// flight until it answers; -1 when its service has one replica.
	bal int32
	// call is one past the call being made, as an index into plan.calls;
	// left is how many more times that call is to be made.
	call, left int32
	// repeat is, for a call of a group, how many more times its branch
	// makes the call after this one: a branch makes its calls in a row.
	repeat   int32
	inGroup  bool
	measured bool // an external request inside the measurement window
}

// join is one group of parallel calls under way for one visit. The visit
// goes on when need reaches 0; the join is free when every branch has
// finished, the ones not waited for included, since they go on loading
// their callees.
type join struct {
	parent  int32 // the visit that made the calls
	need    int32 // answers the visit still waits for; 0 once it has gone on
	running int32 // branches not yet finished
}

// station is the state of one replica of a service during a replication.
type station struct {
	// busy counts the workers serving a visit or held across its calls;
	// held counts the latter.
	servers, busy, held int32
	qHead, qLen         int
	queue               []int32 // FIFO ring of waiting visits; its length is a power of two
	time                random.ServiceTime
	callLo              int32
	hold                bool

	// Areas under the number of busy workers, of workers held in calls,
	// and of visits in the station (waiting or in their own service), for
	// time averages; last is when they were last brought up to date.
	last, areaBusy, areaHeld, areaN float64
	busyArea, heldArea, nArea       float64 // the areas over the measurement window

	arrivals, completions int64 // over the whole replication

	// Visits that arrived in the measurement window.
	count, waited    int64
	sumWait, sumResp float64
	// hist is their response times, serviceDigits: the service's, shared
	// by its replicas.
	hist *latency.Growing
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

	// hists are the services' response-time histograms (station.hist).
	hists []latency.Growing
	// The balancers' state: each one's round-robin cursor, as an offset
	// from its first station, and the requests in flight at each replica
	// for those that count them (balancerSpec.counts).
	cursor   []int32
	inFlight []int32

	// The joins of the groups under way, recycled through joinFree as
	// visits are; made is fork's scratch list of the branches a group
	// makes.
	joins    []join
	joinFree []int32
	made     []int32

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
	k.hists = make([]latency.Growing, len(p.services))
	for i := range k.hists {
		k.hists[i].Digits = serviceDigits
	}
	k.st = make([]station, len(p.stations))
	for s, r := range p.services {
		for i := r.first; i < r.first+r.n; i++ {
			k.st[i].hist = &k.hists[s]
		}
	}
	k.cursor = make([]int32, len(p.balancers))
	k.inFlight = make([]int32, p.counts)
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
		sp := &k.plan.stations[i]
		st := &k.st[i]
		// The queue moves into the new state (the old one is overwritten,
		// so it is not shared).
		*st = station{servers: sp.servers, time: sp.time, callLo: sp.callLo, hold: sp.hold, queue: st.queue, hist: st.hist}
	}
	for i := range k.hists {
		k.hists[i].Reset()
	}
	for i := range k.ent {
		en := &k.ent[i]
		*en = entryStats{hist: en.hist}
		en.hist.Reset()
	}
	k.v = k.v[:0]
	k.free = k.free[:0]
	k.joins = k.joins[:0]
	k.joinFree = k.joinFree[:0]
	k.warmup, k.measure, k.force = warmup, measure, force
	k.arrivals, k.open, k.overflow = 0, 0, 0
	k.tw, k.tend = math.Inf(1), math.Inf(1)
	k.ended, k.halt = false, false
	// Round-robin cursors start at a replica chosen at random
	// (topology.BalancerRoundRobin).
	for b := range k.plan.balancers {
		k.cursor[b] = int32(k.rng.IntN(int(k.plan.balancers[b].n)))
	}
	clear(k.inFlight)
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
			in += k.st[i].inSystem()
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
	svc := en.svc
	if en.bal >= 0 {
		svc = k.pick(en.bal)
	}
	k.v[id] = visit{arrive: k.now, parent: int32(-e - 1), svc: svc, bal: en.bal, measured: measured}
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
		k.record(st.hist, wait+s)
	}
	return k.now + s
}

// complete ends the service of visit id, which is the earliest event, and
// id goes on to its calls. Its worker takes the next waiting visit, if
// any, unless the service holds it across the calls: then done releases
// it.
func (k *kernel) complete(id int32) {
	svc := k.v[id].svc
	st := &k.st[svc]
	k.account(st)
	st.completions++
	switch {
	case st.hold:
		st.held++
		k.ev.pop()
	case st.qLen > 0:
		next := st.dequeue()
		k.ev.replaceTop(event{t: k.serve(next, st), id: next})
	default:
		st.busy--
		k.ev.pop()
	}
	v := &k.v[id]
	v.call, v.left = st.callLo, 0
	k.proceed(id)
}

// proceed makes the next call of visit id; when it has none left, the visit
// is done and whoever it answers to proceeds in turn, up to the external
// request. Each of the count repetitions of a sequential call is made with
// the call's probability, independently: the semantics the model's
// transform assumes, and the emulation's (emulate.makeCalls). A group
// starts its branches and the visit waits for their answers (fork).
func (k *kernel) proceed(id int32) {
	for id >= 0 {
		v := &k.v[id]
		if v.left == 0 {
			if sp := &k.plan.stations[v.svc]; v.call == sp.callHi {
				if sp.hold || v.inGroup {
					id = k.done(id)
					continue
				}
				// done's common case, inline: a visit that answers the
				// visit that called it, or is an external request.
				parent := v.parent
				if parent < 0 {
					k.finish(id, int(-parent-1))
				}
				k.release(id)
				id = parent
				continue
			}
			c := &k.plan.calls[v.call]
			v.call++
			if c.isGroup() {
				if k.fork(id, c) {
					return
				}
				continue
			}
			v.left = c.count
		}
		v.left--
		c := &k.plan.calls[v.call-1]
		if c.p < 1 && k.rng.Float64() >= c.p {
			continue
		}
		svc, bal := k.route(c, v.svc)
		child := k.alloc()
		k.v[child] = visit{arrive: k.now, parent: id, svc: svc, bal: bal}
		k.arrive(child)
		return
	}
}

// route is where call c, made by a visit at station caller, goes: the
// callee's station, chosen by the caller's balancer for the callee when
// it has several replicas, and that balancer (-1 when it has one).
func (k *kernel) route(c *callSpec, caller int32) (svc, bal int32) {
	if c.bal < 0 {
		return c.to, -1
	}
	bal = k.plan.stations[caller].balLo + c.bal
	return k.pick(bal), bal
}

// pick chooses the station of a request that balancer b sends, by its
// policy (topology.Balancer), and counts it in flight there if the policy
// counts: until the request answers (release).
func (k *kernel) pick(b int32) int32 {
	bs := &k.plan.balancers[b]
	n := bs.n
	var r int32
	switch bs.policy {
	case random_:
		return bs.first + int32(k.rng.IntN(int(n)))
	case roundRobin:
		r = k.cursor[b]
		if k.cursor[b] = r + 1; r+1 == n {
			k.cursor[b] = 0
		}
		return bs.first + r
	case leastRequests:
		// The fewest in flight, ties broken uniformly at random by
		// reservoir sampling: the i-th tie seen replaces the choice with
		// probability 1/i.
		counts := k.inFlight[bs.counts : bs.counts+n]
		least, ties := counts[0], 1
		for i := int32(1); i < n; i++ {
			switch c := counts[i]; {
			case c < least:
				least, ties, r = c, 1, i
			case c == least:
				ties++
				if k.rng.IntN(ties) == 0 {
					r = i
				}
			}
		}
	case powerOfTwo:
		// Two distinct replicas uniformly at random: the second is drawn
		// from the other n-1.
		r = int32(k.rng.IntN(int(n)))
		o := int32(k.rng.IntN(int(n - 1)))
		if o >= r {
			o++
		}
		counts := k.inFlight[bs.counts : bs.counts+n]
		if c := counts[o]; c < counts[r] || c == counts[r] && k.rng.Uint64()&1 == 0 {
			r = o
		}
	}
	k.inFlight[bs.counts+r]++
	return bs.first + r
}

// done ends visit id, whose calls have all returned: a worker it held goes
// to the next waiting visit, and the visit answers. It returns the visit
// that goes on as a result, or -1 if none does.
func (k *kernel) done(id int32) int32 {
	v := &k.v[id]
	st := &k.st[v.svc]
	if st.hold {
		k.releaseHeld(st)
	}
	parent := v.parent
	switch {
	case v.inGroup && v.repeat > 0:
		// Its branch makes the call again, at once: the same record is the
		// next visit, sent by the same balancer afresh.
		v.repeat--
		v.arrive = k.now
		if v.bal >= 0 {
			k.answered(v)
			v.svc = k.pick(v.bal)
		}
		k.arrive(id)
		return -1
	case v.inGroup:
		k.release(id)
		return k.answer(parent)
	case parent < 0:
		k.finish(id, int(-parent-1))
		k.release(id)
		return -1
	default:
		k.release(id)
		return parent
	}
}

// releaseHeld frees a worker of st held across its visit's calls: it takes
// the next waiting visit, if any.
func (k *kernel) releaseHeld(st *station) {
	k.account(st)
	st.held--
	if st.qLen > 0 {
		next := st.dequeue()
		k.ev.push(event{t: k.serve(next, st), id: next})
		return
	}
	st.busy--
}

// fork makes the group of parallel calls c for visit id, as the emulation
// does (emulate.fanOut): one coin per branch, with the branch's
// probability, flipped in branch order before any call starts; then every
// branch made starts at once, each making its call count times in a row
// (done repeats it). It reports whether id waits: it does not when no
// branch came up, and the group is done at once.
func (k *kernel) fork(id int32, c *callSpec) (waits bool) {
	made := k.made[:0]
	for b := c.branchLo; b < c.branchHi; b++ {
		if p := k.plan.branches[b].p; p >= 1 || k.rng.Float64() < p {
			made = append(made, b)
		}
	}
	k.made = made
	n := len(made)
	if n == 0 {
		return false
	}
	j := k.allocJoin()
	k.joins[j] = join{parent: id, need: int32(c.group.Waits(n)), running: int32(n)}
	for _, b := range made {
		br := &k.plan.branches[b]
		svc, bal := k.route(br, k.v[id].svc)
		child := k.alloc()
		k.v[child] = visit{arrive: k.now, parent: j, svc: svc, bal: bal, repeat: br.count - 1, inGroup: true}
		k.arrive(child)
	}
	return true
}

// answer counts in a branch of join j that has finished. It returns the
// visit that made the group when this was the last answer it waited for,
// or -1: it does not wait, or waits for more, or has already gone on.
func (k *kernel) answer(j int32) int32 {
	jn := &k.joins[j]
	jn.running--
	next := int32(-1)
	if jn.need > 0 {
		jn.need--
		if jn.need == 0 {
			next = jn.parent
		}
	}
	if jn.running == 0 {
		k.joinFree = append(k.joinFree, j)
	}
	return next
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
	if st.held > 0 { // never, unless the service holds: spare the others the product
		st.areaHeld += float64(st.held) * dt
	}
	st.areaN += float64(st.inSystem()) * dt
	st.last = k.now
}

// inSystem is the number of visits waiting at the station or in their own
// service; a visit whose worker is held across its calls is at its
// callees, not here.
func (st *station) inSystem() int {
	return int(st.busy-st.held) + st.qLen
}

func (k *kernel) beginWindow() {
	k.tw = k.now
	for i := range k.st {
		st := &k.st[i]
		st.areaBusy, st.areaHeld, st.areaN, st.last = 0, 0, 0, k.now
	}
}

func (k *kernel) endWindow() {
	k.ended = true
	k.tend = k.now
	for i := range k.st {
		st := &k.st[i]
		k.account(st)
		st.busyArea, st.heldArea, st.nArea = st.areaBusy, st.areaHeld, st.areaN
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
	v := &k.v[id]
	if v.bal >= 0 {
		k.answered(v)
	}
	v.svc = -1
	k.free = append(k.free, id)
}

// answered ends the flight of visit v, which balancer v.bal sent: its
// reply is back.
func (k *kernel) answered(v *visit) {
	if bs := &k.plan.balancers[v.bal]; bs.counts >= 0 {
		k.inFlight[bs.counts+v.svc-bs.first]--
	}
}

func (k *kernel) allocJoin() int32 {
	if n := len(k.joinFree); n > 0 {
		j := k.joinFree[n-1]
		k.joinFree = k.joinFree[:n-1]
		return j
	}
	k.joins = append(k.joins, join{})
	return int32(len(k.joins) - 1)
}
