package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/kendallqn/kendall/internal/etcdtest"
	"github.com/kendallqn/kendall/internal/leaktest"
)

// splitTopology is front calling back, of one replica each (the commands
// refuse more until issue 12 lifts it), named for the test.
func splitTopology(name string) string {
	return `name: ` + name + `
workload: [{entry: front, rate: 20}]
services:
  front: {servers: 2, service_time: 500us, calls: [{to: back}]}
  back: {servers: 2, service_time: 500us}
`
}

// TestRegistryUsage: the mistakes of the command line of several
// processes, each a usage error that says what to do.
func TestRegistryUsage(t *testing.T) {
	path := writeTopology(t, splitTopology("usage"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", path, "--services", "front"}, "--services serves part of the topology, and the processes that serve the rest are found through a registry: add --registry etcd://127.0.0.1:2379"},
		{[]string{"serve", path, "--services", "fornt", "--registry", "etcd://127.0.0.1:1"}, `--services: "fornt" is not a service of usage (did you mean "front"?); its services are front, back`},
		{[]string{"serve", path, "--services", "front,,back", "--registry", "etcd://127.0.0.1:1"}, "has an empty name"},
		{[]string{"serve", path, "--registry", "http://127.0.0.1:2379"}, `scheme "http" is not etcd`},
		{[]string{"attack", "etcd://127.0.0.1:2379/front", "--rate", "10"}, "names no topology and service; write etcd://HOST:PORT/kendall/TOPOLOGY/SERVICE"},
		{[]string{"attack", "etcd://127.0.0.1:2379/kendall/usage/front"}, "--rate is required with an etcd:// target"},
		{[]string{"attack", "etcd://127.0.0.1:2379/kendall/usage/front", "--rate", "10", "--balancer", "round-robn"}, `--balancer "round-robn" (did you mean "round-robin"?)`},
		{[]string{"attack", "http://127.0.0.1:1/", "--rate", "10", "--balancer", "random"}, "--balancer spreads the requests of an etcd:// target"},
		{[]string{"attack", "http://127.0.0.1:1/", "--rate", "10", "--registry", "etcd://127.0.0.1:2379"}, "--registry attacks a topology FILE's entries"},
		{[]string{"attack", path, "--balancer", "random"}, "the entries of " + path + " are balanced over their replicas by their own balancer: field"},
		{[]string{"attack", path, "--registry", "etcd://127.0.0.1:2379", "--balancer", "random"}, "by their own balancer: field in the file"},
		{[]string{"attack", path, "--emulate", "--registry", "etcd://127.0.0.1:2379"}, "give one or the other"},
		{[]string{"attack", "etcd://127.0.0.1:2379/kendall/usage/front", "--rate", "10", "--registry", "etcd://127.0.0.1:2379"}, "names its registry already"},
	}
	for _, tc := range tests {
		code, _, errOut := kendall(t, tc.args...)
		if code != exitUsage && !(code == exitFailure && strings.Contains(tc.want, "scheme")) || !strings.Contains(errOut, tc.want) {
			t.Errorf("kendall %v: exit %d, stderr %q; want a usage error containing %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestRegistryUnreachable: serve and attack say which registry did not
// answer, and how to start one, within the registry's dial timeout.
func TestRegistryUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	path := writeTopology(t, splitTopology("unreachable"))
	for name, args := range map[string][]string{
		"serve":  {"serve", path, "--registry", "etcd://" + addr},
		"attack": {"attack", "etcd://" + addr + "/kendall/unreachable/front", "--rate", "10", "--duration", "1s"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := kendall(t, args...)
			if code != exitFailure || !strings.Contains(errOut, "no etcd answered at "+addr) || !strings.Contains(errOut, "start etcd (etcd --listen-client-urls") {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
		})
	}
}

// served is a kendall serve --json running in this process.
type served struct {
	doc    serveDoc
	stderr *lockedBuffer
	cancel context.CancelFunc
	done   chan int
	once   sync.Once
}

// serveHere runs kendall serve ARGS --json in a goroutine until the test
// ends (or stop), and returns once it has printed its addresses; or, if
// it exits first, its exit status and stderr.
func serveHere(t *testing.T, args ...string) (*served, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &served{stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := run(ctx, &env{stdout: pw, stderr: s.stderr}, append(args, "--json"))
		pw.Close()
		s.done <- code
	}()
	err := json.NewDecoder(pr).Decode(&s.doc)
	go io.Copy(io.Discard, pr)
	if err != nil {
		code := <-s.done
		cancel()
		return s, code
	}
	t.Cleanup(func() { s.stop(t) })
	return s, -1
}

// stop ends the serve, as Ctrl-C does.
func (s *served) stop(t *testing.T) {
	s.once.Do(func() {
		s.cancel()
		select {
		case code := <-s.done:
			if code != exitOK {
				t.Errorf("serve exit %d: %s", code, s.stderr)
			}
		case <-time.After(patience):
			t.Errorf("serve did not stop")
		}
	})
}

// TestRegistryServe runs the bad cases of several processes against a
// real etcd: a callee no process serves yet (a warning, and calls that
// fail at once with 502 until it is served), a service served twice (an
// error naming the first), a registry entry that is not a replica (a
// warning naming the key), an entry with no replica registered (an error
// before the attack), and an attack through the registry that works.
func TestRegistryServe(t *testing.T) {
	reg := testEtcd(t)
	leaktest.Check(t)
	path := writeTopology(t, splitTopology("badinput"))
	c := testHTTPClient(t)

	front, code := serveHere(t, "serve", path, "--services", "front", "--registry", reg)
	if code >= 0 {
		t.Fatalf("serve front: exit %d: %s", code, front.stderr)
	}
	waitFor(t, "front to warn that back is not served", func() bool {
		return strings.Contains(front.stderr.String(), "warning: no process serves back yet (nothing registered in "+reg+"/kendall); the calls to it fail with 502 until one does: kendall serve "+path+" --services back --registry "+reg+"/kendall")
	})
	if e := front.doc.Elsewhere; len(e) != 1 || e[0].Name != "back" || len(e[0].Replicas) != 0 {
		t.Errorf("elsewhere %+v", e)
	}
	frontURL := front.doc.Services[0].URL
	if code, body := httpGet(t, c, frontURL); code != http.StatusBadGateway || !strings.Contains(body, "back: no replica registered") {
		t.Errorf("front with no back answered %d %q", code, body)
	}
	code, _, errOut := kendall(t, "attack", reg+"/kendall/badinput/back", "--rate", "10", "--duration", "1s")
	if code != exitFailure || !strings.Contains(errOut, "back: no replica registered; start the process that serves it") {
		t.Errorf("attack on back, not served: exit %d, stderr %q", code, errOut)
	}

	// A value under back's replicas that is not a replica: warned of,
	// skipped.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{strings.TrimPrefix(reg, "etcd://")}, DialTimeout: patience, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := cli.Put(ctx, "/kendall/badinput/back/replicas/9", "not a URL"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "front to warn of the value that is not a replica", func() bool {
		return strings.Contains(front.stderr.String(), `key /kendall/badinput/back/replicas/9: value "not a URL" is not a replica`)
	})
	if _, err := cli.Delete(ctx, "/kendall/badinput/back/replicas/9"); err != nil {
		t.Fatal(err)
	}

	// back starts later: front calls it as soon as it is registered.
	back, code := serveHere(t, "serve", path, "--services", "back", "--registry", reg)
	if code >= 0 {
		t.Fatalf("serve back: exit %d: %s", code, back.stderr)
	}
	waitFor(t, "front to call back", func() bool {
		code, _ := httpGet(t, c, frontURL)
		return code == http.StatusOK
	})
	if s := front.stderr.String(); !strings.Contains(s, "registry: back now has 1 replica: "+back.doc.Services[0].URL) {
		t.Errorf("front's stderr does not say back came:\n%s", s)
	}

	// A second process serving back is refused, and says who serves it.
	again, code := serveHere(t, "serve", path, "--services", "back", "--registry", reg)
	if code != exitFailure || !strings.Contains(again.stderr.String(), "already served by another process: pid ") || !strings.Contains(again.stderr.String(), "serve each service from one process only (--services)") {
		t.Errorf("a second serve of back: exit %d, stderr %q", code, again.stderr)
	}

	// The attack through the registry, of the topology FILE.
	code, out, errOut := kendall(t, "attack", path, "--registry", reg, "--duration", "1s", "--arrivals", "constant")
	if code != exitOK {
		t.Fatalf("attack: exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{"Attacking badinput (1 entry, registered in " + reg + "/kendall)", "REPLICA OF front", frontURL, "throughout", "100.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("attack's output lacks %q:\n%s", want, out)
		}
	}

	back.stop(t)
	waitFor(t, "front to see back gone", func() bool {
		return strings.Contains(front.stderr.String(), "registry: back now has no replica registered")
	})
	if code, body := httpGet(t, c, frontURL); code != http.StatusBadGateway || !strings.Contains(body, "back: no replica registered") {
		t.Errorf("front after back stopped answered %d %q", code, body)
	}
}

// testHTTPClient is a client whose connections end with the test.
func testHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: patience}
}

