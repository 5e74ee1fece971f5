package emulate

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/etcdtest"
	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/registry"
	"github.com/kendallqn/kendall/topology"
)

// etcdURL is the registry URL of the etcd embedded in the test binary: a
// real one on loopback (package etcdtest), shared by the tests of
// Options.Discovery, each under a topology name of its own.
var etcdURL string

func TestMain(m *testing.M) { os.Exit(etcdtest.Main(m, &etcdURL)) }

// patience bounds every wait for etcd or for a watch: generous, never a
// timing assertion.
const patience = 30 * time.Second

// splitTopology is front calling back, of two replicas in turn, named so
// that each test has its own keys in the shared etcd.
func splitTopology(t *testing.T, name string) *topology.Topology {
	t.Helper()
	top, err := topology.Parse(name+".yaml", []byte(`
name: `+name+`
workload: [{entry: front, rate: 10}]
services:
  front: {servers: 4, service_time: 100us, calls: [{to: back}]}
  back: {replicas: 2, balancer: round-robin, servers: 2, service_time: 100us}
`))
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// openRegistry opens a Registry on the embedded etcd, as one process
// would, and closes it with the test, after the emulations that use it
// (cleanups run last-in first-out).
func openRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := registry.Open(context.Background(), etcdURL, registry.Options{Warn: func(msg string) { t.Log("warning:", msg) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// startPart starts an emulation of the given services of top, through its
// own Registry, and closes it with the test.
func startPart(t *testing.T, top *topology.Topology, opts Options, services ...string) *Emulation {
	t.Helper()
	r := openRegistry(t)
	opts.Services = services
	opts.Discovery = r.Scope(top.Name)
	if opts.Warn == nil {
		opts.Warn = func(msg string) { t.Log("warning:", msg) }
	}
	em, err := Start(context.Background(), top, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := em.Close(); err != nil {
			t.Error(err)
		}
	})
	return em
}

// eventually polls cond until it holds, failing the test after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, patience)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// calleeReplicas is how many replicas of callee front's balancer knows.
func calleeReplicas(em *Emulation, caller, callee string) int {
	for _, c := range em.Stats()[0].Callees {
		if c.Service == callee {
			return len(c.Replicas)
		}
	}
	return -1
}

// TestDiscoverySplit serves one topology from two emulations, as two
// processes would, through one etcd: front's calls fail at once while no
// replica of back is registered, go to both of back's replicas once it
// is, to the one left after the other stops, and fail at once again after
// back's emulation has closed.
func TestDiscoverySplit(t *testing.T) {
	leaktest.Check(t)
	top := splitTopology(t, "split")
	front := startPart(t, top, Options{Seed: 1}, "front")
	if front.Serves("back") || !front.Serves("front") || front.URLs("back") != nil || len(front.Stats()) != 1 {
		t.Fatalf("front's emulation serves %v", front.Stats())
	}
	c := testClient(t)

	// back is served by no process yet: front answers 502 at once, and
	// says why.
	code, body := get(t, c, front.URL("front"))
	if code != http.StatusBadGateway || !strings.Contains(body, "back: no replica registered") {
		t.Fatalf("front with no back answered %d %q", code, body)
	}
	if errs := front.Stats()[0].CallErrors; errs != 1 {
		t.Errorf("call errors %d, want 1", errs)
	}

	back := startPart(t, top, Options{Seed: 2, StopGrace: 100 * time.Millisecond}, "back")
	eventually(t, "front learns of back's 2 replicas", func() bool { return calleeReplicas(front, "front", "back") == 2 })
	for range 20 {
		if code, body := get(t, c, front.URL("front")); code != http.StatusOK {
			t.Fatalf("front answered %d %q", code, body)
		}
	}
	got := replicaRequests(back, "back")
	if got[0] != 10 || got[1] != 10 {
		t.Errorf("back's replicas received %v, want 10 each (round-robin)", got)
	}

	if err := back.StopReplica(context.Background(), "back", 1); err != nil {
		t.Fatal(err)
	}
	if calleeReplicas(front, "front", "back") != 1 {
		t.Errorf("front still knows %d replicas of back after one stopped", calleeReplicas(front, "front", "back"))
	}
	for range 10 {
		if code, body := get(t, c, front.URL("front")); code != http.StatusOK {
			t.Fatalf("front answered %d %q after a replica of back stopped", code, body)
		}
	}
	got = replicaRequests(back, "back")
	if got[0] != 20 || got[1] != 10 {
		t.Errorf("back's replicas received %v, want [20 10]: every call after the stop to replica 0", got)
	}
	if st := back.ReplicaStats("back"); !st[1].Stopped || st[0].Stopped {
		t.Errorf("stopped flags %v %v", st[0].Stopped, st[1].Stopped)
	}

	if err := back.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "front forgets back", func() bool { return calleeReplicas(front, "front", "back") == 0 })
	code, body = get(t, c, front.URL("front"))
	if code != http.StatusBadGateway || !strings.Contains(body, "back: no replica registered") {
		t.Fatalf("front after back closed answered %d %q", code, body)
	}
}

// TestDiscoveryOwned: a service is served by one process; a second
// emulation of it fails to start, says who serves it, and leaves nothing
// running.
func TestDiscoveryOwned(t *testing.T) {
	leaktest.Check(t)
	top := splitTopology(t, "owned")
	startPart(t, top, Options{}, "back")
	r := openRegistry(t)
	em, err := Start(context.Background(), top, Options{Services: []string{"back"}, Discovery: r.Scope(top.Name)})
	if err == nil {
		em.Close()
		t.Fatal("a second emulation of back started")
	}
	if !errors.Is(err, registry.ErrOwned) || !strings.Contains(err.Error(), "serve each service from one process only") {
		t.Errorf("error %v", err)
	}
}

// TestDiscoveryOptions: a part of a topology needs a Discovery, and
// Services names services of the topology.
func TestDiscoveryOptions(t *testing.T) {
	leaktest.Check(t)
	top := splitTopology(t, "options")
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Services: []string{"front"}}, "serving part of topology options needs Options.Discovery, to find back where they are served"},
		{Options{Services: []string{"fornt"}, Discovery: openRegistry(t).Scope("options")}, `Options.Services names "fornt", which topology options has not; its services are front, back`},
	} {
		em, err := Start(context.Background(), top, tc.opts)
		if err == nil {
			em.Close()
			t.Errorf("%+v: started", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %q lacks %q", err, tc.want)
		}
	}
	// Every service, with a Discovery: callers find their callees in
	// this process through it all the same.
	em := startPart(t, top, Options{})
	eventually(t, "front learns of back", func() bool { return calleeReplicas(em, "front", "back") == 2 })
	if code, body := get(t, testClient(t), em.URL("front")); code != http.StatusOK {
		t.Errorf("front answered %d %q", code, body)
	}
}

