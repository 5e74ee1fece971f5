package emulate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kendallqn/kendall/balance"
	"github.com/kendallqn/kendall/topology"
)

// Options set how a topology is emulated. The zero value binds every
// replica of every service to a free port on 127.0.0.1 (or its listen:
// address, if that is a loopback one: see the package doc for replicas)
// with seed 0.
type Options struct {
	// Seed fixes the service times and the calls' coin flips of every
	// service.
	Seed uint64
	// AllowNonLoopback honours listen: addresses that are not loopback
	// ones. Without it such an address is an error (ErrNotLoopback), and
	// a listen: address without a host (":8081") binds 127.0.0.1.
	AllowNonLoopback bool
	// Services, when not empty, are the services this emulation serves,
	// every replica of each; the others are served by other processes,
	// found through Discovery, which a part of a topology needs. Empty
	// means every service.
	Services []string
	// Discovery, when set, is where the emulation publishes the replicas
	// it serves and finds the replicas of every service its replicas
	// call, its own included (see the package doc, Several processes).
	// nil wires the callers to the callees' servers in this process.
	Discovery Discovery
	// StopGrace is how long a replica stopped by StopReplica goes on
	// serving after it has been withdrawn, so that callers elsewhere learn
	// of it before it refuses connections. 0 means DefaultStopGrace.
	StopGrace time.Duration
	// Warn receives what the emulation cannot act on but the user should
	// know: a watch of Discovery that failed and is retried. nil writes
	// to standard error.
	Warn func(msg string)
}

// Emulation is a topology served as real HTTP services, one server per
// replica of each service. It runs until Close.
type Emulation struct {
	topo *topology.Topology
	// replicas are the servers of each service, in the topology's order,
	// replica 0 first; services are the replicas 0, which are the
	// services themselves when they have one replica.
	replicas  [][]*service
	services  []*service
	transport *http.Transport // of the calls between services
	client    *http.Client
	base      context.Context // the services' requests and calls; cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the servers' Serve loops
	// goroutines are those of the calls of groups, which may outlive
	// their requests but not the emulation.
	goroutines goroutines
	closeOnce  sync.Once

	opts Options
	// callers are, for each callee, the balancers of the replicas served
	// here that call it, which Discovery's watch of the callee, or
	// StopReplica without Discovery, updates.
	callers map[string][]*balance.Balancer
	// watchers are the goroutines of Discovery's watches; watchStop ends
	// them.
	watchers  sync.WaitGroup
	watchStop context.CancelFunc
	disc      discovery
	// live serializes StopReplica's changes to the replicas serving with
	// what follows them (the callers' balancers, WatchReplicas), so that
	// the last list applied has every replica stopped until then.
	live struct {
		mu      sync.Mutex
		changed chan struct{} // closed, and replaced, at each change
	}
}

