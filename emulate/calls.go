package emulate

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kendallqn/kendall/balance"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/topology"
)

// call is one of a service's calls as Start wires it: to a callee, made
// count times in a row, or a group of calls made at once.
type call struct {
	to string // the callee's name, for messages
	// balancer picks the callee's replica of each call: the calling
	// replica's for the callee, shared by all of its calls there.
	balancer *balance.Balancer
	p        float64
	count    int
	group    *group // when not nil, the call is this group; the fields above are unused
}

// group is a group of parallel calls: its calls (none a group) and how
// many of those made to wait for.
type group struct {
	calls []call
	spec  *topology.Group
}

// wireCalls compiles the calls of a topology service into the calls of its
// replica s, each with s's balancer over its callee's replicas: one per
// callee, shared by all of s's calls to it (sequential, repeated and in
// groups alike), as topology.Balancer defines.
func (e *Emulation) wireCalls(s *service, calls []topology.Call, seed uint64) []call {
	out := make([]call, len(calls))
	for i, c := range calls {
		if c.Group != nil {
			out[i] = call{group: &group{calls: e.wireCalls(s, c.Group.Calls, seed), spec: c.Group}}
			continue
		}
		out[i] = call{to: c.To, balancer: e.balancer(s, c.To, seed), p: c.Probability, count: c.Count}
	}
	return out
}

// balancer returns replica s's balancer for the named callee, made on
// first use with the callee's policy over its replicas' URLs. Its stream
// is one of its own for each pair of calling replica and callee, so that
// the balancers of two callers, or of one caller for two callees, are
// independent.
func (e *Emulation) balancer(s *service, callee string, seed uint64) *balance.Balancer {
	if b := s.balancers[callee]; b != nil {
		return b
	}
	j, n := e.topo.Index(callee), len(e.topo.Services)
	stream := replicaStream(s.index, s.replica, n)*n + j
	// With Discovery, the endpoints come from its watch of the callee
	// (discover), this process's own replicas too.
	var urls []string
	if e.opts.Discovery == nil {
		urls = e.URLs(callee)
	}
	b, err := balance.New(e.topo.Services[j].Balancer, urls, random.Labelled(seed, balancerStreams, stream))
	if err != nil {
		// The topology's validation admits only the policies balance
		// knows; one built by hand past it is a programming error.
		panic(fmt.Sprintf("emulate: %s calls %s: %v", s.name, callee, err))
	}
	if s.balancers == nil {
		s.balancers = map[string]*balance.Balancer{}
	}
	s.balancers[callee] = b
	e.callers[callee] = append(e.callers[callee], b)
	return b
}

// outcome is what a request's calls came to.
type outcome struct {
	failed   []string // the calls that failed, as the request's answer lists them
	unmet    string   // why a group could not get the answers it waits for, if one could not
	shutdown bool     // cut short by Close
}

// makeCalls makes the service's calls in order, each as its kind says,
// and returns when the request may answer: when all of them are done, at
// once when a group cannot get the answers it waits for, or when the
// emulation shuts down.
//
// A sequential call failing does not stop the calls after it: the request
// makes them all, then answers 502 with the failures listed (a call's
// failure has no meaning to the caller but the 502). A group is different:
// it waits for a number of successful answers, and once so many of its
// calls have failed that it can no longer get them, the request answers
// 502 at once, as a quorum write that cannot reach a majority does.
func (s *service) makeCalls() outcome {
	var out outcome
	for i := range s.calls {
		c := &s.calls[i]
		if c.group != nil {
			failed, unmet, shutdown := s.fanOut(c.group)
			if shutdown {
				out.shutdown = true
				return out
			}
			if unmet != "" {
				out.failed = append(out.failed, failed...)
				out.unmet = unmet
				return out
			}
			continue
		}
		for range c.count {
			if c.p < 1 && !s.flip(c.p) {
				continue
			}
			if err := s.call(c); err != nil {
				s.callErrs.Add(1)
				out.failed = append(out.failed, err.Error())
			}
			if s.ctx.Err() != nil {
				out.shutdown = true
				return out
			}
		}
	}
	return out
}

