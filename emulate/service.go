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

	"github.com/kendallqn/kendall/internal/clock"
	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/topology"
)

// service is one emulated service: its server, its worker pool, and its
// calls.
type service struct {
	spec     *topology.Service
	index    int
	url      string
	ln       net.Listener
	srv      *http.Server
	pool     *workerPool
	client   *http.Client
	done     <-chan struct{} // closed when the emulation shuts down
	ctx      context.Context
	calls    []call
	coinMu   sync.Mutex
	coin     *rand.Rand
	timer    string
	requests atomic.Int64
	inFlight atomic.Int64
	callErrs atomic.Int64

	statsMu  sync.Mutex
	realized moments.Moments // seconds
	drawn    moments.Moments // seconds
}

type call struct {
	url   string
	p     float64
	count int
}

// The families of random streams of an emulation (random.Labelled), one
// stream per service in each.
const (
	serviceTimeStreams = "service-times"
	coinStreams        = "calls"
)

// newService listens for service i of the topology and prepares its
// server. ctx bounds the listen only. Its calls are wired by Start, once
// every service has its URL.
func (e *Emulation) newService(ctx context.Context, i int, opts Options) (*service, error) {
	t, spec := e.topo, e.topo.Services[i]
	addr, err := listenAddress(t, spec, opts.AllowNonLoopback)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, listenError(t, spec, addr, err)
	}
	st := random.NewServiceTime(spec)
	draws := random.Labelled(opts.Seed, serviceTimeStreams, i)
	s := &service{
		spec:   spec,
		index:  i,
		url:    "http://" + dialAddress(ln.Addr()) + "/",
		ln:     ln,
		client: e.client,
		done:   e.base.Done(),
		ctx:    e.base,
		coin:   random.Labelled(opts.Seed, coinStreams, i),
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
			http.Error(w, s.spec.Name+": /metrics answers GET or HEAD, not "+r.Method, http.StatusMethodNotAllowed)
			return
		}
		s.serveMetrics(w)
	default:
		http.Error(w, s.spec.Name+": no such path "+r.URL.Path+": the service is at /, its counters at /metrics", http.StatusNotFound)
	}
}

// serve is one request to the service: it waits for a worker, holds it for
// a service time, then makes the service's calls.
func (s *service) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))

	g, ok := s.pool.acquire(s.done)
	if !ok {
		http.Error(w, s.spec.Name+": shutting down", http.StatusServiceUnavailable)
		return
	}
	held, completed := g.w.hold(g.at, g.service, s.done)
	s.pool.release(g.w)
	if !completed {
		// Cut short by Close: not served, and its held time is not a
		// service time.
		http.Error(w, s.spec.Name+": shutting down", http.StatusServiceUnavailable)
		return
	}
	// The drawn and the realized service times are of the same requests,
	// those served, so that their difference is the emulation's alone.
	s.statsMu.Lock()
	s.drawn.Add(g.service.Seconds())
	s.realized.Add(held.Seconds())
	s.statsMu.Unlock()

	var failed []string
	for _, c := range s.calls {
		for range c.count {
			if c.p < 1 && !s.flip(c.p) {
				continue
			}
			if err := s.call(c.url); err != nil {
				s.callErrs.Add(1)
				failed = append(failed, err.Error())
			}
			if s.ctx.Err() != nil {
				http.Error(w, s.spec.Name+": shutting down", http.StatusServiceUnavailable)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "%s: %d calls failed: %s\n", s.spec.Name, len(failed), strings.Join(failed, "; "))
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

// call makes one call to a callee and waits for its whole response: the
// callee's latency includes its own calls.
func (s *service) call(url string) error {
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
