package emulate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// Options set how a topology is emulated. The zero value binds every
// service to a free port on 127.0.0.1 (or its listen: address, if that is a
// loopback one) with seed 0.
type Options struct {
	// Seed fixes the service times and the calls' coin flips of every
	// service.
	Seed uint64
	// AllowNonLoopback honours listen: addresses that are not loopback
	// ones. Without it such an address is an error (ErrNotLoopback), and
	// a listen: address without a host (":8081") binds 127.0.0.1.
	AllowNonLoopback bool
}

// Emulation is a topology served as real HTTP services, one server per
// service. It runs until Close.
type Emulation struct {
	topo      *topology.Topology
	services  []*service
	transport *http.Transport // of the calls between services
	client    *http.Client
	base      context.Context // the services' requests and calls; cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the servers' Serve loops
	closeOnce sync.Once
}

// Start starts one HTTP server per service of t and returns once all of
// them accept connections. ctx bounds the start only; the emulation runs
// until Close.
//
// A listen: address that cannot be served at is an error that errors.As
// finds a *topology.Error in, naming the file, line and field; one refused
// because it is not a loopback address also matches ErrNotLoopback, and one
// the system would not bind wraps the system's error.
func Start(ctx context.Context, t *topology.Topology, opts Options) (*Emulation, error) {
	e := &Emulation{topo: t, transport: newCallTransport()}
	e.client = &http.Client{Transport: e.transport}
	e.base, e.cancel = context.WithCancel(context.Background())
	for i := range t.Services {
		s, err := e.newService(ctx, i, opts)
		if err != nil {
			for _, s := range e.services {
				s.ln.Close()
				s.pool.close()
			}
			e.cancel()
			return nil, err
		}
		e.services = append(e.services, s)
	}
	for _, s := range e.services {
		for _, c := range s.spec.Calls {
			callee := e.services[t.Index(c.To)]
			s.calls = append(s.calls, call{url: callee.url, p: c.Probability, count: c.Count})
		}
	}
	for _, s := range e.services {
		e.wg.Go(func() { _ = s.srv.Serve(s.ln) })
	}
	return e, nil
}

// Topology is the topology emulated.
func (e *Emulation) Topology() *topology.Topology { return e.topo }

// URL returns the URL at which the named service answers, or "".
func (e *Emulation) URL(service string) string {
	if i := e.topo.Index(service); i >= 0 {
		return e.services[i].url
	}
	return ""
}

// Stats returns the live state of every service, in the topology's order.
func (e *Emulation) Stats() []ServiceStats {
	out := make([]ServiceStats, len(e.services))
	for i, s := range e.services {
		out[i] = s.stats()
	}
	return out
}

// Close shuts the servers down: it stops accepting requests, fails the
// requests still queued or in service with 503 Service Unavailable (a
// service time cut short is not a service time: such a request is not
// counted as served, nor in the realized figures), abandons the calls under
// way, and releases every resource. It is safe to call more than once.
func (e *Emulation) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.cancel() // queued requests give up, calls under way are abandoned
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, s := range e.services {
			wg.Go(func() {
				if serr := s.srv.Shutdown(ctx); serr != nil {
					s.srv.Close()
					mu.Lock()
					err = errors.Join(err, fmt.Errorf("shutting down %s: %w", s.spec.Name, serr))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		e.wg.Wait()
		e.transport.CloseIdleConnections()
		for _, s := range e.services {
			s.pool.close()
		}
	})
	return err
}
