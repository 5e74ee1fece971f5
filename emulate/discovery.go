package emulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/kendallqn/kendall/balance"
)

// Discovery is where an emulation publishes the replicas it serves and
// finds the replicas of the services its replicas call, when a topology
// runs in several processes (Options.Discovery). registry.Scope is one,
// backed by etcd.
type Discovery interface {
	// Publish makes replica r of a service, at url, known to its callers
	// until ctx ends or the Closer returned is closed.
	Publish(ctx context.Context, service string, replica int, url string) (io.Closer, error)
	// Watch calls fn with the URLs of the replicas of a service: at once
	// with those known now, then after every change, until ctx ends,
	// when it returns ctx's error. fn is called from Watch's goroutine,
	// one call at a time.
	Watch(ctx context.Context, service string, fn func(urls []string)) error
}

// DefaultStopGrace is Options.StopGrace's default.
const DefaultStopGrace = time.Second

// watchRetry is how long a failed watch waits before it starts again.
const watchRetry = time.Second

// discovery is an emulation's state with Options.Discovery: the
// replicas it has published.
type discovery struct {
	mu        sync.Mutex
	published map[*service]io.Closer
}

// discover publishes every replica served here, then watches every
// service called by one of them and keeps the callers' balancers up to
// date. It returns once each watch has delivered its first list, so that
// the callees registered already are called from the first request; a
// callee with no replica registered yet is not an error (its process may
// start later), and its calls fail at once until one is. ctx bounds the
// start only.
func (e *Emulation) discover(ctx context.Context) error {
	d := e.opts.Discovery
	e.disc.published = map[*service]io.Closer{}
	for s := range e.all() {
		c, err := d.Publish(e.base, s.spec.Name, s.replica, s.url)
		if err != nil {
			return fmt.Errorf("emulate: publishing %s at %s: %w", s.name, s.url, err)
		}
		e.disc.mu.Lock()
		e.disc.published[s] = c
		e.disc.mu.Unlock()
	}

	wctx, stop := context.WithCancel(context.Background())
	e.watchStop = stop
	callees := make([]string, 0, len(e.callers))
	for name := range e.callers {
		callees = append(callees, name)
	}
	slices.Sort(callees)
	first := make(chan error, len(callees))
	for _, callee := range callees {
		balancers := e.callers[callee]
		e.watchers.Go(func() { e.watch(wctx, callee, balancers, first) })
	}
	for range callees {
		select {
		case err := <-first:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("emulate: watching the callees' replicas: %w", ctx.Err())
		}
	}
	return nil
}

// watch follows the replicas of callee through Discovery, updating the
// balancers of its callers here, until ctx ends. The outcome of the first
// watch goes to first: nil once it delivered a list, or its error. A
// watch that fails afterwards is retried, with a warning; the balancers
// keep the replicas they had meanwhile.
func (e *Emulation) watch(ctx context.Context, callee string, balancers []*balance.Balancer, first chan<- error) {
	started := false
	for {
		err := e.opts.Discovery.Watch(ctx, callee, func(urls []string) {
			for _, b := range balancers {
				b.Update(urls)
			}
			if !started {
				started = true
				first <- nil
			}
		})
		if ctx.Err() != nil {
			if !started {
				first <- fmt.Errorf("emulate: watching the replicas of %s: %w", callee, ctx.Err())
			}
			return
		}
		if !started {
			first <- fmt.Errorf("emulate: watching the replicas of %s: %w", callee, err)
			return
		}
		e.warn(fmt.Sprintf("watching the replicas of %s: %v; the calls to %s go to the replicas known before, and the watch starts again in %v", callee, err, callee, watchRetry))
		select {
		case <-ctx.Done():
			return
		case <-time.After(watchRetry):
		}
	}
}

func (e *Emulation) warn(msg string) {
	if e.opts.Warn != nil {
		e.opts.Warn(msg)
		return
	}
	fmt.Fprintln(os.Stderr, "warning: emulate:", msg)
}

// withdraw withdraws replica s from Discovery, if it was published.
func (e *Emulation) withdraw(s *service) error {
	e.disc.mu.Lock()
	c := e.disc.published[s]
	delete(e.disc.published, s)
	e.disc.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Close()
}

