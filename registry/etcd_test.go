package registry

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// etcdURL is the registry URL of the etcd that TestMain embeds in the test
// binary: a real one, on loopback, shared by the tests (each uses its own
// topology name), since it takes about a second to start.
var etcdURL string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kendall-registry-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := startEtcd(dir)
	if err != nil {
		if log, rerr := os.ReadFile(filepath.Join(dir, "etcd.log")); rerr == nil {
			os.Stderr.Write(log)
		}
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "starting the embedded etcd:", err)
		os.Exit(1)
	}
	etcdURL = "etcd://" + e.Clients[0].Addr().String()
	settle()
	code := m.Run()
	e.Close()
	if code != 0 {
		if log, err := os.ReadFile(filepath.Join(dir, "etcd.log")); err == nil && len(log) > 0 {
			fmt.Fprintf(os.Stderr, "the embedded etcd logged:\n%s", log)
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// startEtcd starts a single-node etcd on two free loopback ports. embed
// cannot listen on port 0 (the member's identity is derived from its
// advertised peer URL, fixed before it listens), so ports are found by
// listening and closing; another process may take one in between, hence
// the retries.
func startEtcd(dir string) (*embed.Etcd, error) {
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

// settle waits until the embedded etcd has started all its goroutines:
// some start after it reports ready (its gRPC gateway's connection to
// itself), and a test's leak check would count them as the test's.
func settle() {
	deadline := time.Now().Add(10 * time.Second)
	n, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < time.Second && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
	}
}