// TestStopReplicaInProcess: without a Discovery, a replica stopped (here
// by POST /admin/stop) leaves the balancers of its callers in the
// emulation at once.
func TestStopReplicaInProcess(t *testing.T) {
	leaktest.Check(t)
	top := splitTopology(t, "inprocess")
	em, err := Start(context.Background(), top, Options{StopGrace: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	c := testClient(t)
	stop := em.URLs("back")[1] + "admin/stop"
	if code, body := get(t, c, stop); code != http.StatusMethodNotAllowed || !strings.Contains(body, "answers POST") {
		t.Errorf("GET /admin/stop: %d %q", code, body)
	}
	resp, err := c.Post(stop, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), "back[1]: stopping") {
		t.Errorf("POST /admin/stop: %d %q", resp.StatusCode, body)
	}
	eventually(t, "front forgets back[1]", func() bool { return calleeReplicas(em, "front", "back") == 1 })
	for range 10 {
		if code, body := get(t, c, em.URL("front")); code != http.StatusOK {
			t.Fatalf("front answered %d %q", code, body)
		}
	}
	if got := replicaRequests(em, "back"); got[0] != 10 || got[1] != 0 {
		t.Errorf("back's replicas received %v, want [10 0]", got)
	}
	eventually(t, "back[1] refuses connections", func() bool {
		resp, err := c.Get(em.URLs("back")[1])
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
}

// TestCloseWithEtcdGone: an emulation whose registry stops answering
// closes, its withdrawals failing together at their timeout, not one
// after another (the time is logged, not asserted: one timeout, where it
// took one a replica before), each failure reported.
func TestCloseWithEtcdGone(t *testing.T) {
	leaktest.Check(t)
	proxy, err := etcdtest.NewProxy(strings.TrimPrefix(etcdURL, "etcd://"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	const timeout = 2 * time.Second
	r, err := registry.Open(context.Background(), "etcd://"+proxy.Addr(), registry.Options{DialTimeout: timeout, Warn: func(msg string) { t.Log("warning:", msg) }})
	if err != nil {
		t.Fatal(err)
	}
	top := splitTopology(t, "etcdgone")
	top.Service("back").Replicas = 4
	em, err := Start(context.Background(), top, Options{Discovery: r.Scope(top.Name), Warn: func(msg string) { t.Log("warning:", msg) }})
	if err != nil {
		t.Fatal(err)
	}
	proxy.Freeze()
	start := time.Now()
	err = em.Close()
	t.Logf("Close with etcd frozen took %v (dial timeout %v, 5 replicas)", time.Since(start).Round(time.Millisecond), timeout)
	if !errors.Is(err, registry.ErrUnreachable) {
		t.Errorf("Close: %v, want ErrUnreachable", err)
	}
	proxy.Thaw()
	if err := r.Close(); err != nil { // revokes the lease: the replicas go
		t.Error(err)
	}
}