// fanOut makes the calls of group g at once, each in its own goroutine,
// and waits on a channel for their answers until Waits(n) of the n calls
// made have succeeded, or so many have failed that they no longer can:
// then it returns the failures it received and, in unmet, why the group
// failed. The calls not waited for run on to the end in the background,
// loading their callees, and are counted there (parallelStats).
//
// The coins of the group's calls are flipped here, in call order, before
// any goroutine starts, so that a seed fixes which calls a request makes
// however the goroutines are scheduled. A call that comes up is made count
// times in a row in its goroutine, and its answer is a success when all of
// them succeeded. When no call comes up, the group is done at once.
func (s *service) fanOut(g *group) (failed []string, unmet string, shutdown bool) {
	made := s.flipGroup(g)
	n := len(made)
	if n == 0 {
		return nil, "", false
	}
	need := g.spec.Waits(n)
	f := &fanOut{s: s, answers: make(chan answer, n), waiting: true}
	started := 0
	for _, c := range made {
		if !s.goroutines.start(func() { f.answer(s.branch(c)) }) {
			break // shutting down
		}
		started++
		s.parallel.calls.Add(1)
	}
	consumed, succeeded, failures := 0, 0, 0
	defer func() { f.stopWaiting(started - consumed) }()
	if started < n {
		return nil, "", true
	}
	// Go on while Waits(n) successes are still possible: n − failures of
	// the calls may yet succeed.
	for succeeded < need && n-failures >= need {
		select {
		case a := <-f.answers:
			consumed++
			s.parallel.waited.Add(1)
			if s.ctx.Err() != nil {
				return nil, "", true // the call was cut short, not failed
			}
			if a.failed != nil {
				failures++
				failed = append(failed, a.failed...)
			} else {
				succeeded++
			}
		case <-s.done:
			return nil, "", true
		}
	}
	if succeeded < need {
		s.parallel.groupsFailed.Add(1)
		return failed, unmetMessage(made, need, failures), false
	}
	return nil, "", false
}

// flipGroup returns the calls of g that a request makes, flipping their
// coins in call order, together, so that a request's coins for a group
// are consecutive in the service's stream.
func (s *service) flipGroup(g *group) []*call {
	made := make([]*call, 0, len(g.calls))
	s.coinMu.Lock()
	defer s.coinMu.Unlock()
	for i := range g.calls {
		c := &g.calls[i]
		if c.p >= 1 || s.coin.Float64() < c.p {
			made = append(made, c)
		}
	}
	return made
}

// branch makes call c of a group count times in a row, each to the end:
// a failure does not stop the repetitions after it, as in a sequential
// call. It gives up when the emulation shuts down.
func (s *service) branch(c *call) answer {
	var a answer
	for range c.count {
		if err := s.call(c); err != nil {
			s.callErrs.Add(1)
			a.failed = append(a.failed, err.Error())
		}
		if s.ctx.Err() != nil {
			break
		}
	}
	return a
}

// answer is the answer of one call of a group: nil failed for success.
type answer struct {
	failed []string
}

// fanOut is one group of calls under way for one request. Its goroutines
// send their answers on answers (buffered for all of them, so none ever
// blocks) while the request waits; once it has gone on, they count
// themselves as background calls instead. mu orders the two: an answer is
// either received by the request or counted in the background, never both
// nor neither.
type fanOut struct {
	s       *service
	mu      sync.Mutex
	waiting bool
	answers chan answer
}

// answer delivers a call's answer: to the request while it waits, to the
// background counters after.
func (f *fanOut) answer(a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiting {
		f.answers <- a
		return
	}
	f.s.parallel.backgroundInFlight.Add(-1)
	f.s.parallel.finishedInBackground(a)
}

// stopWaiting is called when the request goes on, with the number of calls
// it did not receive the answer of: those already answered are finished in
// the background, the others still under way.
func (f *fanOut) stopWaiting(notReceived int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting = false
	for len(f.answers) > 0 { // no goroutine sends without mu
		notReceived--
		f.s.parallel.finishedInBackground(<-f.answers)
	}
	f.s.parallel.backgroundInFlight.Add(int64(notReceived))
}

// parallelStats counts a service's calls in groups. Every call made is, in
// the end, either waited for or finished in the background (completed or
// failed); backgroundInFlight are those not waited for and still under way.
type parallelStats struct {
	calls               atomic.Int64 // calls of groups made (one with count k once)
	waited              atomic.Int64 // answers the requests received before going on
	backgroundCompleted atomic.Int64 // calls not waited for that succeeded
	backgroundFailed    atomic.Int64 // calls not waited for that failed, or were cut short by Close
	backgroundInFlight  atomic.Int64 // calls not waited for and still under way
	groupsFailed        atomic.Int64 // groups that could not get the answers they wait for
}

func (p *parallelStats) finishedInBackground(a answer) {
	if a.failed != nil {
		p.backgroundFailed.Add(1)
	} else {
		p.backgroundCompleted.Add(1)
	}
}

// goroutines starts the goroutines of the calls of groups, and lets Close
// wait for every one of them: a call not waited for outlives its request,
// never the emulation.
type goroutines struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// start runs fn in a new goroutine, unless the emulation is closing.
func (g *goroutines) start(fn func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Go(fn)
	return true
}

// closeAndWait refuses new goroutines and waits for those running. The
// emulation's context must be cancelled first, or the calls run to their
// end.
func (g *goroutines) closeAndWait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}

// unmetMessage says why a group failed its request: of the calls made,
// too many failed for need of them to succeed.
func unmetMessage(made []*call, need, failures int) string {
	names := make([]string, len(made))
	for i, c := range made {
		names[i] = c.to
	}
	return fmt.Sprintf("the parallel calls to %s need %d of %d to succeed, and %d failed", strings.Join(names, ", "), need, len(made), failures)
}