// withdrawAll withdraws every replica published, all at once: with the
// registry unreachable, each withdrawal waits for its request's timeout,
// and they wait together, not one after the other.
func (e *Emulation) withdrawAll() error {
	var (
		mu  sync.Mutex
		err error
		wg  sync.WaitGroup
	)
	for s := range e.all() {
		wg.Go(func() {
			if werr := e.withdraw(s); werr != nil {
				mu.Lock()
				err = errors.Join(err, werr)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return err
}

// StopReplica stops one replica of a service served here, as a process
// of a real service stops: it is withdrawn from its callers (from
// Discovery, or from the balancers of this emulation without one, and
// from WatchReplicas in either case), goes
// on serving for Options.StopGrace so that callers elsewhere learn of it,
// then stops accepting connections and answers the requests it holds
// before it returns. Its figures stay in Stats, marked Stopped. Calls
// that reached it too late fail, and are counted by their callers as
// call errors. Stopping a replica stopped already does nothing.
func (e *Emulation) StopReplica(ctx context.Context, service string, replica int) error {
	i := e.topo.Index(service)
	if i < 0 || e.replicas[i] == nil {
		return fmt.Errorf("emulate: StopReplica: %q is not a service served here", service)
	}
	if replica < 0 || replica >= len(e.replicas[i]) {
		return fmt.Errorf("emulate: StopReplica: %s has no replica %d; its replicas are 0 to %d", service, replica, len(e.replicas[i])-1)
	}
	s := e.replicas[i][replica]
	if !s.stopped.CompareAndSwap(false, true) {
		return nil
	}
	// Under e.live.mu, the list applied has every replica stopped before:
	// two stopped at once cannot apply theirs out of order and put the
	// other back in a balancer.
	e.live.mu.Lock()
	if e.opts.Discovery == nil {
		left := e.serving(i)
		for _, b := range e.callers[service] {
			b.Update(left)
		}
	}
	close(e.live.changed) // WatchReplicas
	e.live.changed = make(chan struct{})
	e.live.mu.Unlock()
	var err error
	if e.opts.Discovery != nil {
		err = e.withdraw(s)
	}
	grace := e.opts.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	select {
	case <-time.After(grace):
	case <-ctx.Done():
	case <-e.base.Done():
	}
	if serr := s.shutdown(stopTimeout); serr != nil {
		err = errors.Join(err, fmt.Errorf("stopping %s: %w", s.name, serr))
	}
	return err
}

// stopTimeout is how long a stopped replica waits for the requests it
// holds to be answered before it closes their connections.
const stopTimeout = 5 * time.Second

// shutdown closes the replica's listener and waits, up to timeout, for the
// requests it holds to be answered, then closes every connection. It
// waits for requests, not for connections: http.Server.Shutdown alone
// also waits for connections that have sent no request yet, which it
// counts as busy for their first five seconds, so a load generator's or a
// caller's fresh connection would hold a stop for that long though it
// carries nothing to lose. It reports the requests still held when the
// time ran out.
func (s *service) shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, net.ErrClosed) {
				s.srv.Close()
				if n := s.inFlight.Load(); n > 0 {
					return fmt.Errorf("%d requests still in it after %v: %w", n, timeout, err)
				}
			}
			return nil
		case <-tick.C:
			if s.inFlight.Load() == 0 {
				s.srv.Close() // only connections with no request in them are left
				<-done
				return nil
			}
		}
	}
}

// serveStop is POST /admin/stop: the replica stops (StopReplica), after
// it has answered.
func (s *service) serveStop(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, s.name+": /admin/stop answers POST, not "+r.Method, http.StatusMethodNotAllowed)
		return
	}
	e := s.emulation
	if s.stopped.Load() {
		fmt.Fprintf(w, "%s: stopped already\n", s.name)
		return
	}
	grace := e.opts.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	if !e.goroutines.start(func() {
		if err := e.StopReplica(e.base, s.spec.Name, s.replica); err != nil {
			e.warn(err.Error())
		}
	}) {
		http.Error(w, s.name+": shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "%s: stopping: withdrawn from its callers, it stops accepting connections in %v\n", s.name, grace)
}
