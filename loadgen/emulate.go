package loadgen

import (
	"context"
	"errors"
	"fmt"
	"github.com/kendallqn/kendall/internal/moments"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// EmulateOptions set how a topology is emulated. The zero value binds every
// service to a free port on 127.0.0.1 (or its listen: address, if that is a
// loopback one) with seed 0.
type EmulateOptions struct {
	// Seed fixes the service times and the calls' coin flips of every
	// service.
	Seed uint64
	// AllowNonLoopback honours listen: addresses that are not loopback
	// ones. Without it such an address is an error, and a listen: address
	// without a host (":8081") binds 127.0.0.1.
	AllowNonLoopback bool
}

// Emulation is a topology served as real HTTP services, one server per
// service. It runs until Close.
type Emulation struct {
	topo      *topology.Topology
	services  []*service
	transport *http.Transport
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the servers' Serve loops
	closeOnce sync.Once
}

// ServiceStats is the live state of one emulated service and what it has
// realized so far. Times are in seconds.
type ServiceStats struct {
	Name         string  `json:"name"`
	URL          string  `json:"url"`
	MetricsURL   string  `json:"metrics_url"`
	Servers      int     `json:"servers"`
	ServiceTime  float64 `json:"service_time"` // the file's mean
	Distribution string  `json:"distribution"`
	TargetCV     float64 `json:"target_cv"` // the coefficient of variation of the distribution
	Requests     int64   `json:"requests"`  // received
	Served       int64   `json:"served"`    // service times completed
	Busy         int     `json:"busy"`      // workers holding a request now
	QueueLength  int     `json:"queue_length"`
	InFlight     int64   `json:"in_flight"` // requests in the service: queued, in service, or in its calls
	// RealizedMean and RealizedCV are of the service times as realized:
	// how long each request held its worker, from the moment the worker
	// was handed to it to the moment it was released. nil before any.
	RealizedMean *float64 `json:"realized_mean"`
	RealizedCV   *float64 `json:"realized_cv"`
	// DrawnMean and DrawnCV are of the service times as drawn from the
	// distribution: what a perfect emulator would have realized. The
	// difference between drawn and file is sampling; between realized
	// and drawn, emulation. Both are of the requests served: one cut
	// short by Close is in neither, nor in Served.
	DrawnMean  *float64 `json:"drawn_mean"`
	DrawnCV    *float64 `json:"drawn_cv"`
	CallErrors int64    `json:"call_errors"` // calls to callees that failed
	Timer      string   `json:"timer"`       // how service times are waited: timerfd, or go
}

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

// Emulate starts one HTTP server per service of t and returns once all of
// them accept connections. ctx bounds the start only; the emulation runs
// until Close.
func Emulate(ctx context.Context, t *topology.Topology, opts EmulateOptions) (*Emulation, error) {
	base, cancel := context.WithCancel(context.Background())
	e := &Emulation{topo: t, cancel: cancel, transport: newCallTransport()}
	client := &http.Client{Transport: e.transport}
	fail := func(err error) (*Emulation, error) {
		for _, s := range e.services {
			s.ln.Close()
			s.pool.close()
		}
		cancel()
		return nil, err
	}
	var lc net.ListenConfig
	for i, spec := range t.Services {
		addr, err := listenAddress(t, spec, opts.AllowNonLoopback)
		if err != nil {
			return fail(err)
		}
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fail(fmt.Errorf("%s: services.%s: cannot listen on %s: %w%s", fileLine(t, spec.Line), spec.Name, addr, unwrapOpError(err), listenHint(err, spec)))
		}
		st := newServiceTime(spec)
		draws := newRand(opts.Seed, "service-times", i)
		s := &service{
			spec:   spec,
			index:  i,
			url:    "http://" + dialAddress(ln.Addr()) + "/",
			ln:     ln,
			client: client,
			done:   base.Done(),
			ctx:    base,
			coin:   newRand(opts.Seed, "calls", i),
		}
		timers := func() preciseTimer { return newPreciseTimer() }
		s.pool = newWorkerPool(spec.Servers, maxDebtFor(spec.ServiceTime), func() time.Duration { return st.draw(draws) }, timers)
		s.timer = s.pool.all[0].timer.kind()
		s.srv = &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          log.New(io.Discard, "", 0),
			BaseContext:       func(net.Listener) context.Context { return base },
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

// Targets returns the workload entries as targets at the emulated services,
// at the workload's rates.
func (e *Emulation) Targets() []Target {
	targets := make([]Target, len(e.topo.Workload))
	for i, w := range e.topo.Workload {
		targets[i] = Target{Name: w.Entry, URL: e.URL(w.Entry), Rate: w.Rate}
	}
	return targets
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

func (s *service) stats() ServiceStats {
	busy, queued := s.pool.state()
	st := ServiceStats{
		Name:         s.spec.Name,
		URL:          s.url,
		MetricsURL:   s.url + "metrics",
		Servers:      s.spec.Servers,
		ServiceTime:  s.spec.MeanSeconds(),
		Distribution: s.spec.Distribution.String(),
		Requests:     s.requests.Load(),
		Busy:         busy,
		QueueLength:  queued,
		InFlight:     s.inFlight.Load(),
		CallErrors:   s.callErrs.Load(),
		Timer:        s.timer,
	}
	st.TargetCV = math.Sqrt(s.spec.Distribution.SCV())
	s.statsMu.Lock()
	realized, drawn := s.realized, s.drawn
	s.statsMu.Unlock()
	st.Served = realized.N()
	st.RealizedMean, st.RealizedCV = meanCV(realized)
	st.DrawnMean, st.DrawnCV = meanCV(drawn)
	return st
}

func meanCV(m moments.Moments) (mean, cv *float64) {
	if m.N() > 0 {
		v := m.Mean()
		mean = &v
	}
	if m.N() > 1 {
		v := m.CV()
		cv = &v
	}
	return mean, cv
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

// listenAddress is where service s listens: its listen: address, or a free
// port on 127.0.0.1.
func listenAddress(t *topology.Topology, s *topology.Service, allowNonLoopback bool) (string, error) {
	if s.Listen == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return "", fmt.Errorf("%s: services.%s.listen: %q is not host:port; write one such as 127.0.0.1:8081", fileLine(t, s.Line), s.Name, s.Listen)
	}
	if allowNonLoopback {
		return s.Listen, nil
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%s: services.%s.listen: %s is not a loopback address; the emulation serves on 127.0.0.1 only unless told otherwise: use 127.0.0.1:%s, or allow other addresses explicitly (kendall serve --allow-non-loopback)",
			fileLine(t, s.Line), s.Name, s.Listen, port)
	}
	return s.Listen, nil
}

// dialAddress is the address to reach a listener at: loopback for one bound
// to every interface.
func dialAddress(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return tcp.String()
}

func fileLine(t *topology.Topology, line int) string {
	file := t.File
	if file == "" {
		file = t.Name
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func listenHint(err error, s *topology.Service) string {
	if strings.Contains(err.Error(), "address already in use") {
		return "; is another server (perhaps kendall serve) running there? Stop it, or change or remove the listen: address"
	}
	return ""
}