// Start starts one HTTP server per replica of each service of t and
// returns once all of them accept connections. ctx bounds the start only;
// the emulation runs until Close.
//
// A listen: address that cannot be served at is an error that errors.As
// finds a *topology.Error in, naming the file, line and field; one refused
// because it is not a loopback address also matches ErrNotLoopback, and one
// the system would not bind wraps the system's error.
func Start(ctx context.Context, t *topology.Topology, opts Options) (*Emulation, error) {
	served, err := servedSet(t, opts)
	if err != nil {
		return nil, err
	}
	e := &Emulation{topo: t, transport: newCallTransport(), opts: opts, callers: map[string][]*balance.Balancer{}}
	e.client = &http.Client{Transport: e.transport}
	e.base, e.cancel = context.WithCancel(context.Background())
	e.live.changed = make(chan struct{})
	fail := func(err error) (*Emulation, error) {
		for s := range e.all() {
			s.ln.Close()
			s.pool.close()
		}
		e.cancel()
		return nil, err
	}
	for i, spec := range t.Services {
		if !served[i] {
			e.replicas = append(e.replicas, nil)
			e.services = append(e.services, nil)
			continue
		}
		addrs, err := listenAddresses(t, spec, opts.AllowNonLoopback)
		var reps []*service
		for r := 0; err == nil && r < len(addrs); r++ {
			var s *service
			if s, err = e.newService(ctx, i, r, addrs[r], opts); err == nil {
				reps = append(reps, s)
			}
		}
		e.replicas = append(e.replicas, reps)
		if err != nil {
			return fail(err)
		}
		e.services = append(e.services, reps[0])
	}
	for s := range e.all() {
		s.calls = e.wireCalls(s, s.spec.Calls, opts.Seed)
	}
	for s := range e.all() {
		e.wg.Go(func() { _ = s.srv.Serve(s.ln) })
	}
	if opts.Discovery != nil {
		if err := e.discover(ctx); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// servedSet says which of t's services the emulation serves, by index.
func servedSet(t *topology.Topology, opts Options) ([]bool, error) {
	served := make([]bool, len(t.Services))
	if len(opts.Services) == 0 {
		for i := range served {
			served[i] = true
		}
		return served, nil
	}
	for _, name := range opts.Services {
		i := t.Index(name)
		if i < 0 {
			names := make([]string, len(t.Services))
			for j, s := range t.Services {
				names[j] = s.Name
			}
			return nil, fmt.Errorf("emulate: Options.Services names %q, which topology %s has not; its services are %s", name, t.Name, strings.Join(names, ", "))
		}
		served[i] = true
	}
	if opts.Discovery == nil && slices.Contains(served, false) {
		var missing []string
		for i, ok := range served {
			if !ok {
				missing = append(missing, t.Services[i].Name)
			}
		}
		return nil, fmt.Errorf("emulate: serving part of topology %s needs Options.Discovery, to find %s where they are served (a registry: kendall serve --registry)", t.Name, strings.Join(missing, ", "))
	}
	return served, nil
}

// all yields every replica of every service.
func (e *Emulation) all() iter.Seq[*service] {
	return func(yield func(*service) bool) {
		for _, reps := range e.replicas { // nil for a service served elsewhere
			for _, s := range reps {
				if !yield(s) {
					return
				}
			}
		}
	}
}

// Topology is the topology emulated.
func (e *Emulation) Topology() *topology.Topology { return e.topo }

// URL returns the URL at which the named service answers, or "" (for a
// service it does not know or does not serve: Options.Services): that of
// its replica 0, when it has several (URLs gives them all).
func (e *Emulation) URL(service string) string {
	if i := e.topo.Index(service); i >= 0 && e.services[i] != nil {
		return e.services[i].url
	}
	return ""
}

// Serves reports whether the emulation serves the named service
// (Options.Services).
func (e *Emulation) Serves(service string) bool {
	i := e.topo.Index(service)
	return i >= 0 && e.services[i] != nil
}

// URLs returns the URLs of the replicas of the named service, replica 0
// first, or nil (for a service it does not serve too). A replica stopped by
// StopReplica is still listed. A client of the service balances its requests over them,
// as the load generator does (loadgen.TargetsAtReplicas).
func (e *Emulation) URLs(service string) []string {
	i := e.topo.Index(service)
	if i < 0 || e.replicas[i] == nil {
		return nil
	}
	urls := make([]string, len(e.replicas[i]))
	for r, s := range e.replicas[i] {
		urls[r] = s.url
	}
	return urls
}

// ErrClosed is returned by WatchReplicas once the emulation is closed.
var ErrClosed = errors.New("emulate: emulation closed")

// WatchReplicas calls fn with the URLs of the replicas of the named
// service that are serving (not stopped by StopReplica), replica 0 first:
// at once, then after every change, until ctx ends, when it returns ctx's
// error, or the emulation is closed (ErrClosed). fn is called from
// WatchReplicas's goroutine, one call at a time; it owns the slice. It is
// what a client of the service in this process follows, as the callers in
// the emulation do: the load generator's Target.Discover (kendall attack
// --emulate), so that a replica stopped gets no more of its requests.
func (e *Emulation) WatchReplicas(ctx context.Context, service string, fn func(urls []string)) error {
	i := e.topo.Index(service)
	if i < 0 || e.replicas[i] == nil {
		return fmt.Errorf("emulate: WatchReplicas: %q is not a service served here", service)
	}
	var last []string
	for first := true; ; first = false {
		e.live.mu.Lock()
		urls := e.serving(i)
		changed := e.live.changed
		e.live.mu.Unlock()
		if first || !slices.Equal(urls, last) {
			last = urls
			fn(slices.Clone(urls))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.base.Done():
			return ErrClosed
		case <-changed:
		}
	}
}

// serving returns the URLs of the replicas of service i not stopped,
// replica 0 first.
func (e *Emulation) serving(i int) []string {
	var urls []string
	for _, r := range e.replicas[i] {
		if !r.stopped.Load() {
			urls = append(urls, r.url)
		}
	}
	return urls
}

// Stats returns the live state of every service served, in the
// topology's order.
// That of a service of several replicas is over all of them (see
// ServiceStats), with each replica's in its Replicas.
func (e *Emulation) Stats() []ServiceStats {
	out := make([]ServiceStats, 0, len(e.replicas))
	for _, reps := range e.replicas {
		if reps != nil {
			out = append(out, serviceStats(reps))
		}
	}
	return out
}

// ReplicaStats returns the live state of each replica of the named
// service, replica 0 first (one, for a service of one replica), or nil.
func (e *Emulation) ReplicaStats(service string) []ServiceStats {
	i := e.topo.Index(service)
	if i < 0 || e.replicas[i] == nil {
		return nil
	}
	out := make([]ServiceStats, len(e.replicas[i]))
	for r, s := range e.replicas[i] {
		out[r] = s.stats()
	}
	return out
}

// Close shuts the servers down: it stops accepting requests, fails the
// requests still queued or in service with 503 Service Unavailable (a
// service time cut short is not a service time: such a request is not
// counted as served, nor in the realized figures), abandons the calls under
// way (those of groups that no request waits for any more too, which it
// waits to end), and releases every resource. It is safe to call more than
// once.
func (e *Emulation) Close() error {
	var err error
	e.closeOnce.Do(func() {
		// Withdrawn first, so that callers elsewhere stop calling
		// replicas about to refuse them.
		err = e.withdrawAll()
		if e.watchStop != nil {
			e.watchStop()
		}
		e.cancel() // queued requests give up, calls under way are abandoned
		e.watchers.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for s := range e.all() {
			wg.Go(func() {
				// A replica stopped by StopReplica has closed its
				// listener already.
				if serr := s.srv.Shutdown(ctx); serr != nil && !errors.Is(serr, net.ErrClosed) {
					s.srv.Close()
					mu.Lock()
					err = errors.Join(err, fmt.Errorf("shutting down %s: %w", s.name, serr))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		e.goroutines.closeAndWait() // after the handlers, which start them
		e.wg.Wait()
		e.transport.CloseIdleConnections()
		for s := range e.all() {
			s.pool.close()
		}
	})
	return err
}
