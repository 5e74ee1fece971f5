package emulate

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kendallqn/kendall/balance"
	"github.com/kendallqn/kendall/internal/clock"
	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/topology"
)

// service is one replica of an emulated service (the service itself, when
// it has one): its server, its worker pool, and its calls, with its own
// balancer for each service it calls.
type service struct {
	spec    *topology.Service
	index   int
	replica int    // of spec.Replicas, from 0
	name    string // the service's name, with the replica's when it has several: back[1]
	url     string
	ln      net.Listener
	srv     *http.Server
	pool    *workerPool
	client  *http.Client
	done    <-chan struct{} // closed when the emulation shuts down
	ctx     context.Context
	calls   []call
	// discovered: the callees' replicas come from Options.Discovery.
	discovered bool
	// stopped is set by StopReplica.
	stopped atomic.Bool
	// balancers are the replica's, one per service it calls (wireCalls).
	balancers map[string]*balance.Balancer
	coinMu    sync.Mutex
	coin      *rand.Rand
	timer     string
	requests  atomic.Int64
	inFlight  atomic.Int64
	callErrs  atomic.Int64
	parallel  parallelStats

	// goroutines runs the calls of groups; it is the emulation's.
	goroutines *goroutines
	emulation  *Emulation // for /admin/stop

	statsMu  sync.Mutex
	realized moments.Moments // seconds
	drawn    moments.Moments // seconds
	// heldInCalls is of how long workers stayed held across their
	// requests' calls (hold: true), after their service times, in seconds.
	heldInCalls moments.Moments
}

// The families of random streams of an emulation (random.Labelled): one
// stream per replica of each service in the first two, one per replica
// and service it calls in the third.
const (
	serviceTimeStreams = "service-times"
	coinStreams        = "calls"
	balancerStreams    = "balancers"
)

// replicaStream is the index of the streams of replica r of service i,
// of n services: i for replica 0, so that a service of one replica draws
// what it drew before there were replicas, and distinct for every pair.
func replicaStream(i, r, n int) int { return i + r*n }

// newService listens at addr for replica r of service i of the topology
// and prepares its server. ctx bounds the listen only. Its calls are wired
// by Start, once every replica has its URL.
func (e *Emulation) newService(ctx context.Context, i, r int, addr string, opts Options) (*service, error) {
	t, spec := e.topo, e.topo.Services[i]
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, listenError(t, spec, r, addr, err)
	}
	stream := replicaStream(i, r, len(t.Services))
	st := random.NewServiceTime(spec)
	draws := random.Labelled(opts.Seed, serviceTimeStreams, stream)
	s := &service{
		spec:    spec,
		index:   i,
		replica: r,
		name:    replicaName(spec, r),
		url:     "http://" + dialAddress(ln.Addr()) + "/",
		ln:      ln,
		client:  e.client,
		done:    e.base.Done(),
		ctx:     e.base,
		coin:    random.Labelled(opts.Seed, coinStreams, stream),

		discovered: opts.Discovery != nil,
		emulation:  e,

		goroutines: &e.goroutines,
	}
	draw := func() time.Duration { return clock.FromSeconds(st.Draw(draws)) }
	s.pool = newWorkerPool(spec.Servers, maxDebtFor(spec.ServiceTime), draw, clock.NewTimer)
	s.timer = s.pool.all[0].timer.Kind()
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return e.base },
	}
	return s, nil
}

// replicaName names replica r of s in messages: the service's name, with
// the replica's index when it has several (back[1]).
func replicaName(s *topology.Service, r int) string {
	if s.Replicas <= 1 {
		return s.Name
	}
	return fmt.Sprintf("%s[%d]", s.Name, r)
}

// ServeHTTP routes a request: / is the service, whatever the method (a
// load test may send any); /metrics reports its counters, to GET and HEAD
// only, as a Prometheus scrape does; any other path is 404, so that a
// mistyped URL shows at once instead of being measured as the service.
func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		s.serve(w, r)
	case "/metrics":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, s.name+": /metrics answers GET or HEAD, not "+r.Method, http.StatusMethodNotAllowed)
			return
		}
		s.serveMetrics(w)
	case "/admin/stop":
		s.serveStop(w, r)
	default:
		http.Error(w, s.name+": no such path "+r.URL.Path+": the service is at /, its counters at /metrics (POST /admin/stop stops this replica)", http.StatusNotFound)
	}
}

// serve is one request to the service: it waits for a worker, holds it for
// a service time, then makes the service's calls. The worker is released
// after the service time, or, for a service with hold: true, once the
// calls have returned (those the request waits for: the calls of a group
// it does not wait for run on without it).
func (s *service) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))

	g, ok := s.pool.acquire(s.done)
	if !ok {
		http.Error(w, s.name+": shutting down", http.StatusServiceUnavailable)
		return
	}
	held, completed := g.w.hold(g.at, g.service, s.done)
	if !completed {
		// Cut short by Close: not served, and its held time is not a
		// service time.
		s.pool.release(g.w)
		http.Error(w, s.name+": shutting down", http.StatusServiceUnavailable)
		return
	}
	// The drawn and the realized service times are of the same requests,
	// those served, so that their difference is the emulation's alone. A
	// worker held across calls is not in them: its service time is its
	// own work.
	s.statsMu.Lock()
	s.drawn.Add(g.service.Seconds())
	s.realized.Add(held.Seconds())
	s.statsMu.Unlock()

	holding := s.spec.Hold && len(s.calls) > 0
	var heldFrom time.Time
	if holding {
		s.pool.holdInCalls(g.w)
		heldFrom = time.Now()
	} else {
		s.pool.release(g.w)
	}
	out := s.makeCalls()
	if holding {
		s.pool.release(g.w)
		if !out.shutdown {
			d := time.Since(heldFrom)
			s.statsMu.Lock()
			s.heldInCalls.Add(d.Seconds())
			s.statsMu.Unlock()
		}
	}
	if out.shutdown {
		http.Error(w, s.name+": shutting down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(out.failed) > 0 || out.unmet != "" {
		w.WriteHeader(http.StatusBadGateway)
		msg := fmt.Sprintf("%s: %d calls failed: %s", s.name, len(out.failed), strings.Join(out.failed, "; "))
		if out.unmet != "" {
			msg += "; " + out.unmet
		}
		fmt.Fprintln(w, msg)
		return
	}
	fmt.Fprintf(w, "%s\n", s.spec.Name)
}

// flip returns true with probability p.
func (s *service) flip(p float64) bool {
	s.coinMu.Lock()
	defer s.coinMu.Unlock()
	return s.coin.Float64() < p
}

// call makes one call to a callee, at the replica its balancer picks, and
// waits for its whole response: the callee's latency includes its own
// calls. The call is in flight, for the balancer, until the response has
// been read or the call has failed.
func (s *service) call(c *call) error {
	url, done, err := c.balancer.Pick()
	if err != nil {
		if s.discovered {
			// Fail fast: the callee's process may not have started
			// yet, or has stopped; waiting would hide it.
			return fmt.Errorf("%s: no replica registered (is the process that serves it running?)", c.to)
		}
		return fmt.Errorf("no replica of %s is available: %w", c.to, err)
	}
	defer done()
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// newCallTransport returns the transport of the calls between services,
// tuned for loopback: no proxy, no compression, no cap on connections and
// plenty of idle ones per callee, so a call never waits for a connection.
func newCallTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no limit
		MaxIdleConnsPerHost: 4096,
		MaxConnsPerHost:     0, // no limit
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}
