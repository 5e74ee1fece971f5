// Package etcdtest runs a real etcd inside a test binary, on free loopback
// ports, for the tests of the packages that use one (registry, emulate,
// cmd/kendall): etcd's own server, embedded (go.etcd.io/etcd/server/v3/
// embed), never a mock, and nothing to install.
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Main is a TestMain's body: it starts an etcd in a temporary directory,
// sets *registryURL to its registry URL (etcd://127.0.0.1:PORT), runs the
// tests, stops the etcd and returns the exit code for os.Exit. The etcd is
// shared by the tests of the binary, since it takes about a second to
// start; each test keeps to its own topology name. etcd's log goes to a
// file, printed if a test fails.
func Main(m *testing.M, registryURL *string) int {
	dir, err := os.MkdirTemp("", "kendall-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	e, err := Start(dir)
	if err != nil {
		printLog(dir)
		fmt.Fprintln(os.Stderr, "starting the embedded etcd:", err)
		return 1
	}
	*registryURL = "etcd://" + e.Clients[0].Addr().String()
	Settle()
	code := m.Run()
	e.Close()
	if code != 0 {
		printLog(dir)
	}
	return code
}

func printLog(dir string) {
	if log, err := os.ReadFile(filepath.Join(dir, "etcd.log")); err == nil && len(log) > 0 {
		fmt.Fprintf(os.Stderr, "the embedded etcd logged:\n%s", log)
	}
}

// Start starts a single-node etcd with its data under dir, on two free
// loopback ports, and returns once it serves. embed cannot listen on port
// 0 (the member's identity is derived from its advertised peer URL, fixed
// before it listens), so ports are found by listening and closing; another
// process may take one in between, hence the retries.
func Start(dir string) (*embed.Etcd, error) {
	var err error
	for attempt := range 3 {
		var ports []string
		if ports, err = freePorts(2); err != nil {
			return nil, err
		}
		client := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", ports[0])}
		peer := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", ports[1])}
		cfg := embed.NewConfig()
		cfg.Dir = filepath.Join(dir, fmt.Sprint(attempt))
		// etcd logs every start, election and connection at info, and
		// its own shutdown at error: to a file, shown if a test fails.
		cfg.LogLevel = "warn"
		cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
		var e *embed.Etcd
		if e, err = embed.StartEtcd(cfg); err != nil {
			continue
		}
		select {
		case <-e.Server.ReadyNotify():
			return e, nil
		case err = <-e.Err():
		case <-time.After(60 * time.Second):
			err = fmt.Errorf("not ready after 60 s")
		}
		e.Close()
	}
	return nil, err
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]string, error) {
	var ports []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		_, port, _ := net.SplitHostPort(l.Addr().String())
		ports = append(ports, port)
	}
	return ports, nil
}

// Settle waits until the embedded etcd has started all its goroutines:
// some start after it reports ready (its gRPC gateway's connection to
// itself), and a test's leak check would count them as the test's.
func Settle() {
	deadline := time.Now().Add(10 * time.Second)
	n, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < time.Second && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
	}
}

// Proxy forwards TCP connections to an etcd, and can freeze them: while
// frozen it passes no byte either way and holds new connections
// unanswered, as an etcd that hangs or a network that drops everything
// would, so that requests through it wait for their timeouts. It serves on
// loopback until Close.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	frozen bool
	thawed chan struct{} // closed at Thaw
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to the etcd at target (host:port).
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, thawed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(p.thawed)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Freeze stops every byte through the proxy until Thaw.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen, p.thawed = true, make(chan struct{})
	}
}

// Thaw lets the bytes held by Freeze through.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

// gate returns once the proxy is not frozen, false if it was closed.
func (p *Proxy) gate() bool {
	p.mu.Lock()
	thawed, closed := p.thawed, p.closed
	p.mu.Unlock()
	if closed {
		return false
	}
	<-thawed
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if !p.gate() {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			if !p.track(up) {
				c.Close()
				return
			}
			p.wg.Add(2)
			go p.pipe(up, c)
			go p.pipe(c, up)
		}()
	}
}

// pipe copies from src to dst, a chunk at a time, each past the gate.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