func httpGet(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestRegistryServeEtcdGone: Ctrl-C on a serve whose etcd stopped
// answering returns after one request's timeout (revoking the lease, which
// withdraws every replica at once), not one per replica, and says that the
// replicas stay registered until the lease expires. The time is logged,
// not asserted.
func TestRegistryServeEtcdGone(t *testing.T) {
	reg := testEtcd(t)
	leaktest.Check(t)
	proxy, err := etcdtest.NewProxy(strings.TrimPrefix(reg, "etcd://"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	path := writeTopology(t, `name: etcdgone
workload: [{entry: front, rate: 20}]
services:
  front: {replicas: 3, servers: 2, service_time: 500us, calls: [{to: back}]}
  back: {replicas: 3, servers: 2, service_time: 500us}
`)
	s, code := serveHere(t, "serve", path, "--registry", "etcd://"+proxy.Addr())
	if code >= 0 {
		t.Fatalf("serve: exit %d: %s", code, s.stderr)
	}
	proxy.Freeze()
	start := time.Now()
	s.stop(t)
	t.Logf("serve stopped %v after Ctrl-C, etcd frozen, 6 replicas", time.Since(start).Round(time.Millisecond))
	if out := s.stderr.String(); !strings.Contains(out, "this process's replicas stay registered until it expires") || strings.Contains(out, "watching the replicas") {
		t.Errorf("stderr:\n%s", out)
	}
	proxy.Thaw()
}
